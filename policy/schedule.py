"""Schedules: Europe/Tirane wall-clock windows on school days that open or close categories.

A `Schedule` applies to some groups and categories. While it is in force (inside one of its
windows, on one of its week days, and not on a holiday unless `on_holidays`), `action = "allow"`
opens its categories for those groups and `action = "block"` closes them; outside, the
group's profile decides. Times are wall-clock times in Europe/Tirane, so a window "12:00-13:00"
is lunch on both sides of a DST change; on the spring-forward night (last Sunday of March) the
hour 02:00-03:00 does not exist and on the fall-back night (last Sunday of October) it happens
twice, both times inside or outside a window alike.

Pure: the time is always passed in. A naive `datetime` is read as Tirane wall-clock time.

    s = Schedule(("nxenesit",), ("social_media",), "allow",
                 (Window(720, 780), Window(900, 1440)), frozenset({0, 1, 2, 3, 4}))
    s.in_force(datetime(2026, 12, 1, 12, 30), holidays=frozenset())   # True
    next_boundary([s], frozenset(), datetime(2026, 12, 1, 12, 30))    # 13:00 that day
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

TIRANE = ZoneInfo("Europe/Tirane")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAYS_SQ = ("e hënë", "e martë", "e mërkurë", "e enjte", "e premte", "e shtunë", "e diel")
SCHOOL_DAYS = frozenset(range(5))
_WINDOW = re.compile(r"([01]?\d|2[0-4]):([0-5]\d)\s*-\s*([01]?\d|2[0-4]):([0-5]\d)")
Action = Literal["allow", "block"]


@dataclass(frozen=True)
class Window:
    """Minutes after local midnight: `start <= minute < end` (end may be 1440, midnight)."""

    start: int
    end: int

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


@dataclass(frozen=True)
class Schedule:
    groups: tuple[str, ...]
    categories: tuple[str, ...]
    action: Action
    windows: tuple[Window, ...]
    days: frozenset[int] = SCHOOL_DAYS
    on_holidays: bool = False
    name: str = ""

    def in_force(self, now: datetime, holidays: frozenset[date]) -> bool:
        local = local_time(now)
        if local.weekday() not in self.days:
            return False
        if not self.on_holidays and local.date() in holidays:
            return False
        minute = local.hour * 60 + local.minute
        return any(w.start <= minute < w.end for w in self.windows)

    def window_at(self, now: datetime, holidays: frozenset[date]) -> Window | None:
        """The window in force at `now`, if any (for explain)."""
        if not self.in_force(now, holidays):
            return None
        local = local_time(now)
        minute = local.hour * 60 + local.minute
        return next(w for w in self.windows if w.start <= minute < w.end)

    def describe(self) -> str:
        days = ",".join(DAYS[d] for d in sorted(self.days))
        return f"{' '.join(str(w) for w in self.windows)} ({days})"


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def local_time(now: datetime) -> datetime:
    """`now` as Tirane wall-clock time (a naive value already is)."""
    return now if now.tzinfo is None else now.astimezone(TIRANE)


def aware(now: datetime) -> datetime:
    """`now` as an aware datetime (a naive value is read as Tirane wall-clock time)."""
    return now.replace(tzinfo=TIRANE) if now.tzinfo is None else now


def parse_window(text: str) -> Window:
    """`"12:00-13:00"` → Window(720, 780); `"15:00-24:00"` runs to midnight. ValueError."""
    found = _WINDOW.fullmatch(text.strip())
    if not found:
        raise ValueError(f"«{text}» nuk është interval si \"12:00-13:00\" (orët 00-24, minutat "
                         f"00-59) / {text!r} is not a window like \"12:00-13:00\"")
    h1, m1, h2, m2 = (int(x) for x in found.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start >= 1440 or end > 1440 or start >= end:
        raise ValueError(f"«{text}»: fillimi duhet para mbarimit, brenda një dite (24:00 = "
                         f"mesnatë) / {text!r}: the start must come before the end, within "
                         "one day (use 24:00 for midnight)")
    return Window(start, end)


def parse_day(text: str) -> int:
    name = text.strip().lower()[:3]
    if name not in DAYS:
        raise ValueError(f"«{text}» nuk është ditë / {text!r} is not a day (mon, tue, wed, thu, "
                         "fri, sat, sun)")
    return DAYS.index(name)


def parse_dates(text: str) -> list[date]:
    """`"2026-12-25"` or a range `"2026-12-24..2027-01-06"` (both ends included). ValueError."""
    first, sep, last = text.partition("..")
    start = date.fromisoformat(first.strip())
    end = date.fromisoformat(last.strip()) if sep else start
    if end < start or (end - start).days > 366:
        raise ValueError(f"«{text}»: periudha duhet të shkojë përpara, jo më shumë se një vit / "
                         f"{text!r}: the range must run forwards, at most a year")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def next_boundary(schedules: Iterable[Schedule], holidays: frozenset[date],
                  now: datetime) -> datetime | None:
    """The first instant after `now` at which some schedule may start or stop being in force
    (window edges and local midnights, which change the day and the holidays), or None when
    there are no schedules. The result is in UTC; gap times of the spring-forward night map to
    the instant after the gap."""
    items = list(schedules)
    if not items:
        return None
    # Compared in UTC: two datetimes with the same tzinfo compare by wall time, ignoring fold.
    current = aware(now).astimezone(UTC)
    local = local_time(current)
    # Window edges, local midnight (a new day, maybe a holiday) and 02:00/03:00 (where the
    # clock jumps on the DST nights); each wall time at both of its instants when the
    # fall-back night has it twice (fold 0 and 1).
    edges = sorted({0, 120, 180, *(m for s in items for w in s.windows for m in (w.start, w.end)
                                   if m < 1440)})
    for offset in range(0, 9):
        day = local.date() + timedelta(days=offset)
        found = sorted({_instant(datetime.combine(day, time(m // 60, m % 60)), fold)
                        for m in edges for fold in (0, 1)})
        for instant in found:
            if instant > current:
                return instant
    return None


def _instant(wall: datetime, fold: int = 0) -> datetime:
    """The aware instant of a Tirane wall-clock time (`fold` 1: the second of a repeated
    time). A time in the spring-forward gap does not exist: it becomes the end of the gap."""
    first = wall.replace(tzinfo=TIRANE, fold=fold)
    moved = first.astimezone(TIRANE)
    if moved.replace(tzinfo=None) != wall:  # in the gap: zoneinfo moved it forward
        return moved.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    return first.astimezone(UTC)
