"""Llogaritë / Accounts: `roja console user add|list|reset|remove` in a browser, and one's own
password.

    GET  /llogarite                        the accounts (the teacher), one's own password form
    POST /llogarite/shto                   add: name, role, a first password typed twice
    POST /llogarite/{name}/fjalekalimi     the teacher sets a new password for an account
    POST /llogarite/{name}/hiq             remove (never oneself, never the last teacher)
    POST /llogarite/imi                    anyone: change one's own password (the current one
                                           first, counted like a login attempt)

Passwords are argon2 (`filterd.console.accounts`), hashed on a worker thread so a login or a
new password never stalls the other pages. A new or reset password ends that account's
sessions. Every change is in the audit log under the teacher's name, never a password.
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from filterd import audit
from filterd.console.accounts import ROLES, AccountError, Accounts
from filterd.console.app import on_accounts, render, settings
from filterd.console.guards import form_of, signed_in, teacher
from reporting.inbox.app import address, now


async def _page(request: web.Request, status: int = 200, error: str = "", done: str = "",
                values: dict[str, str] | None = None) -> web.Response:
    me = signed_in(request)
    users = await on_accounts(request, Accounts.users) if me.teacher else []
    return render(request, "users.html", status=status, error=error, done=done,
                  users=users, roles=ROLES, values=values or {})


DONE = {"shtuar": "U shtua / added", "ndryshuar": "Fjalëkalim i ri / new password",
        "hequr": "U hoq / removed"}


async def page(request: web.Request) -> web.StreamResponse:
    signed_in(request)
    said = DONE.get(request.query.get("u", ""))
    name = request.query.get("emri", "")[:40]
    return await _page(request, done=f"{said}: {name}" if said else "")


def _new_password(form: dict[str, str]) -> str:
    if form.get("password", "") != form.get("password2", ""):
        raise AccountError("Dy fjalëkalimet nuk përputhen / the two passwords differ")
    return form.get("password", "")


async def add(request: web.Request) -> web.StreamResponse:
    me = teacher(request)
    form = {k: str(v) for k, v in (await form_of(request)).items()}
    name, role = form.get("name", "").strip(), form.get("role", "")
    try:
        password = _new_password(form)
        await on_accounts(request, Accounts.add, name, role, password, now(request))
    except AccountError as exc:
        return await _page(request, 400, str(exc), values={"name": name, "role": role})
    audit.append(settings(request).state_dir, who=me.name,
                 what=f"console user add {name} ({role})", why="console")
    raise web.HTTPSeeOther(f"/llogarite?u=shtuar&emri={quote(name)}")


async def _target(request: web.Request) -> str:
    name = request.match_info["name"]
    if await on_accounts(request, Accounts.user, name) is None:
        raise web.HTTPNotFound(text=f"Nuk ka llogari {name[:40]!r}. / No account "
                                    f"{name[:40]!r}.")
    return name


async def reset(request: web.Request) -> web.StreamResponse:
    me = teacher(request)
    form = {k: str(v) for k, v in (await form_of(request)).items()}
    name = await _target(request)
    try:
        await on_accounts(request, Accounts.reset, name, _new_password(form))
    except AccountError as exc:
        return await _page(request, 400, str(exc))
    audit.append(settings(request).state_dir, who=me.name, what=f"console user reset {name}",
                 why="console")
    raise web.HTTPSeeOther(f"/llogarite?u=ndryshuar&emri={quote(name)}")


def _remove_unless_last_teacher(store: Accounts, name: str) -> bool:
    """Remove `name` unless it is the last teacher: one call under the accounts lock, so two
    teachers removing each other at once cannot leave the school with none."""
    everyone = store.users()
    target = next((u for u in everyone if u.name == name), None)
    if target is not None and target.teacher and sum(u.teacher for u in everyone) <= 1:
        return False
    store.remove(name)
    return True


async def remove(request: web.Request) -> web.StreamResponse:
    me = teacher(request)
    await form_of(request)
    name = await _target(request)
    if name == me.name:
        return await _page(request, 409, "Nuk mund të hiqni llogarinë tuaj; një mësues tjetër "
                           "e bën. / You cannot remove your own account; another teacher can.")
    if not await on_accounts(request, _remove_unless_last_teacher, name):
        return await _page(request, 409, "Ky është mësuesi i fundit. / This is the last teacher.")
    audit.append(settings(request).state_dir, who=me.name, what=f"console user remove {name}",
                 why="console")
    raise web.HTTPSeeOther(f"/llogarite?u=hequr&emri={quote(name)}")


async def own_password(request: web.Request) -> web.StreamResponse:
    me = signed_in(request)
    form = {k: str(v) for k, v in (await form_of(request)).items()}
    current = await on_accounts(request, Accounts.login, me.name, form.get("current", ""),
                                now(request), address(request))
    if current is None:
        return await _page(request, 403, "Fjalëkalimi i tanishëm është i gabuar. / The "
                           "current password is wrong.")
    try:
        await on_accounts(request, Accounts.reset, me.name, _new_password(form))
    except AccountError as exc:
        return await _page(request, 400, str(exc))
    audit.append(settings(request).state_dir, who=me.name,
                 what=f"console user reset {me.name} (own password)", why="console")
    raise web.HTTPSeeOther("/hyr")  # the new password ended every session, this one too


def add_routes(app: web.Application) -> None:
    app.router.add_get("/llogarite", page)
    app.router.add_post("/llogarite/shto", add)
    app.router.add_post("/llogarite/imi", own_password)
    app.router.add_post("/llogarite/{name}/fjalekalimi", reset)
    app.router.add_post("/llogarite/{name}/hiq", remove)
