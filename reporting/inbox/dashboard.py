"""What the dashboard shows for one month and one person's scope, read in three queries.

    view = month_view(store, "2026-10", user.scope, late_day=10)
    view.qarqe        # per qark: schools, submitted on time, late, missing
    view.offices      # the same grouped by DRAP, then qark, then ZVA (reporting/offices.toml)
    view.missing      # the missing schools with their contact e-mail
    view.blocked      # blocked access by category, summed over the current revisions
    view.trend        # the 12 months up to this one: submitted, blocked, circumvention, manual

Only the current revision of each school's report counts. A report is "Dorëzuar" (submitted
by the deadline), "Me vonesë" (submitted after it) or the school "Mungon" (nothing yet).
Self-test results: schools whose filter failed a check (`selftest_fail > 0`) and schools that
ran no check in the month (`no_validity_checks`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from reporting import offices
from reporting.inbox.qarqe import QARQE
from reporting.inbox.registry import School
from reporting.inbox.store import Scope, Store
from reporting.inbox.submissions import TIRANE, deadline
from reporting.report_labels import (
    BLOCK_CATEGORIES,
    HOTLINE_CATEGORIES,
    MONTHS,
    REFERRALS,
    STATUSES,
    label,
    order,
)

PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
STATUS_LABELS = {"submitted": "Dorëzuar", "late": "Me vonesë", "missing": "Mungon"}
SECTIONS = {"blocked": BLOCK_CATEGORIES, "manual": HOTLINE_CATEGORIES, "referral": REFERRALS,
            "status": STATUSES}


@dataclass(frozen=True)
class SchoolMonth:
    school: School
    status: str  # submitted, late, missing
    submission_id: int | None = None
    received_at: float | None = None
    revision: int = 0
    blocked: int = 0
    circumvention: int = 0
    manual: int = 0
    selftest_runs: int = 0
    selftest_fail: int = 0
    no_checks: bool = False

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class QarkRow:
    qid: str
    name: str
    schools: int
    submitted: int
    late: int
    missing: int


@dataclass(frozen=True)
class ZvaRow:
    zid: str  # "" for schools whose municipality is not in the offices table
    name: str  # "ZVA Kavajë" or "ZVA e papërcaktuar"
    schools: int
    submitted: int
    late: int
    missing: int


@dataclass(frozen=True)
class QarkGroup:
    qark: QarkRow
    zvas: tuple[ZvaRow, ...]


@dataclass(frozen=True)
class DrapGroup:
    did: str
    name: str  # "DRAP Durrës"
    schools: int
    submitted: int
    late: int
    missing: int
    qarqe: tuple[QarkGroup, ...]


@dataclass(frozen=True)
class Count:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class TrendRow:
    period: str
    label: str
    submitted: int
    blocked: int
    circumvention: int
    manual: int
    selftest_failed: int


@dataclass(frozen=True)
class MonthView:
    period: str
    label: str
    deadline: str  # DD.MM.YYYY, the last day on time
    scope: Scope
    qarqe: tuple[QarkRow, ...]
    offices: tuple[DrapGroup, ...]
    schools: tuple[SchoolMonth, ...]
    blocked: tuple[Count, ...]
    manual: tuple[Count, ...]
    referrals: tuple[Count, ...]
    statuses: tuple[Count, ...]
    trend: tuple[TrendRow, ...]

    @property
    def missing(self) -> list[SchoolMonth]:
        return [s for s in self.schools if s.status == "missing"]

    @property
    def reported(self) -> list[SchoolMonth]:
        return [s for s in self.schools if s.status != "missing"]

    @property
    def selftest_failed(self) -> list[SchoolMonth]:
        return [s for s in self.reported if s.selftest_fail > 0]

    @property
    def no_checks(self) -> list[SchoolMonth]:
        return [s for s in self.reported if s.no_checks and s.selftest_fail == 0]

    def total(self, field: str) -> int:
        return sum(int(getattr(q, field)) for q in self.qarqe)

    @property
    def circumvention(self) -> int:
        return sum(s.circumvention for s in self.schools)

    @property
    def blocked_total(self) -> int:
        return sum(s.blocked for s in self.schools)

    @property
    def manual_total(self) -> int:
        return sum(s.manual for s in self.schools)


def check_period(text: str) -> str | None:
    """Why `text` is not a month YYYY-MM, or None."""
    return None if PERIOD.match(text) else "muaji duhet si VVVV-MM / use YYYY-MM"


def month_label(period: str) -> str:
    return f"{MONTHS[int(period[5:7]) - 1]} {period[:4]}"


def shift(period: str, months: int) -> str:
    index = int(period[:4]) * 12 + int(period[5:7]) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def last_month(now: float) -> str:
    local = datetime.fromtimestamp(now, TIRANE)
    return shift(f"{local.year:04d}-{local.month:02d}", -1)


def month_view(store: Store, period: str, scope: Scope, late_day: int) -> MonthView:
    where, params = scope.sql()
    rows = store.db.execute(
        "SELECT sc.code, sc.name, sc.qark, sc.municipality, sc.email, sc.zva, s.id, "
        "s.received_at, "
        "s.revision, s.late, s.blocked_total, s.circumvention, s.manual_total, "
        "s.selftest_runs, s.selftest_fail, s.no_validity_checks FROM schools sc "
        "LEFT JOIN submissions s ON s.school_code = sc.code AND s.period = ? AND s.current = 1 "
        f"WHERE 1 = 1{where} ORDER BY sc.qark, sc.name, sc.code", (period, *params))
    schools = []
    for r in rows:
        school = School(*r[:6])
        if r[6] is None:
            schools.append(SchoolMonth(school, "missing"))
            continue
        blocked, circumvention, manual, runs, fail = (int(v) for v in r[10:15])
        schools.append(SchoolMonth(school, "late" if r[9] else "submitted", int(r[6]),
                                   float(r[7]), int(r[8]), blocked, circumvention, manual,
                                   runs, fail, bool(r[15])))
    reach = scope.qarqe()
    qarqe = [_qark_row(qid, name, [s for s in schools if s.school.qark == qid])
             for qid, name in QARQE.items()
             if qid in reach and (not scope.zva or any(s.school.qark == qid for s in schools))]
    counts: dict[str, list[Count]] = {name: [] for name in SECTIONS}
    for section, key, n in store.db.execute(
            "SELECT c.section, c.key, SUM(c.count) FROM submissions s "
            "JOIN schools sc ON sc.code = s.school_code "
            "JOIN submission_counts c ON c.submission_id = s.id "
            f"WHERE s.period = ? AND s.current = 1{where} GROUP BY c.section, c.key",
            (period, *params)):
        table = SECTIONS.get(section)
        if table is not None and int(n) > 0:
            counts[section].append(Count(key, label(table, key), int(n)))
    for section, table in SECTIONS.items():
        _sort(counts[section], table)
    last_day = datetime.fromtimestamp(deadline(period, late_day) - 1, TIRANE)
    return MonthView(period, month_label(period), last_day.strftime("%d.%m.%Y"), scope,
                     tuple(qarqe), _offices(qarqe, schools), tuple(schools),
                     tuple(counts["blocked"]),
                     tuple(counts["manual"]), tuple(counts["referral"]),
                     tuple(counts["status"]), trend(store, period, scope))


def _counts(mine: list[SchoolMonth]) -> tuple[int, int, int, int]:
    return (len(mine), sum(s.status == "submitted" for s in mine),
            sum(s.status == "late" for s in mine), sum(s.status == "missing" for s in mine))


def _qark_row(qid: str, name: str, mine: list[SchoolMonth]) -> QarkRow:
    return QarkRow(qid, name, *_counts(mine))


def _offices(qarqe: list[QarkRow], schools: list[SchoolMonth]) -> tuple[DrapGroup, ...]:
    """The qark rows grouped under their DRAP, each with its schools' ZVA below it."""
    table = offices.load()
    shown = {q.qid: q for q in qarqe}
    groups = []
    for drap in table.draps.values():
        members = [shown[qid] for qid in QARQE if qid in drap.qarqe and qid in shown]
        if not members:
            continue
        qark_groups = []
        for q in members:
            mine = [s for s in schools if s.school.qark == q.qid]
            zids = sorted({s.school.zva for s in mine},
                          key=lambda z: (z == "", _zva_name(table, z)))
            qark_groups.append(QarkGroup(q, tuple(
                ZvaRow(z, _zva_name(table, z), *_counts([s for s in mine if s.school.zva == z]))
                for z in zids)))
        mine = [s for s in schools if s.school.qark in drap.qarqe]
        groups.append(DrapGroup(drap.id, drap.label, *_counts(mine), tuple(qark_groups)))
    return tuple(groups)


