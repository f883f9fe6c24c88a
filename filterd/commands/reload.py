"""`roja reload`: check the config, then ask the running appliance to reload it (SIGHUP).

The appliance writes its pid to `<state_dir>/roja.pid` and the outcome of each reload to
`<state_dir>/reload.json`; this command waits for that outcome and prints it. A bad config is
refused here with its file, line and key, before the daemon is disturbed; a reload that fails
in the daemon (a list that does not load) keeps the old policy, and the reason is shown.
Tables the daemon reads only at start (`[dns]`, `[proxy]`, `[feed]`, … see
`filterd.restart_tables`) are named when they changed: the teacher is told, Albanian first,
which unit to restart (`systemctl restart roja`, or `roja-console` for `[console]`).

Every list whose file changed is named with its old and new entry count; a list held back
(it shrank too much: its last-known-good entries stay enforced) is named with the reason.
Exit status: 0 reloaded, every list change applied; 3 reloaded, but lists held back; 1 the
reload failed (the old policy stays) or no answer; 2 the config or a list file is bad.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click

from filterd import audit
from filterd.config import missing_lists
from filterd.policy_runtime import PID_NAME, RELOAD_NAME
from filterd.restart_tables import unit_for
from reporting.plural import LIST, count, form


def _status(state_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((state_dir / RELOAD_NAME).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


HELD_BACK_EXIT = 3


def _say_lists(status: dict[str, Any]) -> bool:
    """Print what the reload did to the lists; True when some list was held back."""
    held = [h for h in status.get("held_back") or () if isinstance(h, dict)]
    if held:
        click.echo("U ringarkua pjesërisht / partly reloaded: "
                   f"{count(len(held), LIST)} "
                   f"{form(len(held), 'mbetet e vjetër', 'mbeten të vjetra')} / "
                   f"{count(len(held), ('list', 'lists'))} held back")
    else:
        click.echo("U ringarkua / reloaded")
    for item in status.get("applied") or ():
        click.echo(f"  Zbatohet / applied: {item['list']}: {item['old']} → {item['new']} "
                   "hyrje / entries")
    for item in held:
        click.echo(f"  E mbajtur / held back: {item['list']}: {item['old']} → {item['new']} "
                   f"hyrje / entries: {item.get('why', '')}")
    return bool(held)


@click.command("reload", short_help="Ringarko konfigurimin / reload the configuration.")
@click.option("--wait", type=float, default=60.0, help="Sekonda pritje / seconds to wait")
@click.option("--by", "by", default="", help="Kush / who (për auditimin / for the audit log)")
@click.pass_obj
def reload(obj: dict[str, Any], wait: float, by: str) -> None:
    """Ringarko konfigurimin në shërbimin që punon / reload the running appliance."""
    cfg = obj["config"]  # a config error exits here with file, line and key
    missing = missing_lists(cfg)
    if missing:
        click.echo(f"Nuk ringarkohet: mungon skedari i listës {missing[0].rule.id!r} / not "
                   f"reloaded: list file missing: {missing[0].path}", err=True)
        sys.exit(2)
    state_dir: Path = cfg.state_dir
    try:
        pid = int((state_dir / PID_NAME).read_text(encoding="ascii").strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        click.echo(f"Shërbimi nuk punon (s'ka {state_dir / PID_NAME}) / the appliance is not "
                   "running", err=True)
        sys.exit(1)
    before = float(_status(state_dir).get("at", 0.0))
    if by:
        audit.append(state_dir, who=by, what=f"reload requested ({cfg.path})")
    os.kill(pid, signal.SIGHUP)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        status = _status(state_dir)
        if float(status.get("at", 0.0)) > before:
            if status.get("ok"):
                held = _say_lists(status)
                for table in status.get("restart") or ():
                    unit = unit_for(str(table))
                    click.echo(f"Kujdes: ndryshimet në [{table}] zbatohen vetëm pas rinisjes: "
                               f"`systemctl restart {unit}` (listat e reja zbatohen që tani) / "
                               f"note: [{table}] changes apply only after a restart: "
                               f"`systemctl restart {unit}` (the new lists apply now)")
                if held:
                    sys.exit(HELD_BACK_EXIT)
                return
            click.echo("Ringarkimi dështoi, politika e vjetër mbetet / reload failed, the old "
                       f"policy stays: {status.get('error', '')}", err=True)
            sys.exit(1)
        time.sleep(0.1)
    click.echo("Pa përgjigje nga shërbimi / no answer from the appliance", err=True)
    sys.exit(1)
