"""Canaries and DDR: render what `policy.reserved` decides for the reserved names.

NXDOMAIN for the bypass canaries (`use-application-dns.net`: Firefox turns DoH off;
`mask.icloud.com`, `mask-h2.icloud.com`, `mask-canary.icloud.com`: iCloud Private Relay off);
NODATA for `resolver.arpa` and its subdomains, except `_dns.resolver.arpa` SVCB when this
resolver serves DNS over TLS/HTTPS (`[dns.tls]`, `[dns.https]`): then the SVCB records name
those endpoints (RFC 9462), e.g. `1 dns.roja.lan. alpn=dot port=853 ipv4hint=192.168.1.1`.
Config: `[dns] canaries = true` (default). Metric: result `canary`.
"""

from __future__ import annotations

import ipaddress

from dnslib import HTTPS, QTYPE, RR, SOA

from dns_resolver.messages import Answer, Next, Query
from dns_resolver.wire import NXDOMAIN, Question
from policy import Group
from policy.reserved import CANARY_NAMES, DDR_NAME, DDR_ZONE, Ddr, reserved

NXDOMAIN_NAMES = CANARY_NAMES
NODATA_ZONE = DDR_ZONE
CANARY_TTL = 300


def _soa(zone: str, ttl: int) -> RR:
    return RR(zone, QTYPE.SOA, ttl=ttl,
              rdata=SOA("roja.invalid.", "hostmaster.roja.invalid.", (1, 3600, 600, 86400, ttl)))


def svcb_records(ddr: Ddr, ttl: int = CANARY_TTL) -> tuple[RR, ...]:
    """The `_dns.resolver.arpa` SVCB records announcing `ddr`'s endpoints, in its order."""
    target = [label.encode() for label in ddr.target.rstrip(".").split(".") if label]
    out = []
    for priority, end in enumerate(ddr.endpoints, start=1):
        params: list[tuple[int, bytes]] = [
            (1, b"".join(bytes([len(a)]) + a.encode() for a in end.alpn)),   # alpn
            (3, end.port.to_bytes(2, "big")),                                  # port
        ]
        if ddr.ipv4:
            params.append((4, b"".join(ipaddress.IPv4Address(a).packed for a in ddr.ipv4)))
        if ddr.ipv6:
            params.append((6, b"".join(ipaddress.IPv6Address(a).packed for a in ddr.ipv6)))
        if end.dohpath:
            params.append((7, end.dohpath.encode()))                           # dohpath
        out.append(RR(DDR_NAME, QTYPE.SVCB, ttl=ttl,
                      rdata=HTTPS(priority, target, [(k, bytearray(v)) for k, v in params])))
    return tuple(out)


class CanaryHandler:
    def __init__(self, ddr: Ddr | None = None) -> None:
        self.announce(ddr)

    def announce(self, ddr: Ddr | None) -> None:
        """Name `ddr`'s endpoints in `_dns.resolver.arpa` from now on (None: NODATA). Called
        once the encrypted listeners are bound, before the resolver serves; a resolver that
        already cached the old answer needs `Resolver.policy_changed()`."""
        self.ddr = ddr
        self._svcb = svcb_records(ddr) if ddr is not None else ()

    async def handle(self, q: Query, call_next: Next) -> Answer:
        return self.quick(q.question, q.group) or await call_next(q)

    def quick(self, q: Question, group: Group) -> Answer | None:
        """The synchronous answer (the fast path calls this too), or None to pass on."""
        found = reserved(q.name, q.qtype, self.ddr)
        if found is None:
            return None
        if found.kind == "nxdomain":
            return Answer("canary", found.reason, rcode=NXDOMAIN,
                          authority=(_soa(found.zone, CANARY_TTL),), label=found.zone,
                          cache_ttl=CANARY_TTL, fixed_ttl=True)
        if found.kind == "designated":
            return Answer("canary", found.reason, answer=self._svcb, label=found.zone,
                          cache_ttl=CANARY_TTL, fixed_ttl=True)
        return Answer("canary", found.reason, authority=(_soa(found.zone, CANARY_TTL),),
                      label=found.zone, cache_ttl=CANARY_TTL, fixed_ttl=True)