def scope_label(scope: Scope) -> str:
    """What a page heading says about a scope: "DRAP Durrës", "Qarku Berat, Kuçovë",
    "ZVA Kavajë", or "" for everything."""
    table = offices.load()
    parts = []
    if scope.drap:
        drap = table.draps.get(scope.drap)
        parts.append(drap.label if drap else f"DRAP {scope.drap}")
    if scope.qark:
        parts.append(f"Qarku {QARQE.get(scope.qark, scope.qark)}"
                     + (f", {scope.municipality}" if scope.municipality else ""))
    if scope.zva:
        parts.append(_zva_name(table, scope.zva))
    return " · ".join(parts)


def _zva_name(table: offices.Offices, zid: str) -> str:
    zva = table.zvas.get(zid)
    return zva.label if zva else "ZVA e papërcaktuar" if not zid else f"ZVA {zid}"


def _sort(items: list[Count], table: Mapping[str, str]) -> None:
    items.sort(key=lambda c: order(table, c.key))


def trend(store: Store, period: str, scope: Scope, months: int = 12) -> tuple[TrendRow, ...]:
    """The `months` months up to `period`, oldest first (zeros where nothing arrived)."""
    first = shift(period, -(months - 1))
    where, params = scope.sql()
    found = {str(r[0]): r[1:] for r in store.db.execute(
        "SELECT s.period, COUNT(*), SUM(s.blocked_total), SUM(s.circumvention), "
        "SUM(s.manual_total), SUM(s.selftest_fail > 0) FROM submissions s "
        "JOIN schools sc ON sc.code = s.school_code "
        f"WHERE s.period BETWEEN ? AND ? AND s.current = 1{where} GROUP BY s.period",
        (first, period, *params))}
    out = []
    for i in range(months):
        p = shift(first, i)
        values = [int(v or 0) for v in found.get(p, (0, 0, 0, 0, 0))]
        out.append(TrendRow(p, month_label(p), *values))
    return tuple(out)
