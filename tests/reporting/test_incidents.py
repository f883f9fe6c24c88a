"""Tests for reporting.incidents: the batched, deduplicating, pseudonymous incident writer and the
read-only store, on real SQLite files."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

import configkit
import reporting.config
from reporting.config import IncidentSettings
from reporting.incidents import (
    SCHEMA_VERSION,
    Incident,
    IncidentRow,
    IncidentStore,
    IncidentStoreError,
    IncidentWriter,
    NoIncidentStoreError,
    db_path,
)
from reporting.incidents.batch import ROWS_PER_STATEMENT
from reporting.incidents.writer import RECENT_CAPACITY
from reporting.pseudonym import pseudonym
from reporting.sqlite_store import StoreTooNewError

KEY = bytes(range(32))
T0 = 1_730_000_000.0
FAST = IncidentSettings(flush_interval=0.01)


def incident(at: float = T0, client: str = "10.0.0.5", name: str = "bad.example",
             **kw: str) -> Incident:
    fields = {"group": "pupils", "category": "adult", "list_id": "ut1-adult",
              "action": "blocked", "source": "dns", "reason": "listed in ut1-adult", **kw}
    return Incident(at=at, client=client, name=name, **fields)


def rows(path: Path) -> list[IncidentRow]:
    with IncidentStore(path) as store:
        return store.after_id(0, limit=1_000_000)


async def write(path: Path, items: list[Incident], cfg: IncidentSettings = FAST,
                recent_capacity: int = RECENT_CAPACITY) -> IncidentWriter:
    writer = IncidentWriter(path, KEY, cfg, recent_capacity=recent_capacity)
    await writer.start()
    for item in items:
        writer.submit(item)
    await writer.stop()
    return writer


async def eventually(check: Callable[[], bool]) -> None:
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the writer did not get there within 5 s")


async def test_rows_hold_the_incident_with_a_pseudonymous_client(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    writer = await write(path, [incident(action="cname-blocked", reason="CNAME into x")])
    [row] = rows(path)
    assert row == IncidentRow(1, T0, T0, 1, pseudonym(KEY, "10.0.0.5"), "pupils", "bad.example",
                              "adult", "ut1-adult", "cname-blocked", "dns", "CNAME into x")
    assert (writer.written, writer.dropped) == (1, 0)


async def test_incidents_are_written_in_batches(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    cfg = IncidentSettings(batch_size=100, flush_interval=0.01)
    writer = await write(path, [incident(name=f"n{i}.example") for i in range(250)], cfg)
    assert writer.batches == 3
    assert writer.written == 250
    assert [r.name for r in rows(path)] == [f"n{i}.example" for i in range(250)]


async def test_a_lone_incident_is_written_after_flush_interval(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    writer = IncidentWriter(path, KEY, IncidentSettings(flush_interval=0.05))
    await writer.start()
    writer.submit(incident())
    await eventually(lambda: writer.written == 1)
    assert len(rows(path)) == 1  # visible to a reader while the writer still runs
    writer.submit(incident(name="second.example"))
    await eventually(lambda: writer.written == 2)
    assert writer.batches == 2
    await writer.stop()


@pytest.mark.parametrize(("gaps", "counts"), [
    ([0], [1]),
    ([0, 30], [2]),
    ([0, 60], [2]),  # the window is inclusive
    ([0, 61], [1, 1]),
    ([0, 50, 100, 150], [4]),  # a pupil retrying keeps one incident going
    ([0, 59, 200, 201], [2, 2]),
])
@pytest.mark.parametrize("batch_size", [1, 500])
async def test_same_client_and_name_within_60s_is_one_row(
        tmp_path: Path, gaps: list[int], counts: list[int], batch_size: int) -> None:
    path = db_path(tmp_path)
    cfg = IncidentSettings(batch_size=batch_size, flush_interval=0.01)
    await write(path, [incident(at=T0 + g) for g in gaps], cfg)
    stored = rows(path)
    assert [r.count for r in stored] == counts
    assert stored[0].first_at == T0
    assert stored[-1].last_at == T0 + gaps[-1]


async def test_other_clients_and_names_are_separate_rows(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    await write(path, [incident(), incident(client="10.0.0.6"), incident(name="other.example"),
                       incident(at=T0 + 1)])
    assert sorted((r.client, r.name, r.count) for r in rows(path)) == sorted([
        (pseudonym(KEY, "10.0.0.5"), "bad.example", 2),
        (pseudonym(KEY, "10.0.0.6"), "bad.example", 1),
        (pseudonym(KEY, "10.0.0.5"), "other.example", 1),
    ])


async def test_dedup_holds_across_a_restart(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    await write(path, [incident(at=T0)])
    await write(path, [incident(at=T0 + 30)])
    await write(path, [incident(at=T0 + 200)])
    assert [(r.count, r.first_at, r.last_at) for r in rows(path)] == [
        (2, T0, T0 + 30), (1, T0 + 200, T0 + 200)]


async def test_dedup_finds_rows_the_memory_map_forgot(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    cfg = IncidentSettings(batch_size=1, flush_interval=0.01)
    items = [incident(at=T0), *(incident(at=T0 + i, name=f"n{i}.example") for i in range(1, 6)),
             incident(at=T0 + 10)]
    await write(path, items, cfg, recent_capacity=1)
    assert [(r.name, r.count) for r in rows(path) if r.name == "bad.example"] == [
        ("bad.example", 2)]


async def test_the_raw_client_address_never_reaches_the_disk(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    raw = ["10.213.47.199", "fd00:dead:beef::4242"]
    writer = IncidentWriter(path, KEY, FAST)
    await writer.start()
    for i, client in enumerate(raw * 50):
        writer.submit(incident(at=T0 + i, client=client, name=f"n{i}.example"))
    await eventually(lambda: writer.written == 100)

    def disk() -> bytes:
        return b"".join(p.read_bytes() for p in sorted(tmp_path.iterdir()) if p.is_file())

    while_running = disk()  # includes the -wal file
    await writer.stop()
    for data in (while_running, disk()):
        assert pseudonym(KEY, raw[0]).encode() in data
        for client in raw:
            assert client.encode() not in data
            assert client.encode("utf-16-le") not in data


async def test_a_burst_beyond_the_queue_never_blocks_and_drops_are_counted(
        tmp_path: Path) -> None:
    path = db_path(tmp_path)
    registry = CollectorRegistry()
    writer = IncidentWriter(path, KEY, IncidentSettings(queue_size=100, batch_size=10),
                            registry)
    await writer.start()
    started = time.perf_counter()
    for i in range(20_000):  # no await: the writer cannot run in between
        writer.submit(incident(at=T0 + i, name=f"n{i}.example"))
    assert time.perf_counter() - started < 1.0
    assert writer.queued == 100
    assert writer.dropped == 19_900
    await writer.stop()
    assert writer.written == 100
    assert len(rows(path)) == 100
    assert registry.get_sample_value("roja_incidents_written_total") == 100
    assert registry.get_sample_value("roja_incidents_dropped_total") == 19_900


async def test_repeats_fold_into_the_queued_entry_and_every_one_is_counted(
        tmp_path: Path) -> None:
    """A client looping on a blocked name takes one queue entry, not one per query (issue 21),
    and the stored row still counts every answered block."""
    path = db_path(tmp_path)
    writer = IncidentWriter(path, KEY, IncidentSettings(queue_size=3, flush_interval=30))
    await writer.start()
    for i in range(5000):  # no await: all of them wait in the queue together
        writer.submit(incident(at=T0 + i / 1000))
    writer.submit(incident(at=T0, name="other.example"))
    writer.submit(incident(at=T0, client="10.0.0.6"))
    assert (writer.queued, writer.dropped) == (3, 0)
    writer.submit(incident(at=T0 + 1, name="third.example"))  # a new entry: the queue is full
    writer.submit(incident(at=T0 + 6))  # a repeat still folds
    await writer.stop()
    assert (writer.written, writer.dropped) == (5003, 1)
    stored = {(r.client, r.name): r for r in rows(path)}
    looping = stored[(pseudonym(KEY, "10.0.0.5"), "bad.example")]
    assert (looping.count, looping.first_at, looping.last_at) == (5001, T0, T0 + 6)
    assert sum(r.count for r in stored.values()) == 5003


def counts(path: Path) -> list[int]:
    return [r.count for r in rows(path)]


async def one_row_written(path: Path, at: float | None = None,
                          **settings: Any) -> tuple[IncidentWriter, float]:
    """A started writer (FAST with `settings`) whose first incident, at `at` (default: now),
    is in the store; the writer and that time."""
    writer = IncidentWriter(path, KEY, replace(FAST, **settings))
    await writer.start()
    at = time.time() if at is None else at
    writer.submit(incident(at=at))
    await eventually(lambda: writer.written == 1)
    return writer, at


async def test_repeats_of_a_written_row_are_counted_in_memory_and_written_together(
        tmp_path: Path) -> None:
    """Issue 21: a client hammering a blocked name costs a dictionary lookup per query and one
    UPDATE per `repeat_flush_seconds`, not a queue entry and an UPDATE per query."""
    path = db_path(tmp_path)
    writer, now = await one_row_written(path, repeat_flush_seconds=0.5)
    for i in range(1000):
        writer.submit(incident(at=now + i / 1000))
    assert writer.queued == 0  # folded into the written row, nothing queued
    await asyncio.sleep(0.1)
    assert counts(path) == [1]  # held in memory for now
    await eventually(lambda: writer.written == 1001)
    assert counts(path) == [1001]
    assert writer.batches == 1  # the repeats took no batch of their own
    await writer.stop()
    assert (counts(path), writer.dropped) == ([1001], 0)


async def test_stop_writes_the_repeats_held_in_memory(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    writer, now = await one_row_written(path, repeat_flush_seconds=3600)
    for i in range(10):
        writer.submit(incident(at=now + i))
    await writer.stop()
    assert (counts(path), writer.written, writer.dropped) == ([11], 11, 0)


async def test_repeat_flush_zero_writes_repeats_with_the_next_batch(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    writer, now = await one_row_written(path, repeat_flush_seconds=0)
    writer.submit(incident(at=now + 1))
    await eventually(lambda: counts(path) == [2])
    await writer.stop()


async def test_held_repeats_wait_out_a_locked_store(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    writer, now = await one_row_written(path, repeat_flush_seconds=0.05)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        for i in range(5):
            writer.submit(incident(at=now + i))
        await eventually(lambda: writer.failures >= 1)
        writer.submit(incident(at=now + 6))  # while its repeats are being retried
    finally:
        other.execute("ROLLBACK")
        other.close()
    await eventually(lambda: writer.written == 7)
    await writer.stop()
    assert (counts(path), writer.dropped) == ([7], 0)


async def test_beyond_repeat_pairs_a_repeat_is_queued_like_before(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    writer = IncidentWriter(path, KEY, replace(FAST, repeat_pairs=1, repeat_flush_seconds=3600))
    await writer.start()
    now = time.time()
    writer.submit(incident(at=now, name="one.example"))
    writer.submit(incident(at=now, name="two.example"))  # no room: goes the store's way
    await eventually(lambda: writer.written == 2)
    for i in range(3):
        writer.submit(incident(at=now + i, name="one.example"))
        writer.submit(incident(at=now + i, name="two.example"))
    assert writer.queued == 1  # two.example's repeats: one queued entry, as before
    await writer.stop()
    assert {r.name: r.count for r in rows(path)} == {"one.example": 4, "two.example": 4}


async def test_held_repeats_are_written_when_the_month_ends(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A month's report counts the rows of that month: their repeats must be in the store as
    soon as it ends, not `repeat_flush_seconds` later (the writer's clock is moved to 0.6 s
    before midnight in Tirana)."""
    from datetime import datetime

    import reporting.incidents.writer as writer_module
    from reporting.report_data import TIRANE
    end = datetime(2026, 12, 1, tzinfo=TIRANE).timestamp()
    shift = end - 0.6 - time.time()

    class Shifted:
        @staticmethod
        def time() -> float:
            return time_now() + shift

        @staticmethod
        def monotonic() -> float:
            return time.monotonic()

    time_now = time.time
    monkeypatch.setattr(writer_module, "time", Shifted)
    path = db_path(tmp_path)
    writer, first = await one_row_written(path, Shifted.time(), repeat_flush_seconds=3600)
    for i in range(5):
        writer.submit(incident(at=first + i / 100))
    assert counts(path) == [1]
    await eventually(lambda: counts(path) == [6])
    assert Shifted.time() < end + 1.0  # at the month's end, not an hour later
    await writer.stop()


