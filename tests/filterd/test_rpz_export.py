"""The appliance's RPZ zone follows every change of the hotline list, not only the daemon's own
feed loop: publish → `roja lists sync` (a separate process) → the daemon applies it → new zone
serial, NOTIFY and IXFR → a real unbound secondary blocks the new name, within 10 s."""

from __future__ import annotations

import asyncio
import functools
import sys
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from peers.nsd import NsdServer, start_nsd
from rpz_kit import NSD_ZONES, rcode_and_answer, start_secondary

from blocklists.publish import keygen, publish
from filterd.testing import running_appliance

CASES = """url,category,confirmed_at,case_id,confidential
bad.example,hate_speech,2026-11-02,C-1,jo
evil.test,dangerous_games,2026-11-02,C-2,jo
"""


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def nsd(tmp_path: Path) -> Iterator[NsdServer]:
    server = start_nsd(tmp_path / "nsd", NSD_ZONES)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def www(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=root))
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.peer
async def test_a_manual_sync_reaches_unbound_through_rpz(tmp_path: Path, nsd: NsdServer,
                                                         www: tuple[str, Path]) -> None:
    url, root = www
    key, pub = keygen(tmp_path / "keys")
    cases = tmp_path / "cases.csv"
    cases.write_text(CASES, encoding="utf-8")
    publish(cases, key, root, "isigurt-al")
    config = f"""
[state]
dir = "{{state}}"
[dns]
listen = ["127.0.0.1:0"]
upstreams = ["127.0.0.1:9"]
[feed]
url = "{url}"
public_key = "{pub}"
feed_id = "isigurt-al"
interval = 86400
[rpz]
listen = "127.0.0.1:0"
allow = ["127.0.0.1/32"]
"""
    async with running_appliance(tmp_path, config) as app:
        for _ in range(200):  # the first sync runs at start, then the zone is served
            if app.rpz.server is not None:
                break
            await asyncio.sleep(0.05)
        assert app.rpz.server is not None
        secondary = await start_secondary("unbound", tmp_path / "unbound", app.rpz.server, nsd)
        try:
            assert (await rcode_and_answer(secondary.port, "new.example"))[0] == "NOERROR"
            cases.write_text(CASES + "new.example,grooming,2026-11-03,C-3,jo\n",
                             encoding="utf-8")
            publish(cases, key, root, "isigurt-al")
            started = time.monotonic()
            sync = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).parent / "roja"), "--config",
                str(tmp_path / "roja.toml"), "lists", "sync",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
            out, _ = await sync.communicate()
            assert sync.returncode == 0, out.decode()
            while (await rcode_and_answer(secondary.port, "new.example"))[0] != "NXDOMAIN":
                assert time.monotonic() - started < 10, \
                    f"unbound does not block the new name\n{secondary.log()[-2000:]}"
                await asyncio.sleep(0.2)
            assert app.rpz.server.history.current.serial == 2
            assert (await rcode_and_answer(secondary.port, "sub.bad.example"))[0] == "NXDOMAIN"
        finally:
            secondary.stop()
