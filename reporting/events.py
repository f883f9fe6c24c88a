"""The appliance's own record for the monthly report: starts and stops, list syncs, held-back
lists and self-tests, as rows of the `events` table (schema v2, see `reporting.incidents`).

Kinds: `start`, `stop`, `sync_ok` ("serial N"), `sync_fail` (the reason), `list_held_back`
(list ids), `list_trust_first_use` ("serial N": accepted with no earlier state),
`selftest_pass`, `selftest_fail`, `free_text_purged` (how many descriptions and teachers' names
of closed manual incidents `reporting.retention` blanked; written there, in the purge's own
transaction),
`rpz_published` ("serial N") and `rpz_reached` ("serial N secondary A:P"), the RPZ fleet
monitor's history for `roja isp report` (`filterd.rpz_export`).
Writing never raises: a full disk must not stop the filter. While another program holds the
database's write lock (a purge, `roja incident add`) the write waits with a backoff
(`reporting.sqlite_store.retry_locked`), as long as the process lives unless `patience` is
given; only another kind of failure (or patience run out) is logged as an error and loses
the event. Call it from a thread in async code (the appliance uses `asyncio.to_thread`).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

from reporting.incidents import SCHEMA, IncidentStoreError
from reporting.manual import connect
from reporting.sqlite_store import StoreError, open_readonly, retry_locked

log = logging.getLogger("roja.events")


def record_event(db_path: Path, kind: str, detail: str = "", at: float | None = None, *,
                 patience: float | None = None) -> bool:
    """Append one event; False (and an error logged) when it could not be written."""
    when = time.time() if at is None else at

    def write() -> None:
        db = connect(db_path)  # migrates an older database, so the table is there
        try:
            db.execute("INSERT INTO events (at, kind, detail) VALUES (?, ?, ?)",
                       (when, kind, detail))
        finally:
            db.close()

    try:
        retry_locked(write, db_path, patience=patience)
        return True
    except (sqlite3.Error, StoreError, IncidentStoreError, OSError) as exc:  # e.g. no state dir
        log.error("could not record event %s: %s", kind, exc)
        return False


def last_event(db: Path, kinds: tuple[str, ...]) -> dict[str, Any] | None:
    """The newest event of one of `kinds`: {"kind", "at", "detail"}, or None."""
    if not db.is_file():
        return None
    marks = ", ".join("?" for _ in kinds)
    try:
        con = open_readonly(db, SCHEMA, minimum=0)
        try:
            row = con.execute(f"SELECT at, kind, detail FROM events WHERE kind IN ({marks}) "
                              "ORDER BY at DESC, id DESC LIMIT 1", kinds).fetchone()
        finally:
            con.close()
    except sqlite3.Error:  # no events table yet (schema v1): nothing recorded
        return None
    except StoreError:  # a newer Roja wrote it: `roja status` names it (incidents_unreadable)
        return None
    if row is None:
        return None
    return {"kind": str(row[1]), "at": float(row[0]), "detail": str(row[2])}
