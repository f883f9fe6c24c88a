"""The hotline feed inside the running appliance: synced, enforced as a legal list, confidential
entries matched by hash only, metrics, and a new serial picked up without a restart."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import pytest
from click.testing import CliRunner
from feed_kit import CASES, Feed, served_feed
from sync_kit import hand_publish

from filterd.cli import main
from filterd.hotline import sync_once
from filterd.testing import dns_address, running_appliance, write_lists
from reporting.incidents import IncidentStore

NEW_CASE = "new-danger.example,dangerous_games,2026-11-03,C-3,jo\n"


def read_events(db: Path) -> list[tuple[float, str, str]]:
    with sqlite3.connect(db) as con:
        return list(con.execute("SELECT at, kind, detail FROM events ORDER BY at, id"))


def axfr(addr: tuple[str, int]) -> str:
    import dns.zone

    return dns.zone.from_xfr(dns.query.xfr(addr[0], "rpz.roja.", port=addr[1])).to_text()


def ask(addr: tuple[str, int], name: str) -> dns.message.Message:
    q = dns.message.make_query(name, "A", use_edns=0)
    return dns.query.udp(q, addr[0], port=addr[1], timeout=3)


@pytest.fixture
def feed(tmp_path: Path) -> Iterator[Feed]:
    """The hotline's feed on a loopback port, its first serial (`CASES`) published."""
    with served_feed(tmp_path) as served:
        served.publish()
        yield served


async def test_feed_is_synced_enforced_and_hashed(tmp_path: Path, feed: Feed) -> None:
    write_lists(tmp_path / "lists", {"allow.txt": "hate.example\nsecret-abuse.example\n"})
    config = f"""
[state]
dir = "{{state}}"
[dns]
listen = ["127.0.0.1:0"]
upstreams = ["127.0.0.1:9"]
[[lists]]
id = "allow"
path = "{tmp_path}/lists/allow.txt"
kind = "allow"
{feed.config()}[rpz]
listen = "127.0.0.1:0"
allow = ["127.0.0.1/32"]
"""
    async with running_appliance(tmp_path, config, metrics=True) as app:
        addr = dns_address(app)
        for _ in range(100):  # the first sync runs at start, then the policy reloads
            if app.feed_metrics.failures or app.lists.counts.get("hotline"):
                break
            await asyncio.sleep(0.05)
        assert app.lists.counts.get("hotline") == 1
        # Legal: the allow list cannot open them; EDE 15 (Blocked).
        for name in ("hate.example", "www.hate.example", "secret-abuse.example",
                     "a.b.secret-abuse.example"):
            r = await asyncio.to_thread(ask, addr, name)
            assert r.rcode() == dns.rcode.NXDOMAIN, name
            assert r.options[0].code == 15
        host, port = app.cfg.metrics_listen  # type: ignore[misc]
        body = await asyncio.to_thread(
            lambda: urllib.request.urlopen(f"http://{host}:{port}/metrics").read().decode())
        assert "roja_list_serial 1.0" in body and "roja_list_stale 0.0" in body
        assert app.rpz.server is not None  # started with the first synced serial
        zone = await asyncio.to_thread(axfr, app.rpz.server.bound)
        assert "\nhate.example 300 IN CNAME .\n" in zone and "secret-abuse" not in zone
        # A new serial is picked up without a restart.
        feed.publish(CASES + NEW_CASE)
        assert await sync_once(app.cfg.feed, app.cfg.state_dir, app.feed_metrics, app.reload)
        await app.rpz.refresh()
        r = await asyncio.to_thread(ask, addr, "new-danger.example")
        assert r.rcode() == dns.rcode.NXDOMAIN
        zone = await asyncio.to_thread(axfr, app.rpz.server.bound)
        assert "\nnew-danger.example 300 IN CNAME .\n" in zone and " 2 3600 " in zone
    state = tmp_path / "state"
    rows = IncidentStore(state / "incidents.sqlite").list_since(0)
    secret = [r for r in rows if r.category == "csam"]
    assert secret and all(r.name.startswith("sha256:") for r in secret)
    for path in state.rglob("*"):
        if path.is_file():
            assert b"secret-abuse" not in path.read_bytes(), path


async def test_a_manual_sync_is_enforced_by_the_running_daemon(tmp_path: Path,
                                                               feed: Feed) -> None:
    config = f"""
[state]
dir = "{{state}}"
[dns]
listen = ["127.0.0.1:0"]
upstreams = ["127.0.0.1:9"]
{feed.config()}interval = 86400
"""
    async with running_appliance(tmp_path, config, metrics=True) as app:
        addr = dns_address(app)
        for _ in range(200):  # the first sync runs at start, then the policy reloads
            if app.lists.counts.get("hotline"):
                break
            await asyncio.sleep(0.05)
        feed.publish(CASES + NEW_CASE)
        roja = str(Path(sys.executable).parent / "roja")
        done = await asyncio.create_subprocess_exec(
            roja, "--config", str(tmp_path / "roja.toml"), "lists", "sync",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await done.communicate()
        assert done.returncode == 0, out.decode()
        started = time.monotonic()
        while (await asyncio.to_thread(ask, addr, "new-danger.example")).rcode() \
                != dns.rcode.NXDOMAIN:
            assert time.monotonic() - started < 5, "the manual sync was not enforced in 5 s"
            await asyncio.sleep(0.2)
        host, port = app.cfg.metrics_listen  # type: ignore[misc]
        body = await asyncio.to_thread(
            lambda: urllib.request.urlopen(f"http://{host}:{port}/metrics").read().decode())
        assert "roja_list_serial 2.0" in body
        status = await asyncio.create_subprocess_exec(
            roja, "--config", str(tmp_path / "roja.toml"), "lists", "status", "--json",
            stdout=asyncio.subprocess.PIPE)
        text, _ = await status.communicate()
        assert json.loads(text)["enforced"]["serial"] == 2
        # A publish that empties the list (by an old publisher) is refused and shown.
        hand_publish(feed.www, feed.key, 3, [])
        assert not await sync_once(app.cfg.feed, app.cfg.state_dir, app.feed_metrics,
                                   app.apply_everywhere)
        status = await asyncio.create_subprocess_exec(
            roja, "--config", str(tmp_path / "roja.toml"), "lists", "status",
            stdout=asyncio.subprocess.PIPE)
        text, _ = await status.communicate()
        assert "Zbatohet / enforced: seriali / serial 2" in text.decode()
        assert "Seriali i ri u refuzua / the new serial was refused: Seriali 3" in text.decode()
        body = await asyncio.to_thread(
            lambda: urllib.request.urlopen(f"http://{host}:{port}/metrics").read().decode())
        assert "roja_list_refused 1.0" in body and "roja_list_serial 2.0" in body
        assert (await asyncio.to_thread(ask, addr, "new-danger.example")).rcode() == \
            dns.rcode.NXDOMAIN
    events = read_events(tmp_path / "state" / "incidents.sqlite")
    assert [d for _, k, d in events if k == "sync_ok"][-1] == "serial 2"
    assert [k for _, k, _ in events][-3:-1] == ["sync_fail", "list_held_back"]
    after = CliRunner().invoke(main, ["--config", str(tmp_path / "roja.toml"), "lists",
                                      "status"])
    assert "Kujdes: filtri nuk punon" in after.output  # stopped: what it enforced, marked so
