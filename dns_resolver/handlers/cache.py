"""Cache: upstream answers by (name, type, class, DO/CD), shared by every group.

Positive answers live for their smallest TTL (capped by `cache_max_ttl`), negative answers for
min(SOA TTL, SOA MINIMUM) (RFC 2308). When every upstream fails, an expired answer younger than
`stale_max` is served with TTL 30 and EDE 3 "Stale Answer" (RFC 8767). Identical queries in
flight share one upstream request. With `prefetch = true`, a hit in the last tenth of its TTL
refreshes the entry in the background. Config: `[dns] cache_size`, `cache_max_ttl`,
`serve_stale`, `stale_max`, `prefetch`. Metric: `roja_dns_cache_hits_total{cache="records"}`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass

from dns_resolver.messages import Answer, Next, Query
from dns_resolver.metrics import DnsStats
from dns_resolver.upstream_reply import aged

log = logging.getLogger("roja.dns.cache")
STALE_TTL = 30
EDE_STALE = 3


@dataclass(frozen=True)
class CacheSettings:
    size: int = 100_000
    serve_stale: bool = True
    stale_max: int = 86400
    prefetch: bool = False


Key = tuple[str, int, int, int]


def _key(q: Query) -> Key:
    """DO and CD are part of the key: a DNSSEC answer (RRSIGs) and a plain one never mix, nor
    data fetched with checking disabled and validated data."""
    return (q.name, q.qtype, q.question.qclass, q.question.dnssec)


@dataclass
class _Entry:
    answer: Answer
    stored: float
    ttl: int


class CacheHandler:
    def __init__(self, settings: CacheSettings, stats: DnsStats) -> None:
        self.settings = settings
        self.stats = stats
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        self._inflight: dict[Key, asyncio.Future[Answer]] = {}
        self._tasks: set[asyncio.Task[Answer]] = set()

    def __len__(self) -> int:
        return len(self._entries)

    async def handle(self, q: Query, call_next: Next) -> Answer:
        key = _key(q)
        entry = self._entries.get(key)
        now = q.now
        if entry is not None:
            age = int(now - entry.stored)
            if age < entry.ttl:
                self._entries.move_to_end(key)
                self.stats.cache_hits["records"] += 1
                if self.settings.prefetch and entry.ttl - age <= max(1, entry.ttl // 10):
                    self._refresh(q, call_next)
                return self._from_entry(entry, age, "cached")
        fresh = await self._fetch(q, call_next)
        if (fresh.kind == "servfail" and entry is not None and self.settings.serve_stale
                and now - entry.stored < entry.ttl + self.settings.stale_max):
            stale = self._from_entry(entry, int(now - entry.stored), "stale")
            if stale.raw is not None:
                stale = stale._replace(raw=stale.raw._replace(floor=STALE_TTL))
            else:
                stale = stale._replace(answer=aged(stale.answer, 0, STALE_TTL))
            return stale._replace(ede=(EDE_STALE, "Roja: stale answer, upstream unreachable"),
                                  cache_ttl=None)
        return fresh

    def _from_entry(self, entry: _Entry, age: int, kind: str) -> Answer:
        a = entry.answer
        if a.raw is not None:  # the upstream's bytes: rendering lowers their TTLs
            return a._replace(kind=kind, raw=a.raw._replace(age=age),
                              cache_ttl=max(1, entry.ttl - age))
        return a._replace(kind=kind, answer=aged(a.answer, age), authority=aged(a.authority, age),
                          additional=aged(a.additional, age), cache_ttl=max(1, entry.ttl - age))

    async def _fetch(self, q: Query, call_next: Next) -> Answer:
        key = _key(q)
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            answer = await call_next(q)
            if answer.kind == "upstream" and answer.cache_ttl:
                self._store(key, answer, q.now)
            future.set_result(answer)
            return answer
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here so waiters alone decide what to log
            raise
        finally:
            del self._inflight[key]

    def _store(self, key: Key, answer: Answer, now: float) -> None:
        self._entries[key] = _Entry(answer, now, answer.cache_ttl or 0)
        self._entries.move_to_end(key)
        while len(self._entries) > self.settings.size:
            self._entries.popitem(last=False)

    def _refresh(self, q: Query, call_next: Next) -> None:
        key = _key(q)
        if key in self._inflight:
            return
        task = asyncio.create_task(self._fetch(q, call_next))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def clear(self) -> None:
        self._entries.clear()
