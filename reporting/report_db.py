"""The incident database as the reports read it: read-only, and a missing database or table
reads as empty (`ReportDb`). The school report (`reporting.report_data`) and the provider's
annual report (`reporting.isp_data`) read through it, so both count the same way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from reporting.bypass_count import bypass_count
from reporting.incidents.schema import SCHEMA
from reporting.sqlite_store import open_readonly


class ReportDb:
    """A read-only connection (or none) that answers empty for tables that do not exist."""

    def __init__(self, path: Path) -> None:
        self.conn: sqlite3.Connection | None = None
        self.tables: set[str] = set()
        if path.is_file():
            try:
                self.conn = open_readonly(path, SCHEMA, minimum=0)  # newer: StoreTooNewError
                rows = self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                self.tables = {str(r[0]) for r in rows}
            except sqlite3.Error as exc:
                if self.conn is not None:
                    self.conn.close()
                exc.add_note(str(path))  # the CLI names the file (filterd.errors)
                raise

    def rows(self, table: str, sql: str, params: Iterable[object] = ()) -> list[tuple[Any, ...]]:
        if self.conn is None or table not in self.tables:
            return []
        return self.conn.execute(sql, tuple(params)).fetchall()

    def scalar(self, table: str, sql: str, params: Iterable[object] = ()) -> int:
        rows = self.rows(table, sql, params)
        return int(rows[0][0] or 0) if rows else 0

    def bypass_attempts(self, start: datetime, end: datetime) -> int:
        """`reporting.bypass_count`'s attempts in [start, end): the count status shows too."""
        if self.conn is None or "incidents" not in self.tables:
            return 0
        return bypass_count(self.conn, start.timestamp(), end.timestamp()).attempts

    def __enter__(self) -> ReportDb:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.conn is not None:
            self.conn.close()
