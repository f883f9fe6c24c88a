"""Which changed config tables the running `roja serve` reads only at start.

A reload (`roja reload`, SIGHUP) swaps the policy and the lists: groups, profiles, schedules,
unblocks and every `[[lists]]` entry apply at once. Everything else the daemon took when it
started: its listeners and upstreams (`[dns]`, with `[dns.tls]`/`[dns.https]`), the proxy,
the incident writer and retention, the feed's sync loop, the RPZ primary, `/metrics`, the
state folder, the log level and the school's name on the block page. The console is its own
process. A reload names each such table that changed, with the unit to restart, so a teacher
is never told "reloaded" while the old setting still runs.

    changed_tables(running_cfg, new_cfg)  → ("dns", "console")
    RESTART_UNIT["console"]               → "roja-console"
"""

from __future__ import annotations

from collections.abc import Callable

from filterd.config import RojaConfig

STARTUP: tuple[tuple[str, Callable[[RojaConfig], object]], ...] = (
    ("dns", lambda c: c.dns),
    ("proxy", lambda c: c.proxy),
    ("incidents", lambda c: c.incidents),
    ("feed", lambda c: c.feed),
    ("rpz", lambda c: c.rpz),
    ("metrics", lambda c: c.metrics_listen),
    ("state", lambda c: c.state_dir),
    ("log", lambda c: c.log_level),
    ("school", lambda c: c.school),
    ("console", lambda c: c.console),
)
RESTART_UNIT = {"console": "roja-console"}


def changed_tables(running: RojaConfig, new: RojaConfig) -> tuple[str, ...]:
    return tuple(name for name, part in STARTUP if part(running) != part(new))


def unit_for(table: str) -> str:
    return RESTART_UNIT.get(table, "roja")
