"""Shrink protection per list: a list that suddenly loses more than `max_shrink` of its entries
is held back with its last-known-good entries, and every other list's change still applies."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from blocklists.store import ACTIVE_NAME, LOCK_NAME, HeldBack, ListSource, build_active
from policy import Group, ListRule, Policy

NAMES = [f"casino{i}.example" for i in range(10)]


def write(path: Path, names: list[str]) -> None:
    """Rewrite `path` with a new mtime, so the store sees a change whatever the clock says."""
    old = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text("\n".join(names) + "\n")
    os.utime(path, ns=(old + 10**9, old + 10**9))


def other(tmp_path: Path) -> ListSource:
    return ListSource("porno", tmp_path / "porno.txt", "domains", "pornography")


def source(tmp_path: Path, max_shrink: float = 0.5) -> ListSource:
    return ListSource("bixhoz", tmp_path / "bixhoz.txt", "domains", "gambling",
                      max_shrink=max_shrink)


def test_a_list_that_shrinks_too_much_is_held_back(tmp_path: Path) -> None:
    state = tmp_path / "state"
    write(tmp_path / "bixhoz.txt", NAMES)
    write(tmp_path / "porno.txt", ["porn0.example"])
    build_active([source(tmp_path), other(tmp_path)], state).compiled.close()
    write(tmp_path / "bixhoz.txt", NAMES[:4])  # a truncated download: 10 → 4
    write(tmp_path / "porno.txt", ["porn0.example", "porn1.example"])  # a good change
    result = build_active([source(tmp_path), other(tmp_path)], state)
    assert result.held_back == [HeldBack("bixhoz", 10, 4)]
    assert "shrank from 10 to 4 entries" in result.held_back[0].why
    assert result.applied == ["porno"]
    assert sorted(p.name for p in state.iterdir()) == [ACTIVE_NAME, LOCK_NAME]
    # The held-back list keeps its last-known-good entries, the other list's change applies.
    policy = Policy((), Group("default", "Të gjithë"),
                    {"bixhoz": ListRule("bixhoz", "deny", "gambling"),
                     "porno": ListRule("porno", "deny", "pornography")}, result.compiled)
    assert policy.decide(policy.default_group, "www.casino9.example").blocked
    assert policy.decide(policy.default_group, "porn1.example").blocked
    assert result.compiled.counts_by_list() == {"bixhoz": 10, "porno": 2}
    result.compiled.close()
    again = build_active([source(tmp_path), other(tmp_path)], state)  # nothing changed since
    assert (again.reused, again.held_back, again.applied) == (True, [HeldBack("bixhoz", 10, 4)],
                                                              [])
    again.compiled.close()
    write(tmp_path / "bixhoz.txt", NAMES[:9])  # repaired: 10 → 9 is within the share
    fixed = build_active([source(tmp_path), other(tmp_path)], state)
    assert (fixed.held_back, fixed.applied) == ([], ["bixhoz"])
    fixed.compiled.close()


def test_held_back_url_and_allow_entries_are_kept_too(tmp_path: Path) -> None:
    state = tmp_path / "state"
    ads = tmp_path / "ads.txt"
    ads.write_text("||ads.example^\n@@||ok.ads.example^\n" + "".join(
        f"||t{i}.example^\n" for i in range(8)))
    src = ListSource("ads", ads, "adblock", "ads_trackers", selftest=True)
    urls = ListSource("faqe", tmp_path / "urls.txt", "urls", "other")
    write(tmp_path / "urls.txt", ["bad.example/path/"])
    first = build_active([src, urls], state)
    before = first.compiled.counts_by_list()
    first.compiled.close()
    ads.write_text("||ads.example^\n")
    os.utime(ads, ns=(10**18, 10**18))
    result = build_active([src, urls], state)
    assert [h.list_id for h in result.held_back] == ["ads"]
    assert result.compiled.counts_by_list() == before
    assert result.compiled.lookup("ok.ads.example")[0].list_id == "ads@allow"
    assert result.compiled.lookup_url("bad.example", "/path/x")
    result.compiled.close()


@pytest.mark.parametrize("max_shrink,kept", [(0.5, 5), (1.0, 1)])
def test_shrinks_within_the_share_are_accepted(tmp_path: Path, max_shrink: float,
                                               kept: int) -> None:
    state = tmp_path / "state"
    write(tmp_path / "bixhoz.txt", NAMES)
    build_active([source(tmp_path, max_shrink)], state).compiled.close()
    write(tmp_path / "bixhoz.txt", NAMES[:kept])
    result = build_active([source(tmp_path, max_shrink)], state)
    assert result.compiled.counts_by_list() == {"bixhoz": kept}
    result.compiled.close()


def test_a_held_back_list_keeps_its_addresses_and_summary(tmp_path: Path) -> None:
    state = tmp_path / "state"
    addresses = [f"10.0.0.{i}" for i in range(10)]
    write(tmp_path / "bixhoz.txt", NAMES + addresses)
    write(tmp_path / "porno.txt", ["porn0.example"])
    build_active([source(tmp_path), other(tmp_path)], state).compiled.close()
    write(tmp_path / "bixhoz.txt", NAMES[:2])  # 20 → 2: the addresses went too
    write(tmp_path / "porno.txt", ["porn0.example", "porn1.example"])
    result = build_active([source(tmp_path), other(tmp_path)], state)
    assert [h.list_id for h in result.held_back] == ["bixhoz"]
    assert result.compiled.addresses["bixhoz"] == addresses
    summary = result.compiled.meta["summary"]
    assert isinstance(summary, dict)
    assert summary["bixhoz"]["domains"] == 10 and summary["bixhoz"]["addresses"] == 10
    assert summary["porno"]["domains"] == 2
    result.compiled.close()
