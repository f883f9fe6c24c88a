"""`roja bypass-watch --interface IFACE`: watch the LAN card for filter bypass attempts (see
`filterd.bypasswatch`) until SIGTERM/SIGINT. Runs as its own unit with only CAP_NET_RAW."""

from __future__ import annotations

import asyncio
import ipaddress
import signal
import sys
from typing import Any

import click
from prometheus_client import CollectorRegistry, start_http_server

from configkit import parse_hostport


def _addresses(values: tuple[str, ...]) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    out = []
    for text in values:
        try:
            out.append(ipaddress.ip_address(text))
        except ValueError:
            raise click.BadParameter(f"{text!r} nuk është adresë IP / is not an IP address",
                                     param_hint="--allow-dns") from None
    return out


@click.command("bypass-watch", short_help="Vëzhgo anashkalimet në LAN / watch LAN for bypass.")
@click.option("--interface", "-i", required=True, metavar="IFACE",
              help="Karta e rrjetit të shkollës (LAN) / the school LAN's network card")
@click.option("--metrics", "metrics_listen", default="", metavar="HOST:PORT",
              help="Prometheus /metrics (bosh: asnjë / empty: none), p.sh. 127.0.0.1:9154")
@click.option("--allow-dns", multiple=True, metavar="ADDR",
              help="Server DNS i lejuar përveç Rojës (p.sh. i domenit të shkollës); "
                   "përsëritet / a DNS server allowed besides Roja (repeatable)")
@click.option("--interval", type=click.FloatRange(1.0, 86400.0), default=60.0,
              show_default=True, help="Një incident për klient dhe lloj në kaq sekonda / "
                                      "one incident per client and kind per this many seconds")
@click.pass_obj
def bypass_watch(obj: Any, interface: str, metrics_listen: str, allow_dns: tuple[str, ...],
                 interval: float) -> None:
    """Vëzhgo anashkalimet e filtrit në LAN / watch the LAN for filter bypass attempts."""
    from filterd.bypasswatch.watch import BypassWatch

    cfg = obj["config"]
    allowed = _addresses(allow_dns)
    registry = CollectorRegistry()
    if metrics_listen:
        try:
            host, port = parse_hostport(metrics_listen, 9154)
        except ValueError:
            raise click.BadParameter(f"{metrics_listen!r} nuk është host:port / is not "
                                     "host:port", param_hint="--metrics") from None
        start_http_server(port, host, registry=registry)
    watch = BypassWatch(cfg, interface, allowed, interval, registry)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await watch.start()
        try:
            click.echo(f"Po vëzhgon / watching {interface}", err=True)
            await stop.wait()
        finally:
            await watch.stop()

    try:
        asyncio.run(run())
    except PermissionError:
        click.echo("Nuk lejohet / Permission denied: duhet root ose CAP_NET_RAW / needs root "
                   "or CAP_NET_RAW.", err=True)
        sys.exit(1)
    except OSError as exc:
        click.echo(f"Karta {interface!r} nuk u hap / could not open interface "
                   f"{interface!r}: {exc}", err=True)
        sys.exit(1)