async def test_a_repeat_after_the_window_queues_a_new_row(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    writer = IncidentWriter(path, KEY, IncidentSettings(flush_interval=30, dedup_seconds=60))
    await writer.start()
    for at in (T0, T0 + 30, T0 + 91, T0 + 100):
        writer.submit(incident(at=at))
    assert writer.queued == 2
    await writer.stop()
    assert [(r.count, r.first_at, r.last_at) for r in rows(path)] == [
        (2, T0, T0 + 30), (2, T0 + 91, T0 + 100)]


async def test_a_repeat_stamped_earlier_than_its_row_moves_first_at_back(
        tmp_path: Path) -> None:
    """The clock stepped back (NTP): the row still spans both times."""
    path = db_path(tmp_path)
    writer = IncidentWriter(path, KEY, FAST)
    await writer.start()
    writer.submit(incident(at=T0 + 10))
    await eventually(lambda: writer.written == 1)
    writer.submit(incident(at=T0))
    await eventually(lambda: writer.written == 2)
    writer.submit(incident(at=T0 + 20))
    await writer.stop()
    assert [(r.count, r.first_at, r.last_at) for r in rows(path)] == [(3, T0, T0 + 20)]


async def test_stop_flushes_everything_without_waiting_for_the_interval(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    writer = IncidentWriter(path, KEY, IncidentSettings(flush_interval=30, batch_size=7))
    await writer.start()
    for i in range(100):
        writer.submit(incident(name=f"n{i}.example"))
    started = time.monotonic()
    await writer.stop()
    assert time.monotonic() - started < 5
    assert writer.written == 100
    assert len(rows(path)) == 100
    writer.submit(incident())  # after stop: counted, not queued
    assert writer.dropped == 1


async def test_incidents_submitted_before_start_are_written(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    writer = IncidentWriter(path, KEY, FAST)
    writer.submit(incident())
    await writer.start()
    await writer.stop()
    assert len(rows(path)) == 1


async def test_database_is_wal_with_a_versioned_schema(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    await write(path, [incident()])
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        indexes = {r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'incidents'")}
        assert {"incidents_first_at", "incidents_client_name"} <= indexes
    finally:
        db.close()
    await write(path, [incident(at=T0 + 500)])  # reopening does not migrate again
    assert len(rows(path)) == 2


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    await write(path, [])
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreTooNewError, match=f"më e re.*{path}.*newer Roja"):
        await IncidentWriter(path, KEY, FAST).start()


async def test_a_database_error_is_logged_once_and_the_batch_stays_queued(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = db_path(tmp_path)
    writer = IncidentWriter(path, KEY, IncidentSettings(batch_size=1, flush_interval=0.01))
    await writer.start()
    writer.submit(incident())
    await eventually(lambda: writer.written == 1)
    with sqlite3.connect(path) as other:
        other.execute("ALTER TABLE incidents RENAME TO incidents_away")
    other.close()
    caplog.set_level(logging.ERROR, logger="reporting.incidents")
    for i in range(5):
        writer.submit(incident(at=T0 + 100 * i, name=f"n{i}.example"))
    await eventually(lambda: writer.failures >= 3)
    assert (writer.written, writer.dropped, writer.queued) == (1, 0, 5)  # kept, not lost
    errors = [r for r in caplog.records if "could not write" in r.getMessage()]
    assert len(errors) == 1  # rate-limited
    assert "10.0.0.5" not in caplog.text
    with sqlite3.connect(path) as other:  # the store is repaired: the queue drains by itself
        other.execute("ALTER TABLE incidents_away RENAME TO incidents")
    other.close()
    await eventually(lambda: writer.written == 6)
    await writer.stop()
    assert writer.dropped == 0
    assert [r.name for r in rows(path)][1:] == [f"n{i}.example" for i in range(5)]


async def test_what_cannot_be_written_by_the_stop_timeout_is_counted(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    writer = IncidentWriter(path, KEY, FAST)
    await writer.start()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        for i in range(3):
            writer.submit(incident(name=f"n{i}.example"))
        await writer.stop(patience=0.5)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert (writer.written, writer.dropped) == (0, 3)


async def test_overflow_while_locked_is_counted_and_recorded_in_the_store(
        tmp_path: Path) -> None:
    path = db_path(tmp_path)
    writer = IncidentWriter(path, KEY, IncidentSettings(queue_size=20, batch_size=10,
                                                        flush_interval=0.01))
    await writer.start()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    for i in range(50):
        writer.submit(incident(at=T0 + i, name=f"n{i}.example"))
        await asyncio.sleep(0)
    other.execute("COMMIT")
    other.close()
    await writer.stop()
    # the queue's 20 and the batch in flight are kept; only what came beyond them is lost
    assert writer.written + writer.dropped == 50 and writer.dropped >= 20
    assert len(rows(path)) == writer.written
    with sqlite3.connect(path) as db:
        events = db.execute("SELECT kind, detail FROM events").fetchall()
    db.close()
    assert events == [("incidents_dropped", str(writer.dropped))]


def test_the_store_refuses_a_missing_database_without_creating_one(tmp_path: Path) -> None:
    with pytest.raises(NoIncidentStoreError):
        IncidentStore(db_path(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_the_store_refuses_a_file_that_is_not_an_incident_database(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    path.write_text("hello\n" * 200)
    with pytest.raises(IncidentStoreError, match="not a Roja incident database"):
        IncidentStore(path)


async def test_the_store_lists_since_a_time_and_after_an_id(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    await write(path, [incident(at=T0 + 100 * i, name=f"n{i}.example") for i in range(10)])
    with IncidentStore(path) as store:
        assert [r.name for r in store.list_since(T0 + 650)] == [
            "n7.example", "n8.example", "n9.example"]
        assert [r.name for r in store.list_since(T0, limit=2)] == ["n8.example", "n9.example"]
        assert [r.id for r in store.after_id(8)] == [9, 10]
        assert store.after_id(10) == []
        assert [r.id for r in store.latest(3)] == [8, 9, 10]
        assert store.max_id() == 10


@dataclass
class ModelRow:
    client: str
    name: str
    first_at: float
    last_at: float
    count: int


# A model of the rule, one incident at a time: a (client, name) joins its newest row if that
# row's last_at is within dedup_seconds, else starts a new row. Batching, the bounded memory
# map, the SQL fallback and restarts must not change the outcome.
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 70)),
                   max_size=40),
    batch_size=st.integers(1, 6),
    recent_capacity=st.sampled_from([1, 1000]),
    restart_at=st.integers(0, 40),
)
def test_batching_and_restarts_give_the_same_rows_as_one_at_a_time(
        steps: list[tuple[int, int, int]], batch_size: int, recent_capacity: int,
        restart_at: int) -> None:
    items, at = [], T0
    for client, name, gap in steps:
        at += gap
        items.append(incident(at=at, client=f"10.0.0.{client}", name=f"n{name}.example"))
    expected: list[ModelRow] = []
    newest: dict[tuple[str, str], ModelRow] = {}
    for item in items:
        key = (pseudonym(KEY, item.client), item.name)
        row = newest.get(key)
        if row is not None and row.last_at >= item.at - 60:
            row.last_at, row.count = item.at, row.count + 1
        else:
            row = newest[key] = ModelRow(key[0], key[1], item.at, item.at, 1)
            expected.append(row)
    cfg = replace(FAST, batch_size=batch_size, flush_interval=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = db_path(Path(tmp))

        async def run() -> None:
            await write(path, items[:restart_at], cfg, recent_capacity=recent_capacity)
            await write(path, items[restart_at:], cfg, recent_capacity=recent_capacity)

        asyncio.run(run())
        got = [ModelRow(r.client, r.name, r.first_at, r.last_at, r.count) for r in rows(path)]
    assert got == expected


def _section(text: str) -> configkit.Section:
    data, source = configkit.parse_toml_text(text, "roja.toml")
    return configkit.Section(data, "", source).section("incidents")


def test_config_defaults_and_values() -> None:
    assert reporting.config.parse(_section("")) == IncidentSettings()
    assert reporting.config.parse(_section(
        "[incidents]\ndedup_seconds = 30\nqueue_size = 50\nbatch_size = 5\nflush_interval = 1\n"
        "recent_pairs = 100000\nfree_text_days = 7\nrepeat_flush_seconds = 5\n"
        "repeat_pairs = 0\n"
    )) == IncidentSettings(dedup_seconds=30, queue_size=50, batch_size=5, flush_interval=1.0,
                           recent_pairs=100_000, free_text_days=7, repeat_flush_seconds=5.0,
                           repeat_pairs=0)
    assert IncidentSettings().free_text_days == 30


@pytest.mark.parametrize(("text", "message"), [
    ("[incidents]\nqueue_size = 0\n", "roja.toml:2: incidents.queue_size: must be at least 1"),
    ("[incidents]\ndedup = 60\n", "roja.toml:2: incidents.dedup: unknown key"),
    ("[incidents]\nrecent_pairs = 0\n", "roja.toml:2: incidents.recent_pairs: must be at least 1"),
    ("[incidents]\nfree_text_days = 0\n",
     "roja.toml:2: incidents.free_text_days: must be at least 1"),
    ("[incidents]\n\nfree_text_days = \"30\"\n",
     "roja.toml:3: incidents.free_text_days: must be a whole number"),
    ("[incidents]\nfree_text_day = 30\n", "roja.toml:2: incidents.free_text_day: unknown key"),
    ("[incidents]\nbatch_size = \"big\"\n", "incidents.batch_size: must be a whole number"),
    ("[incidents]\nrepeat_flush_seconds = -1\n",
     "roja.toml:2: incidents.repeat_flush_seconds: must be at least 0"),
])
def test_config_errors_name_the_line_and_key(text: str, message: str) -> None:
    with pytest.raises(configkit.ConfigError, match=re.escape(message)):
        reporting.config.parse(_section(text))


@pytest.mark.parametrize("repeat_pairs", [0, 32768])
async def test_batches_larger_than_one_statement_are_written_whole(
        tmp_path: Path, repeat_pairs: int) -> None:
    """Rows are written ROWS_PER_STATEMENT to a statement (multi-row INSERT, UPDATE ... FROM
    VALUES, issue 21): 1,203 new rows in one batch, then two repeats of each (written by the
    store's folding with `repeat_pairs = 0`, as held repeats otherwise), one of them earlier
    than its row (the clock went back)."""
    path = db_path(tmp_path)
    n = 2 * ROWS_PER_STATEMENT + 203
    cfg = replace(FAST, batch_size=2000, repeat_pairs=repeat_pairs, repeat_flush_seconds=0)
    writer = IncidentWriter(path, KEY, cfg)
    await writer.start()
    now = time.time()
    for i in range(n):
        writer.submit(incident(at=now, name=f"n{i}.example"))
    await eventually(lambda: writer.written == n)
    for i in range(n):
        writer.submit(incident(at=now + 1, name=f"n{i}.example"))
        writer.submit(incident(at=now - 1 if i == 7 else now + 2, name=f"n{i}.example"))
    await writer.stop()
    found = rows(path)
    assert (len(found), writer.written, writer.dropped) == (n, 3 * n, 0)
    assert {r.count for r in found} == {3}
    by_name = {r.name: r for r in found}
    assert by_name["n7.example"].first_at == pytest.approx(now - 1)
    assert by_name["n8.example"].first_at == pytest.approx(now)
    assert by_name["n8.example"].last_at == pytest.approx(now + 2)
