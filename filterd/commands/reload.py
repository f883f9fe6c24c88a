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
The signal and the wait are `filterd.reload_request`'s, shared with the console.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from filterd.reload_request import Outcome, request_reload
from filterd.restart_tables import unit_for
from reporting.plural import LIST, count, form

HELD_BACK_EXIT = 3


def _say_lists(outcome: Outcome) -> bool:
    """Print what the reload did to the lists; True when some list was held back."""
    held = outcome.held_back
    if held:
        click.echo("U ringarkua pjesërisht / partly reloaded: "
                   f"{count(len(held), LIST)} "
                   f"{form(len(held), 'mbetet e vjetër', 'mbeten të vjetra')} / "
                   f"{count(len(held), ('list', 'lists'))} held back")
    else:
        click.echo("U ringarkua / reloaded")
    for item in outcome.status.get("applied") or ():
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
    outcome = request_reload(cfg, wait, by)
    if outcome.kind == "missing_list":
        click.echo(outcome.message(), err=True)
        sys.exit(2)
    if not outcome.ok:
        click.echo(outcome.message(), err=True)
        sys.exit(1)
    held = _say_lists(outcome)
    for table in outcome.status.get("restart") or ():
        unit = unit_for(str(table))
        click.echo(f"Kujdes: ndryshimet në [{table}] zbatohen vetëm pas rinisjes: "
                   f"`systemctl restart {unit}` (listat e reja zbatohen që tani) / "
                   f"note: [{table}] changes apply only after a restart: "
                   f"`systemctl restart {unit}` (the new lists apply now)")
    if held:
        sys.exit(HELD_BACK_EXIT)
