"""The gateway side of "removals are explicit and signed": a serial whose entries shrink without
removals named (with their count) in its signed metadata is refused and the last-known-good
list stays, byte for byte. The feeds here are signed by hand with the hotline's key: what a
broken or careless publisher could put out (Roja's own publisher refuses to write them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sync_kit import Feed, entry, hand_publish, secret, served_feed

from blocklists import feed
from blocklists.sync import status


def unchanged_but_alarmed(fd: Feed, before: dict[str, bytes]) -> None:
    """The active list is byte for byte as before, and `status` carries the alarm."""
    after = fd.files()
    assert b"refused" in after.pop("refused.json")
    assert after == before
    assert "refused" in status(fd.state)["refused"]["why"]

FIRST = [entry("a.example"), entry("b.example"), entry("c.example"), entry("d.example"),
         secret("csam-1.example/"), secret("csam-2.example/")]


@pytest.fixture
def fd(tmp_path: Path) -> Iterator[Feed]:
    with served_feed(tmp_path) as served:
        served.out.mkdir()
        hand_publish(served.out, served.key, 1, FIRST)
        assert served.sync().entries == 6
        yield served


def test_an_empty_snapshot_is_refused_and_the_list_kept(fd: Feed) -> None:
    before = fd.files()
    hand_publish(fd.out, fd.key, 2, [])  # a header-only CSV published by an old publisher
    with pytest.raises(feed.FeedError, match="empty") as exc:
        fd.sync()
    assert " / " in str(exc.value)
    unchanged_but_alarmed(fd, before)
    assert (fd.state / "feed" / "hotline.sha256").read_text().count("\n") == 2


def test_a_snapshot_that_drops_entries_without_signed_removals_is_refused(fd: Feed) -> None:
    before = fd.files()
    hand_publish(fd.out, fd.key, 2, FIRST[:2])  # both CSAM hashes and two hosts gone, unnamed
    with pytest.raises(feed.FeedError, match="4 entries removed without") as exc:
        fd.sync()
    assert str(exc.value).startswith("Seriali 2")
    unchanged_but_alarmed(fd, before)


def test_a_delta_that_removes_without_signed_removals_is_refused(fd: Feed) -> None:
    before = fd.files()
    gone = [{"sha256": e["sha256"]} for e in FIRST[4:]]
    hand_publish(fd.out, fd.key, 2, FIRST[:4],
                 delta={"from_serial": 1, "added": [], "removed": gone})
    with pytest.raises(feed.FeedError, match="2 entries removed without"):
        fd.sync()
    unchanged_but_alarmed(fd, before)


def test_named_and_counted_removals_are_applied(fd: Feed) -> None:
    gone = [{"sha256": FIRST[4]["sha256"]}]
    record = {"serial": 2, "before": 6, "count": 1, "reason": "URL-ja u hoq / taken down",
              "removed": gone}
    hand_publish(fd.out, fd.key, 2, FIRST[:4] + FIRST[5:], snapshot_extra={"removals": [record]},
                 delta={"from_serial": 1, "added": [], "removed": gone, "removals": [record]})
    result = fd.sync()
    assert (result.mode, result.entries, result.removed) == ("delta", 5, 1)
    assert status(fd.state)["refused"] is None


def test_a_gateway_far_behind_checks_the_snapshot_removal_records(fd: Feed) -> None:
    record = {"serial": 2, "before": 6, "count": 1, "reason": "",
              "removed": [{"value": "a.example"}]}
    hand_publish(fd.out, fd.key, 3, [*FIRST[1:], entry("e.example")],
                 snapshot_extra={"removals": [record]})  # no delta from 1: the snapshot
    result = fd.sync()
    assert (result.mode, result.serial, result.added, result.removed) == ("snapshot", 3, 1, 1)
    assert "a.example" not in (fd.state / "feed" / "hotline.txt").read_text()


def test_a_count_that_does_not_match_the_names_is_malformed(fd: Feed) -> None:
    record = {"serial": 2, "before": 6, "count": 3, "reason": "",
              "removed": [{"value": "a.example"}]}
    with pytest.raises(feed.Malformed, match="count"):
        feed.check_payload({"feed_id": "isigurt-al", "serial": 2, "kind": "snapshot",
                            "created": "2024-11-20T12:00:00Z", "expires": "2024-11-27T12:00:00Z",
                            "entries_sha256": "0" * 64, "entries": [], "removals": [record]})
