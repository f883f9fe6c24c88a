"""`roja rpz fleet`: does every resolver of the ISP apply the RPZ serial Roja serves?

Reads the last round of the fleet monitor (`state_dir/rpz-fleet.json`, written by `roja serve`
every `[rpz] check_interval` seconds, see `filterd.rpz_export`) and prints one line per
secondary: up or down, its serial, whether it blocks the newest serial's canary name, its lag.
Exit status: 0 every secondary applies the newest serial (or is within `max_lag` of it); 1 a
secondary is down, behind, or has the serial without applying it (its canary not blocked), or
the monitor has not run recently (no secondaries configured, Roja not running).
"""

from __future__ import annotations

import json
import time
from typing import Any

import click

from filterd.errors import RojaError
from filterd.rpz_export import read_fleet

STALE_ROUNDS = 3  # the file is stale after this many missed rounds


@click.group()
def rpz() -> None:
    """Zona RPZ e ISP-së / the ISP's RPZ zone."""


def _line(s: dict[str, Any]) -> str:
    if not s.get("up"):
        return (f"  ✗ {s['target']}: nuk përgjigjet / not answering "
                f"(serial i fundit / last serial {s.get('serial') or '—'}, "
                f"prapa / behind {s.get('lag', 0)} s) {s.get('error') or ''}".rstrip())
    mark = "✗" if s.get("behind") else "✓"
    canary = ("kanarina bllokohet / canary blocked" if s.get("canary")
              else "kanarina NUK bllokohet / canary NOT blocked")
    return (f"  {mark} {s['target']}: serial {s.get('serial') or '—'}, {canary}, "
            f"vonesa / lag {s.get('lag', 0)} s")


@rpz.command()
@click.option("--json", "as_json", is_flag=True, help="Rezultati si JSON / output as JSON")
@click.pass_obj
def fleet(obj: Any, as_json: bool) -> None:
    """Vonesa e sekondarëve RPZ / RPZ secondaries' lag."""
    cfg = obj["config"]
    if not cfg.rpz.secondaries:
        raise RojaError("asnjë sekondar në [rpz] secondaries",
                        "no secondaries listed in [rpz] secondaries")
    data = read_fleet(cfg.state_dir)
    if data is None:
        raise RojaError("mbikëqyrja e sekondarëve nuk ka punuar ende (a punon Roja?)",
                        "the secondaries have not been checked yet (is Roja running?)")
    age = time.time() - float(data.get("checked") or 0)
    secondaries = [s for s in data.get("secondaries") or () if isinstance(s, dict)]
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo(f"RPZ {cfg.rpz.origin} serial {data.get('serial')}; kontrolluar / checked "
                   f"{age:.0f} s më parë / ago")
        for s in secondaries:
            click.echo(_line(s))
    if age > STALE_ROUNDS * float(data.get("interval") or cfg.rpz.check_interval):
        raise RojaError(f"kontrolli i fundit është {age:.0f} s i vjetër (a punon Roja?)",
                        f"the last check is {age:.0f} s old (is Roja running?)")
    bad = [str(s["target"]) for s in secondaries if s.get("behind") or not s.get("up")]
    if bad:
        raise RojaError(f"{len(bad)} sekondarë poshtë ose prapa: {', '.join(bad)}",
                        f"{len(bad)} secondaries down or behind: {', '.join(bad)}")
