"""Retention: nothing in the incident database is kept longer than `keep_days` (issue 7).

`purge` deletes automatic incidents last seen, manual incidents that occurred, and appliance
events that happened before `now - keep_days` (default 400 days: a full school year and its
annual report, with a margin). The daemon runs it once a day; `now` is passed in, so tests and
the scheduler decide the clock. Automatic incidents go in chunks of `CHUNK` rows, one short
transaction each, so the DNS writer never waits for long behind a large purge.

Pseudonyms need no purge of their own: with yearly keys (`reporting.pseudonym`) a pseudonym
means nothing outside its year.

Example:

    counts = purge(db_path(state_dir), time.time(), keep_days=400)
    log.info("purged %d incidents, %d manual, %d events", *counts)
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from reporting.manual import connect

TIRANE = ZoneInfo("Europe/Tirane")
DEFAULT_KEEP_DAYS = 400
CHUNK = 5000


class PurgeCounts(NamedTuple):
    """How many rows `purge` deleted from each table."""

    incidents: int
    manual_incidents: int
    events: int


def purge(db_path: Path, now: float, keep_days: int = DEFAULT_KEEP_DAYS) -> PurgeCounts:
    """Delete what is older than `keep_days` before `now` (unix time); returns the counts.
    Manual incidents are compared by their date (`occurred_on`) with the Europe/Tirane date
    of the cut-off. A missing database is nothing to purge."""
    if keep_days < 1:
        raise ValueError(f"keep_days must be at least 1, not {keep_days}")
    if not db_path.exists():
        return PurgeCounts(0, 0, 0)
    cutoff = now - keep_days * 86400
    cutoff_day = datetime.fromtimestamp(cutoff, TIRANE).date().isoformat()
    db = connect(db_path)
    try:
        incidents = 0
        while True:
            # last_at >= first_at, so the first_at index narrows the search.
            deleted = db.execute(
                "DELETE FROM incidents WHERE id IN (SELECT id FROM incidents "
                "WHERE first_at < ? AND last_at < ? LIMIT ?)", (cutoff, cutoff, CHUNK)).rowcount
            incidents += deleted
            if deleted < CHUNK:
                break
        manual = db.execute("DELETE FROM manual_incidents WHERE occurred_on < ?",
                            (cutoff_day,)).rowcount
        events = db.execute("DELETE FROM events WHERE at < ?", (cutoff,)).rowcount
    finally:
        db.close()
    return PurgeCounts(incidents, manual, events)
