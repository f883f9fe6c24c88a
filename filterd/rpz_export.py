"""The appliance's RPZ primary: the synced hotline feed's hosts as a zone for ISP resolvers.

Started with the appliance when `[rpz] listen` is set and a feed has been synced; after every
change the filter applies (its own sync, a manual `roja lists sync`, a reload) the zone of the
serial it now enforces is published, which records the difference for IXFR and sends NOTIFY.

With `[rpz] secondaries`, the fleet monitor (`blocklists.rpz_fleet`) probes each of the ISP's
resolvers every `check_interval` seconds and writes what it found to `state_dir/rpz-fleet.json`
(read by `roja rpz fleet`). Each round also adds to the history in the incident database's
`events` table, which `roja isp report` reads: `rpz_published` ("serial N", when Roja began
serving it) once per serial and run, and `rpz_reached` ("serial N secondary A:P", when a round
first saw that secondary apply it, `Fleet.newly_reached`), so how long each serial took to
reach every secondary is known for the whole year (rpz-fleet.json keeps only the last 64
serials and no per-secondary times).

Metrics: `roja_rpz_transfers_total{kind}` (axfr, ixfr, refused, ...), `roja_rpz_serial` (the
serial served), and per secondary (`secondary` = address:port, from the config):
`roja_rpz_secondary_up`, `roja_rpz_secondary_serial`, `roja_rpz_secondary_canary` (1 when it
applies the newest serial) and `roja_rpz_secondary_lag_seconds` (since the first serial it
lacks was published; 0 when current).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from blocklists.formats.common import as_address
from blocklists.rpz import RpzZone, ZoneHistory
from blocklists.rpz_config import RpzSettings
from blocklists.rpz_fleet import Fleet, target_text
from blocklists.rpz_server import RpzServer
from reporting.events import record_event

log = logging.getLogger("roja.rpz")
FLEET_NAME = "rpz-fleet.json"


def feed_zone(settings: RpzSettings, current: Path) -> RpzZone | None:
    """The zone for the synced feed file, or None before the first sync: a host is a QNAME
    trigger, an address or network an IP trigger (`rpz-ip`); a URL entry (`host/path`) cannot
    be said in RPZ and is left out, and counted in the log (docs/rpz.md)."""
    try:
        data = json.loads(current.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    values = [e["value"] for e in data.get("entries", [])
              if isinstance(e, dict) and isinstance(e.get("value"), str)]
    addresses = [v for v in values if as_address(v) is not None]
    hosts = [v for v in values if "/" not in v and as_address(v) is None]
    urls = len(values) - len(addresses) - len(hosts)
    if urls:
        log.info("RPZ: %d URL entries are not in the zone (RPZ has no URLs; the hosts are not "
                 "blocked whole)", urls)
    zone, _rejected = RpzZone.from_hosts(settings.origin, int(data["serial"]), hosts,
                                         addresses=addresses)
    return zone


class RpzExport(Collector):
    def __init__(self, settings: RpzSettings, current: Path) -> None:
        self.settings = settings
        self.current = current
        self.server: RpzServer | None = None
        self.fleet = Fleet(settings.secondaries, settings.max_lag)
        self._fleet_task: asyncio.Task[None] | None = None
        self._behind: set[tuple[str, int]] = set()  # secondaries last logged as behind
        self._recorded: set[int] = set()  # serials whose rpz_published this run wrote

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
        self.fleet.publish(zone.serial, time.time())

    def watch_fleet(self, state_dir: Path) -> None:
        """Start the fleet monitor (when secondaries are configured)."""
        if self.settings.secondaries and self._fleet_task is None:
            previous = read_fleet(state_dir)
            if previous is not None:
                self.fleet.restore(previous)
                # an earlier run recorded the older serials; the one served now is recorded
                # again with its (restored) publication time, which the report's MIN keeps
                current = self.fleet.current
                self._recorded = {s for s in self.fleet.published if s != current}
            self._fleet_task = asyncio.create_task(self._watch(state_dir), name="roja-rpz-fleet")

    async def _watch(self, state_dir: Path) -> None:
        while True:
            try:
                await self.check_fleet(state_dir)
            except Exception:  # the monitor must not die; the next round tries again
                log.exception("RPZ: checking the secondaries failed")
            await asyncio.sleep(self.settings.check_interval)

    async def check_fleet(self, state_dir: Path) -> None:
        """One round: probe the secondaries, log the ones behind, write rpz-fleet.json."""
        if self.fleet.current is None:  # nothing served yet: nothing to compare with
            return
        await self.fleet.check(self.settings.origin, time.time())
        now = time.time()
        for target, state in self.fleet.states.items():  # logged when it changes
            behind, name = self.fleet.behind(target, now), target_text(target)
            if behind and target not in self._behind:
                log.warning("RPZ: sekondari %s mbetet prapa / secondary %s is behind: up=%s "
                            "serial=%s (Roja %s) canary=%s lag=%.0f s %s", name, name, state.up,
                            state.serial, self.fleet.current, state.canary,
                            self.fleet.lag(target, now), state.error)
                self._behind.add(target)
            elif not behind and target in self._behind:
                log.info("RPZ: sekondari %s është sërish në rregull / secondary %s is current "
                         "again (serial %s)", name, name, state.serial)
                self._behind.discard(target)
        snapshot = self.fleet.snapshot(now)
        snapshot["interval"] = self.settings.check_interval
        await asyncio.to_thread(write_fleet, state_dir, snapshot)
        await asyncio.to_thread(self.record_history, state_dir, now)

    def record_history(self, state_dir: Path, now: float) -> None:
        """The round's `rpz_published` and `rpz_reached` events (see the module docstring)."""
        db = state_dir / "incidents.sqlite"
        for serial, at in self.fleet.published.items():
            if serial not in self._recorded:
                record_event(db, "rpz_published", f"serial {serial}", at)
                self._recorded.add(serial)
        for target, serial in self.fleet.newly_reached():
            record_event(db, "rpz_reached", f"serial {serial} secondary {target_text(target)}",
                         now)

    async def stop(self) -> None:
        if self._fleet_task is not None:
            self._fleet_task.cancel()
        if self.server is not None:
            await self.server.stop()

    def collect(self) -> Iterator[Metric]:
        c = CounterMetricFamily("roja_rpz_transfers", "RPZ requests served, by kind",
                                labels=["kind"])
        if self.server is not None:
            for kind, n in sorted(self.server.counters.items()):
                c.add_metric([kind], n)
        yield c
        if self.server is not None:
            yield GaugeMetricFamily("roja_rpz_serial", "Serial of the RPZ zone served",
                                    value=self.server.history.current.serial)
        yield from fleet_metrics(self.fleet, time.time())


