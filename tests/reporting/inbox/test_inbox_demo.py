"""`roja inbox demo` shows the demo school's report on time on every day of the month."""

from __future__ import annotations

from datetime import datetime

import pytest

from reporting.inbox.demo import LATE_DAY, demo_period
from reporting.inbox.submissions import TIRANE, deadline


@pytest.mark.parametrize(("day", "expected"), [
    (datetime(2026, 11, 1, 0, 5), "2026-10"), (datetime(2026, 11, 28, 23, 59), "2026-10"),
    (datetime(2026, 11, 29, 0, 1), "2026-11"), (datetime(2026, 12, 31, 23, 0), "2026-12"),
    (datetime(2027, 1, 3, 9, 0), "2026-12"), (datetime(2027, 3, 29, 3, 0), "2027-03"),
])
def test_the_demo_report_is_never_late(day: datetime, expected: str) -> None:
    now = day.replace(tzinfo=TIRANE).timestamp()
    period = demo_period(now)
    assert period == expected
    assert now < deadline(period, LATE_DAY)
    # the demo's incidents fall on days 1-28 of the period: none of them in the future
    assert datetime(int(period[:4]), int(period[5:]), 28, 23, 59, tzinfo=TIRANE).timestamp() < now
