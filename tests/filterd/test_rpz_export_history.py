"""The fleet monitor's history across a restart (`filterd.rpz_export.RpzExport`): the new run
records the serial it serves again with the publication time the last run knew (the report
takes the earliest), not the older serials, and names no secondary's serial a second time.
With real secondaries, see tests/filterd/test_rpz_fleet.py."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from blocklists.rpz_config import RpzSettings
from blocklists.rpz_fleet import Fleet, Probe
from filterd.rpz_export import RpzExport, write_fleet

A = ("127.0.0.1", 9)  # discard: nothing answers DNS there


def events(state: Path) -> list[tuple[float, str, str]]:
    with sqlite3.connect(state / "incidents.sqlite") as db:
        return db.execute("SELECT at, kind, detail FROM events ORDER BY id").fetchall()


async def test_a_restart_records_only_what_is_new(tmp_path: Path) -> None:
    earlier = Fleet((A,), max_lag=300)
    for serial, at in ((1, 100.0), (2, 200.0), (3, 300.0)):
        earlier.publish(serial, at)
    earlier.record(Probe(A, True, 3, True), at=310)
    write_fleet(tmp_path, earlier.snapshot(310))

    export = RpzExport(RpzSettings(secondaries=(A,), check_interval=3600), tmp_path / "x")
    export.fleet.publish(3, at=9000.0)  # the restart serves serial 3 again
    export.watch_fleet(tmp_path)
    await export.stop()
    export.fleet.record(Probe(A, True, 3, True), at=9060)
    export.record_history(tmp_path, 9060)
    assert events(tmp_path) == [(300.0, "rpz_published", "serial 3")]