def fleet_metrics(fleet: Fleet, now: float) -> Iterator[Metric]:
    if not fleet.targets:
        return
    up = GaugeMetricFamily("roja_rpz_secondary_up", "1 when the secondary answers",
                           labels=["secondary"])
    serial = GaugeMetricFamily("roja_rpz_secondary_serial", "RPZ serial the secondary has",
                               labels=["secondary"])
    canary = GaugeMetricFamily("roja_rpz_secondary_canary", "1 when the secondary applies "
                               "the newest serial (its canary name is blocked)",
                               labels=["secondary"])
    lag = GaugeMetricFamily("roja_rpz_secondary_lag_seconds", "Seconds since the first serial "
                            "the secondary lacks was published", labels=["secondary"])
    for target, state in fleet.states.items():
        if state.checked is None:  # not probed yet: neither up nor down
            continue
        label = [target_text(target)]
        up.add_metric(label, int(state.up))
        if state.serial is not None:
            serial.add_metric(label, state.serial)
        canary.add_metric(label, int(state.canary))
        lag.add_metric(label, fleet.lag(target, now))
    yield from (up, serial, canary, lag)


def write_fleet(state_dir: Path, snapshot: dict[str, object]) -> None:
    tmp = state_dir / (FLEET_NAME + ".tmp")
    tmp.write_text(json.dumps(snapshot, indent=1), encoding="utf-8")
    os.replace(tmp, state_dir / FLEET_NAME)


def read_fleet(state_dir: Path) -> dict[str, Any] | None:
    """The last round `roja serve` wrote, or None when there is none (or it is damaged)."""
    try:
        data = json.loads((state_dir / FLEET_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
