"""The file `<state_dir>/overrides.sqlite`: its schema and how it is opened.

It holds the time-boxed unblocks (`filterd.overrides`, table `unblocks`) and the block page's
unblock requests (`filterd.unblock_requests`, table `unblock_requests`). Both open it here,
through `reporting.sqlite_store` (the stores' one migration runner and connection policy).
Version 1 uses `IF NOT EXISTS` because releases before the runner kept no version: over such a
file it creates nothing and only records the version.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from reporting.sqlite_store import Schema, open_store

DB_NAME = "overrides.sqlite"

SCHEMA = Schema(DB_NAME, (
    (
        """CREATE TABLE IF NOT EXISTS unblock_requests (
            id INTEGER PRIMARY KEY,
            created REAL NOT NULL,
            updated REAL NOT NULL,
            group_id TEXT NOT NULL,
            host TEXT NOT NULL,
            category TEXT NOT NULL,
            list_id TEXT NOT NULL,
            client TEXT NOT NULL DEFAULT '',
            note TEXT NOT NULL DEFAULT '',
            count INTEGER NOT NULL DEFAULT 1,
            status TEXT NOT NULL DEFAULT 'pending',
            decided_by TEXT NOT NULL DEFAULT '',
            decided_at REAL
        )""",
        ("CREATE INDEX IF NOT EXISTS unblock_requests_status ON unblock_requests "
         "(status, created)"),
        """CREATE TABLE IF NOT EXISTS unblocks (
            id INTEGER PRIMARY KEY,
            group_id TEXT NOT NULL,
            host TEXT NOT NULL,
            created REAL NOT NULL,
            expires REAL NOT NULL,
            by TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            request_id INTEGER,
            removed REAL,
            removed_by TEXT NOT NULL DEFAULT '',
            expiry_logged INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX IF NOT EXISTS unblocks_expires ON unblocks (expires)",
    ),
))


def connect(state_dir: Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """The overrides database of an installation, created or migrated (errors name the file)."""
    return open_store(state_dir / DB_NAME, SCHEMA, check_same_thread=check_same_thread)
