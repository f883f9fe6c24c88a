"""Tests for reporting.isp_history: serials in force, their propagation times ("no data" never
zero) and the feed's outages, from events given directly (pure)."""

from __future__ import annotations

from report_db import at

from reporting.isp_history import outages, propagation

Y = (at("01.01.2026 00:00"), at("01.01.2027 00:00"))


def test_propagation_is_from_publication_to_the_first_record_per_secondary() -> None:
    events = [
        (at("01.12.2025 10:00"), "sync_ok", "serial 7"),
        (at("01.03.2026 10:00"), "sync_ok", "serial 8"),
        (at("01.03.2026 10:00"), "rpz_published", "serial 8"),
        (at("01.03.2026 10:01"), "rpz_reached", "serial 8 secondary 10.0.0.1:53"),
        (at("01.03.2026 10:05"), "rpz_reached", "serial 8 secondary 10.0.0.2:53"),
        (at("02.03.2026 10:00"), "rpz_published", "serial 8"),  # a restart: later, ignored
        (at("02.03.2026 10:01"), "rpz_reached", "serial 8 secondary 10.0.0.1:53"),
    ]
    seen, rows, summary = propagation(events, *Y, ["10.0.0.1:53", "10.0.0.2:53"])
    assert seen == ("10.0.0.1:53", "10.0.0.2:53")
    assert [r.serial for r in rows] == ["7", "8"]  # 7 was in force when the year began
    old, new = rows
    assert old.enforced == "01.12.2025 10:00" and old.published is None
    assert [x.seconds for x in old.reach] == [None, None] and old.all_seconds is None
    assert [x.seconds for x in new.reach] == [60, 300] and new.all_seconds == 300
    assert [(s.serials_reached, s.no_data, s.max_seconds) for s in summary] == [
        (1, 1, 60), (1, 1, 300)]


def test_a_secondary_only_in_the_records_is_reported_too() -> None:
    events = [(at("01.03.2026 10:00"), "rpz_published", "serial 8"),
              (at("01.03.2026 10:02"), "rpz_reached", "serial 8 secondary 10.0.0.9:53")]
    seen, rows, _ = propagation(events, *Y, [])
    assert seen == ("10.0.0.9:53",) and rows[0].all_seconds == 120


def test_no_monitoring_means_no_secondaries_and_no_times() -> None:
    seen, rows, summary = propagation([(at("01.03.2026 10:00"), "sync_ok", "serial 8")], *Y, [])
    assert seen == () and summary == () and rows[0].all_seconds is None


def test_outages_failures_and_stale_gaps() -> None:
    events = [
        (at("01.01.2026 00:00"), "sync_ok", "serial 1"),
        (at("02.01.2026 12:00"), "sync_fail", "timeout"),
        (at("02.01.2026 18:00"), "sync_fail", "timeout"),
        (at("03.01.2026 06:00"), "sync_ok", "serial 1"),
        (at("10.01.2026 06:00"), "sync_ok", "serial 1"),  # 7 days quiet: stale after 48 h
        (at("20.12.2026 00:00"), "sync_fail", "refused"),  # never recovered
    ]
    found = outages(events, *Y, now=at("15.01.2027 00:00"), stale_hours=48)
    assert [(o.start, o.end, o.hours, o.failures, o.stale, o.until_year_end)
            for o in found] == [
        ("02.01.2026 12:00", "03.01.2026 06:00", 18.0, 2, True, False),  # 54 h old by then
        ("05.01.2026 06:00", "10.01.2026 06:00", 120.0, 0, True, False),
        # stale from 12.01 (48 h after the last good sync), failing since 20.12, to year end
        ("12.01.2026 06:00", "01.01.2027 00:00", 8490.0, 1, True, True)]


def test_an_outage_running_when_the_report_is_built_has_no_end() -> None:
    events = [(at("01.06.2026 00:00"), "sync_ok", "serial 1"),
              (at("01.06.2026 06:00"), "sync_fail", "timeout")]
    found = outages(events, *Y, now=at("01.06.2026 12:00"), stale_hours=48)
    assert [(o.start, o.end, o.hours, o.stale) for o in found] == [
        ("01.06.2026 06:00", None, 6.0, False)]
