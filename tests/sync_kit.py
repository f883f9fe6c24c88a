"""Test kit for the gateway side of the signed hotline feed: a publisher directory served over
real HTTP (with strong ETags, requests recorded), a gateway state directory, and `hand_publish`
for feeds that Roja's own publisher refuses to write (what a broken publisher could sign).
(tests/feed_kit.py on main serves a feed to a running appliance.)"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from blocklists import feed
from blocklists.publish import keygen, publish
from blocklists.sync import Progress, SyncResult, sync


class FeedServer(ThreadingHTTPServer):
    """Serves `root` under /feed/ with strong ETags; records (file, If-None-Match)."""

    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), FeedHandler)
        self.root = root
        self.seen: list[tuple[str, str | None]] = []

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up on an oversized file is what the test wants


class FeedHandler(BaseHTTPRequestHandler):
    server: FeedServer

    def do_GET(self) -> None:
        name = self.path.removeprefix("/feed/")
        self.server.seen.append((name, self.headers.get("If-None-Match")))
        path = self.server.root / name
        if "/" in name or not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        etag = f'"{hashlib.sha256(data).hexdigest()[:16]}"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Feed:
    """A publisher directory served over HTTP, and a gateway state directory."""

    def __init__(self, tmp: Path, server: FeedServer) -> None:
        self.key, self.pub = keygen(tmp / "keys")
        self.out, self.state, self.cases = tmp / "www", tmp / "state", tmp / "cases.csv"
        self.server = server
        server.root = self.out
        self.url = f"http://127.0.0.1:{server.server_address[1]}/feed/"

    def publish(self, text: str, now: datetime | None = None, allow_removals: str = "") -> int:
        self.cases.write_text(text, encoding="utf-8")
        more = {"allow_removals": allow_removals} if allow_removals else {}
        return publish(self.cases, self.key, self.out, "isigurt-al", now=now, **more).serial

    def sync(self, pub: Path | None = None, feed_id: str = "isigurt-al",
             now: datetime | None = None, progress: Progress | None = None) -> SyncResult:
        return sync(self.state, self.url, (pub or self.pub).read_bytes(), feed_id,
                    timedelta(days=14), now=now, progress=progress)

    def files(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted((self.state / "feed").iterdir())}

    def text(self, name: str) -> str:
        return (self.state / "feed" / name).read_text(encoding="utf-8")


@contextlib.contextmanager
def served_feed(tmp_path: Path) -> Iterator[Feed]:
    """A publisher and a gateway in `tmp_path`, the feed served on a loopback port."""
    server = FeedServer(tmp_path)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield Feed(tmp_path, server)
    finally:
        server.shutdown()
        server.server_close()


def hand_publish(out: Path, key: Path, serial: int, entries: list[feed.Entry], *,
                 delta: dict[str, Any] | None = None, snapshot_extra: dict[str, Any] | None = None,
                 feed_id: str = "isigurt-al") -> None:
    """Sign and write serial `serial` by hand: a snapshot of `entries` (plus `snapshot_extra`
    fields), and, with `delta` (`from_serial`, `added`, `removed`, ...), one delta to it."""
    now = datetime.now(UTC)
    common = {"feed_id": feed_id, "serial": serial, "created": feed.utc_text(now),
              "expires": feed.utc_text(now + timedelta(days=7)),
              "entries_sha256": feed.entries_digest(entries)}
    private = key.read_bytes()
    ordered = sorted(entries, key=feed.identity)
    snap = feed.envelope_bytes(feed.sign({**common, "kind": "snapshot", "entries": ordered,
                                          **(snapshot_extra or {})}, private))
    (out / f"snapshot-{serial}.json").write_bytes(snap)
    deltas = []
    if delta is not None:
        name = f"delta-{delta['from_serial']}-{serial}.json"
        data = feed.envelope_bytes(feed.sign({**common, "kind": "delta", **delta}, private))
        (out / name).write_bytes(data)
        deltas.append({"from": delta["from_serial"], "to": serial, "file": name,
                       "sha256": hashlib.sha256(data).hexdigest()})
    index = feed.sign({**common, "kind": "index", "deltas": deltas,
                       "snapshot": {"file": f"snapshot-{serial}.json",
                                    "sha256": hashlib.sha256(snap).hexdigest()}}, private)
    (out / "index.json").write_bytes(feed.envelope_bytes(index))


def entry(value: str, category: str = "hate_speech") -> feed.Entry:
    return {"value": value, "category": category, "case_id": f"C-{value}",
            "confirmed_at": "2024-11-01", "confidential": False}


def secret(text: str) -> feed.Entry:
    return {"sha256": feed.confidential_digest(text), "category": "csam", "case_id": "C-s",
            "confirmed_at": "2024-11-01", "confidential": True}
