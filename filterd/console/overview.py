"""Pasqyra / Overview: is the filter doing its job, and what did it do today.

The health is `filterd.status.collect`, the same facts and the same problem and warning ids
as `roja status` (their meanings from `filterd.commands.status.MEANING`); today's blocks and
bypass attempts are its counts (`reporting.bypass_count`). Added: the top blocked categories
of today and the DNS queries the running filter answered since it started (its `/metrics`).
Nothing here is per pupil: counts and categories only.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from aiohttp import web

from filterd.commands.status import MEANING, SERVICE
from filterd.config import RojaConfig
from filterd.console.app import render, settings
from filterd.console.guards import signed_in
from filterd.status import TIRANE, Health, collect
from filterd.status_reads import metric_sum
from policy.categories import label
from reporting.bypass_count import IN_PERIOD
from reporting.inbox.app import now

TOP = 5


@dataclass(frozen=True)
class Overview:
    health: Health
    queries: int | None  # since the filter started; None: metrics did not answer
    top: list[tuple[str, int]]  # (category label, blocks) today, most first


def top_categories(db: Path, moment: datetime, limit: int = TOP) -> list[tuple[str, int]]:
    start = moment.astimezone(TIRANE).replace(hour=0, minute=0, second=0, microsecond=0)
    if not db.is_file():
        return []
    try:
        con = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True, timeout=5)
        try:
            rows = con.execute(
                f"SELECT category, SUM(count) FROM incidents WHERE {IN_PERIOD} "
                "GROUP BY category ORDER BY 2 DESC, 1 LIMIT ?",
                (start.timestamp(), (start + timedelta(days=1)).timestamp(), limit)).fetchall()
        finally:
            con.close()
    except sqlite3.Error:  # `collect` names an unreadable database already
        return []
    return [(label(str(c)), int(n)) for c, n in rows]


def dns_queries(listen: tuple[str, int] | None, timeout: float = 2.0) -> int | None:
    """The sum of `roja_dns_queries_total` on the running filter's /metrics."""
    return metric_sum(listen, "roja_dns_queries_total", timeout)


def gather(cfg: RojaConfig, moment: datetime) -> Overview:
    """Blocking (a DNS probe, systemctl, SQLite): run it in a thread."""
    return Overview(collect(cfg, moment), dns_queries(cfg.metrics_listen),
                    top_categories(cfg.state_dir / "incidents.sqlite", moment))


async def page(request: web.Request) -> web.StreamResponse:
    signed_in(request)
    cfg = settings(request)
    moment = datetime.fromtimestamp(now(request), TIRANE)
    view = await asyncio.to_thread(gather, cfg, moment)
    return render(request, "overview.html", view=view, school=cfg.school,
                  service=SERVICE.get(view.health.service, view.health.service),
                  meaning=MEANING)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/pasqyra", page)
