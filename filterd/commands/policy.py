"""`roja policy explain`: why a client's request is decided as it is, rule by rule.

    roja policy explain --client 10.0.3.17 --url https://example.org/x --at "2026-12-01 12:30"
    roja policy explain --client 10.0.3.17 --host tiktok.com --mac aa:bb:cc:dd:ee:ff
    roja policy explain --client 10.0.3.17 --host files.example --address 192.0.2.66
    roja policy explain --client 10.0.3.17 --host 192.0.2.66

Albanian first, then English. `--at` is Europe/Tirane wall-clock time (default: now); the
unblocks in force at that time are taken from the store, the MAC from `--mac` or the kernel's
neighbour table (`filterd.policy_explain`, shared with the console's "Pse u bllokua?").
When some list names addresses, the answer-address check is shown too: for an address host,
and for a name with the addresses given by `--address` (repeatable) or, without it, those the
`[dns] upstreams` answer with.
"""

from __future__ import annotations

import ipaddress
import sys
from datetime import datetime
from typing import Any

import click

from filterd.policy_explain import ListsNotLoadedError, explain_request
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
@click.option("--address", "addresses", multiple=True,
              help="Adresa me të cilën përgjigjet emri / an address the name answers with")
@click.pass_obj
def explain(obj: dict[str, Any], client: str, url: str | None, host: str | None,
            at_text: str | None, mac: str | None, addresses: tuple[str, ...]) -> None:
    """Shpjego vendimin / explain the decision."""
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
    for address in addresses:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise click.BadParameter(f"{address!r} nuk është adresë IP / is not an IP address",
                                     param_hint="--address") from None
    try:
        result = explain_request(obj["config"], client, host=host, url=url, at=at, mac=mac,
                                 addresses=list(addresses) or None)
    except ListsNotLoadedError as exc:
        click.echo(f"Listat nuk u ngarkuan / the lists did not load: {exc}", err=True)
        sys.exit(1)
    click.echo(f"Klienti / client {client} — {url or host}")
    for i, step in enumerate(result.steps, 1):
        click.echo(f"{i:>2}. {step.sq}")
        click.echo(f"    {step.en}")
