"""`policy.Policy`: which group a client is in, and what it may reach, over a real compiled list."""

from __future__ import annotations

import ipaddress
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blocklists.compiled import CompiledList, Tag, compile_entries
from policy import Group, ListRule, Policy
from policy.engine import ListKind

NOW = datetime(2024, 11, 4, 9, 30, tzinfo=ZoneInfo("Europe/Tirane"))

RULES = {
    "hotline": ListRule("hotline", "legal", "csam"),
    "bixhoz": ListRule("bixhoz", "deny", "gambling"),
    "social": ListRule("social", "deny", "social_media"),
    "lejuar": ListRule("lejuar", "allow", ""),
}
ENTRIES = [
    ("csam.example", Tag("hotline", "csam")),
    ("bet365.com", Tag("bixhoz", "gambling")),
    ("tiktok.com", Tag("social", "social_media")),
    ("newsroom.tiktok.com", Tag("lejuar", "")),
    ("csam.example", Tag("lejuar", "")),        # an allow entry can never open a legal one
    ("ok.csam.example", Tag("lejuar", "")),
]


def net(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text)


PUPILS = Group("nxenesit", "Nxënësit", (net("10.0.0.0/16"), net("fd00:10::/48")))
TEACHERS = Group("mesuesit", "Mësuesit", (net("10.0.5.0/24"),), frozenset({"bixhoz"}), "off")
LAB = Group("lab", "Laboratori", (net("10.0.5.128/25"),), frozenset(), "strict")
DEFAULT = Group("default", "Të gjithë", (), None, "moderate")


@pytest.fixture
def matcher(tmp_path: Path) -> Iterator[CompiledList]:
    compile_entries(ENTRIES, tmp_path / "lists.compiled")
    view = CompiledList(tmp_path / "lists.compiled")
    yield view
    view.close()


@pytest.fixture
def policy(matcher: CompiledList) -> Policy:
    return Policy((PUPILS, TEACHERS, LAB), DEFAULT, RULES, matcher)


@pytest.mark.parametrize("client,group", [
    ("10.0.1.7", "nxenesit"),
    ("10.0.5.7", "mesuesit"),        # /24 inside the pupils' /16: the longer prefix wins
    ("10.0.5.200", "lab"),           # /25 inside the teachers' /24
    ("::ffff:10.0.5.7", "mesuesit"),  # IPv4-mapped IPv6 (dual-stack sockets)
    ("::ffff:10.0.1.7", "nxenesit"),
    ("fd00:10::5", "nxenesit"),
    ("fe80::1%eth0", "default"),
    ("192.168.1.1", "default"),
    ("not an address", "default"),
])
def test_group_by_longest_prefix(policy: Policy, client: str, group: str) -> None:
    assert policy.group_for(client).id == group


def test_group_order_in_the_config_does_not_matter(matcher: CompiledList) -> None:
    reordered = Policy((LAB, TEACHERS, PUPILS), DEFAULT, RULES, matcher)
    assert reordered.group_for("10.0.5.7").id == "mesuesit"
    assert reordered.group_for("10.0.5.130").id == "lab"


def test_deny_list_blocks_the_name_and_subdomains(policy: Policy) -> None:
    for host in ("bet365.com", "www.bet365.com"):
        d = policy.decide(PUPILS, host, NOW)
        assert d.blocked and d.action == "block"
        assert (d.list_id, d.category, d.entry, d.legal) == ("bixhoz", "gambling", "bet365.com",
                                                             False)
        assert "bet365.com" in d.reason


def test_unlisted_name_passes(policy: Policy) -> None:
    d = policy.decide(PUPILS, "www.allowed.test", NOW)
    assert d.action == "pass" and not d.blocked


def test_allow_beats_deny(policy: Policy) -> None:
    d = policy.decide(PUPILS, "newsroom.tiktok.com", NOW)
    assert d.action == "allow" and not d.blocked
    assert d.list_id == "lejuar"
    assert policy.decide(PUPILS, "www.tiktok.com", NOW).blocked


