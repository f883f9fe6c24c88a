"""Tests for blocklists.sync against a real HTTP server serving a published feed directory:
CSV → publish → sync round trips, deltas, ETag/304, and every tampering case refused with the
active files left byte for byte as they were."""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sync_kit import Feed, served_feed

from blocklists import feed
from blocklists.publish import keygen
from blocklists.sync import status

CASES = """url,category,confirmed_at,case_id,confidential
bad.example,hate_speech,2024-11-01,C-1,jo
http://WWW.Lojera.example/sfida/../blue-whale,dangerous_games,01.11.2024,C-2,jo
secret-abuse.example,csam,2024-11-02,C-3,po
https://hidden.example/album/7,grooming,2024-11-03,C-4,po
"""
CASES_2 = CASES.replace("bad.example,", "new.example,")
DAY = timedelta(days=1)
REASON = "gjykata urdhëroi heqjen / court order 12/2024"


@pytest.fixture
def fd(tmp_path: Path) -> Iterator[Feed]:
    with served_feed(tmp_path) as served:
        yield served


def digests(*texts: str) -> str:
    return "".join(f"{h}\n" for h in sorted(hashlib.sha256(t.encode()).hexdigest()
                                            for t in texts))


def test_round_trip_csv_to_gateway_files(fd: Feed) -> None:
    fd.publish(CASES)
    done: list[tuple[int, int | None]] = []
    result = fd.sync(progress=lambda n, total: done.append((n, total)))
    assert (result.mode, result.serial, result.entries) == ("snapshot", 1, 4)
    assert done[-1][0] == done[-1][1] and done[-1][0] > 0
    assert fd.text("hotline.txt") == "bad.example\n"
    assert fd.text("hotline-urls.txt") == "www.lojera.example/blue-whale\n"
    assert fd.text("hotline.sha256") == digests("secret-abuse.example/",
                                                "hidden.example/album/7")
    for name, data in fd.files().items():
        assert b"secret-abuse" not in data and b"hidden.example" not in data, name
    info = status(fd.state)
    assert (info["serial"], info["entries"], info["confidential"], info["expired"]) == (
        1, 4, 2, False)
    assert info["age_seconds"] < 60


def test_second_publish_is_applied_as_a_delta_then_304(fd: Feed) -> None:
    fd.publish(CASES)
    fd.sync()
    assert fd.publish(CASES_2, allow_removals=REASON) == 2
    fd.server.seen.clear()
    result = fd.sync()
    assert (result.mode, result.serial, result.added, result.removed) == ("delta", 2, 1, 1)
    assert [name for name, _ in fd.server.seen] == ["index.json", "delta-1-2.json"]
    assert fd.server.seen[0][1] is not None  # If-None-Match with the old ETag
    assert fd.text("hotline.txt") == "new.example\n"
    before = fd.files()
    fd.server.seen.clear()
    assert fd.sync().mode == "unchanged"
    assert fd.server.seen == [("index.json", before["etag"].decode().strip())]
    assert fd.files() == before


def test_a_gateway_without_state_fetches_the_snapshot(fd: Feed) -> None:
    fd.publish(CASES)
    fd.publish(CASES_2, allow_removals=REASON)
    assert fd.sync().mode == "snapshot"
    assert fd.text("hotline.txt") == "new.example\n"


def _edit_payload(path: Path) -> None:
    envelope = json.loads(path.read_bytes())
    envelope["payload"]["expires"] = "2099-01-01T00:00:00Z"
    path.write_bytes(feed.envelope_bytes(envelope))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _swap_entry(path: Path) -> None:
    path.write_bytes(path.read_bytes().replace(b"new.example", b"www.example"))


# (what is done to the served directory after serial 2 is published, error, words)
TAMPERING: list[tuple[str, Callable[[Path, bytes], object], type[feed.FeedError], str]] = [
    ("tampered index", lambda d, _: _edit_payload(d / "index.json"), feed.BadSignature,
     "altered or damaged"),
    ("tampered delta", lambda d, _: _swap_entry(d / "delta-1-2.json"), feed.BadSignature,
     "does not match the signed index"),
    ("truncated delta", lambda d, _: _truncate(d / "delta-1-2.json"), feed.BadSignature,
     "altered or truncated"),
    ("truncated index", lambda d, _: _truncate(d / "index.json"), feed.Malformed,
     "not complete JSON"),
    ("replayed old index", lambda d, old: (d / "index.json").write_bytes(old), feed.Rollback,
     "serial 1 is not newer than the active 2"),
]


@pytest.mark.parametrize(("case", "tamper", "error", "words"), TAMPERING,
                         ids=[t[0] for t in TAMPERING])
def test_tampering_is_refused_and_the_active_list_kept(
        fd: Feed, case: str, tamper: Callable[[Path, bytes], object],
        error: type[feed.FeedError], words: str) -> None:
    fd.publish(CASES)
    fd.sync()
    old_index = (fd.out / "index.json").read_bytes()
    fd.publish(CASES_2, allow_removals=REASON)
    if case == "replayed old index":  # the gateway is at 2; the mirror then serves 1 again
        fd.sync()
    before = fd.files()
    tamper(fd.out, old_index)
    with pytest.raises(error) as exc:
        fd.sync()
    assert words in str(exc.value) and " / " in str(exc.value)
    assert fd.files() == before


def test_wrong_key_wrong_feed_and_expired_are_refused(fd: Feed, tmp_path: Path) -> None:
    start = datetime.now(UTC)
    fd.publish(CASES, now=start)
    fd.sync()
    before = fd.files()
    _, other_pub = keygen(tmp_path / "other")
    fd.publish(CASES_2, now=start, allow_removals=REASON)
    with pytest.raises(feed.BadSignature, match="another key"):
        fd.sync(pub=other_pub)
    with pytest.raises(feed.WrongFeed, match="expected 'skola-feed'"):
        fd.sync(feed_id="skola-feed")
    with pytest.raises(feed.Expired, match="expired at"):
        fd.sync(now=start + 8 * DAY)
    assert fd.files() == before
    fd.sync()  # serial 2 arrives; then, days later, the server keeps saying 304: frozen
    with pytest.raises(feed.Expired, match="the active hotline feed expired"):
        fd.sync(now=start + 8 * DAY)
    assert status(fd.state, now=start + 8 * DAY)["expired"] is True


def test_http_errors_and_size_limit(fd: Feed) -> None:
    with pytest.raises(feed.FetchError, match="HTTP 404"):
        fd.sync()
    fd.out.mkdir()
    (fd.out / "index.json").write_bytes(b" " * (2 * 1024 * 1024))
    with pytest.raises(feed.FetchError, match="larger than 1 MiB"):
        fd.sync()
    assert not (fd.state / "feed" / "current.json").exists()


def test_a_second_sync_at_the_same_time_is_refused(fd: Feed) -> None:
    fd.publish(CASES)
    (fd.state / "feed").mkdir(parents=True)
    with open(fd.state / "feed" / ".lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(feed.FeedError, match="another sync is running"):
            fd.sync()
    assert fd.sync().serial == 1
