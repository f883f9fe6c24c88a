"""`dns.workers = N`: N processes answer DNS on the same port (SO_REUSEPORT).

The main process compiles the lists, runs worker 0 and serves `/metrics`; it starts N-1 more
processes (spawned, not forked, so no event-loop state is shared). Each extra worker maps the
same compiled list file, writes its own incidents to the same SQLite database (WAL) and sends
its counters to the main process every second over a pipe, where `/metrics` adds them up.
SIGHUP and SIGTERM to the main process are passed on to the workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
from collections.abc import Iterator
from dataclasses import replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from dns_resolver.metrics import DnsStats

log = logging.getLogger("roja.workers")
REPORT_INTERVAL = 1.0


class CombinedStats(Collector):
    """The main process's counters plus the latest snapshot of every other worker."""

    def __init__(self, local: DnsStats, incidents: Any) -> None:
        self.local = local
        self.incidents = incidents  # the main IncidentWriter (written/dropped)
        self.remote: dict[int, dict[str, Any]] = {}
        self.stopped: set[int] = set()  # extra workers whose pipe closed (their counts stay)

    def results(self) -> dict[str, int]:
        """`roja_dns_queries_total` by result, summed over every worker."""
        out = dict(self.local.results)
        for snap in self.remote.values():
            for kind, n in snap["dns"].get("results", {}).items():
                out[kind] = out.get(kind, 0) + n
        return out

    def collect(self) -> Iterator[Metric]:
        total = DnsStats()
        total.add(self.local.snapshot())
        written = self.incidents.written if self.incidents else 0
        dropped = self.incidents.dropped if self.incidents else 0
        for snap in self.remote.values():
            total.add(snap["dns"])
            written += snap["incidents_written"]
            dropped += snap["incidents_dropped"]
        yield from total.collect()
        yield CounterMetricFamily("roja_incidents_written",
                                  "Incidents stored (repeats folded into a row included)",
                                  value=written)
        yield CounterMetricFamily("roja_incidents_dropped",
                                  "Incidents lost: queue full, writer stopped or write failed",
                                  value=dropped)
        # This process plus every extra worker that has reported and not stopped.
        yield GaugeMetricFamily("roja_dns_workers", "DNS worker processes answering",
                                value=1 + len(self.remote.keys() - self.stopped))


class WorkerPool:
    def __init__(self, config_path: Path, listen: list[tuple[str, int]], count: int,
                 combined: CombinedStats) -> None:
        self.config_path = config_path
        self.listen = listen
        self.count = count
        self.combined = combined
        self.procs: list[BaseProcess] = []
        self.conns: list[Connection] = []

    def start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        loop = asyncio.get_running_loop()
        for index in range(1, self.count):
            parent, child = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=worker_main, name=f"roja-dns-{index}", daemon=True,
                               args=(str(self.config_path), self.listen, index, child))
            proc.start()
            child.close()
            self.procs.append(proc)
            self.conns.append(parent)
            loop.add_reader(parent.fileno(), self._receive, index, parent)
        log.info("started %d extra DNS workers", self.count - 1)

    def _receive(self, index: int, conn: Connection) -> None:
        try:
            self.combined.remote[index] = conn.recv()
        except (EOFError, OSError):
            asyncio.get_running_loop().remove_reader(conn.fileno())
            self.combined.stopped.add(index)
            log.warning("DNS worker %d stopped", index)

    def signal(self, signum: int) -> None:
        for proc in self.procs:
            if proc.is_alive() and proc.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signum)

    async def stop(self) -> None:
        self.signal(signal.SIGTERM)
        loop = asyncio.get_running_loop()
        for conn in self.conns:
            with contextlib.suppress(ValueError, OSError):
                loop.remove_reader(conn.fileno())
        for proc in self.procs:
            await asyncio.to_thread(proc.join, 5)
            if proc.is_alive():
                proc.kill()


def worker_main(config_path: str, listen: list[tuple[str, int]], index: int,
                conn: Connection) -> None:
    """Entry point of an extra worker process."""
    from filterd.app import Appliance, event_loop_runner
    from filterd.config import load_config

    logging.basicConfig(level=logging.INFO,
                        format=f"%(asctime)s %(levelname)s worker{index} %(name)s: %(message)s")
    cfg = load_config(Path(config_path))
    cfg = replace(cfg, dns=replace(cfg.dns, listen=tuple(listen)), metrics_listen=None)

    async def run() -> None:
        app = Appliance(cfg, spawn_workers=False)

        async def report() -> None:
            while True:
                await asyncio.sleep(REPORT_INTERVAL)
                writer = app.writer
                conn.send({"dns": app.stats.snapshot(),
                           "incidents_written": writer.written if writer else 0,
                           "incidents_dropped": writer.dropped if writer else 0})

        reporter: asyncio.Task[None] | None = None

        async def start_reporting() -> None:
            nonlocal reporter
            reporter = asyncio.create_task(report())

        await app.run_until_signalled(after_start=start_reporting)
        if reporter is not None:
            reporter.cancel()

    event_loop_runner()(run())
