"""Tests for reporting.report_data over a real SQLite database (tests/report_db.py): period
boundaries in Tirane time (DST included), the counts, no names or pseudonyms in any output, and
identical output for identical data."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from report_db import (
    DESCRIPTION,
    PSEUDONYM,
    PUBLIC_NAME,
    RECORDER,
    SECRET_NAME,
    TIRANE,
    event,
    incident,
    make_db,
    sample,
)

from filterd.config import School
from reporting import report_csv, report_json, report_pdf
from reporting.report_data import ReportData, collect, parse_period
from reporting.report_filter import filter_status

SCHOOL = School('Shkolla 9-vjeçare "Naim Frashëri"', "AL-TR-0123")
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=TIRANE)


def build(db: Path, period: str = "2026-10") -> ReportData:
    return collect(db, period, SCHOOL, "Tiranë", "Kamëz", "Drita Çela", NOW)


@pytest.mark.parametrize(("period", "hours"), [("2026-10", 745), ("2026-03", 743),
                                               ("2026-02", 672), ("2026", 8760)])
def test_periods_are_tirane_calendar_periods(period: str, hours: int) -> None:
    p = parse_period(period)
    assert p.end.timestamp() - p.start.timestamp() == hours * 3600  # real seconds
    assert p.start.hour == 0 and p.start.utcoffset() is not None


@pytest.mark.parametrize("bad", ["2026-13", "26-10", "10.2026", ""])
def test_bad_periods_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_period(bad)


def test_month_counts(tmp_path: Path) -> None:
    data = build(sample(tmp_path / "i.sqlite"))
    b, m, f = data.blocked, data.manual, data.filter_status
    assert (b.total, b.incidents, b.circumvention_total) == (12, 6, 5)
    assert [(c.key, c.count) for c in b.by_period] == [
        ("2026-W40", 5), ("2026-W41", 1), ("2026-W42", 4), ("2026-W43", 1), ("2026-W44", 1)]
    assert {c.key: c.count for c in b.by_group} == {"nxënësit": 11, "mësuesit": 1}
    assert b.by_category[0].label == "Pornografi" and b.by_category[0].count == 5
    assert m.total == 2
    assert {c.key: c.count for c in m.by_referral if c.count} == {
        "alo116": 1, "parents": 1, "njmf": 1}
    assert [c.key for c in m.by_status] == ["open", "ongoing", "resolved"]
    assert [s.serial for s in f.list_serials] == ["12", "13"]
    assert (f.last_serial, f.sync_ok, f.sync_failures, f.lists_held_back) == ("13", 2, 1, 1)
    assert (f.selftest_runs, f.selftest_pass, f.selftest_fail) == (2, 1, 1)
    assert not f.no_validity_checks
    assert f.uptime_percent == round(100 * (745 - 24) / 745, 1)  # one day stopped
    assert data.trends == ()


def test_incidents_the_filter_lost_are_in_the_filter_status(tmp_path: Path) -> None:
    db = make_db(tmp_path / "i.sqlite")
    event(db, "30.09.2026 23:59", "incidents_dropped", "7")  # September
    event(db, "03.10.2026 10:00", "incidents_dropped", "120")
    event(db, "20.10.2026 10:00", "incidents_dropped", "5")
    data = build(db)
    assert data.filter_status.incidents_dropped == 125
    assert ("Gjendja e filtrit", "incidents_dropped", "Incidente të humbura (radha plot)",
            "125") in [tuple(map(str, r)) for r in report_csv.rows(data)]
    assert report_json.to_document(data)["report"]["filter_status"]["incidents_dropped"] == 125
    assert build(tmp_path / "missing.sqlite").filter_status.incidents_dropped == 0


def test_dst_night_counts_in_the_local_month(tmp_path: Path) -> None:
    db = make_db(tmp_path / "i.sqlite")
    incident(db, "01.04.2026 00:30", "gambling")  # 31.03 22:30 UTC: April in Tirane
    incident(db, "29.03.2026 03:30", "drugs")  # just after the spring-forward jump
    year = build(db, "2026")
    assert [(t.month, t.blocked) for t in year.trends if t.blocked] == [
        ("2026-03", 1), ("2026-04", 1)]
    assert build(db, "2026-03").blocked.by_period[-2].count == 1  # ISO week 13


def test_empty_database_says_no_checks_ran(tmp_path: Path) -> None:
    data = build(tmp_path / "missing.sqlite")
    f = data.filter_status
    assert f.no_validity_checks and f.selftest_runs == 0 and f.uptime_percent is None
    assert data.blocked.total == 0 and data.manual.total == 0
    assert data.header.qark == "Tiranë" and data.header.generated == "02.11.2026"


def test_no_names_pseudonyms_or_free_text_in_any_format(tmp_path: Path) -> None:
    data = build(sample(tmp_path / "i.sqlite"))
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(report_pdf.render(data))
    texts = [report_json.render(data).decode(), report_csv.render(data).decode("utf-8-sig"),
             subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                            text=True).stdout]
    for text in texts:
        for secret in (SECRET_NAME, PUBLIC_NAME, PSEUDONYM, DESCRIPTION, RECORDER,
                       "example", "Arbër"):
            assert secret not in text


def test_same_data_gives_identical_files(tmp_path: Path) -> None:
    first, second = sample(tmp_path / "a.sqlite"), sample(tmp_path / "b.sqlite")
    for period in ("2026-10", "2026"):
        a, b = build(first, period), build(second, period)
        assert a == b
        for render in (report_json.render, report_csv.render, report_pdf.render):
            assert render(a) == render(b)


def test_uptime_after_a_crash_counts_until_the_last_sign_of_life() -> None:
    events = [(0.0, "start", ""), (10.0, "sync_ok", "serial 7"), (50.0, "start", ""),
              (100.0, "stop", "")]
    status = filter_status(events, 0.0, 100.0, now=1000.0)
    assert (status.uptime_percent, status.last_serial) == (60.0, "7")
    assert filter_status(events, 0.0, 200.0, now=150.0).uptime_percent == 40.0
