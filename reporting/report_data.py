"""What a monthly or annual report says, gathered from the incident database as plain counts.

`collect(db_path, "2026-10", school, qark, municipality, ict_teacher, now, recipient, groups)`
reads the tables `incidents`, `manual_incidents` and `events` (a missing table or database reads
as empty) and
returns a frozen, JSON-serialisable `ReportData`; `report_json`, `report_csv` and `report_pdf`
only render it. Bypass (circumvention) attempts are counted by `reporting.bypass_count`, the
same function `roja status` uses. Periods are whole Europe/Tirane calendar months (`2026-10`)
or years (`2026`), so a DST change inside the period moves no incident across a boundary.

The report holds counts only: never a blocked name (confidential or not), never a client
pseudonym, never the free text of a manual incident. Groups appear under their names
(`groups` maps ids to the configured names; `report_labels.group_label`). The same database,
period, `now` and names give an identical `ReportData` (fixed ordering everywhere; the build
time, `generated` and `generated_at`, comes from `now`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from policy.categories import canonical_category
from reporting.bypass_count import BYPASS_CATEGORIES
from reporting.report_db import ReportDb
from reporting.report_filter import FilterStatus, filter_status
from reporting.report_labels import (
    AGE_BANDS,
    BLOCK_CATEGORIES,
    GENDERS,
    HOTLINE_CATEGORIES,
    MONTHS,
    NO_VALUE,
    PLATFORMS,
    REFERRALS,
    STATUSES,
    group_label,
    label,
    order,
)

TIRANE = ZoneInfo("Europe/Tirane")
DATE = "%d.%m.%Y"
DATETIME = "%d.%m.%Y %H:%M"


class SchoolLike(Protocol):
    """filterd.config.School or anything else with a name and a code."""

    @property
    def name(self) -> str: ...

    @property
    def code(self) -> str: ...


@dataclass(frozen=True)
class Period:
    kind: Literal["month", "year"]
    key: str  # "2026-10" or "2026"
    start: datetime  # first instant, Tirane time
    end: datetime  # first instant after the period

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()


@dataclass(frozen=True)
class Count:
    key: str  # a stable id (category, ISO week "2026-W40", month "2026-10", ...)
    label: str  # what people read (Albanian)
    count: int


@dataclass(frozen=True)
class Header:
    school_name: str
    school_code: str
    qark: str
    municipality: str
    ict_teacher: str
    period: str
    period_kind: Literal["month", "year"]
    period_label: str  # "tetor 2026" or "2026"
    period_start: str  # DD.MM.YYYY
    period_end: str  # DD.MM.YYYY, the last day
    period_complete: bool  # False while the period is still running at `now`
    generated: str  # DD.MM.YYYY
    generated_at: str  # DD.MM.YYYY HH:MM, Tirane time: when the report was built
    recipient: str = ""  # "Drejtuar: DRAP Durrës / ZVA Kavajë" (reporting.offices)


@dataclass(frozen=True)
class Blocked:
    total: int  # blocked requests (repeats folded into a row counted)
    incidents: int  # incident rows
    by_category: tuple[Count, ...]
    by_period: tuple[Count, ...]  # ISO weeks (month report) or months (annual report)
    by_group: tuple[Count, ...]
    circumvention_total: int
    circumvention_by_period: tuple[Count, ...]


@dataclass(frozen=True)
class Manual:
    total: int
    by_category: tuple[Count, ...]
    by_platform: tuple[Count, ...]
    by_age_band: tuple[Count, ...]
    by_gender: tuple[Count, ...]
    by_referral: tuple[Count, ...]
    by_status: tuple[Count, ...]


@dataclass(frozen=True)
class Trend:
    month: str  # "2026-01"
    label: str  # "janar"
    blocked: int
    circumvention: int
    manual: int
    selftest_runs: int


@dataclass(frozen=True)
class AuditHead:
    """The appliance's audit log when the report was built (`filterd.audit.anchor`): so many
    entries, the last with this hash. The inbox keeps it; `roja audit verify --against-...`
    then sees a later rewrite of the log."""

    length: int
    head: str


@dataclass(frozen=True)
class ReportData:
    header: Header
    filter_status: FilterStatus
    blocked: Blocked
    manual: Manual
    trends: tuple[Trend, ...]  # the twelve months of an annual report; empty for a month
    audit: AuditHead | None = None  # absent when there is no audit log (and in older reports)

    def to_dict(self) -> dict[str, Any]:
        """Plain dicts and lists, ready for json.dumps (no `audit` key when there is none)."""
        out = asdict(self)
        if self.audit is None:
            del out["audit"]
        return out


def parse_period(text: str) -> Period:
    """`2026-10` (a month) or `2026` (a year), in Europe/Tirane time. Raises ValueError."""
    if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise ValueError(f"{text!r}: muaji duhet 01..12 / the month must be 01..12")
        nxt = (year + 1, 1) if month == 12 else (year, month + 1)
        return Period("month", text, _midnight(year, month, 1), _midnight(*nxt, 1))
    if re.fullmatch(r"\d{4}", text):
        year = int(text)
        return Period("year", text, _midnight(year, 1, 1), _midnight(year + 1, 1, 1))
    raise ValueError(f"{text!r}: jepni një muaj si 2026-10 ose një vit si 2026 / use a "
                     "month such as 2026-10 or a year such as 2026")


def collect(db_path: Path, period: str | Period, school: SchoolLike, qark: str,
            municipality: str, ict_teacher: str, now: datetime,
            recipient: str = "", groups: Mapping[str, str] | None = None,
            audit: AuditHead | None = None) -> ReportData:
    """Everything the report shows for `period`, read from the database at `db_path`;
    `recipient` is the "Drejtuar: ..." line (`ReportSettings.addressee().line`), `groups` maps
    group ids to their configured names, `audit` is where the appliance's audit log stands
    (carried as it is)."""
    p = parse_period(period) if isinstance(period, str) else period
    now = now.astimezone(TIRANE)
    header = Header(
        school_name=school.name or NO_VALUE, school_code=school.code or NO_VALUE,
        qark=qark or NO_VALUE, municipality=municipality or NO_VALUE,
        ict_teacher=ict_teacher or NO_VALUE, period=p.key, period_kind=p.kind,
        period_label=f"{MONTHS[p.start.month - 1]} {p.start.year}" if p.kind == "month"
        else str(p.start.year),
        period_start=p.start.strftime(DATE), period_end=p.last_day.strftime(DATE),
        period_complete=now >= p.end, generated=now.strftime(DATE),
        generated_at=now.strftime(DATETIME), recipient=recipient)
    with ReportDb(db_path) as db:
        events = [(float(at), str(kind), str(detail or "")) for at, kind, detail in db.rows(
            "events", "SELECT at, kind, detail FROM events WHERE at < ? ORDER BY at, id",
            (p.end.timestamp(),))]
        status = filter_status(events, *_ts(p), now.timestamp())
        return ReportData(header=header, filter_status=status,
                          blocked=_blocked(db, p, groups or {}), manual=_manual(db, p),
                          trends=_trends(db, p) if p.kind == "year" else (), audit=audit)


def buckets(p: Period) -> list[tuple[str, str, datetime, datetime]]:
    """(key, label, start, end): ISO weeks clipped to a month, or the months of a year."""
    if p.kind == "year":
        months = [_midnight(p.start.year, m, 1) for m in range(1, 13)] + [p.end]
        return [(f"{a.year}-{a.month:02d}", MONTHS[a.month - 1].capitalize(), a, b)
                for a, b in pairwise(months)]
    out = []
    day = p.start.date()
    while day < p.end.date():
        stop = min(day + timedelta(days=7 - day.weekday()), p.end.date())
        iso = day.isocalendar()
        last = stop - timedelta(days=1)
        out.append((f"{iso.year}-W{iso.week:02d}",
                    f"Java {iso.week} ({day:%d.%m}–{last:%d.%m})",
                    _midnight(day.year, day.month, day.day),
                    _midnight(stop.year, stop.month, stop.day)))
        day = stop
    return out


def _midnight(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=TIRANE)


def _ts(p: Period) -> tuple[float, float]:
    return p.start.timestamp(), p.end.timestamp()


def _blocked(db: ReportDb, p: Period, groups: Mapping[str, str]) -> Blocked:
    lo, hi = _ts(p)
    where = "first_at >= ? AND first_at < ?"
    total = db.scalar("incidents", f"SELECT SUM(count) FROM incidents WHERE {where}", (lo, hi))
    rows = db.scalar("incidents", f"SELECT COUNT(*) FROM incidents WHERE {where}", (lo, hi))

    def grouped(column: str, name: Callable[[str], str],
                key: Callable[[str], str] = str) -> tuple[Count, ...]:
        found = db.rows("incidents", f"SELECT {column}, SUM(count) FROM incidents "
                        f"WHERE {where} GROUP BY {column}", (lo, hi))
        merged: Counter[str] = Counter()
        for k, n in found:
            merged[key(str(k))] += int(n)
        counts = [Count(k, name(k), n) for k, n in merged.items()]
        return tuple(sorted(counts, key=lambda c: (-c.count, c.key)))

    by_period = tuple(Count(key, text, db.scalar(
        "incidents", f"SELECT SUM(count) FROM incidents WHERE {where}",
        (a.timestamp(), b.timestamp()))) for key, text, a, b in buckets(p))
    return Blocked(total=total, incidents=rows,
                   by_category=grouped("category", lambda k: label(BLOCK_CATEGORIES, k),
                                       _category),
                   by_period=by_period,
                   by_group=grouped("grp", lambda k: group_label(k, groups)),
                   circumvention_total=db.bypass_attempts(p.start, p.end),
                   circumvention_by_period=tuple(Count(key, text, db.bypass_attempts(a, b))
                                                 for key, text, a, b in buckets(p)))


def _category(cid: str) -> str:
    """The table's id for a list's category (`adult` → pornography), so that one category is
    one row; the bypass ids are one row, `filter_bypass` (`circumvention` is its older id),
    apart from malware: the report counts bypass attempts on their own."""
    return "filter_bypass" if cid in BYPASS_CATEGORIES else canonical_category(cid)


def _manual_rows(db: ReportDb, start: datetime, end: datetime) -> list[tuple[Any, ...]]:
    return db.rows("manual_incidents",
                   "SELECT category, platform, age_band, gender, referrals, status "
                   "FROM manual_incidents WHERE occurred_on >= ? AND occurred_on < ? "
                   "ORDER BY id", (start.date().isoformat(), end.date().isoformat()))


def _table(counter: Counter[str], table: Mapping[str, str]) -> tuple[Count, ...]:
    """Every id of the vocabulary (zeros included, in its order), then unknown ids found."""
    keys = set(counter) | set(table)
    return tuple(Count(k, label(table, k), counter[k])
                 for k in sorted(keys, key=lambda k: order(table, k)))


def _manual(db: ReportDb, p: Period) -> Manual:
    rows = _manual_rows(db, p.start, p.end)
    cols: list[Counter[str]] = [Counter() for _ in range(6)]
    for row in rows:
        for i, value in enumerate(row):
            text = str(value or "").strip()
            if i == 4:
                cols[4].update(r.strip() for r in text.split(",") if r.strip())
            else:
                cols[i][text] += 1
    category, platform, age, gender, referral, status = cols
    return Manual(total=len(rows),
                  by_category=_table(category, HOTLINE_CATEGORIES),
                  by_platform=_table(platform, PLATFORMS),
                  by_age_band=_table(age, AGE_BANDS),
                  by_gender=_table(gender, GENDERS),
                  by_referral=_table(referral, REFERRALS),
                  by_status=_table(status, STATUSES))


def _trends(db: ReportDb, p: Period) -> tuple[Trend, ...]:
    out = []
    for key, text, a, b in buckets(p):
        sub = Period("month", key, a, b)
        blocked = _blocked_totals(db, sub)
        tests = db.scalar("events", "SELECT COUNT(*) FROM events WHERE at >= ? AND at < ? AND "
                          "kind IN ('selftest_pass', 'selftest_fail')", _ts(sub))
        out.append(Trend(key, text, blocked[0], blocked[1], len(_manual_rows(db, a, b)), tests))
    return tuple(out)


def _blocked_totals(db: ReportDb, p: Period) -> tuple[int, int]:
    where = "first_at >= ? AND first_at < ?"
    total = db.scalar("incidents", f"SELECT SUM(count) FROM incidents WHERE {where}", _ts(p))
    return total, db.bypass_attempts(p.start, p.end)
