"""The appliance's own record for the monthly report: starts and stops, list syncs, held-back
lists and self-tests, as rows of the `events` table (schema v2, see `reporting.incidents`).

Kinds: `start`, `stop`, `sync_ok` ("serial N"), `sync_fail` (the reason), `list_held_back`
(list ids), `list_trust_first_use` ("serial N": accepted with no earlier state),
`selftest_pass`, `selftest_fail`. Writing never raises: a full disk must not stop the filter,
so a failure is logged and the event is lost.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

from reporting.incidents import IncidentStoreError
from reporting.manual import connect

log = logging.getLogger("roja.events")


def record_event(db_path: Path, kind: str, detail: str = "", at: float | None = None) -> bool:
    try:
        db = connect(db_path)  # migrates an older database, so the table is there
        try:
            db.execute("INSERT INTO events (at, kind, detail) VALUES (?, ?, ?)",
                       (time.time() if at is None else at, kind, detail))
        finally:
            db.close()
        return True
    except (sqlite3.Error, IncidentStoreError) as exc:
        log.warning("could not record event %s: %s", kind, exc)
        return False
