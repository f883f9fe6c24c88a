"""Listat / Lists: every configured list, what the filter enforces, hold-backs and why, "sync now".

    GET  /listat                  per list: source (file or feed URL), kind, entries enforced,
                                  what the last compile gave (domains, URL entries, addresses,
                                  skipped rules by kind), held back and why; the hotline serial
                                  enforced and its age, the last sync's result
    POST /listat/sinkronizo       sync now (teacher only; CSRF; audited)

The facts are `filterd.list_state.lists_status`, what `roja lists status` prints; "sync now"
is its `sync_now`, what `roja lists sync` does. The running daemon enforces the new feed
within seconds (`filterd.list_apply`: it watches `feed/current.json` and rewrites
`enforced.json`); the action waits up to ENFORCE_WAIT seconds for that record to name the
new serial, so the teacher sees it enforced, not merely downloaded.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from filterd import audit
from filterd.commands.lists import enforced_lines
from filterd.config import RojaConfig
from filterd.console.app import render, settings
from filterd.console.guards import form_of, signed_in, teacher
from filterd.errors import RojaError
from filterd.hotline import LIST_ID
from filterd.list_apply import read_enforced
from filterd.list_state import lists_status, sync_now

ENFORCE_WAIT = 15.0  # seconds the action waits for the daemon to enforce a new serial
KINDS = {"legal": "ligjore / legal", "deny": "bllokon / deny", "allow": "lejon / allow"}


@dataclass(frozen=True)
class ListRow:
    id: str
    kind: str
    category: str
    source: str  # the file (or directory) or the feed's URL
    format: str
    enforced: int | None  # entries the filter enforces now (enforced.json)
    summary: dict[str, Any]  # the last compile's counts (blocklists.summary)
    held_back: dict[str, Any] | None  # {"old", "new", "why"} while held back


def rows(cfg: RojaConfig, info: dict[str, Any]) -> list[ListRow]:
    enforced = info.get("enforced") or {}
    counts = enforced.get("lists") or {}
    held = {h.get("list"): h for h in enforced.get("held_back") or ()}
    found = [(lc.rule.id, lc.rule.kind, lc.rule.category, str(lc.path), lc.format)
             for lc in cfg.policy.lists]
    if cfg.feed.enabled:
        found.append((LIST_ID, "legal", "", cfg.feed.url, "feed"))
    summaries = info.get("lists") or {}
    return [ListRow(lid, kind, category, source, fmt, counts.get(lid),
                    summaries.get(lid) or {}, held.get(lid))
            for lid, kind, category, source, fmt in found]


def _skipped(summary: dict[str, Any]) -> list[tuple[str, int]]:
    skipped = summary.get("skipped")
    if not isinstance(skipped, dict):
        return []
    return sorted(((str(k), int(v)) for k, v in skipped.items() if isinstance(v, int)),
                  key=lambda kv: (-kv[1], kv[0]))


def _moment(value: object) -> float | None:
    """An ISO time of the feed (`expires`) as a timestamp for the `when` filter (dd.mm.yyyy
    HH:MM, Tirana), or None when it is absent or unreadable (then the text is shown as is)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


def _show(request: web.Request, status: int = 200, error: str = "") -> web.Response:
    cfg = settings(request)
    info = lists_status(cfg.state_dir)
    return render(request, "lists.html", status=status, error=error, info=info,
                  lists=rows(cfg, info), kinds=KINDS, skipped=_skipped,
                  notes=[line for line in enforced_lines(info, held=False)  # the serial is
                         if not line.startswith("Zbatohet")],  # shown in its own row
                  feed=cfg.feed, moment=_moment,
                  done=request.query.get("u", ""))


async def page(request: web.Request) -> web.StreamResponse:
    signed_in(request)
    return await asyncio.to_thread(_show, request)


async def sync(request: web.Request) -> web.StreamResponse:
    me = teacher(request)
    await form_of(request)
    cfg = settings(request)
    if not cfg.feed.enabled:
        raise web.HTTPConflict(text="Asnjë burim i linjës në konfigurim ([feed] url): listat "
                                    "nga skedarët zbatohen me `roja reload`. / No hotline feed "
                                    "configured ([feed] url): file lists apply on `roja "
                                    "reload`.")
    feed = cfg.feed
    try:
        result = await asyncio.to_thread(sync_now, cfg.state_dir, feed.url, feed.public_key,
                                         feed.feed_id, timedelta(days=feed.max_age_days))
    except RojaError as exc:
        audit.append(cfg.state_dir, who=me.name, what="lists sync (console): failed",
                     why=exc.format_message()[:300])
        return await asyncio.to_thread(_show, request, 502, exc.format_message())
    enforced = await _enforced(cfg, result.serial) if result.changed else True
    audit.append(cfg.state_dir, who=me.name, what="lists sync (console)",
                 why=f"serial {result.previous_serial or '-'} → {result.serial}"
                     + ("" if enforced else ", not enforced yet"))
    outcome = "same" if not result.changed else "enforced" if enforced else "synced"
    raise web.HTTPSeeOther(f"/listat?u={outcome}-{result.serial}")


async def _enforced(cfg: RojaConfig, serial: int) -> bool:
    """Wait (while the daemon runs) until it enforces `serial`; False when it did not."""
    deadline = time.monotonic() + ENFORCE_WAIT
    while True:
        record = await asyncio.to_thread(read_enforced, cfg.state_dir)
        if record is not None and record.get("serial") == serial:
            return True
        if record is None or not record.get("running") or time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.25)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/listat", page)
    app.router.add_post("/listat/sinkronizo", sync)
