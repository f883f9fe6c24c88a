"""The aiohttp application of the inbox: shared state, middlewares, templates, the server.

    app = create_app(cfg, store)              # routes from reporting.inbox.web
    runner, url = await start(cfg)            # listening (TLS when configured)
    serve(cfg)                                # `roja inbox serve`: blocks until Ctrl-C

Middlewares, in order: errors (an HTML page in Albanian/English for people, `{"error": ...}` for
/api/, a logged 500 for anything unexpected: the server never stops on bad input), the session
(the cookie's user and CSRF token into `request[USER]`, `request[CSRF]`), and the security
headers (a strict Content-Security-Policy with no external source, no-referrer, nosniff,
no-store). The staff pages, the session lookup and the login run their SQLite queries on the
database threads and argon2 on the bounded hashing pool (`OFFLOAD`, reporting.inbox.offload),
so a dashboard, an upload or a password guess never stops `/healthz` or anyone else's page.
Login attempts are counted per address and account (`THROTTLE`, reporting.inbox.throttle).
Request limits: the whole body `max_upload_mb` + 64 KiB, a login form `LOGIN_MAX_BYTES`, a
report's JSON reporting.inbox.json_limits (size and nesting depth, 400 beyond them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from reporting.inbox import auth, throttle
from reporting.inbox.config import InboxConfig
from reporting.inbox.dashboard import scope_label
from reporting.inbox.offload import Offload
from reporting.inbox.qarqe import qark_name
from reporting.inbox.store import DB_FILE, Store, User
from reporting.inbox.submissions import TIRANE
from reporting.inbox.throttle import Throttle
from reporting.plural import form

log = logging.getLogger("roja.inbox")

STORE = web.AppKey("store", Store)
CONFIG = web.AppKey("config", InboxConfig)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
OFFLOAD = web.AppKey("offload", Offload)
THROTTLE = web.AppKey("throttle", Throttle)
Clock = Callable[[], float]
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
USER: web.RequestKey[User] = web.RequestKey("user", User)
CSRF: web.RequestKey[str] = web.RequestKey("csrf", str)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


def _when(at: float | None, fmt: str = "%d.%m.%Y %H:%M") -> str:
    return datetime.fromtimestamp(at, TIRANE).strftime(fmt) if at else "—"


def _num(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _count(n: int, one: str, many: str) -> str:
    """`{{ n | count('shkollë', 'shkolla') }}`: the number and the word that agrees with it."""
    return f"{_num(n)} {form(n, one, many)}"


def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True)
    env.filters.update(when=_when, qark=qark_name, num=_num, scope=scope_label,
                       count=_count, form=form)
    env.globals["pct"] = lambda part, whole: 0 if not whole else round(50 * part / whole) * 2
    return env


def render(request: web.Request, name: str, status: int = 200, **context: Any) -> web.Response:
    page = request.app[TEMPLATES].get_template(name).render(
        user=request.get(USER), csrf=request.get(CSRF, ""), path=request.path, **context)
    return web.Response(text=page, status=status, content_type="text/html", charset="utf-8")


def address(request: web.Request) -> str:
    return request.remote or ""


def now(request: web.Request) -> float:
    return float(request.app[CLOCK]())


ERRORS = {400: "Kërkesë e gabuar / Bad request", 401: "Duhet të hyni / Please log in",
          403: "Nuk lejohet / Forbidden", 404: "Nuk u gjet / Not found",
          405: "Metodë e palejuar / Method not allowed",
          413: "Skedari është shumë i madh / Too large",
          429: "Shumë prova / Too many attempts",
          503: "Shërbimi është i zënë / Busy, try again",
          500: "Gabim i brendshëm / Internal error"}


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        status, text = exc.status, exc.text or ""
    except Exception:
        log.exception("error while serving %s %s", request.method, request.path)
        status, text = 500, ""
    title = ERRORS.get(status, f"HTTP {status}")
    message = text if text and not text.startswith(f"{status}:") else title
    if request.path.startswith("/api/"):
        return web.json_response({"error": message}, status=status)
    return render(request, "error.html", status=status, title=title, message=message)


@web.middleware
async def sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
    sid = request.cookies.get(auth.SESSION_COOKIE)
    if sid:
        found = await request.app[OFFLOAD].db(auth.session, sid, now(request))
        if found is not None:
            request[USER], request[CSRF] = found
    return await handler(request)


@web.middleware
async def headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    if request.path != "/static/style.css":
        response.headers["Cache-Control"] = "no-store"
    if request.app[CONFIG].tls:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    return response


def create_app(cfg: InboxConfig, store: Store | None = None,
               clock: Callable[[], float] = time.time) -> web.Application:
    from reporting.inbox.web import add_routes

    app = web.Application(middlewares=[headers, errors, sessions],
                          client_max_size=cfg.max_upload_bytes + (64 << 10))
    app[CONFIG] = cfg
    app[STORE] = store if store is not None else Store(cfg.data_dir / DB_FILE)
    app[TEMPLATES] = templates()
    app[CLOCK] = clock
    app[OFFLOAD] = Offload(app[STORE].path)
    # The counts of the last run (a restart must not give an attacker a fresh budget).
    saved = app[STORE].load_throttle(clock() - throttle.FORGET, throttle.MAX_KEYS)

    def save(key: str, failures: int, last: float, seq: int) -> None:
        app[OFFLOAD].submit(Store.save_throttle, key, failures, last, seq)
    app[THROTTLE] = Throttle(saved=saved, save=save)

    async def close(app: web.Application) -> None:
        await asyncio.to_thread(app[OFFLOAD].close)
        if store is None:
            app[STORE].close()
    app.on_cleanup.append(close)
    add_routes(app)
    return app


def ssl_context(cfg: InboxConfig) -> ssl.SSLContext | None:
    if cfg.tls_cert is None or cfg.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cfg.tls_cert, cfg.tls_key)
    return context


async def start(cfg: InboxConfig, store: Store | None = None,
                clock: Callable[[], float] = time.time) -> tuple[web.AppRunner, str]:
    """Start serving; returns the runner (await runner.cleanup() to stop) and the base URL
    (with the real port when cfg.port is 0)."""
    runner = web.AppRunner(create_app(cfg, store, clock), access_log=None,
                           shutdown_timeout=5.0)
    await runner.setup()
    site = web.TCPSite(runner, cfg.host, cfg.port, ssl_context=ssl_context(cfg))
    await site.start()
    port = cfg.port
    server = getattr(site, "_server", None)
    if server is not None and server.sockets:
        port = int(server.sockets[0].getsockname()[1])
    host = f"[{cfg.host}]" if ":" in cfg.host else cfg.host
    scheme = "https" if cfg.tls else "http"
    return runner, f"{scheme}://{host}:{port}"


def serve(cfg: InboxConfig, ready: Callable[[str], None] | None = None) -> None:
    """Run until interrupted; `ready(url)` is called once the server listens."""
    run_until_interrupted(lambda: start(cfg), ready)


def run_until_interrupted(begin: Callable[[], Awaitable[tuple[web.AppRunner, str]]],
                          ready: Callable[[str], None] | None = None) -> None:
    """Start a site with `begin()` (its runner and URL), call `ready(url)`, serve until
    Ctrl-C, then clean up. Shared by the inbox and the teacher's console."""
    async def main() -> None:
        runner, url = await begin()
        if ready is not None:
            ready(url)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
