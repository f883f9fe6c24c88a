"""Canaries: tell browsers and Apple devices not to bypass the school resolver.

NXDOMAIN for `use-application-dns.net` (Firefox turns DoH off) and `mask.icloud.com`,
`mask-h2.icloud.com`, `mask-canary.icloud.com` (iCloud Private Relay off); NODATA for
`resolver.arpa` and its subdomains (RFC 9462: no designated encrypted resolver to upgrade to).
Config: `[dns] canaries = true` (default). Metric: result `canary`.
"""

from __future__ import annotations

from dnslib import QTYPE, RR, SOA

from dns_resolver.messages import Answer, Next, Query
from dns_resolver.wire import NXDOMAIN, Question
from policy import Group

NXDOMAIN_NAMES = frozenset({"use-application-dns.net", "mask.icloud.com", "mask-h2.icloud.com",
                            "mask-canary.icloud.com"})
NODATA_ZONE = "resolver.arpa"
CANARY_TTL = 300


def _soa(zone: str, ttl: int) -> RR:
    return RR(zone, QTYPE.SOA, ttl=ttl,
              rdata=SOA("roja.invalid.", "hostmaster.roja.invalid.", (1, 3600, 600, 86400, ttl)))


class CanaryHandler:
    async def handle(self, q: Query, call_next: Next) -> Answer:
        return self.quick(q.question, q.group) or await call_next(q)

    def quick(self, q: Question, group: Group) -> Answer | None:
        """The synchronous answer (the fast path calls this too), or None to pass on."""
        name = q.name
        if name in NXDOMAIN_NAMES:
            return Answer("canary", f"canary {name}: bypass switched off", rcode=NXDOMAIN,
                          authority=(_soa(name, CANARY_TTL),), label=name,
                          cache_ttl=CANARY_TTL, fixed_ttl=True)
        if name == NODATA_ZONE or name.endswith("." + NODATA_ZONE):
            return Answer("canary", "resolver.arpa: no designated resolver (RFC 9462)",
                          authority=(_soa(NODATA_ZONE, CANARY_TTL),), label=NODATA_ZONE,
                          cache_ttl=CANARY_TTL, fixed_ttl=True)
        return None
