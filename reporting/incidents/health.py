"""How the incident writer reports trouble: at most one error line a minute while writes fail,
and its Prometheus counters (`roja_incidents_written_total`, `roja_incidents_dropped_total`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Protocol

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger("reporting.incidents")


class Counted(Protocol):
    """What the collector reads from the writer."""

    written: int
    dropped: int


class RateLimitedLog:
    """At most one error line per interval, saying how many were held back."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._next = 0.0
        self._held = 0
        self._attempts = 0  # failed attempts since the last success

    @property
    def failing(self) -> bool:
        return self._attempts > 0

    def recovered(self) -> int:
        attempts, self._attempts, self._next = self._attempts, 0, 0.0
        return attempts

    def report(self, exc: Exception, waiting: int) -> None:
        self._attempts += 1
        now = time.monotonic()
        if now < self._next:
            self._held += 1
            return
        self._next = now + self._interval
        held, self._held = self._held, 0
        more = f" ({held} more failed attempts since the last message)" if held else ""
        log.error("incident store: could not write %d incidents yet (kept queued, retrying): "
                  "%s: %s%s", waiting, type(exc).__name__, exc, more)


class WriterCollector(Collector):
    def __init__(self, writer: Counted) -> None:
        self._writer = writer

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily("roja_incidents_written",
                                  "Incidents stored (repeats folded into a row included).",
                                  value=self._writer.written)
        yield CounterMetricFamily("roja_incidents_dropped",
                                  "Incidents lost: queue full, or unwritten at stop.",
                                  value=self._writer.dropped)

    def describe(self) -> Iterator[Metric]:
        return self.collect()
