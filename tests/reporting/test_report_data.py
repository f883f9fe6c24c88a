"""Tests for reporting.report_data over a real SQLite database (tests/report_db.py): period
boundaries in Tirane time (DST included), the counts, no names or pseudonyms in any output, and
identical output for identical data."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from peers.programs import require_peer
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
from report_db import manual as report_manual

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
    assert {c.key: c.label for c in b.by_group} == {"nxënësit": "Nxënësit",
                                                   "mësuesit": "Mësuesit"}
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


def test_groups_show_their_names_not_their_ids(tmp_path: Path) -> None:
    db = make_db(tmp_path / "i.sqlite")
    for grp in ("nxenesit", "mesuesit", "klasa_9b", "default", "mysafiret"):
        incident(db, "07.10.2026 10:00", "gambling", grp=grp)
    data = collect(db, "2026-10", SCHOOL, "", "", "", NOW,
                   groups={"nxenesit": "Nxënësit / Pupils", "mesuesit": "mesuesit",
                           "mysafiret": "Vizitorët"})
    assert {c.key: c.label for c in data.blocked.by_group} == {
        "nxenesit": "Nxënësit",  # the configured name's Albanian half
        "mesuesit": "Mësuesit",  # a name that is only the id: derived from the id
        "klasa_9b": "Klasa 9b",  # no longer in the config
        "default": "Të gjithë",  # clients in no group
        "mysafiret": "Vizitorët"}


def test_cyberbullying_is_counted_in_the_manual_incidents(tmp_path: Path) -> None:
    db = sample(tmp_path / "i.sqlite")
    report_manual(db, "2026-10-08", "cyberbullying")
    by_category = {c.key: (c.label, c.count) for c in build(db).manual.by_category}
    assert by_category["cyberbullying"] == ("Bullizëm online", 1)
    assert list(by_category)[-2:] == ["cyberbullying", "other"]


def test_build_time_is_kept_to_the_minute(tmp_path: Path) -> None:
    header = build(tmp_path / "none.sqlite").header
    assert (header.generated, header.generated_at) == ("02.11.2026", "02.11.2026 09:00")


def test_an_alias_is_counted_with_the_category_it_means(tmp_path: Path) -> None:
    """`adult` (an older list's id) is pornography: one row "Pornografi", not two."""
    db = make_db(tmp_path / "i.sqlite")
    incident(db, "07.10.2026 10:00", "pornography", count=3)
    incident(db, "08.10.2026 10:00", "adult", count=2)
    incident(db, "09.10.2026 10:00", "circumvention")  # the bypass ids: apart from malware
    incident(db, "09.10.2026 10:30", "filter_bypass", count=2)
    incident(db, "09.10.2026 11:00", "hacking")
    rows = [(c.key, c.label, c.count) for c in build(db).blocked.by_category]
    assert rows == [("pornography", "Pornografi", 5),
                    ("filter_bypass", "Anashkalim i filtrit", 3),
                    ("malware", "Programe keqdashëse, hakim dhe anashkalim i filtrit", 1)]


def test_a_list_accepted_on_trust_is_in_every_format(tmp_path: Path) -> None:
    # issue 17: when all earlier feed state was gone, the first sync is accepted but shown
    db = make_db(tmp_path / "i.sqlite")
    event(db, "03.10.2026 06:00", "list_trust_first_use", "serial 41")
    event(db, "03.10.2026 06:00", "sync_ok", "serial 41")
    data = build(db)
    assert data.filter_status.list_trust_first_use == 1
    assert build(db, "2026-09").filter_status.list_trust_first_use == 0
    assert '"list_trust_first_use": 1' in report_json.render(data).decode()
    assert "list_trust_first_use,Pranuar pa gjendje të mëparshme,1" in \
        report_csv.render(data).decode("utf-8-sig").replace(";", ",")
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(report_pdf.render(data))
    text = " ".join(subprocess.run([require_peer("pdftotext"), str(pdf), "-"], check=True,
                                   capture_output=True, text=True).stdout.split())
    assert "(besim në përdorimin e parë) 1" in text
