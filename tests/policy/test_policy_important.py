"""`$important` across lists: an important block of one list is not opened by another list's
`@@` exception; only the school's own allow lists and an audited unblock open it; a legal
list is never opened (docs/lists.md, "`$important` across lists")."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from blocklists.compiled import CompiledList
from blocklists.store import ListSource, compile_sources
from policy import Group, ListRule, Policy, Unblock

RULES = {"ads": ListRule("ads", "deny", "ads_trackers"),
         "easy": ListRule("easy", "deny", "ads_trackers"),
         "school": ListRule("school", "allow", "")}
PUPILS = Group("nx", "Nxënësit")
NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)


@pytest.fixture
def policy(tmp_path: Path) -> Iterator[Policy]:
    (tmp_path / "ads.txt").write_text(
        "||tracker.example^$important\n||t.example/x$important,doc\n||plain.example^\n"
        "||unblocked.example^$important\n||45.60.0.0/16^$important\n"
        "*$ipaddress=45.61.0.1,important\n")
    (tmp_path / "easy.txt").write_text(
        "@@||tracker.example^\n@@||t.example/x\n@@||plain.example^\n@@||unblocked.example^\n"
        "@@||45.60.1.1^\n@@*$ipaddress=45.61.0.1\n")
    (tmp_path / "school.txt").write_text("ok.tracker.example\n45.60.2.2\n")
    out = tmp_path / "lists.compiled"
    compile_sources([ListSource("ads", tmp_path / "ads.txt", "adblock", "ads_trackers"),
                     ListSource("easy", tmp_path / "easy.txt", "adblock", "ads_trackers"),
                     ListSource("school", tmp_path / "school.txt", "domains", "")],
                    out, "fp")
    compiled = CompiledList(out)
    unblock = Unblock(1, "nx", "unblocked.example", NOW + timedelta(hours=1), "mesuesi",
                      "mësim")
    yield Policy((PUPILS,), PUPILS, RULES, compiled, unblocks=(unblock,), now=NOW)
    compiled.close()


@pytest.mark.parametrize(("host", "action", "list_id"), [
    ("tracker.example", "block", "ads"),           # another list's @@ does not open it
    ("cdn.tracker.example", "block", "ads"),
    ("ok.tracker.example", "allow", "school"),     # the school's own allow list does
    ("plain.example", "allow", "easy@allow"),      # without $important: @@ wins as before
    ("unblocked.example", "allow", "unblock"),     # an audited unblock opens it
])
def test_important_beats_other_lists_exceptions(policy: Policy, host: str, action: str,
                                                list_id: str) -> None:
    d = policy.decide(PUPILS, host, NOW)
    assert (d.action, d.list_id) == (action, list_id), d.reason


def test_important_url_entry(policy: Policy) -> None:
    d = policy.decide_url(PUPILS, "http://t.example/x/y", NOW)
    assert (d.action, d.list_id) == ("block", "ads"), d.reason


@pytest.mark.parametrize(("address", "list_id"), [
    ("45.60.1.1", "ads"),    # another list's `@@||45.60.1.1^` does not open it
    ("45.61.0.1", "ads"),    # nor `@@*$ipaddress=` against `*$ipaddress=...,important`
    ("45.60.2.2", ""),       # the school's own allow list does
    ("45.60.3.3", "ads"),
])
def test_important_address_entries(policy: Policy, address: str, list_id: str) -> None:
    d = policy.address_block(PUPILS, ipaddress.ip_address(address).packed, NOW)
    assert ("" if d is None else d.list_id) == list_id


def test_explain_says_why_the_exception_did_not_open_it(policy: Policy) -> None:
    from policy.explain import explain

    steps = [s.en for s in explain(policy, "10.0.0.1", host="tracker.example", now=NOW).steps]
    assert any(s.startswith("List ads (deny, important,") and s.endswith(": blocks")
               for s in steps), steps
    assert any(s.startswith("List easy (allow,") and
               s.endswith("does not open another list's $important block") for s in steps), steps
    assert steps[-1].startswith("Decision: BLOCKED")
