"""Incident i ri / New incident: the manual incident form (`roja incident add` in a browser).

    GET  /incident-i-ri          the form (the teacher only)
    POST /incident-i-ri          record it; back to the form with its number

The vocabularies, the checks and the masking are `reporting.manual`'s: phone numbers, e-mail
addresses and personal numbers in the description are replaced by `[fshehur / hidden]` before
it is stored, and the page says what was hidden (its kind, never its value). Names cannot be
masked: the form asks for none, and says that the text stays on the gateway and is deleted
`[incidents] free_text_days` after the case is closed (`description_note`). `recorded_by` is
the console user. Each record goes into the audit log.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from aiohttp import web

from filterd import audit
from filterd.console.app import render, settings
from filterd.console.guards import form_of, teacher
from filterd.incident_text import CSAM_NOTE, description_note, hidden_kinds, parse_date
from filterd.status import TIRANE
from reporting import manual
from reporting.inbox.app import now
from reporting.incidents import db_path
from reporting.sqlite_store import StoreLockedError

FIELDS = ("category", "platform", "age_band", "gender", "status")


def _form(request: web.Request, status: int = 200, error: str = "",
          values: dict[str, str] | None = None) -> web.Response:
    today = datetime.fromtimestamp(now(request), TIRANE).date()
    return render(request, "incident_new.html", status=status, error=error,
                  values=values or {"date": today.isoformat(), "status": "open",
                                    "age_band": "unknown", "gender": "unknown"},
                  vocab=manual.VOCABULARIES,
                  prompt=description_note(settings(request).incidents.free_text_days),
                  saved=request.query.get("nr", ""), hidden=request.query.get("fshehur", ""),
                  csam=request.query.get("csam") == "1", csam_note=CSAM_NOTE)


async def page(request: web.Request) -> web.StreamResponse:
    teacher(request)
    return _form(request)


async def record(request: web.Request) -> web.StreamResponse:
    me = teacher(request)
    form = await form_of(request)
    values = {k: str(form.get(k, "")) for k in ("date", *FIELDS, "description")}
    referrals = tuple(str(r) for r in form.getall("referrals", []))
    try:
        occurred = parse_date(values["date"])
        incident = manual.ManualIncident(
            occurred, values["category"], values["platform"], values["age_band"],
            values["gender"], referrals, values["status"], values["description"], me.name)
        new_id = await asyncio.to_thread(  # SQLite (and a wait for a locked store): a thread
            manual.add, db_path(settings(request).state_dir), incident.normalised(),
            now(request))
    except (ValueError, manual.ManualIncidentError) as exc:
        return _form(request, 400, str(exc), values)
    except StoreLockedError as exc:
        return _form(request, 503, f"Incidenti nuk u regjistrua / the incident was not "
                     f"recorded: {exc}", values)
    _masked, kinds = hidden_kinds(values["description"])
    audit.append(settings(request).state_dir, who=me.name, what=f"manual incident add "
                 f"#{new_id}: {incident.normalised().category}", why="console")
    from urllib.parse import urlencode

    query = {"nr": str(new_id), "fshehur": kinds,
             "csam": "1" if incident.normalised().category == "csam" else ""}
    raise web.HTTPSeeOther(f"/incident-i-ri?{urlencode(query)}")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/incident-i-ri", page)
    app.router.add_post("/incident-i-ri", record)
