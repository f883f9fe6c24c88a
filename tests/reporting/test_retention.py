"""Tests for reporting.retention (purging old rows) and the yearly pseudonym keys of
reporting.pseudonym, with the incident writer that uses them."""

from __future__ import annotations

import stat
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from reporting import manual, retention
from reporting.config import IncidentSettings
from reporting.incidents import Incident, IncidentStore, IncidentWriter, db_path
from reporting.pseudonym import (
    KEY_FILENAME,
    TiraneYear,
    load_or_create_key,
    pseudonym,
    yearly_keys,
)
from reporting.retention import PurgeCounts, purge

TIRANE = ZoneInfo("Europe/Tirane")
NOW = datetime(2026, 11, 1, 3, 0, tzinfo=TIRANE).timestamp()
DAY = 86400.0


def fill(path: Path) -> None:
    db = manual.connect(path)
    try:
        rows = [(i, NOW - 500 * DAY, NOW - (401 if i <= retention.CHUNK + 2 else 10) * DAY)
                for i in range(1, retention.CHUNK + 6)]
        db.executemany("INSERT INTO incidents VALUES (?, ?, ?, 1, 'c', 'g', 'n', 'adult', 'l', "
                       "'blocked', 'dns', 'r')", rows)
        db.executemany("INSERT INTO events (at, kind, detail) VALUES (?, 'sync_ok', '')",
                       [(NOW - 401 * DAY,), (NOW - 2 * DAY,)])
    finally:
        db.close()
    for day in (date(2025, 9, 26), date(2025, 9, 27), date(2026, 10, 1)):
        manual.add(path, manual.ManualIncident(day, "other", "other", "unknown", "unknown"))


