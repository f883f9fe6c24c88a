"""Writes that must not be lost while another program holds the incident database's write lock
longer than SQLite's busy timeout (5 s): `roja incident add` and `record_event` wait with a
backoff instead of giving up, and the CLI gives up only after its bound, loudly (issue 22)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cli_kit import invoke
from click.testing import Result

from filterd.commands import incident as incident_cmd
from reporting import manual
from reporting.events import record_event
from reporting.incidents import db_path

FLAGS = ("--date", "2026-10-02", "--category", "sexting", "--platform", "snapchat",
         "--age-band", "15_18", "--gender", "male", "--referral", "none", "--status",
         "ongoing", "--description", "Foto u shpërnda", "--by", "A.H.")


def run(state: Path, *args: str) -> Result:
    return invoke(incident_cmd.incident, state, *args, input="")


@contextmanager
def locked(path: Path, seconds: float) -> Iterator[None]:
    """Another connection holds BEGIN IMMEDIATE on `path` for `seconds` (from a thread)."""
    manual.connect(path).close()  # the file exists, current schema
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO events (at, kind, detail) VALUES (0, 'holder', '')")
    release = threading.Timer(seconds, lambda: other.execute("COMMIT"))
    release.start()
    try:
        yield
    finally:
        release.join()
        other.close()


def test_incident_add_waits_for_a_lock_held_longer_than_the_busy_timeout(
        tmp_path: Path) -> None:
    path = db_path(tmp_path)
    with locked(path, 7.0):
        started = time.monotonic()
        result = run(tmp_path, "add", *FLAGS)
        waited = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert "U regjistrua incidenti nr. 1" in result.output
    assert waited >= 6.5
    [stored] = manual.list_(path)
    assert stored.category == "sexting"


def test_incident_add_gives_up_after_its_bound_loudly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manual, "CLI_PATIENCE", 6.0)
    path = db_path(tmp_path)
    with locked(path, 12.0):  # tries at 0 and 5 s wait 5 s each; at 10 s it gives up
        result = run(tmp_path, "add", *FLAGS)
    assert result.exit_code == 1, result.output
    first = result.output.strip().splitlines()[0]
    assert first.startswith("Gabim / Error: Incidenti nuk u regjistrua / the incident was "
                            "not recorded"), first
    assert str(path) in result.output
    assert manual.list_(path) == []


def test_record_event_waits_for_a_lock_held_longer_than_the_busy_timeout(
        tmp_path: Path) -> None:
    path = db_path(tmp_path)
    with locked(path, 6.5):
        assert record_event(path, "sync_ok", "serial 7", at=1000.0)
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT kind, detail FROM events WHERE at = 1000.0").fetchall()
    assert rows == [("sync_ok", "serial 7")]
