"""The console's aiohttp application: state, middlewares, templates, TLS, the server.

    app = create_app(cfg, accounts)            # routes from filterd.console.routes
    runner, url = await start(cfg)             # HTTPS on [console] listen
    serve(cfg, ready)                          # `roja console serve`: until Ctrl-C

Shared with the inbox by import (`reporting.inbox`): the error middleware and its error page,
`render`, the CSRF check, the request keys for the CSRF token and the clock, the stylesheet
and the Content-Security-Policy. The console adds its own session middleware (its accounts
live in the appliance's state directory, `filterd.console.accounts`) and templates, which are
looked up before the inbox's (so the inbox's `error.html` extends the console's `base.html`).
The certificate is issued by the school CA (`filterd.proxy.ca`) for the listen address.
Every use of the accounts store (SQLite, and argon2 at login) goes through `on_accounts`, on a
worker thread, one at a time (the store is one connection): never on the event loop.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Concatenate

import jinja2
from aiohttp import web

from filterd.config import RojaConfig
from filterd.console.accounts import Accounts, User
from reporting.inbox import app as inbox
from reporting.inbox.app import CLOCK, CSP, CSRF, TEMPLATES, Handler, run_until_interrupted

SETTINGS = web.AppKey("settings", RojaConfig)
# The config in force: [SETTINGS] until the console itself changes roja.toml (Grupet dhe
# oraret), then the file it wrote and the appliance reloaded (`use_settings`).
CURRENT = web.AppKey("current_settings", list[RojaConfig])
ACCOUNTS = web.AppKey("accounts", Accounts)
ACCOUNTS_LOCK = web.AppKey("accounts_lock", threading.Lock)
ME: web.RequestKey[User] = web.RequestKey("me", User)
SESSION_COOKIE = "roja_console"
LOGIN_CSRF_COOKIE = "roja_console_login"
HERE = Path(__file__).parent


def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([
            jinja2.FileSystemLoader(HERE / "templates"),
            jinja2.FileSystemLoader(Path(inbox.__file__).with_name("templates"))]),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True)
    env.filters.update(when=inbox._when, num=inbox._num)
    return env


def render(request: web.Request, name: str, status: int = 200, **context: Any) -> web.Response:
    """The inbox's `render`, with the console's user as `me`."""
    return inbox.render(request, name, status, me=request.get(ME), **context)


def settings(request: web.Request) -> RojaConfig:
    return request.app[CURRENT][-1]


def use_settings(request: web.Request, cfg: RojaConfig) -> None:
    """From now on the console reads `cfg` (the config file it just changed and reloaded)."""
    request.app[CURRENT][:] = [cfg]


def accounts(request: web.Request) -> Accounts:
    return request.app[ACCOUNTS]


async def on_accounts[**P, T](request: web.Request, fn: Callable[Concatenate[Accounts, P], T],
                              *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(accounts, *args, **kwargs)` on a worker thread, one call at a time."""
    store, lock = request.app[ACCOUNTS], request.app[ACCOUNTS_LOCK]

    def run() -> T:
        with lock:
            return fn(store, *args, **kwargs)
    return await asyncio.to_thread(run)


@web.middleware
async def sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        console = request.app[SETTINGS].console
        found = await on_accounts(request, Accounts.session, sid, inbox.now(request),
                                  console.idle_minutes * 60.0, console.session_hours * 3600.0)
        if found is not None:
            request[ME], request[CSRF] = found
    return await handler(request)


@web.middleware
async def headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("X-Frame-Options", "DENY")  # a PDF preview: SAMEORIGIN
    response.headers["Strict-Transport-Security"] = "max-age=31536000"
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def create_app(cfg: RojaConfig, store: Accounts | None = None,
               clock: Callable[[], float] = time.time) -> web.Application:
    from filterd.console.routes import add_routes

    app = web.Application(middlewares=[headers, inbox.errors, sessions],
                          client_max_size=256 << 10)
    app[SETTINGS] = cfg
    app[CURRENT] = [cfg]
    app[ACCOUNTS] = store if store is not None else Accounts(cfg.state_dir)
    app[ACCOUNTS_LOCK] = threading.Lock()
    app[TEMPLATES] = templates()
    app[CLOCK] = clock
    if store is None:
        async def close(app: web.Application) -> None:
            app[ACCOUNTS].close()
        app.on_cleanup.append(close)
    add_routes(app)
    return app


def ssl_context(cfg: RojaConfig, host: str) -> ssl.SSLContext:
    """A server context with a certificate for `host` issued by the school CA (made once)."""
    from filterd.proxy.ca import SniContexts, ensure_ca

    ca_dir = cfg.proxy.ca_path(cfg.state_dir)
    ensure_ca(ca_dir, cfg.school.name)
    name = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    return SniContexts(ca_dir, name).default


async def start(cfg: RojaConfig, store: Accounts | None = None,
                clock: Callable[[], float] = time.time) -> tuple[web.AppRunner, str]:
    """Serve HTTPS; returns the runner (await runner.cleanup() to stop) and the base URL (with
    the real port when the configured one is 0)."""
    host, port = cfg.console.address(cfg.dns.listen)
    context = await asyncio.to_thread(ssl_context, cfg, host)
    runner = web.AppRunner(create_app(cfg, store, clock), access_log=None,
                           shutdown_timeout=5.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=context)
    await site.start()
    server = getattr(site, "_server", None)
    if server is not None and server.sockets:
        port = int(server.sockets[0].getsockname()[1])
    shown = f"[{host}]" if ":" in host else host
    return runner, f"https://{shown}:{port}"


def serve(cfg: RojaConfig, ready: Callable[[str], None] | None = None) -> None:
    """Run until interrupted; `ready(url)` is called once the console listens."""
    run_until_interrupted(lambda: start(cfg), ready)
