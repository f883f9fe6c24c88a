"""A wall clock shifted by `ROJA_TEST_CLOCK_OFFSET` seconds, for real Roja processes in tests.

A test puts this folder first on PYTHONPATH of a child process (`roja run`, and through the
environment its own `roja report due` children); Python imports `sitecustomize` at start-up,
before Roja imports `time` or `datetime`, so `time.time()`, `time.time_ns()`,
`datetime.now()` and `datetime.today()` answer the shifted time while it
keeps running at real speed. That is how a test lets a month end a few seconds after the
appliance started. Monotonic clocks, sleeps and timeouts are untouched. Without the variable
nothing changes.
"""

from __future__ import annotations

import datetime as _dt
import os
import time as _time

_OFFSET_TEXT = os.environ.get("ROJA_TEST_CLOCK_OFFSET", "")

if _OFFSET_TEXT:
    _OFFSET = float(_OFFSET_TEXT)
    _real_time, _real_time_ns = _time.time, _time.time_ns

    def _shifted_time() -> float:
        return _real_time() + _OFFSET

    def _shifted_time_ns() -> int:
        return _real_time_ns() + int(_OFFSET * 1e9)

    class _ShiftedDatetime(_dt.datetime):
        @classmethod
        def now(cls, tz: _dt.tzinfo | None = None) -> _ShiftedDatetime:
            return cls.fromtimestamp(_shifted_time(), tz)

        @classmethod
        def today(cls) -> _ShiftedDatetime:
            return cls.fromtimestamp(_shifted_time())

        @classmethod
        def utcnow(cls) -> _ShiftedDatetime:
            return cls.fromtimestamp(_shifted_time(), _dt.UTC).replace(tzinfo=None)

    _time.time, _time.time_ns = _shifted_time, _shifted_time_ns
    _dt.datetime = _ShiftedDatetime  # type: ignore[misc]
