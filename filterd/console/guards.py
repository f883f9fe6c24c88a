"""Who may do what in the console.

    me = signed_in(request)        # the user, or a redirect to /hyr?next=... (303)
    me = teacher(request)          # 403 for a director: only the teacher changes anything
    await form_of(request)         # the POST form, 403 unless it carries the session's CSRF
    cookie(response, name, value, max_age)   # HttpOnly, Secure, SameSite=Strict

The CSRF check itself is the inbox's (`reporting.inbox.guards.check_csrf`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web
from multidict import MultiDictProxy

from filterd.console.accounts import User
from filterd.console.app import ME
from reporting.inbox.guards import check_csrf, safe_next

__all__ = ["cookie", "form_of", "safe_next", "signed_in", "teacher"]


def signed_in(request: web.Request) -> User:
    user: User | None = request.get(ME)
    if user is None:
        raise web.HTTPSeeOther(f"/hyr?next={quote(request.path_qs, safe='')}")
    return user


def teacher(request: web.Request) -> User:
    user = signed_in(request)
    if not user.teacher:
        raise web.HTTPForbidden(text="Vetëm mësuesi i TIK-ut e bën këtë; drejtori lexon dhe "
                                     "nënshkruan raportet. / Only the ICT teacher can do this; "
                                     "the director reads and signs reports.")
    return user


async def form_of(request: web.Request) -> MultiDictProxy[Any]:
    form = await request.post()
    check_csrf(request, form)
    return form


def cookie(response: web.StreamResponse, name: str, value: str, max_age: int | None,
           path: str = "/") -> None:
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True,
                        samesite="Strict", secure=True)
