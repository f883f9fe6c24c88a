"""Policy v2: profiles, groups by address and MAC, unblocks, the legal layer, explain."""

from __future__ import annotations

import ipaddress
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blocklists.compiled import CompiledList, Tag, compile_entries
from policy import Group, ListRule, Policy, Profile, Schedule, Unblock, Window
from policy.explain import explain
from policy.schedule import TIRANE

AT = datetime(2026, 12, 1, 10, 0, tzinfo=TIRANE)  # a Tuesday, in a lesson
RULES = {
    "hotline": ListRule("hotline", "legal", "csam"),
    "social": ListRule("social", "deny", "social_media"),
    "bixhoz": ListRule("bixhoz", "deny", "gambling"),
    "ut1": ListRule("ut1", "deny", ""),
    "lejuar": ListRule("lejuar", "allow", ""),
    "extra": ListRule("extra", "deny", "other"),
}
ENTRIES = [
    ("csam.example", Tag("hotline", "csam")),
    ("tiktok.com", Tag("social", "social_media")),
    ("bet.example", Tag("bixhoz", "gambling")),
    ("adult.example", Tag("ut1", "adult")),          # an alias of pornography
    ("news.tiktok.com", Tag("lejuar", "")),
    ("extra.example", Tag("extra", "other")),
]
PUPILS_P = Profile("nx", "Nxënësit", frozenset({"social_media", "gambling", "pornography"}),
                   "strict")
STAFF_P = Profile("st", "Stafi", frozenset({"gambling"}), "moderate", frozenset(),
                  frozenset({"extra"}))
PUPILS = Group("nxenesit", "Nxënësit", (ipaddress.ip_network("10.0.0.0/16"),),
               safe_search="strict", profile="nx")
STAFF = Group("stafi", "Stafi", (ipaddress.ip_network("10.0.5.0/24"),),
              addresses=("10.0.3.17",), macs=("02:00:00:00:00:01",), profile="st")
DEFAULT = Group("default", "Të gjithë")
LUNCH = Schedule(("nxenesit",), ("social_media",), "allow",
                 (Window(720, 780), Window(900, 1440)), frozenset(range(5)))


@pytest.fixture
def matcher(tmp_path: Path) -> Iterator[CompiledList]:
    compile_entries(ENTRIES, tmp_path / "l.compiled")
    view = CompiledList(tmp_path / "l.compiled")
    yield view
    view.close()


def make(matcher: CompiledList, **kw: object) -> Policy:
    return Policy((PUPILS, STAFF), DEFAULT, RULES, matcher,
                  profiles={"nx": PUPILS_P, "st": STAFF_P}, schedules=(LUNCH,), **kw)  # type: ignore[arg-type]


def test_groups_by_address_then_mac_then_network(matcher: CompiledList) -> None:
    p = make(matcher, neighbours={"10.0.1.9": "02:00:00:00:00:01"})
    assert p.locate("10.0.3.17") == (STAFF, "address", "10.0.3.17")   # inside pupils' /16
    assert p.locate("10.0.1.9")[:2] == (STAFF, "mac")                  # MAC from the snapshot
    assert p.locate("10.0.1.10")[:2] == (PUPILS, "network")
    assert p.locate("10.0.1.10", mac="02-00-00-00-00-01")[:2] == (STAFF, "mac")
    assert p.locate("192.0.2.1")[:2] == (DEFAULT, "default")
    assert p.with_neighbours({}).group_for("10.0.1.9") is PUPILS


def test_profiles_block_their_categories_only(matcher: CompiledList) -> None:
    p = make(matcher)
    assert p.decide(PUPILS, "tiktok.com", AT).blocked
    assert p.decide(PUPILS, "adult.example", AT).blocked     # alias adult → pornography
    assert not p.decide(STAFF, "tiktok.com", AT).blocked
    assert not p.decide(STAFF, "adult.example", AT).blocked
    assert p.decide(STAFF, "bet.example", AT).blocked
    assert p.decide(STAFF, "extra.example", AT).blocked      # deny_lists: whatever the category
    assert not p.decide(PUPILS, "extra.example", AT).blocked
    # Staff's profile takes no allow lists; pupils get every allow list.
    assert p.decide(PUPILS, "news.tiktok.com", AT).action == "allow"
    assert p.decide(DEFAULT, "tiktok.com", AT).blocked       # no profile: every category


