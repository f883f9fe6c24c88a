"""Issue 22 item 1: another writer holding the incident database's lock longer than SQLite's
busy timeout loses nothing. A real appliance answers blocked DNS queries while a second real
SQLite connection holds the write lock (BEGIN IMMEDIATE) for 10 s; afterwards every answered
block is in the store and nothing was dropped."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from dns_resolver.testing import ask_udp, make_query
from filterd.testing import blocked_answer, dns_address, running_appliance
from reporting.incidents import IncidentStore

CONFIG = """
[school]
name = "Shkolla Çajupi"
code = "AL-TR-0042"
[state]
dir = "{state}"
[dns]
listen = ["127.0.0.1:0"]
upstreams = ["127.0.0.1:9"]
[incidents]
flush_interval = 0.05
batch_size = 50
[[lists]]
id = "bixhoz"
path = "deny.txt"
format = "domains"
kind = "deny"
category = "gambling"
"""
HOLD = 10.0


def burst(server: tuple[str, int], until: float) -> list[str]:
    """Blocked queries, each for a new name, until `until`; the names that were answered."""
    answered, i = [], 0
    while time.monotonic() < until:
        name = f"q{i}.bixhoz{i % 10}.example"
        if blocked_answer(ask_udp(server, make_query(name))):
            answered.append(name)
        i += 1
        time.sleep(0.005)
    return answered


async def test_a_10s_lock_by_another_writer_loses_no_incident(tmp_path: Path) -> None:
    (tmp_path / "deny.txt").write_text("".join(f"bixhoz{i}.example\n" for i in range(10)),
                                       encoding="utf-8")
    async with running_appliance(tmp_path, CONFIG, metrics=True) as app:
        writer = app.writer
        assert writer is not None
        path = tmp_path / "state" / "incidents.sqlite"
        await asyncio.sleep(0.2)  # the start event is written
        other = sqlite3.connect(path, isolation_level=None, timeout=30)
        other.execute("BEGIN IMMEDIATE")  # the purge, `roja incident add`, bypass-watch ...
        try:
            answered = await asyncio.to_thread(burst, dns_address(app),
                                               time.monotonic() + HOLD)
            assert writer.written == 0  # really held back
        finally:
            other.execute("COMMIT")
            other.close()
        for _ in range(400):
            if writer.written >= len(answered):
                break
            await asyncio.sleep(0.05)
        dropped = writer.dropped
    with IncidentStore(path) as store:
        stored = {row.name for row in store.after_id(0, limit=1_000_000)}
    print(f"answered blocks: {len(answered)}, stored: {len(stored)}, dropped: {dropped}")
    assert len(answered) > 300
    assert dropped == 0
    assert set(answered) <= stored
