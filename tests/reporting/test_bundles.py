"""Tests for reporting.bundles, the revision store, over real SQLite incident databases: a
report is a numbered revision of an ended period; reports built before revisions existed count
as r1 (their idempotency key is kept), unless they were built while the period was running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from report_bundle import BUILT, SCHOOL, SETTINGS
from report_db import TIRANE, incident, sample

from reporting import report_json
from reporting.bundles import BundleStore, PeriodNotEndedError, build_data, file_name
from reporting.incidents import db_path


def test_revisions_are_numbered_and_say_what_changed(tmp_path: Path) -> None:
    sample(db_path(tmp_path))
    store = BundleStore(tmp_path)
    first = store.ensure(SCHOOL, "2026-10", SETTINGS, BUILT)
    assert (first.created, first.revision.number, first.revision.changes) == (True, 1, ())
    later = datetime(2026, 12, 1, tzinfo=TIRANE)
    again = store.ensure(SCHOOL, "2026-10", SETTINGS, later)  # another date, same content
    assert (again.created, again.revision) == (False, first.revision)
    incident(db_path(tmp_path), "31.10.2026 23:30", "gambling", count=3)  # written late
    second = store.ensure(SCHOOL, "2026-10", SETTINGS, later)
    assert (second.created, second.revision.number) == (True, 2)
    assert second.revision.changes == (
        "Aksese të bllokuara / blocked requests: 12 → 15",
        "Incidente të bllokimit / block incidents: 6 → 7")
    assert second.revision.bundle.files["pdf"].name == "raport-K7-2026-10-r2.pdf"
    assert [r.number for r in store.revisions("K7", "2026-10")] == [1, 2]
    assert store.revisions("", "2026-10") == store.revisions("K7", "2026-10")


def test_a_period_that_has_not_ended_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PeriodNotEndedError):
        BundleStore(tmp_path).ensure(SCHOOL, "2026-11", SETTINGS, BUILT)
    assert not (tmp_path / "reports").exists()


def legacy(tmp_path: Path, now: datetime) -> str:
    """A bundle as Roja wrote it before revisions (flat in reports/); its content hash."""
    data = build_data(tmp_path, "2026-10", SCHOOL, SETTINGS, now)
    out = tmp_path / "reports"
    out.mkdir(exist_ok=True)
    for fmt, raw in (("pdf", b"%PDF-1.4\n"), ("csv", b"x\n"),
                     ("json", report_json.render(data))):
        (out / file_name("K7", "2026-10", fmt)).write_bytes(raw)
    return str(report_json.to_document(data)["content_sha256"])


def test_a_bundle_from_before_revisions_is_r1_with_its_key(tmp_path: Path) -> None:
    sample(db_path(tmp_path))
    digest = legacy(tmp_path, BUILT)
    made = BundleStore(tmp_path).ensure(SCHOOL, "2026-10", SETTINGS,
                                        datetime(2026, 12, 1, tzinfo=TIRANE))
    assert (made.created, made.revision.number) == (False, 1)
    assert made.revision.bundle.content_sha256 == digest
    assert made.revision.bundle.files["json"] == tmp_path / "reports" / "raport-K7-2026-10.json"


def test_a_bundle_built_while_the_month_ran_is_never_reused(tmp_path: Path) -> None:
    sample(db_path(tmp_path))
    legacy(tmp_path, datetime(2026, 10, 20, tzinfo=TIRANE))  # `send --month` of old
    made = BundleStore(tmp_path).ensure(SCHOOL, "2026-10", SETTINGS, BUILT)
    assert (made.created, made.revision.number) == (True, 1)
    document = json.loads(made.revision.bundle.files["json"].read_bytes())
    assert document["report"]["header"]["period_complete"] is True
    assert document["report"]["blocked"]["total"] == 12  # the whole month


_ENSURE_AT = """
import sys, time
from datetime import datetime, timedelta
from pathlib import Path
from report_bundle import BUILT, SCHOOL, SETTINGS
from reporting.bundles import BundleStore
state, go, minutes = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
while not go.exists():
    time.sleep(0.005)
made = BundleStore(state).ensure(SCHOOL, "2026-10", SETTINGS, BUILT + timedelta(minutes=minutes))
print(made.created, made.revision.number, made.revision.bundle.content_sha256)
"""


def test_two_processes_making_a_revision_at_once_make_one(tmp_path: Path) -> None:
    """The daemon's hourly step and a teacher's `roja report send` (or the report timer) at the
    same moment, a minute apart on the clock: one builds r1, the other finds it unchanged.
    Before, both built "r1" with their own generation time and content hash, and each queued
    its own; the inbox could get the same report twice, as two revisions."""
    sample(db_path(tmp_path))
    go = tmp_path / "go"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(root / "tests")])}
    procs = [subprocess.Popen([sys.executable, "-c", _ENSURE_AT, str(tmp_path), str(go),
                               str(minutes)], env=env, stdout=subprocess.PIPE, text=True)
             for minutes in (0, 1)]
    time.sleep(1.5)  # both imported and waiting
    go.touch()
    made = sorted(p.communicate(timeout=60)[0].split() for p in procs)
    assert [m[:2] for m in made] == [["False", "1"], ["True", "1"]]
    assert made[0][2] == made[1][2]  # one content, one idempotency key
    assert [r.number for r in BundleStore(tmp_path).revisions("K7", "2026-10")] == [1]