def test_legal_beats_allow(policy: Policy) -> None:
    for host in ("csam.example", "ok.csam.example", "x.ok.csam.example"):
        d = policy.decide(PUPILS, host, NOW)
        assert d.blocked and d.legal, host
        assert (d.list_id, d.category) == ("hotline", "csam")


def test_group_lists_restrict_deny_lists_but_never_legal(policy: Policy) -> None:
    # Teachers get only "bixhoz": social media is open, gambling is not, legal never is.
    assert not policy.decide(TEACHERS, "tiktok.com", NOW).blocked
    assert policy.decide(TEACHERS, "bet365.com", NOW).blocked
    assert policy.decide(TEACHERS, "csam.example", NOW).legal
    # The lab has no deny lists at all, and still the legal list.
    assert policy.decide(LAB, "bet365.com", NOW).action == "pass"
    assert policy.decide(LAB, "csam.example", NOW).blocked


def test_group_lists_restrict_allow_lists_too(matcher: CompiledList) -> None:
    only_social = Group("s", "S", (), frozenset({"social"}))
    d = Policy((), only_social, RULES, matcher).decide(only_social, "newsroom.tiktok.com", NOW)
    assert d.blocked and d.list_id == "social"


def test_a_list_without_a_rule_is_ignored(matcher: CompiledList) -> None:
    rules = {k: v for k, v in RULES.items() if k != "bixhoz"}
    assert not Policy((), DEFAULT, rules, matcher).decide(DEFAULT, "bet365.com", NOW).blocked


def test_decide_does_not_depend_on_the_time(policy: Policy) -> None:
    night = datetime(2024, 3, 31, 2, 30, tzinfo=ZoneInfo("Europe/Tirane"))  # DST change night
    assert policy.decide(PUPILS, "bet365.com", night) == policy.decide(PUPILS, "bet365.com", NOW)
    assert policy.decide(PUPILS, "bet365.com", None).blocked


LIST_IDS = ["a", "b", "c", "d", "e"]
KINDS: st.SearchStrategy[ListKind] = st.sampled_from(("deny", "allow", "legal"))
GROUP_LISTS = st.none() | st.frozensets(st.sampled_from(LIST_IDS))


@settings(max_examples=60, deadline=None)
@given(kinds=st.lists(KINDS, min_size=len(LIST_IDS), max_size=len(LIST_IDS)),
       legal_list=st.sampled_from(LIST_IDS),
       memberships=st.lists(st.sets(st.sampled_from(LIST_IDS)), min_size=4, max_size=4),
       group_lists=st.lists(GROUP_LISTS, min_size=1, max_size=4),
       depth=st.integers(0, 2))
def test_a_name_on_a_legal_list_is_blocked_for_every_group(
        kinds: list[ListKind], legal_list: str, memberships: list[set[str]],
        group_lists: list[frozenset[str] | None], depth: int) -> None:
    """Whatever the other lists say and whatever lists a group picks, legal always blocks."""
    rules = {lid: ListRule(lid, kind, "cat") for lid, kind in zip(LIST_IDS, kinds, strict=True)}
    rules[legal_list] = ListRule(legal_list, "legal", "csam")
    names = ["listed.example", "www.listed.example", "example", "other.example"]
    entries = [(name, Tag(lid, "cat")) for name, lids in zip(names, memberships, strict=True)
               for lid in lids]
    entries.append(("listed.example", Tag(legal_list, "csam")))
    groups = tuple(Group(f"g{i}", f"G{i}", (net(f"10.{i}.0.0/16"),), lists)
                   for i, lists in enumerate(group_lists))
    query = "sub." * depth + "listed.example"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "lists.compiled"
        compile_entries(entries, out)
        view = CompiledList(out)
        try:
            policy = Policy(groups, DEFAULT, rules, view)
            for group in (*groups, DEFAULT):
                d = policy.decide(group, query, NOW)
                assert d.blocked and d.legal, (group, d)
                assert rules[d.list_id].kind == "legal"
        finally:
            view.close()
