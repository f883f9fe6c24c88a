"""A blocked name asked again just after a month ended is November's incident, not a repeat
folded into October's row: a report that has gone out stays true, and the pupil who keeps
retrying across midnight does not make a new revision of last month every hour (found by
tests/reporting/test_kill9_whole_path.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from reporting.config import IncidentSettings
from reporting.incidents import Incident, IncidentStore, IncidentWriter
from reporting.report_data import TIRANE, collect, parse_period

END = datetime(2026, 11, 1, tzinfo=TIRANE).timestamp()


def incident(at: float) -> Incident:
    return Incident(at, "10.0.0.5", "nxenesit", "bet365.com", "gambling", "bixhoz", "blocked",
                    "dns", "listed in bixhoz")


class _School:
    name, code = "Shkolla", "K7"


async def test_a_repeat_after_the_month_ended_is_a_row_of_the_new_month(tmp_path: Path) -> None:
    path = tmp_path / "incidents.sqlite"
    writer = IncidentWriter(path, bytes(32), IncidentSettings(flush_interval=0.01))
    await writer.start()
    for at in (END - 20, END - 10, END + 10, END + 20):  # within the 60 s dedup window
        writer.submit(incident(at))
    await writer.stop()
    with IncidentStore(path) as store:
        found = [(r.first_at, r.last_at, r.count) for r in store.after_id(0)]
    assert found == [(END - 20, END - 10, 2), (END + 10, END + 20, 2)]
    october = collect(path, parse_period("2026-10"), _School(), "", "", "",
                      datetime.fromtimestamp(END + 60, TIRANE))
    assert october.blocked.total == 2
