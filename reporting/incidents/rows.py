"""The store side of the incident writer: which row an entry of a batch goes into.

`RowStore.store` inserts the batch's new rows and bumps the rows it repeats, in the writer's
transaction. A row is found by (pseudonymous client, name): first in the rows this batch
touched, then in the recent rows kept in memory (`recent_pairs`, oldest dropped first), then,
while that memory cannot be complete, in the database (`batch.lookup`): in the first
`dedup_seconds` after start (rows written before a restart), after a pair still inside its
window was dropped from memory, or when other processes write to the same file (`shared`).
A row never spans two Europe/Tirane months. Pseudonyms are computed here, per client and year
(`reporting.pseudonym`), and cached.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import aiosqlite

from reporting.config import IncidentSettings
from reporting.incidents.batch import Key, NewRow, Seen, Taken, lookup, update_rows, write_rows
from reporting.pseudonym import TiraneMonth, TiraneYear, pseudonym

PSEUDONYM_CAPACITY = 65536  # (year, client) pseudonyms cached; the cache is emptied when full


class RowStore:
    """Finds or makes the row of each entry of a batch; remembers recent rows."""

    def __init__(self, settings: IncidentSettings, key: bytes,
                 key_for_year: Callable[[int], bytes] | None, capacity: int, *,
                 shared: bool) -> None:
        self.settings = settings
        self._key = key
        # With `key_for_year` (e.g. `reporting.pseudonym.yearly_keys`), each incident is keyed
        # by its Europe/Tirane year instead of `key`, so pseudonyms of two years never link.
        self._key_for_year = key_for_year
        self._year_of = TiraneYear()
        self._month_of = TiraneMonth()
        # Must outlive one batch, so that a row made earlier in the batch is never forgotten.
        self._capacity = max(capacity, 2 * settings.batch_size)
        self._recent: OrderedDict[Key, Seen] = OrderedDict()
        self._pseudonyms: dict[tuple[int, str], str] = {}
        # The database lookup for pairs missing from `_recent` is only needed while the memory
        # cannot be complete (module docstring). Skipping it otherwise halves the cost of an
        # incident for a name seen for the first time (measured: ~22 → ~11 µs).
        self._shared = shared
        self._memory_complete_after = float("inf")

    def started(self, now: float) -> None:
        """The writer opened the store at `now`: rows of the last window may be on disk."""
        self._memory_complete_after = now + self.settings.dedup_seconds

    async def store(self, db: aiosqlite.Connection,
                     batch: list[Taken]) -> tuple[list[Key], dict[Key, Seen]]:
        """Insert new rows and bump repeated ones; returns each entry's key and what the batch
        touched."""
        dedup = self.settings.dedup_seconds
        keyed = []
        for q, count, first_at, last_at in batch:
            incident = q.incident
            assert incident is not None, "an entry is written once"
            keyed.append(((self.pseudonym(incident.client, first_at), incident.name), incident,
                          count, first_at, last_at))
        recent = self._recent
        missing = {k[0] for k in keyed if k[0] not in recent}
        found: dict[Key, Seen] = {}
        earliest = min(k[3] for k in keyed)
        memory_complete = not self._shared and earliest > self._memory_complete_after
        if missing and not memory_complete:
            found = await lookup(db, missing, earliest - dedup)
        rows = await db.execute_fetchall("SELECT COALESCE(MAX(id), 0) FROM incidents")
        next_id = int(next(iter(rows))[0]) + 1
        touched: dict[Key, Seen] = {}
        inserts: dict[int, NewRow] = {}
        # id -> [added count, first_at, last_at, the row's first_at]
        updates: dict[int, list[float]] = {}
        month_of = self._month_of
        # Each: an incident, the repeats folded into it at submit (count), their first and last
        for key, incident, count, first_at, last_at in keyed:
            hit = touched.get(key) or recent.get(key) or found.get(key)
            if hit is not None and hit[1] >= first_at - dedup \
                    and month_of(hit[1]) == month_of(first_at):
                row_id, last = hit[0], max(hit[1], last_at)
                first = min(hit[2], first_at)
                new = inserts.get(row_id)
                if new is not None:
                    new.first_at = first
                    new.last_at = last
                    new.count += count
                else:
                    bump = updates.setdefault(row_id, [0, first_at, last, hit[2]])
                    bump[0] += count
                    bump[1] = min(bump[1], first_at)
                    bump[2] = max(bump[2], last)
            else:
                row_id, last, first = next_id, last_at, first_at
                next_id += 1
                inserts[row_id] = NewRow(row_id, first_at, last_at, count, key[0], incident)
            touched[key] = (row_id, last, first)
        if inserts:
            await write_rows(db, [r.values() for r in inserts.values()])
        await update_rows(db, updates)
        return [k[0] for k in keyed], touched

    def remember(self, seen: dict[Key, Seen]) -> None:
        if not seen:
            return
        recent = self._recent
        for key, value in seen.items():
            recent[key] = value
            recent.move_to_end(key)
        horizon = max(v[1] for v in seen.values()) - self.settings.dedup_seconds
        while recent:
            oldest = next(iter(recent.values()))
            if len(recent) <= self._capacity and oldest[1] >= horizon:
                break
            recent.popitem(last=False)
            if oldest[1] >= horizon:  # evicted inside its window: ask the database again
                self._memory_complete_after = max(self._memory_complete_after,
                                                  oldest[1] + self.settings.dedup_seconds)

    def pseudonym(self, client: str, at: float) -> str:
        key_for_year = self._key_for_year
        year = 0 if key_for_year is None else self._year_of(at)
        cache = self._pseudonyms
        value = cache.get((year, client))
        if value is None:
            if len(cache) >= PSEUDONYM_CAPACITY:
                cache.clear()
            key = self._key if key_for_year is None else key_for_year(year)
            value = cache[(year, client)] = pseudonym(key, client)
        return value
