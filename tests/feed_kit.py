"""Test kit for the hotline feed: keys and feeds made by the real publisher, served over HTTP
on a loopback port (the gateway's sync only speaks http(s)).

    with served_feed(tmp_path) as feed:
        feed.publish(CASES)                      # the next serial, signed
        config = f'[feed]\\nurl = "{feed.url}"\\npublic_key = "{feed.pub}"\\n...'
    with served_directory(root) as url: ...     # any folder over HTTP (a hand-made feed)
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from blocklists.publish import keygen, publish

FEED_ID = "isigurt-al"
CASES = """url,category,confirmed_at,case_id,confidential
hate.example,hate_speech,2026-11-02,C-1,jo
secret-abuse.example,csam,2026-11-02,C-2,po
"""


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass(frozen=True)
class Feed:
    url: str  # the feed's base URL
    www: Path  # what the server serves
    key: Path  # the hotline's private key
    pub: Path  # its public key, for [feed] public_key

    def publish(self, cases: str = CASES, now: datetime | None = None) -> None:
        path = self.www.parent / "cases.csv"
        path.write_text(cases, encoding="utf-8")
        publish(path, self.key, self.www, FEED_ID, now=now)

    def config(self) -> str:
        return f'[feed]\nurl = "{self.url}"\npublic_key = "{self.pub}"\nfeed_id = "{FEED_ID}"\n'


@contextmanager
def served_directory(root: Path) -> Iterator[str]:
    """`root` served over HTTP on a loopback port, quietly; its URL (`http://127.0.0.1:<port>/`)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def served_feed(tmp_path: Path) -> Iterator[Feed]:
    www = tmp_path / "www"
    www.mkdir()
    key, pub = keygen(tmp_path / "keys")
    with served_directory(www) as url:
        yield Feed(url, www, key, pub)
