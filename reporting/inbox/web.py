"""The inbox's routes and the staff pages (login, month dashboard, school, files, exports).

    GET  /                        → this person's last-month dashboard, or the login page
    GET  /hyr, POST /hyr          login (name + password; CSRF double-submit cookie)
    GET  /hyr/lidhje/{token}      one-time login link (`roja inbox user link NAME`)
    POST /dil                     logout
    GET  /muaji/{YYYY-MM}         the month dashboard (?drap=, ?qark=, ?zva= narrow it)
    GET  /shkolla/{code}          a school's report history with its files
    GET  /skedar/{id}/{kind}      a stored file (pdf, json, csv) as a download (logged)
    GET  /eksport/{YYYY-MM}.csv   the month as CSV for Excel (logged)
    GET  /api/v1/months/{YYYY-MM} the same data as JSON (session cookie; logged)
    GET/POST /ngarko              manual upload of a report that arrived by e-mail
    POST /api/reports             the schools' upload endpoint (reporting.inbox.api)
    GET  /api/v1/anchors          a school's audit anchors (its token; reporting.inbox.anchors)

An office sees only the schools of its DRAP, qark (or district) or ZVA; a school outside it
answers 404, as an unknown one does. Every POST form carries the session's CSRF token (403
otherwise). A login form larger than `LOGIN_MAX_BYTES` is refused (413) before it is read; an
address that must wait after wrong passwords gets 429 with Retry-After (reporting.inbox.auth).
These pages query the database on the database threads (`OFFLOAD`), not on the event loop.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from aiohttp import web

from reporting.inbox import anchors, api, auth, dashboard, export, submissions
from reporting.inbox.app import CONFIG, OFFLOAD, THROTTLE, USER, address, now, render
from reporting.inbox.guards import (
    check_csrf,
    cookie,
    in_scope,
    period_or_404,
    safe_next,
    scope_of,
    user_or_login,
)
from reporting.inbox.offload import BusyError
from reporting.inbox.qarqe import QARQE
from reporting.inbox.store import Scope, Store, User

STATIC = Path(__file__).with_name("static")
FILE_TYPES = {"pdf": "application/pdf", "json": "application/json",
              "csv": "text/csv; charset=utf-8"}
LOGIN_MAX_BYTES = 16 << 10


async def index(request: web.Request) -> web.StreamResponse:
    if request.get(USER) is None:
        raise web.HTTPSeeOther("/hyr")
    raise web.HTTPSeeOther(f"/muaji/{dashboard.last_month(now(request))}")


async def login_page(request: web.Request) -> web.StreamResponse:
    if request.get(USER) is not None:
        raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    return _login_form(request, "", 200)


def _login_form(request: web.Request, error: str, status: int,
                retry_after: int = 0) -> web.Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", status=status, error=error, login_csrf=token,
                      next=safe_next(request.query.get("next")))
    cookie(response, request, auth.LOGIN_CSRF_COOKIE, token, 3600, path="/hyr")
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


async def login_post(request: web.Request) -> web.StreamResponse:
    if request.content_length is None or request.content_length > LOGIN_MAX_BYTES:
        raise web.HTTPRequestEntityTooLarge(
            max_size=LOGIN_MAX_BYTES, actual_size=request.content_length or 0,
            text="Formulari i hyrjes është shumë i madh. / The login form is too large.")
    form = await request.post()
    expected = request.cookies.get(auth.LOGIN_CSRF_COOKIE, "")
    given = form.get("csrf")
    if not auth.csrf_ok(expected, given if isinstance(given, str) else None):
        raise web.HTTPForbidden(text="Formulari i hyrjes ka skaduar; provoni përsëri. / The "
                                     "login form expired; please try again.")
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    try:
        user = await auth.login(request.app[OFFLOAD], request.app[THROTTLE], name, password,
                                now(request), address(request))
    except BusyError:
        raise web.HTTPServiceUnavailable(
            headers={"Retry-After": "5"},
            text="Shumë hyrje njëkohësisht; provoni përsëri pas pak sekondash. / Too many "
                 "logins at once; try again in a few seconds.") from None
    if isinstance(user, auth.Refused):
        error = (f"Shumë prova të gabuara nga kjo adresë; provoni përsëri pas "
                 f"{user.retry_after} sekondash. / Too many wrong attempts from this "
                 f"address; try again in {user.retry_after} seconds.")
        return _login_form(request, error, 429, user.retry_after)
    if user is None:
        error = "Emri ose fjalëkalimi është i gabuar. / Wrong name or password."
        return _login_form(request, error, 401)
    target = safe_next(str(form.get("next", "/")))
    return await _start_session(request, user.name, target)


async def _start_session(request: web.Request, name: str, target: str) -> web.StreamResponse:
    hours = request.app[CONFIG].session_hours
    sid, _csrf = await request.app[OFFLOAD].db(auth.new_session, name, hours, now(request))
    response = web.Response(status=303, headers={"Location": target})
    cookie(response, request, auth.SESSION_COOKIE, sid, hours * 3600)
    response.del_cookie(auth.LOGIN_CSRF_COOKIE, path="/hyr")
    return response


async def login_link(request: web.Request) -> web.StreamResponse:
    def use(store: Store, token: str, at: float, where: str) -> str | None:
        name = auth.use_link(store, token, at)
        store.audit(name or "?", "login" if name else "login_link_refused",
                    "link" if name else "", where, at)
        return name

    name = await request.app[OFFLOAD].db(use, request.match_info["token"], now(request),
                                         address(request))
    if name is None:
        raise web.HTTPForbidden(text="Kjo lidhje hyrjeje është përdorur ose ka skaduar; "
                                     "kërkoni një të re. / This login link was used or has "
                                     "expired; ask for a new one.")
    return await _start_session(request, name, safe_next(request.query.get("next")))


async def logout(request: web.Request) -> web.StreamResponse:
    user_or_login(request)
    check_csrf(request, await request.post())
    sid = request.cookies.get(auth.SESSION_COOKIE, "")
    await request.app[OFFLOAD].db(auth.end_session, sid)
    response = web.Response(status=303, headers={"Location": "/hyr"})
    response.del_cookie(auth.SESSION_COOKIE, path="/")
    return response


async def month(request: web.Request) -> web.StreamResponse:
    user = user_or_login(request)
    period = period_or_404(request.match_info["period"])
    scope = scope_of(request, user)
    view = await request.app[OFFLOAD].db(dashboard.month_view, period, scope,
                                         request.app[CONFIG].late_day)

    def link(field: str, value: str) -> str:
        """The dashboard narrowed to one DRAP, qark or ZVA, when this user may narrow to it."""
        target = Scope(**{field: value})
        if not value or target == scope or not user.scope.contains(target):
            return ""
        return f"/muaji/{period}{target.query()}"

    return render(request, "month.html", view=view, qarqe=QARQE, link=link,
                  scope_label=dashboard.scope_label(scope),
                  prev=dashboard.shift(period, -1), next=dashboard.shift(period, 1),
                  prev_label=dashboard.month_label(dashboard.shift(period, -1)),
                  next_label=dashboard.month_label(dashboard.shift(period, 1)),
                  qark_query=scope.query() if scope != user.scope else "")


async def school_page(request: web.Request) -> web.StreamResponse:
    user = user_or_login(request)
    work = request.app[OFFLOAD]
    school = in_scope(user, await work.db(Store.school, request.match_info["code"]))
    rows = await work.db(submissions.history, school.code)
    return render(request, "school.html", school=school, rows=rows)


async def download(request: web.Request) -> web.StreamResponse:
    user = user_or_login(request)
    kind = request.match_info["kind"]
    try:
        sid = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    if kind not in FILE_TYPES:
        raise web.HTTPNotFound()
    at, where = now(request), address(request)

    def fetch(store: Store) -> tuple[submissions.Submission, bytes] | None:
        found = submissions.get(store, sid)
        if found is None:
            return None
        in_scope(user, store.school(found.school_code))
        stored = submissions.file(store, sid, kind)
        if stored is None:
            return None
        store.audit(user.name, "download", f"{found.receipt} {kind}", where, at)
        return found, stored[1]

    got = await request.app[OFFLOAD].db(fetch)
    if got is None:
        raise web.HTTPNotFound()
    found, data = got
    name = f"raport-{found.school_code}-{found.period}-r{found.revision}.{kind}"
    return web.Response(body=data, headers={
        "Content-Type": FILE_TYPES[kind],
        "Content-Disposition": f"attachment; filename=\"{name}\""})


async def _logged_view(request: web.Request, user: User, period: str, scope: Scope,
                       action: str) -> dashboard.MonthView:
    """The month's view for an export, and the export in the access log."""
    late_day, at, where = request.app[CONFIG].late_day, now(request), address(request)

    def run(store: Store) -> dashboard.MonthView:
        view = dashboard.month_view(store, period, scope, late_day)
        store.audit(user.name, action, f"{period} {scope.query() or 'all'}", where, at)
        return view

    return await request.app[OFFLOAD].db(run)


