"""Reading the incident database: `IncidentStore`, the synchronous, read-only view that
`roja incidents list|tail` and the console use.

    with IncidentStore(db_path(state_dir)) as store:
        rows = store.between(start, end, category="adult")

It opens the file read-only through `reporting.sqlite_store.open_readonly`, so it never
migrates nor takes a write lock, and refuses a database of a newer Roja (StoreTooNewError).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from reporting.incidents.schema import (
    COLUMNS,
    SCHEMA,
    IncidentRow,
    IncidentStoreError,
    NoIncidentStoreError,
)
from reporting.sqlite_store import StoreTooNewError, open_readonly


class IncidentStore:
    """Read-only, synchronous access to the incident database (for the CLI)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        if not db_path.is_file():
            raise NoIncidentStoreError(f"{db_path}: there is no incident database yet")
        try:
            self._db = open_readonly(db_path, SCHEMA)
        except StoreTooNewError:
            raise
        except sqlite3.Error as exc:
            raise IncidentStoreError(f"{db_path}: not a Roja incident database this Roja "
                                     f"reads ({exc})") from exc

    def list_since(self, since_unix: float, limit: int = 1000) -> list[IncidentRow]:
        """The newest `limit` incidents seen since `since_unix`, oldest first."""
        rows = self._query(f"SELECT {COLUMNS} FROM incidents WHERE last_at >= ? "
                           "ORDER BY last_at DESC, id DESC LIMIT ?", (since_unix, limit))
        rows.reverse()
        return rows

    def between(self, start: float, end: float, *, category: str = "", group: str = "",
                limit: int = 1000) -> list[IncidentRow]:
        """The newest `limit` incidents first seen in [start, end), optionally of one category
        and one group, newest first (periods are selected by first_at, which is indexed)."""
        sql = f"SELECT {COLUMNS} FROM incidents WHERE first_at >= ? AND first_at < ?"
        params: list[str | float | int] = [start, end]
        if category:
            sql += " AND category = ?"
            params.append(category)
        if group:
            sql += " AND grp = ?"
            params.append(group)
        return self._query(sql + " ORDER BY first_at DESC, id DESC LIMIT ?",
                           (*params, limit))

    def after_id(self, last_id: int, limit: int = 1000) -> list[IncidentRow]:
        """Rows created after row `last_id`, in order (for `tail`)."""
        return self._query(f"SELECT {COLUMNS} FROM incidents WHERE id > ? ORDER BY id LIMIT ?",
                           (last_id, limit))

    def latest(self, n: int) -> list[IncidentRow]:
        """The last `n` rows created, oldest first."""
        rows = self._query(f"SELECT {COLUMNS} FROM incidents ORDER BY id DESC LIMIT ?", (n,))
        rows.reverse()
        return rows

    def max_id(self) -> int:
        try:
            row = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM incidents").fetchone()
        except sqlite3.Error as exc:
            raise IncidentStoreError(f"{self.db_path}: cannot read incidents ({exc})") from exc
        return int(row[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> IncidentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _query(self, sql: str, params: tuple[str | float | int, ...]) -> list[IncidentRow]:
        try:
            rows = self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise IncidentStoreError(f"{self.db_path}: cannot read incidents ({exc})") from exc
        return [IncidentRow(int(r[0]), float(r[1]), float(r[2]), int(r[3]), *map(str, r[4:]))
                for r in rows]