def test_the_lunch_schedule_opens_social_media_for_pupils(matcher: CompiledList) -> None:
    p = make(matcher)
    lunch = AT.replace(hour=12, minute=30)
    assert not p.decide(PUPILS, "tiktok.com", lunch).blocked
    assert p.decide(PUPILS, "tiktok.com", lunch.replace(hour=13)).blocked
    assert not p.decide(PUPILS, "tiktok.com", lunch.replace(hour=16)).blocked
    assert p.decide(PUPILS, "tiktok.com", lunch + timedelta(days=4)).blocked  # Saturday
    assert p.decide(PUPILS, "bet.example", lunch).blocked  # only social media opens
    holiday = make(matcher, holidays=frozenset({lunch.date()}))
    assert holiday.decide(PUPILS, "tiktok.com", lunch).blocked


def test_state_moves_with_at_and_now_none_uses_it(matcher: CompiledList) -> None:
    p = make(matcher, now=AT)
    assert p.decide(PUPILS, "tiktok.com").blocked
    assert p.next_change() == AT.replace(hour=12).astimezone(UTC)
    lunch = p.at(AT.replace(hour=12, minute=1))
    assert not lunch.decide(PUPILS, "tiktok.com").blocked
    assert lunch.next_change() == AT.replace(hour=13).astimezone(UTC)


def test_unblock_opens_one_host_for_one_group_until_it_expires(matcher: CompiledList) -> None:
    u = Unblock(1, "nxenesit", "tiktok.com", AT + timedelta(minutes=45), "A. Hoxha", "projekt")
    p = make(matcher, unblocks=(u,), now=AT)
    d = p.decide(PUPILS, "www.tiktok.com")
    assert d.action == "allow" and d.list_id == "unblock" and "A. Hoxha" in d.reason
    assert p.decide(DEFAULT, "tiktok.com").blocked            # another group
    assert p.next_change() == u.expires.astimezone(UTC)
    assert p.decide(PUPILS, "tiktok.com", AT + timedelta(minutes=46)).blocked
    assert p.at(AT + timedelta(minutes=45)).decide(PUPILS, "tiktok.com").blocked
    assert p.decide_url(PUPILS, "https://tiktok.com/@x", AT).action == "allow"


def test_an_unblock_never_opens_a_legal_list(matcher: CompiledList) -> None:
    u = Unblock(1, "nxenesit", "csam.example", AT + timedelta(hours=1))
    p = make(matcher, unblocks=(u,), now=AT)
    d = p.decide(PUPILS, "csam.example")
    assert d.blocked and d.legal
    assert p.legal_block("www.csam.example") is not None
    assert p.legal_block("tiktok.com") is None


def test_explain_says_why_in_both_languages(matcher: CompiledList) -> None:
    p = make(matcher)
    r = explain(p, "10.0.1.5", url="https://tiktok.com/x", now=AT.replace(hour=12, minute=30))
    assert r.group is PUPILS and r.decision.action == "pass"
    kinds = [s.kind for s in r.steps]
    assert kinds[:3] == ["group", "profile", "time"] and kinds[-1] == "outcome"
    text = "\n".join(f"{s.sq} | {s.en}" for s in r.steps)
    assert "10.0.0.0/16" in text and "në fuqi (12:00-13:00)" in text
    assert "opened by the schedule in force" in text and "KALON" in text
    legal = explain(p, "10.0.3.17", host="csam.example", now=AT)
    assert legal.decision.legal and legal.group is STAFF
    assert any(s.kind == "legal" and "nothing can open it" in s.en for s in legal.steps)


HOSTS = ["csam.example", "tiktok.com", "bet.example", "adult.example", "news.tiktok.com",
         "extra.example", "free.example"]


@settings(max_examples=80, deadline=None)
@given(minutes=st.integers(0, 60 * 24 * 14), host=st.sampled_from(HOSTS),
       sub=st.booleans(), client=st.sampled_from(["10.0.1.1", "10.0.5.1", "10.0.3.17", "1.2.3.4"]))
def test_explain_agrees_with_decide(minutes: int, host: str, sub: bool, client: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        compile_entries(ENTRIES, Path(tmp) / "l")
        view = CompiledList(Path(tmp) / "l")
        try:
            p = make(view)
            at = AT + timedelta(minutes=minutes)
            name = ("a." if sub else "") + host
            r = explain(p, client, host=name, now=at)
            assert r.decision == p.decide(p.group_for(client), name, at)
        finally:
            view.close()
