"""The appliance's RPZ primary: the synced hotline feed's hosts as a zone for ISP resolvers.

Started with the appliance when `[rpz] listen` is set and a feed has been synced; after every
change the filter applies (its own sync, a manual `roja lists sync`, a reload) the zone of the
serial it now enforces is published, which records the difference for IXFR and sends NOTIFY.
Metric: `roja_rpz_transfers_total{kind}` (axfr, ixfr, refused, ...).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from blocklists.rpz import RpzZone, ZoneHistory
from blocklists.rpz_config import RpzSettings
from blocklists.rpz_server import RpzServer

log = logging.getLogger("roja.rpz")


def feed_zone(settings: RpzSettings, current: Path) -> RpzZone | None:
    """The zone for the synced feed file, or None before the first sync."""
    try:
        data = json.loads(current.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    hosts = [e["value"] for e in data.get("entries", [])
             if isinstance(e, dict) and isinstance(e.get("value"), str) and "/" not in e["value"]]
    zone, _rejected = RpzZone.from_hosts(settings.origin, int(data["serial"]), hosts)
    return zone


class RpzExport(Collector):
    def __init__(self, settings: RpzSettings, current: Path) -> None:
        self.settings = settings
        self.current = current
        self.server: RpzServer | None = None

    async def refresh(self, enforced: int | None = None) -> None:
        """Start serving, or publish the newest feed serial; with `enforced` (the serial the
        filter enforces, `filterd.list_apply`) only that serial: a newer file is published
        when the filter applies it, so the zone never runs ahead of DNS."""
        zone = feed_zone(self.settings, self.current)
        if zone is None:
            log.warning("RPZ: no hotline feed synced yet (or its file is damaged); the zone "
                        "is served after the next good sync")
            return
        if enforced is not None and zone.serial != enforced:
            log.info("RPZ: serial %s is synced but not enforced yet; the zone stays at %s",
                     zone.serial, enforced)
            return
        if self.server is None:
            s = self.settings
            assert s.listen is not None
            keys = {s.tsig_name: s.tsig_secret} if s.tsig_name else None
            self.server = RpzServer(ZoneHistory(zone), s.listen, s.allow, keys, s.notify,
                                    notify_key=s.tsig_name or None)
            await self.server.start()
            self.server.notify_all()
        elif zone.serial != self.server.history.current.serial:
            await self.server.publish(zone)

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()

    def collect(self) -> Iterator[Metric]:
        c = CounterMetricFamily("roja_rpz_transfers", "RPZ requests served, by kind",
                                labels=["kind"])
        if self.server is not None:
            for kind, n in sorted(self.server.counters.items()):
                c.add_metric([kind], n)
        yield c
