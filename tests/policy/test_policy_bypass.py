"""`policy.bypass`, `policy.safesearch` and `policy.reserved` as the policy's own rules:
DoH endpoints are decided by `Policy.decide` (nothing but the legal layer comes first, nothing
opens them), the self-test's names are marked, and `explain` says all of it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from blocklists.bypass import doh_hosts
from blocklists.compiled import CompiledList, Tag, compile_entries
from policy import Group, ListRule, Policy, Unblock
from policy.bypass import Endpoints
from policy.explain import explain

PUPILS = Group("nx", "Nxënësit", safe_search="strict")
STAFF = Group("st", "Stafi", safe_search="off", ip_literals="allow")
RULES = {"ok": ListRule("ok", "allow", ""), "legal": ListRule("legal", "legal", "extremism"),
         "deny": ListRule("deny", "deny", "gambling")}
ENTRIES = [("dns.google", Tag("ok", "")), ("cloudflare-dns.com", Tag("legal", "extremism")),
           ("deny.selftest.roja.test", Tag("deny", "gambling"))]
NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)


@pytest.fixture
def policy(tmp_path: Path) -> Iterator[Policy]:
    compile_entries(ENTRIES, tmp_path / "l.bin")
    view = CompiledList(tmp_path / "l.bin")
    unblock = Unblock(1, "st", "dns.google", NOW + timedelta(hours=1), "mësuesi", "test")
    yield Policy((STAFF,), PUPILS, RULES, view, unblocks=(unblock,), now=NOW)
    view.close()


@pytest.mark.parametrize(("host", "found"), [
    ("dns.google", "dns.google"), ("x.y.dns.google", "dns.google"), ("google", None),
    ("google.com", None), ("mail.google.com", None), ("", None), (".google", None),
    ("a.mozilla.cloudflare-dns.com", "mozilla.cloudflare-dns.com"),
])
def test_endpoints_find_a_listed_name_and_names_below_it(host: str, found: str | None) -> None:
    assert Endpoints(doh_hosts()).find(host) == found


@pytest.mark.parametrize("group", [PUPILS, STAFF])
def test_doh_endpoints_block_for_every_group_and_nothing_opens_them(
        policy: Policy, group: Group) -> None:
    d = policy.decide(group, "dns.google")    # on an allow list, and unblocked for staff
    assert (d.action, d.list_id, d.category, d.doh) == ("block", "doh", "filter_bypass", True)
    assert "DoH endpoint" in d.reason
    legal = policy.decide(group, "cloudflare-dns.com")   # the legal layer comes first
    assert legal.legal and not legal.doh


def test_selftest_names_are_marked(policy: Policy) -> None:
    d = policy.decide(PUPILS, "deny.selftest.roja.test")
    assert d.blocked and d.selftest
    assert not policy.decide(PUPILS, "dns.google").selftest


def test_explain_names_doh_safe_search_and_reserved_names(policy: Policy) -> None:
    doh = explain(policy, "10.0.0.1", url="https://dns.google/dns-query")
    step = next(s for s in doh.steps if s.kind == "bypass")
    assert step.sq.startswith("Pikë fundore DoH") and step.en.startswith("DoH endpoint")
    safe = explain(policy, "10.0.0.1", url="https://www.google.al/search?q=x")
    assert [s.en for s in safe.steps if s.kind == "safe-search"] == [
        "Safe search (strict): DNS rewrites www.google.al to forcesafesearch.google.com",
        "The proxy adds safe=active to the search"]
    canary = explain(policy, "10.0.0.1", host="use-application-dns.net")
    assert any(s.kind == "reserved" and "NXDOMAIN" in s.en for s in canary.steps)
    selftest = explain(policy, "10.0.0.1", host="deny.selftest.roja.test")
    assert any(s.kind == "reserved" and "self-test" in s.en for s in selftest.steps)
