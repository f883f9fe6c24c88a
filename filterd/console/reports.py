"""Raportet / Reports: the month's report built, sent, signed, and where it went.

    GET  /raportet                          the last six months: built?, deliveries, signatures
    POST /raportet/{YYYY-MM}/harto          build (the teacher): `roja report build`'s files
    POST /raportet/{YYYY-MM}/dergo          send (the teacher): what `roja report send` does
    POST /raportet/{YYYY-MM}/nenshkruaj     sign (teacher or director): "I have read it"
    GET  /raportet/{YYYY-MM}.{pdf,csv,json} the built files

Thin on purpose: building and sending are `reporting.delivery.ensure_bundle` and `.send` (the
bundle in `<state>/reports/`, the outbox `<state>/outbox.sqlite`), the code behind `roja
report send`. A signature names the report's content hash, so a rebuilt report is unsigned.
Every build, send and signature goes into the audit log.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from aiohttp import web

from filterd import audit
from filterd.console.accounts import Accounts
from filterd.console.app import on_accounts, render, settings
from filterd.console.guards import form_of, signed_in, teacher
from filterd.status import TIRANE
from reporting import delivery
from reporting.inbox.app import now
from reporting.inbox.dashboard import month_label, shift
from reporting.outbox import Bundle, Delivery, Outbox

MONTHS = 6
TYPES = {"pdf": "application/pdf", "json": "application/json",
         "csv": "text/csv; charset=utf-8"}
STATUS = {"queued": "në pritje / queued", "sending": "po dërgohet / sending",
          "sent": "dërguar / sent", "failed_permanent": "dështoi / failed"}


@dataclass(frozen=True)
class Month:
    period: str
    label: str
    bundle: Bundle | None
    deliveries: list[Delivery]
    signatures: list[tuple[str, str, str, float]]  # of this bundle's content


def months(moment: datetime) -> list[str]:
    last = delivery.previous_month(moment)
    return [shift(last, -i) for i in range(MONTHS)]


def _period(request: web.Request) -> str:
    period = request.match_info["period"]
    if period not in months(datetime.fromtimestamp(now(request), TIRANE)):
        raise web.HTTPNotFound(text="Ky muaj nuk ofrohet këtu (VVVV-MM, gjashtë muajt e fundit)."
                                    " / Not a month offered here (YYYY-MM, the last six).")
    return period


def _deliveries(state_dir: Path) -> list[Delivery]:
    path = delivery.outbox_path(state_dir)
    if not path.is_file():
        return []
    with Outbox(path) as outbox:
        return outbox.deliveries()


async def page(request: web.Request) -> web.StreamResponse:
    signed_in(request)
    cfg = settings(request)
    rows = await asyncio.to_thread(_deliveries, cfg.state_dir)  # SQLite: off the event loop
    shown = []
    for period in months(datetime.fromtimestamp(now(request), TIRANE)):
        bundle = delivery.load_bundle(cfg.state_dir, cfg.school.code, period)
        signed = [s for s in await on_accounts(request, Accounts.signatures, period)
                  if bundle is not None and s[0] == bundle.content_sha256]
        shown.append(Month(period, month_label(period), bundle,
                           [d for d in rows if d.period == period], signed))
    return render(request, "reports.html", months=shown, labels=STATUS,
                  recipients=cfg.report.recipients(), done=request.query.get("u", ""))


async def build(request: web.Request) -> web.StreamResponse:
    me = teacher(request)
    await form_of(request)
    cfg = settings(request)
    period = _period(request)
    moment = datetime.fromtimestamp(now(request), TIRANE)
    bundle = await asyncio.to_thread(delivery.ensure_bundle, cfg.state_dir, period, cfg.school,
                                     cfg.report, moment)
    audit.append(cfg.state_dir, who=me.name, what=f"report build {period}",
                 why=f"content {bundle.content_sha256[:16]} (console)")
    raise web.HTTPSeeOther(f"/raportet?u=harto-{period}#m{period}")


async def send(request: web.Request) -> web.StreamResponse:
    me = teacher(request)
    await form_of(request)
    cfg = settings(request)
    period = _period(request)
    if not cfg.report.recipients():
        raise web.HTTPConflict(text="Asnjë marrës në konfigurim ([report.smtp], "
                                    "[report.https]). / No recipients configured.")
    moment = datetime.fromtimestamp(now(request), TIRANE)

    def run() -> list[Delivery]:
        bundle = delivery.ensure_bundle(cfg.state_dir, period, cfg.school, cfg.report, moment)
        return delivery.send(cfg.state_dir, bundle, cfg.report, moment)

    rows = await asyncio.to_thread(run)
    audit.append(cfg.state_dir, who=me.name, what=f"report send {period}", why=", ".join(
        f"{r.channel} {r.recipient}: {r.status}" for r in rows) + " (console)")
    raise web.HTTPSeeOther(f"/raportet?u=dergo-{period}#m{period}")


async def sign(request: web.Request) -> web.StreamResponse:
    me = signed_in(request)
    await form_of(request)
    cfg = settings(request)
    period = _period(request)
    bundle = delivery.load_bundle(cfg.state_dir, cfg.school.code, period)
    if bundle is None:
        raise web.HTTPConflict(text="Raporti i këtij muaji nuk është hartuar ende. / This "
                                    "month's report has not been built yet.")
    await on_accounts(request, Accounts.sign, period, bundle.content_sha256, me, now(request))
    audit.append(cfg.state_dir, who=me.name, what=f"report signed {period}",
                 why=f"{me.role}, content {bundle.content_sha256[:16]} (console)")
    raise web.HTTPSeeOther(f"/raportet?u=nenshkruaj-{period}#m{period}")


async def download(request: web.Request) -> web.StreamResponse:
    signed_in(request)
    cfg = settings(request)
    period, kind = _period(request), request.match_info["kind"]
    bundle = delivery.load_bundle(cfg.state_dir, cfg.school.code, period)
    if bundle is None or kind not in TYPES:
        raise web.HTTPNotFound()
    path = bundle.files[kind]
    return web.Response(body=path.read_bytes(), headers={
        "Content-Type": TYPES[kind],
        "Content-Disposition": f"attachment; filename=\"{path.name}\""})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/raportet", page)
    app.router.add_post("/raportet/{period}/harto", build)
    app.router.add_post("/raportet/{period}/dergo", send)
    app.router.add_post("/raportet/{period}/nenshkruaj", sign)
    app.router.add_get(r"/raportet/{period}.{kind}", download)
