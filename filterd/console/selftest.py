"""Vetëtestimi / Self-test: the last run's checks, the recent runs, and "run now".

    GET  /vetetestimi                 the last run (every check) and the newest 20 runs
    POST /vetetestimi/nis             run now (teacher only; audited), then back to the page

The run is `filterd.selftest.run.run_and_record`, the code behind `roja selftest`: real DNS
questions to the running resolver, recorded as a `selftest_pass`/`selftest_fail` event for the
monthly report; whoever ran it last (the console, the CLI or the timer), the page shows it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from aiohttp import web

from filterd import audit
from filterd.console.app import render, settings
from filterd.console.guards import form_of, signed_in, teacher
from filterd.selftest.run import SelftestNotStartedError, last_run, recent_runs, run_and_record
from policy.schedule import TIRANE
from reporting.inbox.app import now


def _show(request: web.Request, status: int = 200, error: str = "") -> web.Response:
    state = settings(request).state_dir
    last = last_run(state)
    checks = last[1] if last else []
    ran = [c for c in checks if c.ok is not None]
    return render(request, "selftest.html", status=status, error=error,
                  last_at=last[0] if last else None, checks=checks, ran=len(ran),
                  failed=sum(1 for c in ran if not c.ok), runs=recent_runs(state),
                  done=request.query.get("u", ""))


async def page(request: web.Request) -> web.StreamResponse:
    signed_in(request)
    return await asyncio.to_thread(_show, request)


async def run_now(request: web.Request) -> web.StreamResponse:
    me = teacher(request)
    await form_of(request)
    cfg = settings(request)
    at = datetime.fromtimestamp(now(request), TIRANE)
    try:
        checks = await asyncio.to_thread(run_and_record, cfg, at)
    except SelftestNotStartedError as exc:
        audit.append(cfg.state_dir, who=me.name, what="selftest run (console): not started",
                     why=str(exc)[:200])
        return await asyncio.to_thread(
            _show, request, 503, f"Vetëtestimi nuk u nis / the self-test could not start: {exc}")
    ran = [c for c in checks if c.ok is not None]
    passed = sum(1 for c in ran if c.ok)
    audit.append(cfg.state_dir, who=me.name, why="",
                 what=f"selftest run (console): {passed}/{len(ran)} passed")
    raise web.HTTPSeeOther("/vetetestimi?u=1")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/vetetestimi", page)
    app.router.add_post("/vetetestimi/nis", run_now)
