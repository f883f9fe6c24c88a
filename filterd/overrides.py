"""Time-boxed unblocks, kept in `<state_dir>/overrides.sqlite` (table `unblocks`, beside the
block page's `unblock_requests`), and handed to the policy as data (`policy.Unblock`).

`roja unblock add` writes one; the running appliance notices the change through SQLite's
`PRAGMA data_version` (one cheap query per poll on a connection it keeps open) and swaps in a
policy with the new set; expiry needs no poll, since the policy knows when its next unblock
ends. Every add, removal and expiry goes into the audit log (`filterd.audit`); `sweep_expired`
writes each expiry once, whoever runs it first (the appliance or the CLI).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from filterd import audit, overrides_db
from policy import Unblock


@dataclass(frozen=True)
class UnblockRow:
    id: int
    group_id: str
    host: str
    created: float
    expires: float
    by: str
    reason: str
    request_id: int | None
    removed: float | None
    removed_by: str

    def active(self, now: float) -> bool:
        return self.removed is None and self.expires > now

    def as_policy(self) -> Unblock:
        return Unblock(self.id, self.group_id, self.host,
                       datetime.fromtimestamp(self.expires, UTC), self.by, self.reason)


def connect(state_dir: Path) -> sqlite3.Connection:
    return overrides_db.connect(state_dir)


_COLUMNS = ("id, group_id, host, created, expires, by, reason, request_id, removed, "
            "removed_by")


def add(state_dir: Path, *, group_id: str, host: str, seconds: float, by: str, reason: str,
        now: float, request_id: int | None = None) -> UnblockRow:
    db = connect(state_dir)
    try:
        cur = db.execute(
            "INSERT INTO unblocks (group_id, host, created, expires, by, reason, request_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (group_id, host, now, now + seconds, by, reason, request_id))
        row_id = int(cur.lastrowid or 0)
    finally:
        db.close()
    row = get(state_dir, row_id)
    assert row is not None
    minutes = round(seconds / 60)
    audit.append(state_dir, who=by, why=reason,
                 what=f"unblock add #{row_id}: group {group_id}, host {host}, {minutes} min"
                      + (f" (request #{request_id})" if request_id else ""),
                 now=datetime.fromtimestamp(now, UTC))
    return row


def get(state_dir: Path, row_id: int) -> UnblockRow | None:
    db = connect(state_dir)
    try:
        row = db.execute(f"SELECT {_COLUMNS} FROM unblocks WHERE id = ?", (row_id,)).fetchone()
        return UnblockRow(*row) if row else None
    finally:
        db.close()


def list_rows(state_dir: Path, now: float, everything: bool = False) -> list[UnblockRow]:
    db = connect(state_dir)
    try:
        if everything:
            rows = db.execute(f"SELECT {_COLUMNS} FROM unblocks ORDER BY id")
        else:
            rows = db.execute(f"SELECT {_COLUMNS} FROM unblocks WHERE removed IS NULL AND "
                              "expires > ? ORDER BY id", (now,))
        return [UnblockRow(*r) for r in rows]
    finally:
        db.close()


def active(state_dir: Path, now: float) -> tuple[Unblock, ...]:
    """Unblocks in force at `now`, as the policy takes them."""
    return tuple(r.as_policy() for r in list_rows(state_dir, now))


def remove(state_dir: Path, row_id: int, by: str, now: float, why: str = "") -> bool:
    """End an active unblock now; False if there is no such active unblock."""
    db = connect(state_dir)
    try:
        cur = db.execute("UPDATE unblocks SET removed = ?, removed_by = ? WHERE id = ? AND "
                         "removed IS NULL AND expires > ?", (now, by, row_id, now))
        done = cur.rowcount > 0
    finally:
        db.close()
    if done:
        row = get(state_dir, row_id)
        assert row is not None
        audit.append(state_dir, who=by, why=why, now=datetime.fromtimestamp(now, UTC),
                     what=f"unblock remove #{row_id}: group {row.group_id}, host {row.host}")
    return done


def sweep_expired(state_dir: Path, now: float) -> list[int]:
    """Write an audit entry for each unblock that expired since the last sweep (once each)."""
    db = connect(state_dir)
    try:
        db.execute("BEGIN IMMEDIATE")
        rows = db.execute("SELECT id, group_id, host, expires FROM unblocks WHERE removed IS "
                          "NULL AND expires <= ? AND expiry_logged = 0 ORDER BY expires",
                          (now,)).fetchall()
        db.executemany("UPDATE unblocks SET expiry_logged = 1 WHERE id = ?",
                       [(r[0],) for r in rows])
        db.execute("COMMIT")
    finally:
        db.close()
    for row_id, group_id, host, expires in rows:
        audit.append(state_dir, who="roja", why="koha mbaroi / time is up",
                     what=f"unblock expired #{row_id}: group {group_id}, host {host}",
                     now=datetime.fromtimestamp(expires, UTC))
    return [int(r[0]) for r in rows]


class ChangeWatch:
    """Tells whether another connection changed the store since the last look
    (`PRAGMA data_version`); one persistent connection, one query per look."""

    def __init__(self, state_dir: Path) -> None:
        # Used from the appliance's worker threads, one at a time.
        self._db = overrides_db.connect(state_dir, check_same_thread=False)
        self._version = self._read()

    def _read(self) -> int:
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def changed(self) -> bool:
        version = self._read()
        if version != self._version:
            self._version = version
            return True
        return False

    def close(self) -> None:
        self._db.close()
