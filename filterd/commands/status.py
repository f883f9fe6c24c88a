"""`roja status [--json]`: one screen for the teacher, Albanian first.

Exit status: 0 healthy, 1 something needs attention (the lines marked ✗ say what), 2 config
error. `--json` prints the same facts for monitoring (`healthy`, `problems`, ...).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime

import click

from filterd.commands.lists import enforced_lines
from filterd.config import RojaConfig
from filterd.status import TIRANE, Health, ago, collect

SERVICE = {"active": "punon / running", "answering": "përgjigjet / answering",
           "inactive": "i ndalur / stopped", "failed": "dështoi / failed",
           "down": "nuk përgjigjet / not answering"}


def _when(at: float) -> str:
    stamp = datetime.fromtimestamp(at, TIRANE).strftime("%d.%m.%Y %H:%M")
    return f"{stamp} (para / ago {ago(time.time() - at)})"


def render(cfg: RojaConfig, h: Health) -> list[str]:
    def mark(ok: bool) -> str:
        return "✓" if ok else "✗"

    up = h.service in ("active", "answering")
    lines = [f"Roja: {cfg.school.name or '-'} ({cfg.school.code or '-'})",
             f"{mark(up)} Shërbimi / service: {SERVICE.get(h.service, h.service)} "
             f"[{h.service_how}]"]
    if h.lists.get("serial") is None:
        ok = not cfg.feed.enabled
        lines.append(f"{mark(ok)} Lista e linjës / hotline list: "
                     + ("nuk është konfiguruar / not configured" if ok
                        else "ende pa u sinkronizuar / not synced yet"))
    else:
        ok = not any(p.startswith("list_") for p in h.problems)
        lines.append(f"{mark(ok)} Lista e linjës / hotline list: seriali / serial "
                     f"{h.lists['serial']}, {h.lists['entries']} hyrje / entries, e krijuar "
                     f"para / created {ago(h.lists['age_seconds'])}"
                     + (" — SKADUAR / EXPIRED" if h.lists.get("expired") else ""))
    lines.extend(f"  {line}" for line in enforced_lines(h.lists))
    if h.selftest is None:
        lines.append("· Vetëkontrolli / self-test: asnjë ende / none yet")
    else:
        result = "kaloi / passed" if h.selftest["ok"] else f"DËSHTOI / FAILED: " \
            f"{h.selftest['detail']}"
        lines.append(f"{mark(h.selftest['ok'])} Vetëkontrolli i fundit / last self-test: "
                     f"{result}, {_when(h.selftest['at'])}")
    if h.report is None:
        lines.append("· Raporti i fundit / last report: asnjë ende / none yet")
    else:
        r = h.report
        ok = r["status"] != "failed_permanent"
        state = {"sent": "u dërgua / sent", "queued": "në pritje / queued",
                 "sending": "po dërgohet / sending",
                 "failed_permanent": f"dështoi / failed: {r['error']}"}[r["status"]]
        lines.append(f"{mark(ok)} Raporti i fundit / last report: {r['period']} → "
                     f"{r['recipient']}: {state}, {_when(r['at'])}")
    lines.append(f"· Incidente sot / incidents today: {h.incidents_today}")
    if h.bypass_today:
        lines.append(f"· Përpjekje për të anashkaluar filtrin sot / filter bypass attempts "
                     f"today: {h.bypass_today} nga / from {h.bypass_clients_today} pajisje / "
                     "devices (roja incidents list)")
    lines.append("Gjendja / overall: " + ("NË RREGULL / HEALTHY" if h.healthy else
                                          "KA PROBLEME / NEEDS ATTENTION: "
                                          + ", ".join(h.problems)))
    return lines


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Në JSON / as JSON")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Gjendja e Rojës në një ekran / Roja's state on one screen."""
    cfg: RojaConfig = ctx.obj["config"]
    health = collect(cfg)
    if as_json:
        click.echo(json.dumps(health.as_json(), ensure_ascii=False, indent=2))
    else:
        for line in render(cfg, health):
            click.echo(line)
    sys.exit(0 if health.healthy else 1)
