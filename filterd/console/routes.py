"""The console's route table, the login and logout, and the stylesheets.

    GET  /                       → /pasqyra (or the login page)
    GET  /hyr, POST /hyr         login: `username` + `password` (CSRF double-submit cookie)
    POST /dil                    logout
    GET  /pasqyra                Pasqyra / overview                     (filterd.console.overview)
    GET  /kerkesat               Kërkesat për zhbllokim / unblock requests  (.requests)
    POST /kerkesat/{id}/prano|refuzo, POST /zhbllokime/{id}/hiq
    GET  /incidentet[.csv]       Incidentet / blocked-access incidents     (.incidents)
    GET  /incident-i-ri, POST    Incident i ri / record an incident       (.manual)
    GET  /rastet, GET|POST /rastet/{id}   Rastet / recorded cases, edit and close (.cases)
    GET  /raportet, POST /raportet/{YYYY-MM}/harto|dergo|nenshkruaj       (.reports)
    GET  /raportet/{YYYY-MM}.{pdf,csv,json}
    GET  /grupet, POST /grupet/{kind}/{target}  Grupet dhe oraret / groups and schedules (.groups)
    GET  /listat, POST /listat/sinkronizo      Listat / lists, sync now        (.lists)
    GET  /pse                    Pse u bllokua? / why was it blocked?     (.explain)
    GET  /vetetestimi, POST /vetetestimi/nis   Vetëtestimi / self-test       (.selftest)
    GET  /llogarite, POST /llogarite/shto|imi, /llogarite/{name}/fjalekalimi|hiq  (.users)
    GET  /auditimi               Auditimi / the audit log and its verdict   (.auditlog)

Every page and action wants a session (else 303 to /hyr); every POST wants the session's CSRF
token (else 403); every change except signing a report and one's own password wants the
teacher (a director: 403).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from aiohttp import web

from filterd import audit
from filterd.console.accounts import Accounts
from filterd.console.app import (
    LOGIN_CSRF_COOKIE,
    ME,
    SESSION_COOKIE,
    on_accounts,
    render,
    settings,
)
from filterd.console.guards import cookie, form_of, safe_next, signed_in
from reporting.inbox import auth
from reporting.inbox import web as inbox_web
from reporting.inbox.app import address, now

STATIC = Path(__file__).with_name("static")
WRONG = ("Emri ose fjalëkalimi është i gabuar (ose shumë prova; prisni 15 minuta). / Wrong "
         "name or password (or too many attempts; wait 15 minutes).")


async def index(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/pasqyra" if request.get(ME) else "/hyr")


async def login_page(request: web.Request) -> web.StreamResponse:
    if request.get(ME) is not None:
        raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    return _login_form(request, "", 200)


def _login_form(request: web.Request, error: str, status: int) -> web.Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", status=status, error=error, login_csrf=token,
                      next=safe_next(request.query.get("next")))
    cookie(response, LOGIN_CSRF_COOKIE, token, 3600, path="/hyr")
    return response


async def login_post(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    given = form.get("csrf")
    if not auth.csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE, ""),
                        given if isinstance(given, str) else None):
        raise web.HTTPForbidden(text="Formulari i hyrjes ka skaduar; provoni përsëri. / The "
                                     "login form expired; please try again.")
    name, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    user = await on_accounts(request, Accounts.login, name, password, now(request),
                             address(request))
    if user is None:
        return _login_form(request, WRONG, 401)
    sid, _csrf = await on_accounts(request, Accounts.new_session, user.name, now(request))
    response = web.Response(status=303,
                            headers={"Location": safe_next(str(form.get("next", "/")))})
    cookie(response, SESSION_COOKIE, sid, settings(request).console.session_hours * 3600)
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/hyr")
    audit.append(settings(request).state_dir, who=user.name, what="console login",
                 why=address(request))
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    signed_in(request)
    await form_of(request)
    await on_accounts(request, Accounts.end_session, request.cookies.get(SESSION_COOKIE, ""))
    response = web.Response(status=303, headers={"Location": "/hyr"})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def console_css(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "console.css", headers={
        "Content-Type": "text/css", "Cache-Control": "max-age=3600"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/hyr", login_page)
    app.router.add_post("/hyr", login_post)
    app.router.add_post("/dil", logout)
    app.router.add_get("/static/style.css", inbox_web.style)  # the inbox's stylesheet
    app.router.add_get("/static/console.css", console_css)
    from filterd.console import (
        auditlog,
        cases,
        explain,
        groups,
        incidents,
        lists,
        manual,
        overview,
        reports,
        requests,
        selftest,
        users,
    )

    for page in (overview, requests, incidents, manual, cases, reports, lists, groups, explain,
                 selftest, users, auditlog):  # nav
        page.add_routes(app)
