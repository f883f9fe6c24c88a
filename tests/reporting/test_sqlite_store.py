"""Tests for reporting.sqlite_store, the stores' one migration runner and connection policy:
every database the release before it left on disk (tests/reporting/data/before_sqlite_store,
written by that release's own code) opens with today's code and keeps every row; the version
moves into `user_version`; a newer database is refused naming the file, Albanian first, also
by the CLI; each step is its own transaction; opening a current database takes no lock."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from install_kit import ROJA

from filterd import overrides_db
from filterd.console.accounts import SCHEMA as CONSOLE
from filterd.console.accounts import Accounts
from filterd.console.overview import top_categories
from filterd.status import TIRANE
from reporting import manual, outbox
from reporting.inbox.store import SCHEMA as INBOX
from reporting.inbox.store import Store
from reporting.incidents import SCHEMA as INCIDENTS
from reporting.incidents import IncidentStore
from reporting.outbox import Outbox
from reporting.sqlite_store import Schema, StoreTooNewError, open_store, read_version

BEFORE = Path(__file__).parent / "data" / "before_sqlite_store"


def _incidents(path: Path) -> None:
    manual.connect(path).close()
    with IncidentStore(path) as store:  # the read-only view reads the upgraded file
        assert len(store.latest(10)) == 3


def _outbox(path: Path) -> None:
    with Outbox(path) as box:
        assert box.conn.execute("SELECT status FROM deliveries").fetchall() == [("queued",)]


OPENERS: dict[str, tuple[Schema, Callable[[Path], None]]] = {
    "incidents.sqlite": (INCIDENTS, _incidents),
    "outbox.sqlite": (outbox.SCHEMA, _outbox),
    "inbox.sqlite": (INBOX, lambda p: Store(p).close()),
    "console.sqlite": (CONSOLE, lambda p: Accounts(p.parent).close()),
    "overrides.sqlite": (overrides_db.SCHEMA, lambda p: overrides_db.connect(p.parent).close()),
}


def rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                           "AND name != 'schema_version' ORDER BY name")]
        out = {}
        for table in tables:
            columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
            out[table] = [tuple(zip(columns, r, strict=True))
                          for r in db.execute(f"SELECT * FROM {table} ORDER BY rowid")]
        return out
    finally:
        db.close()


def test_every_store_has_a_database_from_the_release_before() -> None:
    assert sorted(OPENERS) == sorted(p.name for p in BEFORE.glob("*.sqlite"))


@pytest.mark.parametrize("name", sorted(OPENERS))
def test_a_database_of_the_release_before_is_upgraded_without_losing_rows(
        tmp_path: Path, name: str) -> None:
    schema, open_it = OPENERS[name]
    path = tmp_path / name
    shutil.copy(BEFORE / name, path)
    before = rows(path)
    assert sum(len(r) for r in before.values()) > 0
    open_it(path)
    after = rows(path)
    for table, old in before.items():  # every old row, every old column, unchanged
        new = [tuple(pair for pair in row if pair[0] in dict(old[0]))
               for row in after[table]] if old else []
        assert new == old, table
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == schema.version
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'schema_version'"
                          ).fetchone() is None  # one record of the version
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.close()
    open_it(path)  # opening again changes nothing
    assert rows(path) == after


SMALL = Schema("small.sqlite", (
    ("CREATE TABLE a (x INTEGER)",),
    ("INSERT INTO a VALUES (1)", "INSERT INTO a VALUES ('not reached') -- ",),
))


def test_a_newer_database_is_refused_naming_the_file_albanian_first(tmp_path: Path) -> None:
    path = tmp_path / "small.sqlite"
    open_store(path, SMALL).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 9")
    db.close()
    with pytest.raises(StoreTooNewError) as caught:
        open_store(path, SMALL)
    text = str(caught.value)
    assert text.startswith(f"baza e të dhënave {path} është shkruar nga një Roja më e re")
    assert "the database" in text and "newer Roja" in text and "9" in text


def _newer_incidents(tmp_path: Path) -> tuple[Path, Path]:
    """A gateway whose incidents.sqlite a newer Roja wrote: (its config, the database)."""
    state = tmp_path / "state"
    state.mkdir()
    path = state / "incidents.sqlite"
    manual.connect(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {INCIDENTS.version + 1}")
    db.close()
    config = tmp_path / "roja.toml"
    config.write_text(f'[school]\nname = "Provë"\ncode = "K1"\n[state]\ndir = "{state}"\n'
                      '[dns]\nlisten = ["127.0.0.1:9"]\n[metrics]\nlisten = ""\n',
                      encoding="utf-8")
    return config, path


def test_the_readers_refuse_a_newer_incident_database_too(tmp_path: Path) -> None:
    """`roja status`, `roja report build` and the console's overview read incidents.sqlite
    read-only: they refuse a newer one with the stores' sentence instead of guessing at its
    tables (status: the database is unreadable, and why; report build: exit 1)."""
    config, path = _newer_incidents(tmp_path)
    newer = f"baza e të dhënave {path} është shkruar nga një Roja më e re"
    status = subprocess.run([ROJA, "--config", str(config), "status"], capture_output=True,
                            text=True, timeout=60)
    assert status.returncode == 1, status
    [line] = [x for x in status.stdout.splitlines() if "Incidente sot" in x]
    assert line.startswith("✗ Incidente sot / incidents today: baza e të dhënave nuk lexohet")
    assert newer in line and "Traceback" not in status.stderr
    build = subprocess.run([ROJA, "--config", str(config), "report", "build", "--month",
                            "2026-10", "--out", str(tmp_path / "out")], capture_output=True,
                           text=True, timeout=120)
    assert build.returncode == 1, build
    assert build.stderr.startswith("Gabim / Error: `roja report build` nuk u krye: " + newer)
    assert "Traceback" not in build.stderr
    assert top_categories(path, datetime(2026, 11, 5, tzinfo=TIRANE)) == []  # status names it


def test_the_cli_refuses_a_newer_incident_database_naming_it(tmp_path: Path) -> None:
    config, path = _newer_incidents(tmp_path)
    result = subprocess.run([ROJA, "--config", str(config), "incident", "list"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result
    first = result.stderr.splitlines()[0]
    assert first.startswith("Gabim / Error: `roja incident list` nuk u krye: baza e të dhënave "
                            f"{path} është shkruar nga një Roja më e re"), result.stderr
    assert "Traceback" not in result.stderr


def test_each_step_is_its_own_transaction(tmp_path: Path) -> None:
    path = tmp_path / "small.sqlite"

    def broken(db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO a VALUES (2)")
        raise sqlite3.OperationalError("disk I/O error")

    with pytest.raises(sqlite3.OperationalError):
        open_store(path, Schema("small.sqlite", (SMALL.steps[0], broken)))
    db = sqlite3.connect(path)
    try:  # step 1 stayed, step 2 left nothing behind
        assert read_version(db) == 1
        assert db.execute("SELECT COUNT(*) FROM a").fetchone()[0] == 0
    finally:
        db.close()


def test_opening_a_current_database_takes_no_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "small.sqlite"
    open_store(path, Schema("small.sqlite", SMALL.steps[:1])).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        open_store(path, Schema("small.sqlite", SMALL.steps[:1])).close()
        assert time.monotonic() - started < 1.0
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_the_policy_is_applied_to_every_connection(tmp_path: Path) -> None:
    db = open_store(tmp_path / "small.sqlite", Schema("small.sqlite", SMALL.steps[:1]))
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    finally:
        db.close()
    with Outbox(tmp_path / "outbox.sqlite") as box:  # the one store that asks for more
        assert box.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
