"""Who may do what: the logged-in user, CSRF on forms, scopes, schools within a scope.

    user = user_or_login(request)       # redirect to /hyr (pages) or 401 (API) when anonymous
    check_csrf(request, form)           # 403 unless the form carries the session's token
    school_in_scope(request, user, code)  # 404 for a school outside the user's DRAP/qark/ZVA

A school outside the scope answers exactly as an unknown school does (404), so an office cannot
even learn which codes exist elsewhere.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web
from multidict import MultiDictProxy

from reporting import offices
from reporting.inbox import auth, dashboard
from reporting.inbox.app import CONFIG, CSRF, STORE, USER
from reporting.inbox.qarqe import qark_id
from reporting.inbox.registry import School
from reporting.inbox.store import Scope, User


def user_or_login(request: web.Request) -> User:
    user = request.get(USER)
    if user is None:
        if request.path.startswith("/api/"):
            raise web.HTTPUnauthorized(text="duhet të hyni / log in first")
        raise web.HTTPSeeOther(f"/hyr?next={quote(request.path_qs, safe='')}")
    assert isinstance(user, User)
    return user


def check_csrf(request: web.Request, form: MultiDictProxy[Any]) -> None:
    given = form.get("csrf")
    if not auth.csrf_ok(request.get(CSRF, ""), given if isinstance(given, str) else None):
        raise web.HTTPForbidden(text="Formulari ka skaduar ose mungon tokeni CSRF; rifreskoni "
                                     "faqen. / The form expired or its CSRF token is missing; "
                                     "reload the page.")


def scope_of(request: web.Request, user: User) -> Scope:
    """The user's scope, narrowed by ?drap=, ?qark= or ?zva= when that lies within it (the
    ministry to anything, a DRAP to one of its qarqe or ZVA); never widened."""
    table = offices.load()
    query = request.query
    wanted = Scope(qark=qark_id(query.get("qark", "")) or "",
                   drap=table.drap_id(query.get("drap", "")) or "",
                   zva=z.id if (z := table.zva_of(query.get("zva", ""))) else "")
    if not wanted.everything and user.scope.contains(wanted):
        return wanted
    return user.scope


def school_in_scope(request: web.Request, user: User, code: str) -> School:
    return in_scope(user, request.app[STORE].school(code))


def in_scope(user: User, school: School | None) -> School:
    """The school when the user may see it; 404 (as for an unknown code) otherwise."""
    if school is None or not user.scope.allows(school):
        raise web.HTTPNotFound(text="Kjo shkollë nuk gjendet në zonën tuaj. / No such school "
                                    "in your area.")
    return school


def period_or_404(text: str) -> str:
    if dashboard.check_period(text) is not None:
        raise web.HTTPNotFound(text="Muaji duhet si VVVV-MM. / Use YYYY-MM.")
    return text


def safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def cookie(response: web.StreamResponse, request: web.Request, name: str, value: str,
           max_age: int | None, path: str = "/") -> None:
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True,
                        samesite="Strict", secure=request.app[CONFIG].tls)
