"""Steering: names whose host has URL-level entries resolve to the proxy (DNS steering).

Only such hosts reach the proxy; every other allowed name resolves normally and never touches
it (ARCHITECTURE decision 1). For an allowed name where `policy.needs_proxy(name)`: A is
answered with `steer_ipv4`, AAAA with `steer_ipv6`, each with a short TTL; a family without a
steer address, and HTTPS/SVCB (whose address hints and ECH would lead around the proxy), get
NODATA, so clients use the steered address. Other types (MX, TXT, ...) pass on unchanged.
Names without URL entries are not touched. Placed after the policy handler: a blocked name is
answered as blocked before this runs.
Config: `[proxy] enabled = true`, `mode = "steering"`, `steer_ipv4`, `steer_ipv6`,
`steer_ttl` (30). Example: with `example.com/shembull/` listed, `example.com A` →
`192.168.1.1`, `example.com HTTPS` → NODATA, `example.org A` → the upstream's answer.
Metric: result `steered`, label `steered`.
"""

from __future__ import annotations

from dnslib import AAAA, QTYPE, RR, SOA, A

from dns_resolver.messages import Answer, Next, Query
from policy.ref import PolicySource
from policy.steering import SteerSettings

STEERED_TYPES = frozenset({QTYPE.A, QTYPE.AAAA, QTYPE.HTTPS, QTYPE.SVCB})


class SteeringHandler:
    def __init__(self, policy: PolicySource, settings: SteerSettings) -> None:
        self.policy = policy
        self.settings = settings

    async def handle(self, q: Query, call_next: Next) -> Answer:
        if q.qtype not in STEERED_TYPES or not q.name \
                or not self.policy.current.needs_proxy(q.name):
            return await call_next(q)
        s = self.settings
        ttl = s.ttl
        records: tuple[RR, ...] = ()
        if q.qtype == QTYPE.A and s.ipv4:
            records = (RR(q.name, QTYPE.A, rdata=A(s.ipv4), ttl=ttl),)
        elif q.qtype == QTYPE.AAAA and s.ipv6:
            records = (RR(q.name, QTYPE.AAAA, rdata=AAAA(s.ipv6), ttl=ttl),)
        authority: tuple[RR, ...] = ()
        if not records:  # NODATA with a SOA, so the client caches the absence for `ttl`
            authority = (RR(q.name, QTYPE.SOA, ttl=ttl, rdata=SOA(
                "roja.steered.", "hostmaster.roja.invalid.", (1, 3600, 600, 86400, ttl))),)
        return Answer("steered", f"steered to the proxy: {q.name} has URL-level entries",
                      answer=records, authority=authority, label="steered",
                      cache_ttl=ttl, fixed_ttl=True)
