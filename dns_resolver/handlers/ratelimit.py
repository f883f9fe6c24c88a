"""Per-client rate limit: a token bucket per client address; over the limit → REFUSED.

Config: `[dns.acl] rate_limit_qps` (0 turns it off, default 300) and `rate_limit_burst`
(default 600). A school NAT gateway may need more. Metric: result `ratelimited`.
"""

from __future__ import annotations

from dns_resolver.messages import Answer
from dns_resolver.wire import REFUSED

LIMITED = Answer("ratelimited", "client over its query rate limit", rcode=REFUSED)


class RateLimiter:
    def __init__(self, qps: float, burst: float, max_clients: int = 100_000) -> None:
        self.qps, self.burst = qps, max(burst, qps)
        self._buckets: dict[str, list[float]] = {}
        self._max = max_clients

    def admit(self, client: str, now: float) -> Answer | None:
        if self.qps <= 0:
            return None
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= self._max:
                self._evict(now)
            self._buckets[client] = [self.burst - 1, now]
            return None
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.qps)
        bucket[1] = now
        if tokens < 1:
            bucket[0] = tokens
            return LIMITED
        bucket[0] = tokens - 1
        return None

    def _evict(self, now: float) -> None:
        # Buckets idle long enough to be full again carry no state worth keeping.
        idle = self.burst / self.qps
        self._buckets = {c: b for c, b in self._buckets.items() if now - b[1] < idle}
        if len(self._buckets) >= self._max:
            # Still full (e.g. a sweep of spoofed sources): keep the most recently active half,
            # so real clients keep their state instead of all limits being reset.
            newest = sorted(self._buckets.items(), key=lambda kv: kv[1][1])[self._max // 2:]
            self._buckets = dict(newest)
