"""The DNS server's metrics, kept as plain integers on the hot path and turned into Prometheus
families only when `/metrics` is scraped (a custom collector; prometheus-client's own counters
take a lock per increment, which costs a visible share of a cached answer).

Families: `roja_dns_queries_total{result}`, `roja_dns_answer_seconds` (histogram),
`roja_dns_cache_hits_total{cache}`, `roja_dns_upstream_errors_total{upstream,reason}`,
`roja_dns_upstream_seconds` (histogram), `roja_dns_blocked_total{list}`,
`roja_dns_handler_errors_total`, `roja_dns_tcp_closed_total{reason}` (TCP connections closed
by Roja: `acl` and `client_cap` at accept, `full` when no slot could be freed, `idle_evicted`
to make room, `idle` after `tcp_idle_timeout`, `tls` for a failed DoT/DoH handshake; DoT and
DoH connections count here too). Labels are small bounded sets, never names
or clients.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                   0.25, 0.5, 1.0, 2.5)


class Histogram:
    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value

    def family(self, name: str, doc: str) -> HistogramMetricFamily:
        buckets, running = [], 0
        for bound, count in zip(self.bounds, self.counts, strict=False):
            running += count
            buckets.append((repr(bound), running))
        running += self.counts[-1]
        buckets.append(("+Inf", running))
        return HistogramMetricFamily(name, doc, buckets=buckets, sum_value=self.total)


class DnsStats(Collector):
    def __init__(self) -> None:
        self.results: dict[str, int] = {}
        self.cache_hits: dict[str, int] = {"answer": 0, "records": 0}
        self.blocked: dict[str, int] = {}
        self.upstream_errors: dict[tuple[str, str], int] = {}
        self.handler_errors = 0
        self.tcp_closed: dict[str, int] = {}
        self.latency = Histogram(LATENCY_BUCKETS)
        self.upstream = Histogram(LATENCY_BUCKETS)

    def result(self, kind: str, seconds: float) -> None:
        self.results[kind] = self.results.get(kind, 0) + 1
        self.latency.observe(seconds)

    def upstream_error(self, upstream: str, reason: str) -> None:
        key = (upstream, reason)
        self.upstream_errors[key] = self.upstream_errors.get(key, 0) + 1

    def tcp_close(self, reason: str) -> None:
        self.tcp_closed[reason] = self.tcp_closed.get(reason, 0) + 1

    def upstream_latency(self, seconds: float) -> None:
        self.upstream.observe(seconds)

    def snapshot(self) -> dict[str, object]:
        """Plain data for another process (see `filterd.workers`)."""
        return {"results": dict(self.results), "cache_hits": dict(self.cache_hits),
                "blocked": dict(self.blocked), "tcp_closed": dict(self.tcp_closed),
                "upstream_errors": [[u, r, n] for (u, r), n in self.upstream_errors.items()],
                "handler_errors": self.handler_errors,
                "latency": [list(self.latency.counts), self.latency.total],
                "upstream": [list(self.upstream.counts), self.upstream.total]}

    def add(self, snap: dict[str, Any]) -> None:
        """Add another process's snapshot to these counters."""
        for field in ("results", "cache_hits", "blocked", "tcp_closed"):
            mine = getattr(self, field)
            for k, n in snap.get(field, {}).items():
                mine[k] = mine.get(k, 0) + n
        for u, r, n in snap["upstream_errors"]:
            self.upstream_errors[(u, r)] = self.upstream_errors.get((u, r), 0) + n
        self.handler_errors += snap["handler_errors"]
        for hist, (counts, total) in ((self.latency, snap["latency"]),
                                      (self.upstream, snap["upstream"])):
            hist.counts = [a + b for a, b in zip(hist.counts, counts, strict=True)]
            hist.total += total

    def collect(self) -> Iterator[Metric]:
        q = CounterMetricFamily("roja_dns_queries", "DNS queries answered, by result",
                                labels=["result"])
        for kind, n in sorted(self.results.items()):
            q.add_metric([kind], n)
        yield q
        yield self.latency.family("roja_dns_answer_seconds", "Time to answer a query")
        c = CounterMetricFamily("roja_dns_cache_hits", "Cache hits by cache", labels=["cache"])
        for cache, n in sorted(self.cache_hits.items()):
            c.add_metric([cache], n)
        yield c
        b = CounterMetricFamily("roja_dns_blocked", "Blocked queries by list", labels=["list"])
        for list_id, n in sorted(self.blocked.items()):
            b.add_metric([list_id], n)
        yield b
        u = CounterMetricFamily("roja_dns_upstream_errors", "Upstream failures",
                                labels=["upstream", "reason"])
        for (upstream, reason), n in sorted(self.upstream_errors.items()):
            u.add_metric([upstream, reason], n)
        yield u
        yield self.upstream.family("roja_dns_upstream_seconds", "Upstream round-trip time")
        yield CounterMetricFamily("roja_dns_handler_errors", "Exceptions inside handlers",
                                  value=self.handler_errors)
        t = CounterMetricFamily("roja_dns_tcp_closed", "TCP connections closed by Roja",
                                labels=["reason"])
        for reason, n in sorted(self.tcp_closed.items()):
            t.add_metric([reason], n)
        yield t
