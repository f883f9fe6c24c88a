"""Shrink protection: a list that suddenly loses more than `max_shrink` of its entries is held
back, and the last-known-good compile keeps serving."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from blocklists.compiled import CompiledList
from blocklists.store import ACTIVE_NAME, ListShrunk, ListSource, build_active
from policy import Group, ListRule, Policy

NAMES = [f"casino{i}.example" for i in range(10)]


def write(path: Path, names: list[str]) -> None:
    """Rewrite `path` with a new mtime, so the store sees a change whatever the clock says."""
    old = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text("\n".join(names) + "\n")
    os.utime(path, ns=(old + 10**9, old + 10**9))


def source(tmp_path: Path, max_shrink: float = 0.5) -> ListSource:
    return ListSource("bixhoz", tmp_path / "bixhoz.txt", "domains", "gambling",
                      max_shrink=max_shrink)


def test_a_list_that_shrinks_too_much_is_held_back(tmp_path: Path) -> None:
    state = tmp_path / "state"
    write(tmp_path / "bixhoz.txt", NAMES)
    build_active([source(tmp_path)], state).compiled.close()
    before = (state / ACTIVE_NAME).read_bytes()
    write(tmp_path / "bixhoz.txt", NAMES[:4])  # a truncated download: 10 → 4
    with pytest.raises(ListShrunk) as info:
        build_active([source(tmp_path)], state)
    assert info.value.shrunk == [("bixhoz", 10, 4)]
    assert "list 'bixhoz' shrank from 10 to 4 entries" in str(info.value)
    assert (state / ACTIVE_NAME).read_bytes() == before
    assert sorted(p.name for p in state.iterdir()) == [ACTIVE_NAME]
    # The policy over the kept compile still blocks what the short list lost.
    kept = CompiledList(info.value.kept)
    policy = Policy((), Group("default", "Të gjithë"),
                    {"bixhoz": ListRule("bixhoz", "deny", "gambling")}, kept)
    assert policy.decide(policy.default_group, "www.casino9.example").blocked
    kept.close()


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
