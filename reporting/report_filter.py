"""The filter-status part of a report, from the appliance's `events` (pure: no clock, no I/O).

Kinds read: `start`, `stop`, `sync_ok` (detail "serial N"), `sync_fail`, `list_held_back`,
`list_trust_first_use` (a hotline serial accepted with no earlier state to check it against),
`selftest_pass`, `selftest_fail`, `incidents_dropped` (detail: how many incidents the filter
could not keep because its queue was full, `reporting.incidents`). The uptime is an
estimate: up from `start` to `stop`; after a crash (a `start` with no `stop` before it) up
only until the last event the old run wrote; the time before the first `start` ever recorded
(not installed yet) is left out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

TIRANE = ZoneInfo("Europe/Tirane")
DATE_TIME = "%d.%m.%Y %H:%M"
_SERIAL = re.compile(r"serial\s+(\S+)")

Event = tuple[float, str, str]  # (unix time, kind, detail)


@dataclass(frozen=True)
class ListSerial:
    serial: str
    first_seen: str  # DD.MM.YYYY HH:MM


@dataclass(frozen=True)
class FilterStatus:
    list_serials: tuple[ListSerial, ...]  # serials installed by syncs in the period
    last_serial: str | None  # in force at the end of the period
    last_sync: str | None  # DD.MM.YYYY HH:MM of the last good sync up to the period's end
    list_age_days: int | None  # days from that sync to the period's end (or `now`)
    sync_ok: int
    sync_failures: int
    lists_held_back: int
    list_trust_first_use: int  # serials accepted on trust: all earlier feed state was gone
    uptime_percent: float | None  # None: no start/stop events to estimate from
    selftest_runs: int
    selftest_pass: int
    selftest_fail: int
    no_validity_checks: bool  # True: no filter validity check ran in this period
    incidents_dropped: int = 0  # incidents lost in the period (the writer's queue overflowed)


def filter_status(events: Sequence[Event], lo: float, hi: float, now: float) -> FilterStatus:
    """The status over [lo, hi) from `events`: every event before `hi`, in time order (the
    earlier ones tell the state at `lo`). `now` cuts a running period short."""
    horizon = min(hi, now)
    inside = Counter(kind for at, kind, _ in events if at >= lo)
    serials: dict[str, str] = {}
    last: tuple[float, str | None] | None = None
    for at, kind, detail in events:
        if kind != "sync_ok":
            continue
        m = _SERIAL.search(detail)
        serial = m[1] if m else None
        last = (at, serial)
        if at >= lo and serial is not None and serial not in serials:
            serials[serial] = _local(at)
    runs = inside["selftest_pass"] + inside["selftest_fail"]
    return FilterStatus(
        list_serials=tuple(ListSerial(s, t) for s, t in serials.items()),
        last_serial=last[1] if last else None,
        last_sync=_local(last[0]) if last else None,
        list_age_days=int(max(0.0, horizon - last[0]) // 86400) if last else None,
        sync_ok=inside["sync_ok"], sync_failures=inside["sync_fail"],
        lists_held_back=inside["list_held_back"],
        list_trust_first_use=inside["list_trust_first_use"],
        uptime_percent=_uptime(events, lo, horizon),
        selftest_runs=runs, selftest_pass=inside["selftest_pass"],
        selftest_fail=inside["selftest_fail"], no_validity_checks=runs == 0,
        incidents_dropped=sum(_count(detail) for at, kind, detail in events
                              if kind == "incidents_dropped" and lo <= at < hi))


def _count(detail: str) -> int:
    return int(detail) if detail.strip().isdigit() else 0


def _uptime(events: Sequence[Event], lo: float, hi: float) -> float | None:
    """Share of [lo, hi) the filter ran: up from `start` to `stop`; after a crash (a `start`
    with no `stop` before it) up only until the last event the old run wrote. Time before the
    first `start` ever recorded (the filter was not installed yet) is left out."""
    starts = [at for at, kind, _ in events if kind == "start"]
    if not starts:
        return None
    lo = max(lo, starts[0])
    if hi <= lo:
        return None
    up_since: float | None = None
    alive = 0.0
    total = 0.0

    def add(a: float, b: float) -> float:
        return max(0.0, min(b, hi) - max(a, lo))

    for at, kind, _ in events:
        if kind == "start":
            if up_since is not None:
                total += add(up_since, alive)
            up_since = at
        elif kind == "stop":
            if up_since is not None:
                total += add(up_since, at)
            up_since = None
        alive = at
    if up_since is not None:
        total += add(up_since, hi)
    return round(100.0 * total / (hi - lo), 1)


def _local(unix: float) -> str:
    return datetime.fromtimestamp(unix, TIRANE).strftime(DATE_TIME)
