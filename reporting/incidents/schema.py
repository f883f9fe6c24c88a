"""The incident database's schema: its migrations, the row types, and how it is opened.

One SQLite file per installation (`db_path`) holds the automatic incidents (`incidents`), the
teachers' manual incidents (`manual_incidents`, `reporting.manual`) and the appliance's own
events (`events`, `reporting.events`). `SCHEMA` is its migration list for
`reporting.sqlite_store`, which every program opening the file goes through (`connect` for the
synchronous side, `IncidentWriter.start` for the writer), so each applies the same steps and
the same connection policy.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

from reporting.sqlite_store import (
    BUSY_TIMEOUT_MS,
    Schema,
    StoreTooNewError,
    is_locked,
    open_store,
)

__all__ = ["BUSY_TIMEOUT_MS", "COLUMNS", "DB_FILENAME", "DROPPED_EVENT", "MIGRATIONS", "SCHEMA",
           "SCHEMA_VERSION", "Incident", "IncidentRow", "IncidentSink", "IncidentStoreError",
           "NoIncidentStoreError", "connect", "db_path"]

DB_FILENAME = "incidents.sqlite"
DROPPED_EVENT = "incidents_dropped"  # events row kind; detail = how many were dropped

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE incidents (
            id INTEGER PRIMARY KEY,
            first_at REAL NOT NULL,
            last_at REAL NOT NULL,
            count INTEGER NOT NULL DEFAULT 1,
            client TEXT NOT NULL,
            grp TEXT NOT NULL,
            name TEXT NOT NULL,
            category TEXT NOT NULL,
            list_id TEXT NOT NULL,
            action TEXT NOT NULL,
            source TEXT NOT NULL,
            reason TEXT NOT NULL
        )""",
        # No index holds last_at or count: a repeat (the common write under load) is then an
        # UPDATE that touches no index. Periods are selected by first_at.
        "CREATE INDEX incidents_first_at ON incidents (first_at)",
        "CREATE INDEX incidents_client_name ON incidents (client, name)",
    ),
    (  # v2: incidents teachers record by hand (reporting.manual), and the appliance's own log
        """CREATE TABLE manual_incidents (
            id INTEGER PRIMARY KEY,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            occurred_on TEXT NOT NULL,
            category TEXT NOT NULL,
            platform TEXT NOT NULL,
            age_band TEXT NOT NULL,
            gender TEXT NOT NULL,
            referrals TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            recorded_by TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX manual_incidents_occurred_on ON manual_incidents (occurred_on)",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            kind TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX events_at ON events (at)",
    ),
)

SCHEMA = Schema(DB_FILENAME, MIGRATIONS)
SCHEMA_VERSION = SCHEMA.version

COLUMNS = ("id, first_at, last_at, count, client, grp, name, category, list_id, action, "
           "source, reason")


class IncidentStoreError(Exception):
    """The incident database cannot be read or written."""


class NoIncidentStoreError(IncidentStoreError):
    """There is no incident database yet (nothing was ever blocked, or a fresh install)."""


def db_path(state_dir: Path) -> Path:
    """Where the incident database of an installation lives."""
    return state_dir / DB_FILENAME


class Incident(NamedTuple):
    """One block, as a server reports it."""

    at: float  # unix time
    client: str  # raw client IP text; pseudonymised by the writer before it is stored
    group: str
    name: str  # the blocked name
    category: str
    list_id: str
    action: str  # e.g. "blocked", "cname-blocked"
    source: str  # "dns" (later "proxy", "bypass")
    reason: str


class IncidentSink(Protocol):
    """What a server needs from the writer."""

    def submit(self, incident: Incident) -> None: ...


@dataclass(frozen=True, slots=True)
class IncidentRow:
    """One stored incident; `client` is the pseudonym, `count` the repeats it stands for."""

    id: int
    first_at: float
    last_at: float
    count: int
    client: str
    group: str
    name: str
    category: str
    list_id: str
    action: str
    source: str
    reason: str



def connect(path: Path) -> sqlite3.Connection:
    """Open the incident database (creating it if missing) in autocommit mode with the
    stores' policy (`reporting.sqlite_store`), migrated to SCHEMA_VERSION. A database newer
    than this Roja raises StoreTooNewError; "database is locked" stays a sqlite3 error (for
    `retry_locked`); other SQLite errors become IncidentStoreError."""
    try:
        return open_store(path, SCHEMA)
    except StoreTooNewError:
        raise
    except sqlite3.Error as exc:
        if is_locked(exc):  # for `retry_locked`
            raise
        raise IncidentStoreError(f"{path}: cannot open the incident database ({exc})") from exc
