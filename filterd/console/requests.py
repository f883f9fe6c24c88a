"""Kërkesat për zhbllokim / Unblock requests: the block page's "blocked by mistake" requests.

    GET  /kerkesat                    pending requests, temporary unblocks in force, decided
    POST /kerkesat/{id}/prano         accept: `minutes` (time box) and `reason` → an unblock
    POST /kerkesat/{id}/refuzo        refuse, with a `reason`
    POST /zhbllokime/{id}/hiq         end a temporary unblock now

The same steps as `roja unblock requests accept|refuse` and `roja unblock remove`
(`filterd.unblock_requests`, `filterd.overrides`), each written to the audit log under the
console user's name. A host a legal list (or the hotline's confidential set) blocks is never
opened: the page shows no accept button for it and the server refuses it anyway, as it does a
confidential request (no host stored). Only the teacher decides; a director sees the lists.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from filterd import audit, overrides
from filterd.config import RojaConfig
from filterd.console.app import render, settings
from filterd.console.guards import form_of, signed_in, teacher
from filterd.unblock_requests import UnblockRequest, decide_request, list_requests
from policy.categories import label
from reporting.inbox.app import now

BOXES = ((15, "15 min"), (45, "45 min (një orë mësimi / a lesson)"),
         (90, "90 min (dy orë / a double lesson)"), (24 * 60, "1 ditë / 1 day"))
MAX_MINUTES = 31 * 24 * 60


@dataclass(frozen=True)
class Row:
    request: UnblockRequest
    category: str  # its label
    legal: str  # the legal layer's category label when it blocks the host, else ""


def legal_blocks(cfg: RojaConfig, hosts: set[str]) -> dict[str, str]:
    """{host: category label} for the hosts the legal layer blocks (blocking: a thread)."""
    from filterd.app import build_policy

    if not hosts:
        return {}
    policy, compiled = build_policy(cfg)
    try:
        return {h: label(d.category) for h in hosts if (d := policy.legal_block(h))}
    finally:
        compiled.close()


def _rows(cfg: RojaConfig) -> tuple[list[Row], list[UnblockRequest]]:
    pending = list_requests(cfg.state_dir, "pending")
    legal_lists = {lc.rule.id for lc in cfg.policy.lists if lc.rule.kind == "legal"}
    legal = legal_blocks(cfg, {r.host for r in pending if r.host})
    rows = [Row(r, label(r.category), legal.get(r.host, "") or (
        label(r.category) if r.list_id in legal_lists or not r.host else "")) for r in pending]
    decided = [r for r in list_requests(cfg.state_dir, None) if r.status != "pending"]
    return rows, decided[-20:][::-1]


async def page(request: web.Request) -> web.StreamResponse:
    signed_in(request)
    cfg = settings(request)
    rows, decided = await asyncio.to_thread(_rows, cfg)
    active = overrides.list_rows(cfg.state_dir, now(request))
    return render(request, "requests.html", rows=rows, decided=decided, active=active,
                  boxes=BOXES, label=label, done=request.query.get("u", ""))


def _pending(state_dir: Path, request_id: str) -> UnblockRequest:
    found = {str(r.id): r for r in list_requests(state_dir, "pending")}.get(request_id)
    if found is None:
        raise web.HTTPNotFound(text=f"Nuk ka kërkesë në pritje #{request_id}. / No pending "
                                    f"request #{request_id}.")
    return found


def _minutes(text: str) -> int:
    try:
        minutes = int(text)
    except ValueError:
        minutes = 0
    if not 0 < minutes <= MAX_MINUTES:
        raise web.HTTPBadRequest(text="Zgjidhni sa minuta (1 … 44640). / Choose how many "
                                      "minutes (1 … 44640).")
    return minutes


async def accept(request: web.Request) -> web.StreamResponse:
    me = teacher(request)
    form = await form_of(request)
    cfg = settings(request)
    found = _pending(cfg.state_dir, request.match_info["id"])
    minutes = _minutes(str(form.get("minutes", "")))
    reason = str(form.get("reason", "")).strip()
    if not reason:
        raise web.HTTPBadRequest(text="Shkruani arsyen. / Give a reason.")
    legal: dict[str, str] = {}
    if found.host:
        legal = await asyncio.to_thread(legal_blocks, cfg, {found.host})
    if not found.host or legal:
        raise web.HTTPForbidden(text="Refuzohet: kjo faqe bllokohet nga një listë ligjore; "
                                     "asgjë nuk e hap. / Refused: a legal list blocks this "
                                     "page; nothing can open it.")
    if decide_request(cfg.state_dir, found.id, "accepted", me.name, now(request)) is None:
        raise web.HTTPNotFound(text="Kërkesa u vendos ndërkohë. / The request was decided "
                                    "meanwhile.")
    audit.append(cfg.state_dir, who=me.name, why=reason,
                 what=f"request accepted #{found.id}: group {found.group_id}, "
                      f"host {found.host} (console)")
    row = overrides.add(cfg.state_dir, group_id=found.group_id, host=found.host,
                        seconds=minutes * 60, by=me.name, reason=reason, now=now(request),
                        request_id=found.id)
    raise web.HTTPSeeOther(f"/kerkesat?u={row.id}")


async def refuse(request: web.Request) -> web.StreamResponse:
    me = teacher(request)
    form = await form_of(request)
    cfg = settings(request)
    found = _pending(cfg.state_dir, request.match_info["id"])
    reason = str(form.get("reason", "")).strip()
    if not reason:
        raise web.HTTPBadRequest(text="Shkruani arsyen. / Give a reason.")
    if decide_request(cfg.state_dir, found.id, "refused", me.name, now(request)) is None:
        raise web.HTTPNotFound(text="Kërkesa u vendos ndërkohë. / The request was decided "
                                    "meanwhile.")
    audit.append(cfg.state_dir, who=me.name, why=reason,
                 what=f"request refused #{found.id}: group {found.group_id}, "
                      f"host {found.host or '(confidential)'} (console)")
    raise web.HTTPSeeOther("/kerkesat")


async def end_unblock(request: web.Request) -> web.StreamResponse:
    me = teacher(request)
    form = await form_of(request)
    try:
        row_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    if not overrides.remove(settings(request).state_dir, row_id, me.name, now(request),
                            str(form.get("reason", "")).strip()):
        raise web.HTTPNotFound(text=f"Nuk ka zhbllokim në fuqi #{row_id}. / No active unblock "
                                    f"#{row_id}.")
    raise web.HTTPSeeOther("/kerkesat")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/kerkesat", page)
    app.router.add_post("/kerkesat/{id}/prano", accept)
    app.router.add_post("/kerkesat/{id}/refuzo", refuse)
    app.router.add_post("/zhbllokime/{id}/hiq", end_unblock)
