"""Rollback protection that survives damaged state: the highest serial seen is kept in two
places (`current.json` and the signed `highest.json`), so losing or damaging one of them never
lets a replayed old feed in; when both are gone, the first sync is accepted and says it was
trust on first use."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sync_kit import Feed, entry, hand_publish, served_feed

from blocklists import feed

ENTRIES = [entry(f"site{i}.example") for i in range(5)]


@pytest.fixture
def fd(tmp_path: Path) -> Iterator[Feed]:
    """A gateway at serial 4, with a copy of the publisher's serial 1 kept in `old/`."""
    with served_feed(tmp_path) as served:
        served.out.mkdir()
        for serial in range(1, 5):  # one more entry each time, no removals
            hand_publish(served.out, served.key, serial, ENTRIES[:serial + 1])
            if serial == 1:
                shutil.copytree(served.out, tmp_path / "old")
        assert served.sync().serial == 4
        yield served


def replay_serial_1(fd: Feed) -> None:
    shutil.rmtree(fd.out)
    shutil.copytree(fd.out.parent / "old", fd.out)


@pytest.mark.parametrize("damage", ["truncated", "deleted", "garbage"])
def test_a_replay_after_damaged_current_state_is_refused(fd: Feed, damage: str) -> None:
    current = fd.state / "feed" / "current.json"
    if damage == "truncated":
        current.write_bytes(current.read_bytes()[:100])
    elif damage == "deleted":
        current.unlink()
    else:
        current.write_text('{"serial": 1}')
    replay_serial_1(fd)
    with pytest.raises(feed.Rollback, match="serial 1 is not newer than the active 4"):
        fd.sync()
    assert "site0.example" in (fd.state / "feed" / "hotline.txt").read_text()
    assert "site4.example" in (fd.state / "feed" / "hotline.txt").read_text()


def test_the_current_serial_repairs_damaged_state(fd: Feed) -> None:
    (fd.state / "feed" / "current.json").write_bytes(b"{")
    result = fd.sync()
    assert (result.mode, result.serial, result.first_use) == ("snapshot", 4, False)


def test_a_lost_highest_file_is_covered_by_current_state(fd: Feed) -> None:
    (fd.state / "feed" / "highest.json").write_bytes(b"damaged")
    replay_serial_1(fd)
    with pytest.raises(feed.Rollback):
        fd.sync()


def test_with_all_state_gone_the_first_sync_is_trust_on_first_use(fd: Feed) -> None:
    shutil.rmtree(fd.state / "feed")
    replay_serial_1(fd)
    result = fd.sync()
    assert (result.serial, result.first_use) == (1, True)
