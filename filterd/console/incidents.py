"""Incidentet / Incidents: the blocks the filter recorded, filtered, and as CSV.

    GET /incidentet?nga=2026-10-01&deri=2026-10-31&kategoria=gambling&grupi=nxenesit
    GET /incidentet.csv?...           the same rows for a spreadsheet (formula-safe cells)

Rows come from `reporting.incidents.IncidentStore` (read-only), as `roja incidents list` shows
them: the client is its keyed pseudonym, never an address or a name. Dates are Tirana days,
both ends included, of the incident's first sighting (as the monthly report counts them,
`IncidentStore.between`, on the first_at index); the default is the last 7 days. At most
`LIMIT` rows (the newest).
"""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from aiohttp import web

from filterd.console.app import render, settings
from filterd.console.guards import signed_in
from filterd.status import TIRANE
from policy.categories import label
from reporting.inbox.app import address, now
from reporting.inbox.export import safe
from reporting.incidents import IncidentRow, IncidentStore, NoIncidentStoreError, db_path

LIMIT = 1000
COLUMNS = ("koha", "klienti", "grupi", "emri", "kategoria", "lista", "herë")


@dataclass(frozen=True)
class Filters:
    since: date
    until: date
    category: str
    group: str

    def query(self) -> str:
        from urllib.parse import urlencode

        return urlencode({"nga": self.since.isoformat(), "deri": self.until.isoformat(),
                          "kategoria": self.category, "grupi": self.group})


def _day(text: str | None, default: date) -> date:
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        raise web.HTTPBadRequest(text="Data duhet si 2026-10-14. / Use dates like "
                                      "2026-10-14.") from None


def filters(request: web.Request) -> Filters:
    today = datetime.fromtimestamp(now(request), TIRANE).date()
    q = request.query
    return Filters(_day(q.get("nga"), today - timedelta(days=6)), _day(q.get("deri"), today),
                   q.get("kategoria", "")[:64], q.get("grupi", "")[:64])


def rows(request: web.Request, f: Filters) -> list[IncidentRow]:
    start = datetime.combine(f.since, datetime.min.time(), TIRANE).timestamp()
    end = datetime.combine(f.until + timedelta(days=1), datetime.min.time(), TIRANE).timestamp()
    try:
        with IncidentStore(db_path(settings(request).state_dir)) as store:
            return store.between(start, end, category=f.category, group=f.group, limit=LIMIT)
    except NoIncidentStoreError:
        return []


def _local(at: float) -> str:
    return datetime.fromtimestamp(at, TIRANE).strftime("%d.%m.%Y %H:%M:%S")


async def page(request: web.Request) -> web.StreamResponse:
    signed_in(request)
    f = filters(request)
    found = await asyncio.to_thread(rows, request, f)
    cfg = settings(request)
    categories = sorted({lc.rule.category for lc in cfg.policy.lists if lc.rule.category}
                        | {r.category for r in found})
    groups = [cfg.policy.default_group.id, *(g.id for g in cfg.policy.groups
                                             if g.id != cfg.policy.default_group.id)]
    return render(request, "incidents.html", rows=found, f=f, label=label, local=_local,
                  categories=categories, groups=groups, limit=LIMIT,
                  total=sum(r.count for r in found))


async def export(request: web.Request) -> web.StreamResponse:
    me = signed_in(request)
    f = filters(request)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for r in await asyncio.to_thread(rows, request, f):
        writer.writerow([safe(v) for v in (_local(r.last_at), r.client, r.group, r.name,
                                            label(r.category), r.list_id, r.count)])
    from filterd import audit

    audit.append(settings(request).state_dir, who=me.name, why=address(request),
                 what=f"console incidents export {f.since}..{f.until}")
    name = f"incidentet-{f.since}-{f.until}.csv"
    return web.Response(body="\ufeff".encode() + out.getvalue().encode(), headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f"attachment; filename=\"{name}\""})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/incidentet", page)
    app.router.add_get("/incidentet.csv", export)
