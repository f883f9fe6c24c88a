"""Rastet / Cases: the incidents teachers recorded, listed, and a case followed to its close
(`roja incident list` and `roja incident update` in a browser).

    GET  /rastet[?statusi=open|ongoing|resolved][&faqja=N]   the list, 100 a page, newest
                                                   first (teacher and director)
    GET  /rastet/{id}                              the case's form (the teacher only)
    POST /rastet/{id}                              save: status, category, referrals,
                                                   description (masked like a new one)

The list shows no description and no recorder: the free text may hold what a pupil said, so
only the teacher who keeps the case opens it. A case marked resolved starts the clock of
`[incidents] free_text_days`, after which the daily purge blanks its text. Every change goes
into the audit log with the fields that changed (never their text).
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from filterd import audit
from filterd.console.app import render, settings
from filterd.console.guards import form_of, signed_in, teacher
from filterd.incident_text import CSAM_NOTE, description_note, hidden_kinds
from reporting import manual
from reporting.inbox.app import now
from reporting.incidents import db_path
from reporting.sqlite_store import StoreLockedError

EDITABLE = ("status", "category")
PAGE = 100  # cases a page: a school records a few a month; an ISP-sized list stays fast


async def _case(request: web.Request) -> manual.ManualIncident:
    try:
        number = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    case = await asyncio.to_thread(manual.get, db_path(settings(request).state_dir), number)
    if case is None:
        raise web.HTTPNotFound(text=f"Nuk ka rast nr. {number}. / There is no case {number}.")
    return case


async def cases(request: web.Request) -> web.StreamResponse:
    signed_in(request)
    status = request.query.get("statusi", "")
    if status and status not in manual.STATUSES:
        raise web.HTTPBadRequest(text="Statusi i panjohur / unknown status: "
                                      f"{status[:40]!r}")
    try:
        page_no = max(1, int(request.query.get("faqja", "1")))
    except ValueError:
        page_no = 1
    rows = await asyncio.to_thread(manual.list_, db_path(settings(request).state_dir),
                                   status=status or None)
    newest = rows[::-1]
    pages = max(1, -(-len(newest) // PAGE))
    page_no = min(page_no, pages)
    return render(request, "cases.html", rows=newest[(page_no - 1) * PAGE:page_no * PAGE],
                  total=len(newest), page_no=page_no, pages=pages, wanted=status,
                  vocab=manual.VOCABULARIES, saved=request.query.get("nr", ""))


def _form(request: web.Request, case: manual.ManualIncident, status: int = 200,
          error: str = "", hidden: str = "") -> web.Response:
    return render(request, "case.html", status=status, case=case, error=error, hidden=hidden,
                  vocab=manual.VOCABULARIES, csam_note=CSAM_NOTE,
                  prompt=description_note(settings(request).incidents.free_text_days))


async def case_page(request: web.Request) -> web.StreamResponse:
    teacher(request)
    return _form(request, await _case(request))


async def save(request: web.Request) -> web.StreamResponse:
    me = teacher(request)
    form = await form_of(request)
    case = await _case(request)
    assert case.id is not None
    fields: dict[str, object] = {f: str(form.get(f, "")) for f in EDITABLE}
    fields["referrals"] = tuple(str(r) for r in form.getall("referrals", []))
    fields["description"] = str(form.get("description", "")).strip()
    changed = sorted(f for f, v in fields.items() if v != getattr(case, f))
    if not changed:
        raise web.HTTPSeeOther("/rastet")
    try:
        stored = await asyncio.to_thread(  # SQLite (and a wait for a locked store): a thread
            manual.update, db_path(settings(request).state_dir), case.id, now(request),
            **{f: fields[f] for f in changed})
    except manual.ManualIncidentError as exc:
        return _form(request, case, 400, str(exc))
    except StoreLockedError as exc:
        return _form(request, case, 503, f"Rasti nuk u ruajt / the case was not saved: {exc}")
    what = f"manual incident update #{case.id}: " + ", ".join(
        f"{f} {getattr(case, f)}→{getattr(stored, f)}" if f in EDITABLE else f
        for f in changed)
    audit.append(settings(request).state_dir, who=me.name, what=what, why="console")
    if "description" in changed:
        _masked, kinds = hidden_kinds(str(fields["description"]))
        if kinds:
            return _form(request, stored, hidden=kinds)
    raise web.HTTPSeeOther(f"/rastet?nr={case.id}")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/rastet", cases)
    app.router.add_get("/rastet/{id}", case_page)
    app.router.add_post("/rastet/{id}", save)