async def export_csv(request: web.Request) -> web.StreamResponse:
    user = user_or_login(request)
    period = period_or_404(request.match_info["period"])
    scope = scope_of(request, user)
    view = await _logged_view(request, user, period, scope, "export_csv")
    part = scope.drap or scope.qark or scope.zva
    name = f"raportet-{period}{'-' + part if part else ''}.csv"
    return web.Response(body=export.csv_bytes(view), headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f"attachment; filename=\"{name}\""})


async def export_json(request: web.Request) -> web.StreamResponse:
    user = user_or_login(request)
    period = request.match_info["period"]
    if dashboard.check_period(period) is not None:
        raise web.HTTPNotFound(text="Muaji duhet si VVVV-MM. / Use YYYY-MM.")
    scope = scope_of(request, user)
    view = await _logged_view(request, user, period, scope, "export_json")
    return web.json_response(export.json_data(view),
                             dumps=lambda d: api.json_text(d))


async def style(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "style.css", headers={
        "Content-Type": "text/css", "Cache-Control": "max-age=3600"})


async def health(request: web.Request) -> web.StreamResponse:
    return web.json_response({"ok": True})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/hyr", login_page)
    app.router.add_post("/hyr", login_post)
    app.router.add_get("/hyr/lidhje/{token}", login_link)
    app.router.add_post("/dil", logout)
    app.router.add_get("/muaji/{period}", month)
    app.router.add_get("/shkolla/{code}", school_page)
    app.router.add_get("/skedar/{id}/{kind}", download)
    app.router.add_get(r"/eksport/{period}.csv", export_csv)
    app.router.add_get("/api/v1/months/{period}", export_json)
    app.router.add_get("/ngarko", api.upload_form)
    app.router.add_post("/ngarko", api.upload_form_post)
    app.router.add_post("/api/reports", api.upload_api)
    app.router.add_get("/api/v1/anchors", anchors.anchors_api)
    app.router.add_get("/static/style.css", style)
    app.router.add_get("/healthz", health)
