"""`roja audit list|verify`: the hash-chained log of every policy change, for the inspector.

    roja audit list --last 20
    roja audit verify      # exit 0: intact; exit 1: names the first entry that does not fit
"""

from __future__ import annotations

import sys
from typing import Any

import click

from filterd import audit as log


@click.group("audit")
def audit() -> None:
    """Regjistri i auditimit / the audit log."""


@audit.command("list")
@click.option("--last", type=int, default=0, help="Vetëm N të fundit / only the last N")
@click.pass_obj
def list_(obj: dict[str, Any], last: int) -> None:
    """Shfaq hyrjet / show the entries."""
    entries = log.read(obj["state_dir"])
    if last > 0:
        entries = entries[-last:]
    if not entries:
        click.echo("Regjistri është bosh / the log is empty")
    for e in entries:
        why = f" — {e.why}" if e.why else ""
        click.echo(f"{e.seq:>5}  {e.time}  {e.who}: {e.what}{why}  [{e.hash[:12]}]")


@audit.command("verify")
@click.pass_obj
def verify(obj: dict[str, Any]) -> None:
    """Kontrollo zinxhirin / check the hash chain."""
    verdict = log.verify(obj["state_dir"])
    click.echo(verdict.message, err=not verdict.ok)
    if not verdict.ok:
        sys.exit(1)
