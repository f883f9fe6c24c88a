"""Pasqyra / Overview: is the filter doing its job, and what did it do today.

The health is `filterd.status.collect`, the same facts and the same problem and warning ids
as `roja status` (their meanings from `filterd.commands.status.MEANING`); today's blocks and
bypass attempts are its counts (`reporting.bypass_count`). Added: the top blocked categories
of today, the DNS queries the running filter answered since it started (its `/metrics`), and
the last 24 hours' queries and blocks per hour (`filterd.traffic`, written by the filter once
a minute), drawn as an SVG bar chart with the same numbers in a table for screen readers.
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
from filterd.status_reads import metric_sum, midnight
from filterd.traffic import Hour, hours, recorded
from policy.categories import label
from reporting.bypass_count import IN_PERIOD
from reporting.inbox.app import now
from reporting.incidents.schema import SCHEMA
from reporting.sqlite_store import StoreError, open_readonly

TOP = 5


@dataclass(frozen=True)
class Overview:
    health: Health
    queries: int | None  # since the filter started; None: metrics did not answer
    top: list[tuple[str, int]]  # (category label, blocks) today, most first
    hours: list[Hour]  # the last 24 hours, oldest first
    chart: Chart | None  # None: the filter has not recorded any hour yet
    queries_today: int


@dataclass(frozen=True)
class Bar:
    x: float
    queries_height: float
    blocked_height: float
    label: str  # "14" for 14:00 Tirana time; every third hour is labelled


@dataclass(frozen=True)
class Chart:
    """A 24-bar SVG, drawn on the server (no JavaScript): heights in SVG units."""
    width: int
    height: int
    bars: list[Bar]
    bar_width: float
    peak: int


CHART_WIDTH, CHART_HEIGHT = 480, 120


def chart(hours: list[Hour]) -> Chart:
    peak = max((h.queries for h in hours), default=0)
    step = CHART_WIDTH / max(len(hours), 1)
    scale = (CHART_HEIGHT - 16) / peak if peak else 0.0
    bars = []
    for i, h in enumerate(hours):
        local = datetime.fromtimestamp(h.start, TIRANE)
        bars.append(Bar(round(i * step + 1, 1), round(h.queries * scale, 1),
                        round(h.blocked * scale, 1),
                        f"{local.hour:02d}" if local.hour % 3 == 0 else ""))
    return Chart(CHART_WIDTH, CHART_HEIGHT, bars, round(step - 2, 1), peak)


def today(hours: list[Hour], moment: datetime) -> int:
    start = midnight(moment).timestamp()
    return sum(h.queries for h in hours if h.start >= start)


def top_categories(db: Path, moment: datetime, limit: int = TOP) -> list[tuple[str, int]]:
    start = midnight(moment)
    if not db.is_file():
        return []
    try:
        con = open_readonly(db, SCHEMA, minimum=0)
        try:
            rows = con.execute(
                f"SELECT category, SUM(count) FROM incidents WHERE {IN_PERIOD} "
                "GROUP BY category ORDER BY 2 DESC, 1 LIMIT ?",
                (start.timestamp(), (start + timedelta(days=1)).timestamp(), limit)).fetchall()
        finally:
            con.close()
    except (sqlite3.Error, StoreError):  # `collect` names an unreadable database already
        return []
    return [(label(str(c)), int(n)) for c, n in rows]


def dns_queries(listen: tuple[str, int] | None, timeout: float = 2.0) -> int | None:
    """The sum of `roja_dns_queries_total` on the running filter's /metrics."""
    return metric_sum(listen, "roja_dns_queries_total", timeout)


def gather(cfg: RojaConfig, moment: datetime) -> Overview:
    """Blocking (a DNS probe, systemctl, SQLite): run it in a thread."""
    last_day = hours(cfg.state_dir, moment.timestamp(), 24)
    return Overview(collect(cfg, moment), dns_queries(cfg.metrics_listen),
                    top_categories(cfg.state_dir / "incidents.sqlite", moment), last_day,
                    chart(last_day) if recorded(cfg.state_dir) else None,
                    today(last_day, moment))


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
