"""Auditimi / Audit log: who changed what, in a browser (`roja audit show` and `roja audit
verify`), for the teacher and the director.

    GET /auditimi[?kush=NAME]     the chain's verdict, its head, the newest entries first

The verdict is `filterd.audit.verify` (the same walk as the CLI); the head (length and hash) is
what each monthly report carries to the office (issue 22's anchor), so the page shows it for
the director to compare with the report's. Reading only: nothing here writes the log.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from filterd import audit
from filterd.console.app import render, settings
from filterd.console.guards import signed_in

SHOWN = 300


def gather(state_dir: Path, who: str) -> tuple[audit.Verdict, audit.Anchor | None,
                                               list[audit.Entry], list[str], int]:
    """Blocking (reads the whole log): run it in a thread."""
    entries = audit.read(state_dir)
    people = sorted({e.who for e in entries})
    chosen = [e for e in entries if not who or e.who == who]
    return (audit.verify(state_dir), audit.anchor(state_dir), chosen[::-1][:SHOWN], people,
            len(chosen))


async def page(request: web.Request) -> web.StreamResponse:
    signed_in(request)
    who = request.query.get("kush", "")[:80]
    verdict, head, rows, people, total = await asyncio.to_thread(
        gather, settings(request).state_dir, who)
    return render(request, "audit.html", verdict=verdict, head=head, rows=rows, who=who,
                  people=people, total=total, shown=SHOWN)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/auditimi", page)
