"""Receiving reports: the schools' upload endpoint and the staff's manual upload form.

    POST /api/reports   Authorization: Bearer <token>, Idempotency-Key: <key>
                        multipart parts `report` (JSON), optionally `pdf` and `csv`
      201 {"receipt": "RJ-2026-10-BR-001-r1-…", "server_sha256": "<content hash>",
           "revision": 1, "late": false, "message": "..."}    a new report or revision
      200 the same body                                        a replay: nothing new stored
      4xx {"error": "<Albanian> / <English>"}                  nothing stored

This is the contract `reporting.delivery_https` (the appliance's `roja report send`) expects:
`server_sha256` is the report's content hash. The manual form (`/ngarko`) takes the same files
for a school in the staff member's scope, for reports that arrived by e-mail (the JSON alone
or the three attachments); a report that also came by HTTPS is the same revision, found by its
content hash and idempotency key. It goes through the same checks and the same store
(`reporting.inbox.upload`, `reporting.inbox.submissions`). Checking the JSON and every SQLite
query run on the database threads (`reporting.inbox.offload`), never on the event loop.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from reporting.inbox import submissions
from reporting.inbox.app import CONFIG, OFFLOAD, address, now, render
from reporting.inbox.guards import check_csrf, in_scope, user_or_login
from reporting.inbox.registry import School
from reporting.inbox.store import Store
from reporting.inbox.submissions import Incoming
from reporting.inbox.upload import Part, UploadError, check, read_parts


def json_text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


def _error(exc: UploadError) -> web.Response:
    return web.json_response({"error": exc.message}, status=exc.status, dumps=json_text)


def _message(result: submissions.Accepted) -> str:
    if not result.created:
        return "Ky raport është marrë më parë. / This report was received before."
    sq, en = (" (me vonesë)", " (late)") if result.late else ("", "")
    return (f"Raporti u mor, rishikimi {result.revision}{sq}. / Report received, revision "
            f"{result.revision}{en}.")


def _receive(store: Store, parts: dict[str, Part], school: School, key: str | None,
             channel: str, by: str, late_day: int, at: float,
             source: str) -> tuple[Incoming, submissions.Accepted]:
    """Check and store one upload and log it (on a database thread: it parses and validates
    the JSON and writes SQLite). UploadError and KeyReusedError are logged, then raised."""
    actor = f"shkolla:{school.code}" if channel == "https" else by
    where = "" if channel == "https" else f"{school.code} "
    try:
        incoming = check(parts, school, key, channel, by)
        result = submissions.accept(store, incoming, late_day, at)
    except UploadError as exc:
        store.audit(actor, "upload_refused", f"{where}{exc.status} {exc.message}",
                    source, at)
        raise
    except submissions.KeyReusedError:
        store.audit(actor, "upload_refused", f"{where}409 key reused", source, at)
        raise
    action = ("upload" if channel == "https" else "upload_manual") if result.created \
        else "upload_replay"
    store.audit(actor, action, f"{where}{incoming.period} r{result.revision} {result.receipt}",
                source, at)
    return incoming, result


async def upload_api(request: web.Request) -> web.StreamResponse:
    work, cfg = request.app[OFFLOAD], request.app[CONFIG]
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    school = (await work.db(Store.school_for_token, token.strip())
              if scheme.lower() == "bearer" else None)
    if school is None:
        await work.db(Store.audit, "?", "upload_refused", "token", address(request),
                      now(request))
        return web.json_response(
            {"error": "tokeni mungon ose nuk vlen / missing or invalid token"}, status=401,
            headers={"WWW-Authenticate": "Bearer"}, dumps=json_text)
    try:
        parts = await read_parts(request, cfg.max_upload_bytes)
    except UploadError as exc:
        await work.db(Store.audit, f"shkolla:{school.code}", "upload_refused",
                      f"{exc.status} {exc.message}", address(request), now(request))
        return _error(exc)
    try:
        _, result = await work.db(
            _receive, parts, school, request.headers.get("Idempotency-Key"), "https", "token",
            cfg.late_day, now(request), address(request))
    except UploadError as exc:
        return _error(exc)
    except submissions.KeyReusedError:
        return _error(UploadError(409, "ky Idempotency-Key është përdorur për një raport tjetër",
                                  "this Idempotency-Key was used for a different report"))
    return web.json_response(
        {"receipt": result.receipt, "server_sha256": result.content_sha256,
         "revision": result.revision, "late": result.late, "message": _message(result)},
        status=201 if result.created else 200, dumps=json_text)


async def _form(request: web.Request, status: int = 200, **context: Any) -> web.Response:
    user = user_or_login(request)
    schools = await request.app[OFFLOAD].db(Store.schools, user.scope)
    context.setdefault("error", "")
    context.setdefault("result", None)
    context.setdefault("chosen", "")
    return render(request, "upload.html", status=status, schools=schools, **context)


async def upload_form(request: web.Request) -> web.StreamResponse:
    return await _form(request, chosen=request.query.get("shkolla", ""))


async def upload_form_post(request: web.Request) -> web.StreamResponse:
    user = user_or_login(request)
    form = await request.post()
    check_csrf(request, form)
    work, cfg = request.app[OFFLOAD], request.app[CONFIG]
    code = str(form.get("school", ""))
    school = in_scope(user, await work.db(Store.school, code))
    parts: dict[str, Part] = {}
    for name in ("report", "pdf", "csv"):
        field = form.get(name)
        if isinstance(field, web.FileField):
            data = field.file.read()
            if data:
                parts[name] = Part(field.filename or name, data)
    try:
        incoming, result = await work.db(_receive, parts, school, None, "manual", user.name,
                                         cfg.late_day, now(request), address(request))
    except UploadError as exc:
        return await _form(request, status=exc.status, error=exc.message, chosen=code)
    return await _form(request, status=201 if result.created else 200, chosen=code,
                       result={"receipt": result.receipt, "message": _message(result),
                               "school": school, "period": incoming.period})