def test_purge_deletes_only_what_is_older_than_keep_days(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    fill(path)
    # 400 days before 01.11.2026 03:00 is 27.09.2025 03:00 (Tirane).
    assert purge(path, NOW) == PurgeCounts(retention.CHUNK + 2, 1, 1)
    with IncidentStore(path) as store:
        assert store.max_id() == retention.CHUNK + 5 and len(store.latest(10)) == 3
    assert [i.occurred_on for i in manual.list_(path)] == [date(2025, 9, 27), date(2026, 10, 1)]
    assert purge(path, NOW) == PurgeCounts(0, 0, 0)
    assert purge(path, NOW, keep_days=1) == PurgeCounts(3, 2, 1)


def test_purge_of_a_missing_database_and_bad_keep_days(tmp_path: Path) -> None:
    assert purge(db_path(tmp_path), NOW) == PurgeCounts(0, 0, 0)
    assert not db_path(tmp_path).exists()
    with pytest.raises(ValueError, match="at least 1"):
        purge(db_path(tmp_path), NOW, keep_days=0)


def test_yearly_keys_are_separate_0600_files_and_the_old_key_stays(tmp_path: Path) -> None:
    plain = load_or_create_key(tmp_path)
    k2025, k2026 = load_or_create_key(tmp_path, 2025), load_or_create_key(tmp_path, 2026)
    assert len({plain, k2025, k2026}) == 3
    assert load_or_create_key(tmp_path, 2025) == k2025 == yearly_keys(tmp_path)(2025)
    assert load_or_create_key(tmp_path) == plain
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["pseudonym-2025.key", "pseudonym-2026.key", KEY_FILENAME]
    assert {stat.S_IMODE((tmp_path / n).stat().st_mode) for n in names} == {0o600}


def test_tirane_year_turns_at_local_midnight() -> None:
    year = TiraneYear()
    new_year = datetime(2026, 1, 1, tzinfo=TIRANE).timestamp()  # 31.12.2025 23:00 UTC
    assert [year(new_year - 1), year(new_year), year(new_year - 1)] == [2025, 2026, 2025]


async def test_writer_with_yearly_keys_cannot_link_a_client_across_years(tmp_path: Path) -> None:
    new_year = datetime(2026, 1, 1, tzinfo=TIRANE).timestamp()
    writer = IncidentWriter(db_path(tmp_path), b"\0" * 32, IncidentSettings(flush_interval=0.01),
                            key_for_year=yearly_keys(tmp_path))
    await writer.start()
    for at in (new_year - 1800, new_year + 1800):
        writer.submit(Incident(at, "10.0.0.5", "g", "bad.example", "adult", "l", "blocked",
                               "dns", "r"))
    await writer.stop()
    with IncidentStore(db_path(tmp_path)) as store:
        clients = [r.client for r in store.latest(5)]
    assert clients == [pseudonym(load_or_create_key(tmp_path, 2025), "10.0.0.5"),
                       pseudonym(load_or_create_key(tmp_path, 2026), "10.0.0.5")]
    assert clients[0] != clients[1]


NAME = "Ervisa Kamberaj"  # a pupil's name typed where it should not be (issue 22, item 8)


def case(path: Path, status: str, closed_days_ago: float, description: str = "") -> int:
    """A manual incident stored `closed_days_ago` days before NOW, with that status."""
    return manual.add(path, manual.ManualIncident(
        date(2026, 9, 1), "other", "instagram", "11_14", "female", ("alo116",), status,
        description or f"{NAME} u kërcënua", "A.H."), now=NOW - closed_days_ago * DAY)


def descriptions(path: Path) -> dict[int, str]:
    return {int(i.id or 0): i.description for i in manual.list_(path)}


def purged_events(path: Path) -> list[tuple[float, str]]:
    db = manual.connect(path)
    try:
        return [(float(at), str(detail)) for at, detail in db.execute(
            "SELECT at, detail FROM events WHERE kind = ? ORDER BY id",
            (retention.FREE_TEXT_PURGED,))]
    finally:
        db.close()


def test_free_text_of_cases_closed_30_days_ago_is_blanked_and_the_purge_recorded(
        tmp_path: Path) -> None:
    path = db_path(tmp_path)
    old = case(path, "resolved", 31)
    recent = case(path, "resolved", 29)
    still_open = case(path, "open", 200)
    ongoing = case(path, "ongoing", 200)
    # closed 40 days ago, but a referral was added 10 days ago: the count restarts
    touched = case(path, "resolved", 40)
    manual.update(path, touched, now=NOW - 10 * DAY, referrals=("alo116", "parents"))
    empty = case(path, "resolved", 60, description=" ")

    assert purge(path, NOW) == PurgeCounts(0, 0, 0, 3)  # old: text and name; empty: name
    after = descriptions(path)
    assert after[old] == "" and after[empty] == ""
    for kept in (recent, still_open, ongoing, touched):
        assert NAME in after[kept], kept
    assert purged_events(path) == [(NOW, "3")]
    # the counted row stays for the reports: only its free text (and the teacher's name) went
    [row] = [i for i in manual.list_(path) if i.id == old]
    assert (row.category, row.referrals, row.status, row.recorded_by) == (
        "other", ("alo116",), "resolved", "")

    assert purge(path, NOW) == PurgeCounts(0, 0, 0, 0)  # nothing left: no second event
    assert purged_events(path) == [(NOW, "3")]
    later = NOW + 2 * DAY
    assert purge(path, later).free_texts == 2  # `recent` is now 31 days closed
    assert purge(path, later, free_text_days=7).free_texts == 2  # `touched`: 12 days
    assert purged_events(path) == [(NOW, "3"), (later, "2"), (later, "2")]
    assert {i: d for i, d in descriptions(path).items() if d} == {
        still_open: f"{NAME} u kërcënua", ongoing: f"{NAME} u kërcënua"}


def test_free_text_days_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="free_text_days must be at least 1"):
        purge(db_path(tmp_path), NOW, free_text_days=0)


def test_the_teachers_name_is_purged_with_the_free_text_and_counted(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    old = case(path, "resolved", 31)  # description and "A.H."
    name_only = case(path, "resolved", 31, description=" ")  # no description, a name
    kept = case(path, "resolved", 29)
    assert purge(path, NOW).free_texts == 3  # two names and one description
    assert purged_events(path) == [(NOW, "3")]
    by_id = {i.id: i for i in manual.list_(path)}
    assert (by_id[old].description, by_id[old].recorded_by) == ("", "")
    assert by_id[name_only].recorded_by == ""
    assert by_id[kept].recorded_by == "A.H." and NAME in by_id[kept].description
    assert purge(path, NOW).free_texts == 0  # nothing left: no second event
    assert purged_events(path) == [(NOW, "3")]
