"""Retention: nothing in the incident database is kept longer than `keep_days` (issue 7),
and no teacher's free text longer than `free_text_days` after its case is closed (issue 22).

`purge` deletes automatic incidents last seen, manual incidents that occurred, and appliance
events that happened before `now - keep_days` (default 400 days: a full school year and its
annual report, with a margin). The daemon runs it once a day; `now` is passed in, so tests and
the scheduler decide the clock. Automatic incidents go in chunks of `CHUNK` rows, one short
transaction each, so the DNS writer never waits for long behind a large purge.

Free text: the description of a manual incident may hold what a teacher should not have typed
(a pupil's name; phones, e-mails and personal numbers are masked on the way in), and
`recorded_by` names the teacher. Neither leaves the gateway (no report, CSV, JSON, mail or
upload reads them), and the same daily run blanks both once the case has been closed
(`resolved`) and left unchanged for `free_text_days` (default 30): the closing time is the
row's `updated_at`, so a change after closing (a new referral) restarts the count and never
shortens it. The blanking and a `free_text_purged` event (detail: how many fields,
descriptions and names together) are one transaction, so a purge is never unrecorded.
The counted row stays (category, referrals, ... for the reports) until `keep_days`.

Pseudonyms need no purge of their own: with yearly keys (`reporting.pseudonym`) a pseudonym
means nothing outside its year.

Example:

    counts = purge(db_path(state_dir), time.time(), keep_days=400, free_text_days=30)
    log.info("purged %d incidents, %d manual, %d events, %d free texts", *counts)
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from reporting.manual import connect
from reporting.sqlite_store import transaction

TIRANE = ZoneInfo("Europe/Tirane")
DEFAULT_KEEP_DAYS = 400
DEFAULT_FREE_TEXT_DAYS = 30
FREE_TEXT_PURGED = "free_text_purged"  # the event kind; its detail is the count of fields
CHUNK = 5000


class PurgeCounts(NamedTuple):
    """How many rows `purge` deleted from each table, and how many free texts (descriptions
    and teachers' names) it blanked."""

    incidents: int
    manual_incidents: int
    events: int
    free_texts: int = 0


def purge(db_path: Path, now: float, keep_days: int = DEFAULT_KEEP_DAYS,
          free_text_days: int = DEFAULT_FREE_TEXT_DAYS) -> PurgeCounts:
    """Delete what is older than `keep_days` before `now` (unix time) and blank the free text
    of cases closed `free_text_days` before it; returns the counts. Manual incidents are
    compared by their date (`occurred_on`) with the Europe/Tirane date of the cut-off. A
    missing database is nothing to purge."""
    for name, days in (("keep_days", keep_days), ("free_text_days", free_text_days)):
        if days < 1:
            raise ValueError(f"{name} must be at least 1, not {days}")
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
        free_texts = _blank_free_text(db, now, now - free_text_days * 86400)
    finally:
        db.close()
    return PurgeCounts(incidents, manual, events, free_texts)


def _blank_free_text(db: sqlite3.Connection, now: float, closed_before: float) -> int:
    """Blank the descriptions and teachers' names of cases resolved (and unchanged) since
    before `closed_before` and record how many fields as one event at `now`, in one
    transaction; returns the count."""
    closed = "status = 'resolved' AND updated_at < ?"
    with transaction(db):
        count = 0
        for column in ("description", "recorded_by"):
            count += db.execute(f"UPDATE manual_incidents SET {column} = '' WHERE {closed} "
                                f"AND {column} != ''", (closed_before,)).rowcount
        if count:
            db.execute("INSERT INTO events (at, kind, detail) VALUES (?, ?, ?)",
                       (now, FREE_TEXT_PURGED, str(count)))
    return count
