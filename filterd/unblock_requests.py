"""Unblock requests from the block page ("this was blocked by mistake"), kept for the ICT
teacher in `<state_dir>/overrides.sqlite`, table `unblock_requests`.

The block page records one; `roja unblock requests` lists them and the teacher accepts
(which creates a time-boxed unblock) or refuses. A request carries the group, the host and
category, never the client (only its keyed pseudonym) and never a confidential entry: for
those the host is not stored at all (`host = ""`, the category says enough and nothing can
open them anyway). The same (group, host) pending twice is one request with a counter.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

DB_NAME = "overrides.sqlite"
STATUSES = ("pending", "accepted", "refused")
MAX_NOTE = 500

SCHEMA = """
CREATE TABLE IF NOT EXISTS unblock_requests (
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
);
CREATE INDEX IF NOT EXISTS unblock_requests_status ON unblock_requests (status, created);
"""


@dataclass(frozen=True)
class UnblockRequest:
    id: int
    created: float
    group_id: str
    host: str
    category: str
    list_id: str
    client: str
    note: str
    count: int
    status: str
    decided_by: str
    decided_at: float | None


def connect(state_dir: Path) -> sqlite3.Connection:
    state_dir.mkdir(parents=True, exist_ok=True)
    try:
        db = sqlite3.connect(state_dir / DB_NAME, timeout=5, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA)
    except sqlite3.Error as exc:
        exc.add_note(str(state_dir / DB_NAME))  # the CLI names the file (filterd.errors)
        raise
    return db


def add_request(state_dir: Path, *, group_id: str, host: str, category: str, list_id: str,
                client: str = "", note: str = "", confidential: bool = False,
                now: float | None = None) -> int:
    """Record (or count again) a pending request; returns its id."""
    at = time.time() if now is None else now
    host = "" if confidential else host
    note = note.strip()[:MAX_NOTE]
    db = connect(state_dir)
    try:
        db.execute("BEGIN IMMEDIATE")
        row = db.execute(
            "SELECT id FROM unblock_requests WHERE status = 'pending' AND group_id = ? "
            "AND host = ? AND list_id = ?", (group_id, host, list_id)).fetchone()
        if row is not None:
            db.execute("UPDATE unblock_requests SET count = count + 1, updated = ?, "
                       "note = CASE WHEN ? != '' THEN ? ELSE note END WHERE id = ?",
                       (at, note, note, row[0]))
            request_id = int(row[0])
        else:
            cur = db.execute(
                "INSERT INTO unblock_requests (created, updated, group_id, host, category, "
                "list_id, client, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (at, at, group_id, host, category, list_id, client, note))
            request_id = int(cur.lastrowid or 0)
        db.execute("COMMIT")
        return request_id
    finally:
        db.close()


def list_requests(state_dir: Path, status: str | None = "pending") -> list[UnblockRequest]:
    db = connect(state_dir)
    try:
        sql = ("SELECT id, created, group_id, host, category, list_id, client, note, count, "
               "status, decided_by, decided_at FROM unblock_requests")
        rows = (db.execute(sql + " WHERE status = ? ORDER BY created", (status,))
                if status else db.execute(sql + " ORDER BY created"))
        return [UnblockRequest(*row) for row in rows]
    finally:
        db.close()


def decide_request(state_dir: Path, request_id: int, status: str, by: str,
                   now: float | None = None) -> UnblockRequest | None:
    """Mark a pending request accepted or refused; None if there is no such pending one."""
    if status not in ("accepted", "refused"):
        raise ValueError(f"status must be accepted or refused, not {status!r}")
    at = time.time() if now is None else now
    db = connect(state_dir)
    try:
        cur = db.execute("UPDATE unblock_requests SET status = ?, decided_by = ?, "
                         "decided_at = ?, updated = ? WHERE id = ? AND status = 'pending'",
                         (status, by, at, at, request_id))
        if cur.rowcount == 0:
            return None
    finally:
        db.close()
    return next(r for r in list_requests(state_dir, None) if r.id == request_id)
