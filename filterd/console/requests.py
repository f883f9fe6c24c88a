"""Kërkesat për zhbllokim / Unblock requests: the block page's "blocked by mistake" requests.

    GET  /kerkesat                    pending requests, temporary unblocks in force, decided
    POST /kerkesat/{id}/prano         accept: `minutes` (time box) and `reason` → an unblock
    POST /kerkesat/{id}/refuzo        refuse, with a `reason`
    POST /zhbllokime/{id}/hiq         end a temporary unblock now
    POST /zhbllokime/shto             unblock a host for a group without a request (a teacher
                                      who knows a lesson needs a site): `group`, `host`,
                                      `minutes`, `reason`

The same code as `roja unblock requests accept|refuse` (`filterd.unblock_requests.
accept_request`, `refuse_request`), `roja unblock add` (`check_openable` then
`filterd.overrides.add`) and `roja unblock remove` (`filterd.overrides`), each
written to the audit log under the console user's name. A host a legal list (or the
hotline's confidential set) blocks is never opened: the page shows no accept button for it
and the server refuses it anyway, as it does a confidential request (no host stored). Only
the teacher decides; a director sees the lists.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from multidict import MultiDictProxy

from blocklists.canonical import canonical_host
from filterd import overrides
from filterd.config import RojaConfig
from filterd.console.app import render, settings
from filterd.console.guards import form_of, signed_in, teacher
from filterd.unblock_requests import (
    DecisionError,
    UnblockRequest,
    accept_request,
    check_openable,
    list_requests,
    refuse_request,
)
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
    groups = [cfg.policy.default_group.id, *(g.id for g in cfg.policy.groups)]
    return render(request, "requests.html", rows=rows, decided=decided, active=active,
                  boxes=BOXES, label=label, done=request.query.get("u", ""), groups=groups)


REFUSED: dict[str, type[web.HTTPError]] = {
    "missing": web.HTTPNotFound, "confidential": web.HTTPForbidden, "legal": web.HTTPForbidden,
    "group": web.HTTPConflict, "lists": web.HTTPServiceUnavailable}


def _request_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None


def _reason(form: MultiDictProxy[Any]) -> str:
    reason = str(form.get("reason", "")).strip()
    if not reason:
        raise web.HTTPBadRequest(text="Shkruani arsyen. / Give a reason.")
    return reason


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
    request_id = _request_id(request)
    minutes = _minutes(str(form.get("minutes", "")))
    reason = _reason(form)
    try:
        _found, row = await asyncio.to_thread(
            accept_request, cfg, request_id, seconds=minutes * 60, by=me.name, reason=reason,
            now=now(request), via=" (console)")
    except DecisionError as exc:
        raise REFUSED[exc.kind](text=str(exc)) from None
    raise web.HTTPSeeOther(f"/kerkesat?u={row.id}")


async def unblock(request: web.Request) -> web.StreamResponse:
    """An unblock without a request: the same checks as `roja unblock add`."""
    me = teacher(request)
    form = await form_of(request)
    cfg = settings(request)
    minutes = _minutes(str(form.get("minutes", "")))
    reason = _reason(form)
    group_id, typed = str(form.get("group", "")), str(form.get("host", "")).strip()
    # A teacher may paste the address from the browser: keep only its host.
    host = canonical_host(urlsplit(typed if "://" in typed else f"//{typed}").hostname or "")
    if not host:
        raise web.HTTPBadRequest(text=f"{typed[:80]!r} nuk është emër hosti (p.sh. "
                                      "shembull.al). / is not a host name (e.g. example.org).")
    try:
        await asyncio.to_thread(check_openable, cfg, group_id, host)
    except DecisionError as exc:
        raise REFUSED[exc.kind](text=str(exc)) from None
    row = await asyncio.to_thread(overrides.add, cfg.state_dir, group_id=group_id, host=host,
                                  seconds=minutes * 60, by=me.name,
                                  reason=f"{reason} (console)", now=now(request))
    raise web.HTTPSeeOther(f"/kerkesat?u={row.id}")


async def refuse(request: web.Request) -> web.StreamResponse:
    me = teacher(request)
    form = await form_of(request)
    request_id = _request_id(request)
    reason = _reason(form)
    try:
        refuse_request(settings(request).state_dir, request_id, by=me.name, reason=reason,
                       now=now(request), via=" (console)")
    except DecisionError as exc:
        raise REFUSED[exc.kind](text=str(exc)) from None
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
    app.router.add_post("/zhbllokime/shto", unblock)
