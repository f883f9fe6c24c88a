"""What one batch of the incident writer writes: the queued entries (`Queued`, an incident and
the repeats `submit` folded into it), the rows it inserts (`NewRow`), the SQL it runs, and the
lookup of the rows a batch repeats (`lookup`). `reporting.incidents.writer` decides; this
module only holds the shapes and the statements, so the writer stays one screenful of logic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import aiosqlite

from reporting.incidents.schema import COLUMNS, Incident

LOOKUP_CHUNK = 400  # (client, name) pairs per SQL lookup: 800 parameters

# Each statement writes many rows in one step (multi-row VALUES; UPDATE ... FROM (VALUES ...),
# SQLite >= 3.33; Debian 12 has 3.40). `executemany` steps and resets once per row and lets go
# of the GIL around each, so the writer's thread and the busy event loop handed the GIL back
# and forth for every row: with the two threads on two cores, 92% of the writer thread's
# context switches were GIL waits there (perf), and one worker answered a median 12,600
# q/CPU-s against 14,400 with these statements (8 alternating runs, issue 21).
ROWS_PER_STATEMENT = 500  # 12 parameters a row: 6,000, well under SQLite's 32,766
# (added count, first_at, last_at, id): only when the clock went back
UPDATE = ("UPDATE incidents SET count = count + v.column1, first_at = MIN(first_at, v.column2), "
          "last_at = MAX(last_at, v.column3) FROM (VALUES {values}) AS v "
          "WHERE incidents.id = v.column4")
# (added count, last_at, id). The usual repeat: the row's first_at stays (it is indexed;
# setting it, even to its own value, rewrites the index entry: measured 40 → 20 µs of CPU per
# repeat on a 100k-row store).
BUMP = ("UPDATE incidents SET count = count + v.column1, last_at = MAX(last_at, v.column2) "
        "FROM (VALUES {values}) AS v WHERE incidents.id = v.column3")

Key = tuple[str, str]  # (pseudonymous client, name)


async def write_rows(db: aiosqlite.Connection, rows: Sequence[tuple[object, ...]],
                     statement: str | None = None) -> None:
    """Insert `rows` (the incidents table's columns, `NewRow.values`) or, with `statement`
    (`UPDATE` or `BUMP`), apply those changes to rows whose ids differ (an UPDATE ... FROM
    uses one VALUES row per target row: a repeated id would lose all but one) — in statements
    of up to ROWS_PER_STATEMENT rows each."""
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start:start + ROWS_PER_STATEMENT]
        width = len(chunk[0])
        one = "(" + ", ".join("?" * width) + ")"
        values = ", ".join(one for _ in chunk)
        sql = f"INSERT INTO incidents ({COLUMNS}) VALUES {values}" if statement is None \
            else statement.format(values=values)
        await db.execute(sql, [value for row in chunk for value in row])


Seen = tuple[int, float, float]  # (row id, last_at, first_at)
Fold = tuple[str, str, str]  # (raw client, name, category): what `submit` folds by


class Queued:
    """An incident waiting for the writer, with the repeats `submit` folded into it; once
    written, the row's open entry, which counts further repeats in memory until they are
    written together (`[incidents] repeat_flush_seconds`)."""

    __slots__ = ("count", "first_at", "fold", "incident", "last_at", "month", "row_first",
                 "row_id")

    def __init__(self, incident: Incident, fold: Fold, month: int) -> None:
        # Needed only until the row is written (its columns); dropped then, so an open row
        # costs the memory of its counters, not of the whole incident.
        self.incident: Incident | None = incident
        self.fold = fold
        # Its Europe/Tirane month: a repeat of another month is a new entry (reports count a
        # row in the month of its first block; a year's pseudonym key differs too).
        self.month = month
        self.count = 1  # blocks not yet in the store
        self.first_at = self.last_at = incident.at
        self.row_id = 0  # the row once written (0: not yet)
        self.row_first = 0.0  # that row's first_at as last written


Taken = tuple[Queued, int, float, float]  # an entry in a batch: (entry, count, first, last)


async def update_rows(db: aiosqlite.Connection, updates: dict[int, list[float]]) -> None:
    """Add to existing rows: `updates` maps a row id to [added count, earliest first_at, latest
    last_at, the row's first_at as last written]. The indexed first_at is only set when the
    clock went back (UPDATE); otherwise BUMP leaves it."""
    earlier = [(int(n), f, la, row_id) for row_id, (n, f, la, was) in updates.items()
               if f < was]
    if earlier:
        await write_rows(db, earlier, UPDATE)
    if len(earlier) < len(updates):
        await write_rows(db, [(int(n), la, row_id) for row_id, (n, f, la, was)
                              in updates.items() if f >= was], BUMP)


@dataclass(slots=True)
class NewRow:
    id: int
    first_at: float
    last_at: float
    count: int
    client: str  # the pseudonym
    incident: Incident

    def values(self) -> tuple[object, ...]:
        i = self.incident
        return (self.id, self.first_at, self.last_at, self.count, self.client, i.group, i.name,
                i.category, i.list_id, i.action, i.source, i.reason)


async def lookup(db: aiosqlite.Connection, keys: Iterable[Key],
                  since: float) -> dict[Key, Seen]:
    """The newest row per (client, name) with last_at >= since."""
    found: dict[Key, Seen] = {}
    pending = list(keys)
    for start in range(0, len(pending), LOOKUP_CHUNK):
        chunk = pending[start:start + LOOKUP_CHUNK]
        values = ", ".join("(?, ?)" for _ in chunk)
        params: list[object] = [part for key in chunk for part in key]
        params.append(since)
        # CROSS JOIN keeps SQLite from reordering: one (client, name) index search per key,
        # whatever the table statistics say.
        rows = await db.execute_fetchall(
            f"SELECT i.client, i.name, i.id, i.last_at, i.first_at FROM (VALUES {values}) AS k "
            "CROSS JOIN incidents AS i ON i.client = k.column1 AND i.name = k.column2 "
            "AND i.last_at >= ?", params)
        for client, name, row_id, last_at, first_at in rows:
            key = (client, name)
            if key not in found or last_at > found[key][1]:
                found[key] = (int(row_id), float(last_at), float(first_at))
    return found
