"""Tests for the schema migrations of the incident database: a v1 file, as the first release
wrote it, is migrated in place to the current version by both the async writer and the
synchronous CLI side, and keeps its rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from reporting import manual
from reporting.config import IncidentSettings
from reporting.incidents import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Incident,
    IncidentStore,
    IncidentWriter,
    db_path,
)

KEY = bytes(range(32))
T0 = 1_760_000_000.0


def make_v1(path: Path) -> None:
    """A version-1 database with one incident, exactly as v1 code created it."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for statement in MIGRATIONS[0]:
        db.execute(statement)
    db.execute("INSERT INTO schema_version (version) VALUES (1)")
    db.execute("INSERT INTO incidents VALUES (1, ?, ?, 3, 'c0ffee', 'pupils', 'bad.example', "
               "'adult', 'ut1-adult', 'blocked', 'dns', 'listed')", (T0, T0 + 5))
    db.close()


def schema(path: Path) -> tuple[int, set[str]]:
    db = sqlite3.connect(path)
    try:
        version = db.execute("PRAGMA user_version").fetchone()
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    finally:
        db.close()
    assert "schema_version" not in names  # the older release's table became user_version
    return int(version[0]), names


def test_v2_adds_manual_incidents_and_events_with_their_indexes() -> None:
    assert SCHEMA_VERSION == len(MIGRATIONS) == 2


def test_the_cli_side_migrates_a_v1_file_in_place(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    make_v1(path)
    manual.connect(path).close()
    version, names = schema(path)
    assert version == SCHEMA_VERSION
    assert {"manual_incidents", "manual_incidents_occurred_on", "events", "events_at",
            "incidents_first_at"} <= names
    with IncidentStore(path) as store:
        [row] = store.latest(5)
    assert (row.name, row.count, row.last_at) == ("bad.example", 3, T0 + 5)
    manual.connect(path).close()  # opening again migrates nothing
    assert schema(path)[0] == SCHEMA_VERSION


async def test_the_writer_migrates_a_v1_file_in_place(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    make_v1(path)
    writer = IncidentWriter(path, KEY, IncidentSettings(flush_interval=0.01))
    await writer.start()
    writer.submit(Incident(T0 + 3600, "10.0.0.5", "pupils", "new.example", "adult", "ut1",
                           "blocked", "dns", "listed"))
    await writer.stop()
    assert schema(path) == (SCHEMA_VERSION, schema(path)[1])
    assert {"manual_incidents", "events"} <= schema(path)[1]
    with IncidentStore(path) as store:
        assert [r.name for r in store.latest(5)] == ["bad.example", "new.example"]
