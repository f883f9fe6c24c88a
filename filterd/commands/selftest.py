"""`roja selftest`: check the running filter (see `filterd.selftest.checks`), print the result
Albanian first, store it as a `selftest_pass`/`selftest_fail` event, exit 1 on any failure."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import click

from filterd.errors import RojaError, describe
from filterd.selftest.checks import Check, run_checks
from reporting.events import record_event
from reporting.plural import CHECK, count, form

TIRANE = ZoneInfo("Europe/Tirane")


def summary(checks: list[Check]) -> str:
    """The event detail: `passed/run` and the failed checks, short enough for the report."""
    ran = [c for c in checks if c.ok is not None]
    failed = [c for c in ran if not c.ok]
    text = f"{len(ran) - len(failed)}/{len(ran)}"
    if failed:
        text += "; " + "; ".join(f"{c.group}: {c.what}" for c in failed)[:400]
    return text


@click.command(short_help="Kontrollo që filtri punon / check the filter works.")
@click.option("--json", "as_json", is_flag=True, help="Rezultati si JSON / output as JSON")
@click.pass_obj
def selftest(obj: Any, as_json: bool) -> None:
    """Kontrollo që filtri punon / check that the running filter works."""
    from filterd.app import build_policy

    cfg = obj["config"]
    now = datetime.now(TIRANE)
    try:
        policy, compiled = build_policy(cfg)
    except Exception as exc:  # a config the daemon could not load either
        record_event(cfg.state_dir / "incidents.sqlite", "selftest_fail", f"0/0; {exc}"[:400])
        raise RojaError("Vetëtestimi nuk u nis", "the self-test could not start",
                        describe(exc)) from None
    try:
        checks = list(run_checks(cfg, policy, now))
    finally:
        compiled.close()
    failed = [c for c in checks if c.ok is False]
    record_event(cfg.state_dir / "incidents.sqlite",
                 "selftest_fail" if failed else "selftest_pass", summary(checks))
    if as_json:
        click.echo(json.dumps([c.__dict__ for c in checks], ensure_ascii=False, indent=2))
    else:
        for c in checks:
            mark = "–" if c.ok is None else "✔" if c.ok else "✘"
            line = f"{mark} [{c.group}] {c.what}"
            click.echo(line + (f" — {c.detail}" if c.detail and not c.ok else ""))
        ran = sum(1 for c in checks if c.ok is not None)
        if failed:
            click.echo(f"\nDËSHTOI / FAILED: {len(failed)} nga {count(ran, CHECK)} / of "
                       f"{count(ran, ('check', 'checks'))}."
                       " Shikoni `roja status` dhe regjistrin / see `roja status` and the log.")
        else:
            click.echo(f"\nNë rregull / OK: {count(ran, CHECK)} {form(ran, 'kaloi', 'kaluan')} / "
                       f"{count(ran, ('check', 'checks'))} passed.")
    if failed or not any(c.ok is not None for c in checks):
        sys.exit(1)
