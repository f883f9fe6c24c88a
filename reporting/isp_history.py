"""The feed's year for the Code of Conduct report, from the appliance's `events` (pure: no
clock, no I/O): which hotline serials were in force, how long each took to reach every RPZ
secondary, and when the feed was out.

Kinds read: `sync_ok` ("serial N": a good sync; the first one of a serial is when the filter
began enforcing it, `filterd.list_apply`), `sync_fail`, `rpz_published` ("serial N": Roja began
serving it over RPZ) and `rpz_reached` ("serial N secondary A:P": the fleet monitor first saw
that secondary apply it, `filterd.rpz_export`). A time is the earliest event of its kind (a
restart writes some again, later). A serial with no `rpz_published`, or a secondary with no
`rpz_reached` for it, has no propagation time: the report says "no data", never zero.

An outage is a stretch without a good sync: from the first failed sync after a good one, or
from the moment the list became stale (`stale_hours` after the last good sync: the filter was
down, never tried, or kept failing) when that came first, to the next good sync, or to the end
of the year (no end when the report is built before then).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

TIRANE = ZoneInfo("Europe/Tirane")
DATE_TIME = "%d.%m.%Y %H:%M"
_SERIAL = re.compile(r"serial\s+(\S+)")
_REACHED = re.compile(r"serial\s+(\S+)\s+secondary\s+(\S+)")

Event = tuple[float, str, str]  # (unix time, kind, detail)


@dataclass(frozen=True)
class Reach:
    secondary: str  # address:port
    reached: str | None  # DD.MM.YYYY HH:MM, None: no record
    seconds: int | None  # from publication to that record; None: no data


@dataclass(frozen=True)
class SerialRow:
    serial: str
    enforced: str | None  # first good sync with this serial (DD.MM.YYYY HH:MM)
    published: str | None  # served over RPZ from (None: no record)
    reach: tuple[Reach, ...]  # one per secondary, in the report's order
    all_seconds: int | None  # until the last secondary had it; None unless all have data


@dataclass(frozen=True)
class SecondarySummary:
    secondary: str
    serials_reached: int  # serials with a propagation time
    no_data: int  # serials without one
    median_seconds: int | None
    max_seconds: int | None


@dataclass(frozen=True)
class Outage:
    start: str  # DD.MM.YYYY HH:MM
    end: str | None  # None: still going when the report was built
    hours: float
    failures: int  # failed syncs in it
    stale: bool  # the list passed stale_hours without a good sync
    started_at: float  # unix, for ordering
    until_year_end: bool = False  # still out when the year ended


def _local(unix: float) -> str:
    return datetime.fromtimestamp(unix, TIRANE).strftime(DATE_TIME)


def _serial(detail: str) -> str | None:
    m = _SERIAL.search(detail)
    return m[1] if m else None


def _first[K](found: dict[K, float], key: K, at: float) -> None:
    if key not in found or at < found[key]:
        found[key] = at


def propagation(events: Sequence[Event], lo: float, hi: float, secondaries: Sequence[str]
                ) -> tuple[tuple[str, ...], tuple[SerialRow, ...], tuple[SecondarySummary, ...]]:
    """(secondaries, serial rows, per-secondary summary) for [lo, hi). `events` are every event
    before `hi`; `secondaries` the configured ones (address:port), to which those found in
    `rpz_reached` events of the year are added."""
    enforced: dict[str, float] = {}
    published: dict[str, float] = {}
    reached: dict[tuple[str, str], float] = {}
    in_year: dict[str, float] = {}  # serial → first time it mattered in the year
    in_force: tuple[float, str] | None = None  # the serial enforced when the year began
    seen = list(secondaries)
    for at, kind, detail in events:
        if at >= hi:
            continue
        if kind in ("sync_ok", "rpz_published") and (serial := _serial(detail)):
            _first(enforced if kind == "sync_ok" else published, serial, at)
            if at >= lo:
                _first(in_year, serial, at)
            elif kind == "sync_ok":
                in_force = (at, serial)
        elif kind == "rpz_reached" and (m := _REACHED.search(detail)):
            _first(reached, (m[1], m[2]), at)
            if at >= lo and m[2] not in seen:
                seen.append(m[2])
    if in_force is not None:
        _first(in_year, in_force[1], lo)
    rows = []
    for serial in sorted(in_year, key=lambda s: (in_year[s], s)):
        start = published.get(serial)
        reach = []
        for target in seen:
            got = reached.get((serial, target))
            seconds = None if got is None or start is None else int(max(0.0, got - start))
            reach.append(Reach(target, None if got is None else _local(got), seconds))
        times = [r.seconds for r in reach]
        rows.append(SerialRow(
            serial=serial, enforced=_local(enforced[serial]) if serial in enforced else None,
            published=None if start is None else _local(start), reach=tuple(reach),
            all_seconds=max(t for t in times if t is not None)
            if times and all(t is not None for t in times) else None))
    summaries = []
    for i, target in enumerate(seen):
        times = [row.reach[i].seconds for row in rows]
        times_known = [t for t in times if t is not None]
        summaries.append(SecondarySummary(
            target, len(times_known), len(rows) - len(times_known),
            int(statistics.median(times_known)) if times_known else None,
            max(times_known) if times_known else None))
    return tuple(seen), tuple(rows), tuple(summaries)


def outages(events: Sequence[Event], lo: float, hi: float, now: float,
            stale_hours: float) -> tuple[Outage, ...]:
    """The feed's outages that overlap [lo, min(hi, now)), in time order (module docstring)."""
    horizon = min(hi, now)
    stale_after = stale_hours * 3600
    found: list[Outage] = []
    last_ok: float | None = None
    failing: float | None = None
    failures = 0

    def close(end: float, open_end: bool) -> None:
        stale_from = None if last_ok is None else last_ok + stale_after
        stale = stale_from is None or end > stale_from
        begins = [t for t in (failing, stale_from if stale else None) if t is not None]
        if not begins or end <= lo or min(begins) >= end:
            return
        start = max(min(begins), lo)
        found.append(Outage(_local(start), None if open_end and horizon == now else
                            _local(end), round((end - start) / 3600, 1), failures, stale,
                            start, until_year_end=open_end and horizon == hi))

    for at, kind, _detail in events:
        if at >= horizon or kind not in ("sync_ok", "sync_fail"):
            continue
        if kind == "sync_fail":
            failing = at if failing is None else failing
            failures += 1
            continue
        close(at, False)
        last_ok, failing, failures = at, None, 0
    if last_ok is not None or failing is not None:
        close(horizon, True)
    return tuple(found)
