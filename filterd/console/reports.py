"""Raportet / Reports: each month's revisions, where each went, the director's signature.

    GET  /raportet[?shiko=YYYY-MM&r=N]        the last six months: revisions r1, r2 ... (what
                                              changed), deliveries and receipts per revision,
                                              signatures; the chosen revision's PDF inline
    POST /raportet/{YYYY-MM}/harto            build (the teacher): `roja report build`'s revision
    POST /raportet/{YYYY-MM}/dergo            send (the teacher): what `roja report send` does
    POST /raportet/{YYYY-MM}/nenshkruaj       sign (teacher or director) the latest revision
    GET  /raportet/{YYYY-MM}.{pdf,csv,json}   the latest revision's files (download)
    GET  /raportet/{YYYY-MM}/rN.{pdf,csv,json}  one revision's files; the PDF inline (for the
                                              preview), `?shkarko=1` to download it

Thin on purpose: the revisions and deliveries are `filterd.commands.report_status.collect`
(what `roja report status` prints, with the same receipts); building and sending are
`reporting.delivery.make_revision` and `.send`, the code behind `roja report send`. With
`[report] require_director_signature = true`, sending asks `filterd.report_signoff` first: a
revision no director has signed is not sent (409, the CLI's sentence). A signature names the
revision's content hash, so a new revision is unsigned. Every build, send (or refusal) and
signature goes into the audit log.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from filterd import audit, report_signoff
from filterd.commands import report_status
from filterd.console.accounts import Accounts
from filterd.console.app import ACCOUNTS_LOCK, accounts, on_accounts, render, settings
from filterd.console.guards import form_of, signed_in, teacher
from filterd.errors import RojaError
from filterd.status import TIRANE
from reporting import delivery
from reporting.bundles import BundleStore, Revision
from reporting.inbox.app import CSP, now
from reporting.inbox.dashboard import month_label, shift
from reporting.outbox import Delivery

MONTHS = 6
TYPES = {"pdf": "application/pdf", "json": "application/json",
         "csv": "text/csv; charset=utf-8"}
# the page embeds the PDF (<object>) from this origin; the PDF may be framed by this origin only
PAGE_CSP = f"{CSP}; object-src 'self'; frame-src 'self'"
PDF_CSP = "default-src 'none'; frame-ancestors 'self'"


@dataclass(frozen=True)
class RevisionView:
    revision: Revision
    deliveries: list[Delivery]
    signatures: list[tuple[str, str, str, float]]  # (content, who, role, at) of this content

    @property
    def director_signed(self) -> bool:
        return any(role == "director" for _c, _who, role, _at in self.signatures)


@dataclass(frozen=True)
class Month:
    period: str
    label: str
    revisions: list[RevisionView]  # newest first
    orphans: list[Delivery]  # deliveries whose revision is no longer stored

    @property
    def latest(self) -> RevisionView | None:
        return self.revisions[0] if self.revisions else None


def months(moment: datetime) -> list[str]:
    last = delivery.previous_month(moment)
    return [shift(last, -i) for i in range(MONTHS)]


def _period(request: web.Request) -> str:
    period = request.match_info["period"]
    if period not in months(datetime.fromtimestamp(now(request), TIRANE)):
        raise web.HTTPNotFound(text="Ky muaj nuk ofrohet këtu (VVVV-MM, gjashtë muajt e fundit)."
                                    " / Not a month offered here (YYYY-MM, the last six).")
    return period


def gather(request: web.Request) -> list[Month]:
    """The last six months (blocking: the outbox, the bundle store, the signatures)."""
    cfg = settings(request)
    shown = months(datetime.fromtimestamp(now(request), TIRANE))
    rows, revisions = report_status.collect(cfg.state_dir, cfg.school.code, None)
    out = []
    for period in shown:
        found = revisions.get(period, [])
        with request.app[ACCOUNTS_LOCK]:  # one use of the accounts database at a time
            signatures = accounts(request).signatures(period)
        keys = {r.bundle.key for r in found}
        views = [RevisionView(r, [d for d in rows if d.key == r.bundle.key],
                              [s for s in signatures if s[0] == r.bundle.content_sha256])
                 for r in reversed(found)]
        out.append(Month(period, month_label(period), views,
                         [d for d in rows if d.period == period and d.key not in keys]))
    return out


def _preview(request: web.Request, shown: list[Month]) -> tuple[Month, RevisionView] | None:
    """The revision whose PDF the page shows: `?shiko=YYYY-MM&r=N`, else the newest built."""
    wanted, number = request.query.get("shiko", ""), request.query.get("r", "")
    for month in shown:
        if wanted and month.period != wanted:
            continue
        for view in month.revisions:
            if not number or str(view.revision.number) == number:
                return month, view
    return None


def _show(request: web.Request, status: int = 200, error: str = "") -> web.Response:
    cfg = settings(request)
    shown = gather(request)
    response = render(request, "reports.html", status=status, error=error, months=shown,
                      labels=report_status.STATUS_LABELS, receipt=report_status.receipt,
                      recipients=cfg.report.recipients(), preview=_preview(request, shown),
                      require=cfg.report.require_director_signature,
                      done=request.query.get("u", ""))
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response


async def page(request: web.Request) -> web.StreamResponse:
    signed_in(request)
    return await asyncio.to_thread(_show, request)


async def build(request: web.Request) -> web.StreamResponse:
    me = teacher(request)
    await form_of(request)
    cfg = settings(request)
    period = _period(request)
    moment = datetime.fromtimestamp(now(request), TIRANE)
    made = await asyncio.to_thread(delivery.make_revision, cfg.state_dir, period, cfg.school,
                                   cfg.report, moment)
    bundle = made.revision.bundle
    audit.append(cfg.state_dir, who=me.name, what=f"report build {period}",
                 why=f"r{made.revision.number}, content {bundle.content_sha256[:16]} (console)")
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

    def run() -> tuple[Revision, list[Delivery]]:
        made = delivery.make_revision(cfg.state_dir, period, cfg.school, cfg.report, moment)
        report_signoff.require_signature(cfg.state_dir, cfg.report, made.revision)
        return made.revision, delivery.send(cfg.state_dir, made.revision.bundle, cfg.report,
                                            moment)

    try:
        revision, rows = await asyncio.to_thread(run)
    except RojaError as exc:
        audit.append(cfg.state_dir, who=me.name, what=f"report send {period}: refused",
                     why=exc.format_message().split("\n", 1)[0][:300] + " (console)")
        return await asyncio.to_thread(_show, request, 409, exc.format_message())
    audit.append(cfg.state_dir, who=me.name, what=f"report send {period} r{revision.number}",
                 why=", ".join(f"{r.channel} {r.recipient}: {r.status}" for r in rows)
                 + " (console)")
    raise web.HTTPSeeOther(f"/raportet?u=dergo-{period}#m{period}")


async def sign(request: web.Request) -> web.StreamResponse:
    me = signed_in(request)
    form = await form_of(request)
    cfg = settings(request)
    period = _period(request)
    latest = BundleStore(cfg.state_dir).latest(cfg.school.code, period)
    if latest is None:
        raise web.HTTPConflict(text="Raporti i këtij muaji nuk është hartuar ende. / This "
                                    "month's report has not been built yet.")
    content = latest.bundle.content_sha256
    read = form.get("content")
    if isinstance(read, str) and read and read != content:
        raise web.HTTPConflict(text="Ndërkohë u hartua një rishikim i ri: lexojeni atë para se "
                                    "ta nënshkruani. / A new revision was built meanwhile: "
                                    "read it before signing.")
    await on_accounts(request, Accounts.sign, period, content, me, now(request))
    audit.append(cfg.state_dir, who=me.name, what=f"report signed {period}",
                 why=f"{me.role}, r{latest.number}, content {content[:16]} (console)")
    raise web.HTTPSeeOther(f"/raportet?u=nenshkruaj-{period}#m{period}")


def _file(request: web.Request, revision: Revision | None, kind: str,
          inline: bool) -> web.Response:
    if revision is None or kind not in TYPES:
        raise web.HTTPNotFound()
    path = revision.bundle.files[kind]
    headers: dict[str, Any] = {
        "Content-Type": TYPES[kind],
        "Content-Disposition": f"{'inline' if inline else 'attachment'}; "
                               f"filename=\"{path.name}\""}
    if inline:  # shown inside the Raportet page: framed by this origin only
        headers.update({"Content-Security-Policy": PDF_CSP, "X-Frame-Options": "SAMEORIGIN"})
    return web.Response(body=path.read_bytes(), headers=headers)


async def download(request: web.Request) -> web.StreamResponse:
    signed_in(request)
    cfg = settings(request)
    period, kind = _period(request), request.match_info["kind"]
    latest = await asyncio.to_thread(BundleStore(cfg.state_dir).latest, cfg.school.code, period)
    return _file(request, latest, kind, inline=False)


async def revision_file(request: web.Request) -> web.StreamResponse:
    signed_in(request)
    cfg = settings(request)
    period, kind = _period(request), request.match_info["kind"]
    number = int(request.match_info["number"])
    found = await asyncio.to_thread(BundleStore(cfg.state_dir).revisions, cfg.school.code,
                                    period)
    revision = next((r for r in found if r.number == number), None)
    return _file(request, revision, kind,
                 inline=kind == "pdf" and not request.query.get("shkarko"))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/raportet", page)
    app.router.add_post("/raportet/{period}/harto", build)
    app.router.add_post("/raportet/{period}/dergo", send)
    app.router.add_post("/raportet/{period}/nenshkruaj", sign)
    app.router.add_get(r"/raportet/{period}/r{number:\d{1,6}}.{kind}", revision_file)
    app.router.add_get(r"/raportet/{period}.{kind}", download)
