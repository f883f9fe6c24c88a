"""One self-test run, kept: the `selftest_pass`/`selftest_fail` event the monthly report
counts, and every check of the last run in `<state_dir>/selftest-last.json` for the console.
Shared by `roja selftest` and the console's Vetëtestimi page.

    checks = run_and_record(cfg, now)          # SelftestNotStartedError: lists did not load
    at, checks = last_run(state_dir) or (0.0, [])
    for at, passed, summary in recent_runs(state_dir): ...
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from filterd.config import RojaConfig
from filterd.errors import describe
from filterd.selftest.checks import Check, run_checks
from reporting.events import record_event
from reporting.incidents import IncidentStoreError
from reporting.manual import connect

LAST = "selftest-last.json"


class SelftestNotStartedError(RuntimeError):
    """The policy could not be built (a config the daemon could not load either)."""


def summary(checks: list[Check]) -> str:
    """The event detail: `passed/run` and the failed checks, short enough for the report."""
    ran = [c for c in checks if c.ok is not None]
    failed = [c for c in ran if not c.ok]
    text = f"{len(ran) - len(failed)}/{len(ran)}"
    if failed:
        text += "; " + "; ".join(f"{c.group}: {c.what}" for c in failed)[:400]
    return text


def run_and_record(cfg: RojaConfig, now: datetime) -> list[Check]:
    """Run every check against the running resolver and record the outcome (blocking)."""
    from filterd.app import build_policy

    events = cfg.state_dir / "incidents.sqlite"
    try:
        policy, compiled = build_policy(cfg)
    except Exception as exc:  # a config the daemon could not load either
        record_event(events, "selftest_fail", f"0/0; {exc}"[:400], now.timestamp())
        raise SelftestNotStartedError(describe(exc)) from exc
    try:
        checks = list(run_checks(cfg, policy, now))
    finally:
        compiled.close()
    # A run that could check nothing (no group reachable from here) is not a pass.
    failed = any(c.ok is False for c in checks) or all(c.ok is None for c in checks)
    record_event(events, "selftest_fail" if failed else "selftest_pass", summary(checks),
                 now.timestamp())
    path = cfg.state_dir / LAST
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"at": now.timestamp(), "checks": [asdict(c) for c in checks]},
                              ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    return checks


def last_run(state_dir: Path) -> tuple[float, list[Check]] | None:
    """When the last run was and its checks; None when there was none (or it is unreadable)."""
    try:
        data = json.loads((state_dir / LAST).read_text(encoding="utf-8"))
        return float(data["at"]), [Check(**c) for c in data["checks"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def recent_runs(state_dir: Path, limit: int = 20) -> list[tuple[float, bool, str]]:
    """(at, passed, summary) of the newest runs, newest first, from the events table."""
    path = state_dir / "incidents.sqlite"
    if not path.exists():
        return []
    try:
        db = connect(path)
    except IncidentStoreError:
        return []
    try:
        rows = db.execute("SELECT at, kind, detail FROM events WHERE kind IN ('selftest_pass', "
                          "'selftest_fail') ORDER BY at DESC LIMIT ?", (limit,)).fetchall()
    except sqlite3.Error:
        return []
    finally:
        db.close()
    return [(float(at), kind == "selftest_pass", str(detail)) for at, kind, detail in rows]
