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
