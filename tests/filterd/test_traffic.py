"""The per-hour counts behind the console's 24-hour chart: what grew since the last sample
goes into the hour, a worker's restart never counts twice, 48 hours are kept, and a file that
does not parse is read as empty (the chart says so) rather than breaking the overview."""

from __future__ import annotations

from pathlib import Path

from filterd.traffic import FILE, HOUR, HourlyTraffic, hours, recorded

T0 = 1_796_000_400  # an hour's start


def test_growth_goes_into_the_hour_and_survives_a_restart(tmp_path: Path) -> None:
    traffic = HourlyTraffic(tmp_path)
    traffic.sample({"answered": 10, "blocked": 2}, T0 + 60)
    traffic.sample({"answered": 15, "blocked": 5}, T0 + 120)
    traffic.sample({"answered": 20, "blocked": 5}, T0 + HOUR + 5)
    got = hours(tmp_path, T0 + HOUR + 10, 3)
    assert [(h.queries, h.blocked) for h in got] == [(0, 0), (20, 5), (5, 0)]
    again = HourlyTraffic(tmp_path)  # the service restarted: its counters are zero again
    again.sample({"answered": 3, "blocked": 1}, T0 + HOUR + 70)
    assert [(h.queries, h.blocked) for h in hours(tmp_path, T0 + HOUR, 1)] == [(9, 1)]


def test_a_worker_restart_is_a_new_baseline(tmp_path: Path) -> None:
    traffic = HourlyTraffic(tmp_path)
    traffic.sample({"answered": 100}, T0)
    traffic.sample({"answered": 40}, T0 + 60)  # a worker's counters went back to zero
    traffic.sample({"answered": 50}, T0 + 120)
    assert hours(tmp_path, T0, 1)[0].queries == 110


def test_two_days_are_kept(tmp_path: Path) -> None:
    traffic = HourlyTraffic(tmp_path)
    for i in range(60):
        traffic.sample({"answered": i + 1}, T0 + i * HOUR)
    assert len(HourlyTraffic(tmp_path).hours) == 48
    assert hours(tmp_path, T0 + 59 * HOUR, 24)[-1].queries == 1


def test_an_unreadable_file_is_no_data(tmp_path: Path) -> None:
    assert not recorded(tmp_path)
    (tmp_path / FILE).write_text("{not json", encoding="utf-8")
    assert [h.queries for h in hours(tmp_path, T0, 2)] == [0, 0]
    traffic = HourlyTraffic(tmp_path)
    traffic.sample({"answered": 4}, T0)
    assert hours(tmp_path, T0, 1)[0].queries == 4
