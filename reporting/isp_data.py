"""What the Code of Conduct annual report says, as plain counts (`roja isp report`).

The action plan for child online safety (2018-2020) asks internet providers to report every
year on the Code of Conduct they signed (activity 3.2, "Raporti vjetor për zbatimin e Kodit të
Sjelljes") and to count the families they protect (3.3). `collect_isp(...)` gathers, for one
Europe/Tirane calendar year: the provider (`[isp]`), the lists in force and the hotline serials
with how long each took to reach every RPZ secondary (`reporting.isp_history`), blocked
requests by category and the filter validity self-tests (the school report's own counts,
`reporting.report_data.collect`, so the two reports never disagree), the subscriber networks
with the family filter on (groups with `family = true`) and the feed's outages.

Counts only, like the school report: no blocked name, no client pseudonym, no group member.
The caller (the CLI, which may read the config and the audit log) passes what is configured;
this module reads only the incident database. The same inputs give the same `IspReport`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from policy.engine import Group
from reporting.isp_config import IspSettings
from reporting.isp_history import Outage, SecondarySummary, SerialRow, outages, propagation
from reporting.report_data import (
    DATE,
    DATETIME,
    TIRANE,
    AuditHead,
    Count,
    Trend,
    collect,
    parse_period,
)
from reporting.report_db import ReportDb
from reporting.report_labels import BLOCK_CATEGORIES, label

LIST_KINDS = {"legal": "Ligjore (nuk hapet)", "deny": "Bllokim", "allow": "Lejim"}


@dataclass(frozen=True)
class Provider:
    name: str
    nipt: str
    contact: str
    signatory: str
    signatory_role: str


@dataclass(frozen=True)
class ListInForce:
    """A list the filter applied during the year (from the config and the audit log)."""

    id: str
    kind: str  # legal | deny | allow
    kind_label: str
    category: str
    category_label: str
    entries: int | None  # as enforced when the report was built; None: not known
    added: str | None = None  # DD.MM.YYYY HH:MM, when added during the year
    removed: str | None = None  # when removed during the year


@dataclass(frozen=True)
class IspHeader:
    year: str
    period_start: str
    period_end: str
    complete: bool  # False: the year is still running, the report is a draft
    generated: str
    generated_at: str


@dataclass(frozen=True)
class Propagation:
    monitored: bool  # [rpz] secondaries configured now, or any record in the year
    interval_seconds: int  # how often the secondaries are checked (the times' precision)
    secondaries: tuple[str, ...]
    serials: tuple[SerialRow, ...]
    by_secondary: tuple[SecondarySummary, ...]


@dataclass(frozen=True)
class Family:
    groups: int  # groups with family = true
    networks: int  # their networks (CIDR)
    addresses: int  # their single addresses
    all_networks: int  # networks and addresses of every group
    percent: float | None  # family share of all, None when no group names a network


@dataclass(frozen=True)
class Selftests:
    """Filter validity self-tests run in the year (`roja selftest`, the daemon's)."""

    runs: int
    passed: int
    failed: int
    uptime_percent: float | None  # the filter's estimated uptime (report_filter)


@dataclass(frozen=True)
class Feed:
    configured: bool
    stale_hours: int
    outages: tuple[Outage, ...]
    outage_hours: float
    sync_ok: int
    sync_failures: int


@dataclass(frozen=True)
class IspReport:
    header: IspHeader
    provider: Provider
    lists: tuple[ListInForce, ...]
    propagation: Propagation
    blocked_total: int
    blocked_by_category: tuple[Count, ...]
    family: Family
    selftests: Selftests
    feed: Feed
    months: tuple[Trend, ...]
    audit: AuditHead | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if self.audit is None:
            del out["audit"]
        for outage in out["feed"]["outages"]:
            del outage["started_at"]  # ordering only
        return out


@dataclass(frozen=True)
class _Named:
    name: str
    code: str


def family_counts(groups: Sequence[Group]) -> Family:
    """Subscriber networks with the family filter on, and their share of every group's."""
    fam = [g for g in groups if g.family]
    networks = sum(len(g.networks) for g in fam)
    addresses = sum(len(g.addresses) for g in fam)
    every = sum(len(g.networks) + len(g.addresses) for g in groups)
    return Family(len(fam), networks, addresses, every,
                  round(100.0 * (networks + addresses) / every, 1) if every else None)


def list_row(list_id: str, kind: str, category: str, entries: int | None,
             added: str | None = None, removed: str | None = None) -> ListInForce:
    return ListInForce(list_id, kind, LIST_KINDS.get(kind, kind), category,
                       label(BLOCK_CATEGORIES, category), entries, added, removed)


def collect_isp(db_path: Path, year: str, isp: IspSettings, lists: Sequence[ListInForce],
                groups: Sequence[Group], secondaries: Sequence[str], interval: int,
                feed_configured: bool, stale_hours: int, now: datetime,
                audit: AuditHead | None = None) -> IspReport:
    """Everything the report shows for `year` ("2026"); raises ValueError for a bad year and
    sqlite3.Error for a database it cannot read."""
    p = parse_period(year)
    if p.kind != "year":
        raise ValueError(f"{year!r}: jepni një vit si 2026 / give a year such as 2026")
    now = now.astimezone(TIRANE)
    school = collect(db_path, p, _Named(isp.name, isp.nipt), "", "", "", now)
    lo, hi = p.start.timestamp(), p.end.timestamp()
    with ReportDb(db_path) as db:
        events = [(float(at), str(kind), str(detail or "")) for at, kind, detail in db.rows(
            "events", "SELECT at, kind, detail FROM events WHERE at < ? ORDER BY at, id",
            (hi,))]
    seen, rows, summary = propagation(events, lo, hi, secondaries)
    found = outages(events, lo, hi, now.timestamp(), stale_hours)
    f = school.filter_status
    return IspReport(
        header=IspHeader(p.key, p.start.strftime(DATE), p.last_day.strftime(DATE),
                         now >= p.end, now.strftime(DATE), now.strftime(DATETIME)),
        provider=Provider(isp.name, isp.nipt, isp.contact, isp.signatory, isp.signatory_role),
        lists=tuple(lists),
        propagation=Propagation(bool(seen), interval, seen, rows, summary),
        blocked_total=school.blocked.total,
        blocked_by_category=school.blocked.by_category,
        family=family_counts(groups),
        selftests=Selftests(f.selftest_runs, f.selftest_pass, f.selftest_fail,
                            f.uptime_percent),
        feed=Feed(feed_configured, stale_hours, found,
                  round(sum(o.hours for o in found), 1), f.sync_ok, f.sync_failures),
        months=school.trends, audit=audit)
