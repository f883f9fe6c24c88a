"""Tests for reporting.delivery: bundles are built once and reused, and the daemon's `tick`
sends last month's report on or after the configured day (to a real HTTP inbox on loopback)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

from peers.mailbox import http_inbox
from report_bundle import BUILT, SCHOOL, SETTINGS, make_bundle
from report_db import TIRANE, incident, sample

from reporting.delivery import ensure_bundle, load_bundle, outbox_path, previous_month, tick
from reporting.delivery_config import HttpsSettings
from reporting.incidents import db_path
from reporting.outbox import Outbox


def test_previous_month_in_tirane_time() -> None:
    assert previous_month(datetime(2026, 1, 1, 0, 30, tzinfo=TIRANE)) == "2025-12"
    assert previous_month(datetime(2026, 11, 1, tzinfo=TIRANE)) == "2026-10"


def test_bundle_is_reused(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)
    assert sorted(p.name for p in (tmp_path / "reports" / "2026-10" / "r1").iterdir()) == [
        "raport-K7-2026-10.csv", "raport-K7-2026-10.json", "raport-K7-2026-10.pdf",
        "revision.json"]
    assert load_bundle(tmp_path, "K7", "2026-10") == bundle
    later = ensure_bundle(tmp_path, "2026-10", SCHOOL, SETTINGS, datetime(2026, 12, 5,
                                                                            tzinfo=TIRANE))
    assert later.key == bundle.key  # the same content: not rebuilt with another date
    assert load_bundle(tmp_path, "K7", "2026-09") is None


def test_a_bundle_is_reproducible_from_the_same_store_and_build_time(tmp_path: Path) -> None:
    """Two installations with the same incidents, built at the same minute, give the same three
    files byte for byte (the PDF's creation date is the stored build time, not the clock)."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = make_bundle(tmp_path / "a"), make_bundle(tmp_path / "b")
    assert first.key == second.key
    for fmt in ("pdf", "csv", "json"):
        assert first.files[fmt].read_bytes() == second.files[fmt].read_bytes(), fmt
    assert b"(D:20261101080000+01'00')" in first.files["pdf"].read_bytes()


def test_tick_sends_last_month_on_the_send_day(tmp_path: Path) -> None:
    sample(db_path(tmp_path))
    with http_inbox([503]) as inbox:
        settings = replace(SETTINGS, send_day=2, https=HttpsSettings(inbox.url, "t", 10.0))
        assert tick(tmp_path, SCHOOL, settings, BUILT) == []  # the 1st: not yet
        assert not (tmp_path / "reports").exists() and not outbox_path(tmp_path).exists()
        day = datetime(2026, 11, 2, 6, 0, tzinfo=TIRANE)
        [row] = tick(tmp_path, SCHOOL, settings, day)
        assert (row.period, row.status) == ("2026-10", "queued")
        assert tick(tmp_path, SCHOOL, settings, day) == []  # not due; no second row
        [row] = tick(tmp_path, SCHOOL, settings, datetime(2026, 11, 2, 6, 1, tzinfo=TIRANE))
        assert row.status == "sent"
        assert tick(tmp_path, SCHOOL, settings, datetime(2026, 11, 3, tzinfo=TIRANE)) == []
    with Outbox(outbox_path(tmp_path)) as box:
        assert len(box.deliveries()) == 1
    assert len(inbox.uploads) == 2 and inbox.counted() == 1


def test_tick_waits_for_the_month_s_last_writes_before_building(tmp_path: Path) -> None:
    """Issue 21 (CI, kill -9 test): a report built in the first milliseconds of the month
    missed the incident writers' last October batch and was followed by a second revision.
    `tick` builds only `settle` seconds after the month ended (it built at once before)."""
    sample(db_path(tmp_path))
    settings = replace(SETTINGS, send_day=1)
    ended = datetime(2026, 11, 1, tzinfo=TIRANE).timestamp()
    assert tick(tmp_path, SCHOOL, settings, datetime.fromtimestamp(ended + 0.01, TIRANE),
                settle=3.5) == []
    assert not (tmp_path / "reports").exists()  # nothing built while writers may still write
    incident(db_path(tmp_path), "31.10.2026 23:59", "gambling")  # the writers' last batch
    tick(tmp_path, SCHOOL, settings, datetime.fromtimestamp(ended + 4.0, TIRANE), settle=3.5)
    [revision] = (tmp_path / "reports" / "2026-10").glob("r*")
    assert revision.name == "r1"
    tick(tmp_path, SCHOOL, settings, datetime.fromtimestamp(ended + 60, TIRANE), settle=3.5)
    assert [r.name for r in (tmp_path / "reports" / "2026-10").glob("r*")] == ["r1"]
