"""`roja policy explain`: why a client's request is decided as it is, rule by rule.

    roja policy explain --client 10.0.3.17 --url https://example.org/x --at "2026-12-01 12:30"
    roja policy explain --client 10.0.3.17 --host tiktok.com --mac aa:bb:cc:dd:ee:ff

Albanian first, then English. `--at` is Europe/Tirane wall-clock time (default: now); the
unblocks in force at that time are taken from the store, the MAC from `--mac` or the kernel's
neighbour table.
"""

from __future__ import annotations

import ipaddress
import sys
from dataclasses import replace
from datetime import datetime
from typing import Any

import click

from filterd import overrides
from filterd.neighbours import read_neighbours
from policy.explain import explain as explain_decision
from policy.schedule import TIRANE, aware


@click.group("policy")
def policy() -> None:
    """Politika e filtrimit / the filtering policy."""


@policy.command("explain")
@click.option("--client", required=True, help="Adresa e klientit / client address")
@click.option("--url", default=None, help="URL")
@click.option("--host", default=None, help="Emri / host name")
@click.option("--at", "at_text", default=None, help='"YYYY-MM-DD HH:MM" (Europe/Tirane)')
@click.option("--mac", default=None, help="MAC e klientit / client MAC (aa:bb:cc:dd:ee:ff)")
@click.pass_obj
def explain(obj: dict[str, Any], client: str, url: str | None, host: str | None,
            at_text: str | None, mac: str | None) -> None:
    """Shpjego vendimin / explain the decision."""
    from filterd.app import build_policy

    if (url is None) == (host is None):
        raise click.UsageError("jepni --url ose --host / give --url or --host (one of them)")
    try:
        ipaddress.ip_address(client)
    except ValueError:
        raise click.BadParameter(f"{client!r} nuk është adresë IP / is not an IP address",
                                 param_hint="--client") from None
    try:
        at = aware(datetime.fromisoformat(at_text)) if at_text else datetime.now(TIRANE)
    except ValueError:
        raise click.BadParameter(f"{at_text!r}: YYYY-MM-DD HH:MM", param_hint="--at") from None
    cfg = obj["config"]
    try:
        base, compiled = build_policy(cfg)
    except Exception as exc:
        click.echo(f"Listat nuk u ngarkuan / the lists did not load: {exc}", err=True)
        sys.exit(1)
    try:
        neighbours = read_neighbours() if any(g.macs for g in base.groups) and not mac else {}
        pol = replace(base, unblocks=overrides.active(cfg.state_dir, at.timestamp()),
                      neighbours=neighbours, now=at)
        result = explain_decision(pol, client, host=host, url=url, now=at, mac=mac)
    finally:
        compiled.close()
    click.echo(f"Klienti / client {client} — {url or host}")
    for i, step in enumerate(result.steps, 1):
        click.echo(f"{i:>2}. {step.sq}")
        click.echo(f"    {step.en}")
