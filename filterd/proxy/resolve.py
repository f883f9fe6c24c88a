"""Names the proxy connects to, resolved through the appliance's own upstream resolvers.

Never through the system resolver: on the gateway that is Roja itself, which answers every
steered name with the proxy's own address (a loop). `UpstreamResolver.resolve(name)` asks the
`[dns] upstreams` directly (UDP, TCP when truncated), follows the CNAME chain in the answer,
prefers A over AAAA, caches answers for their TTL (at most `max_ttl`, at most `size` names)
and refuses addresses in `refuse` (the proxy's own and the steering addresses). IP literals
are returned as they are. Raises `LookupError` with a short reason.

The answer is a `Resolved`: the address and every name of the CNAME chain after the asked
one (`aliases`, lower case, no final dot). The addon decides each alias through the policy
exactly as the DNS side does, so `alias.test CNAME blocked.test` is `blocked.test` here too
(explicit mode: the client never asks DNS). HTTPS/SVCB records are not read: the proxy
connects by A/AAAA only.
"""

from __future__ import annotations

import ipaddress
import random
import time
from collections.abc import Iterable
from typing import NamedTuple

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype


class Resolved(NamedTuple):
    address: str
    aliases: tuple[str, ...] = ()  # the CNAME chain after the name asked for


class UpstreamResolver:
    def __init__(self, servers: Iterable[tuple[str, int]], refuse: Iterable[str] = (),
                 timeout: float = 2.0, size: int = 4096, max_ttl: int = 300) -> None:
        self.servers = tuple(servers)
        self.refuse = frozenset(str(ipaddress.ip_address(a)) for a in refuse if a)
        self.timeout = timeout
        self.size = size
        self.max_ttl = max_ttl
        self._cache: dict[str, tuple[Resolved, float]] = {}

    async def resolve(self, name: str) -> Resolved:
        now = time.monotonic()
        hit = self._cache.get(name)
        if hit is not None and hit[1] > now:
            return hit[0]
        try:
            return Resolved(self._check(str(ipaddress.ip_address(name.strip("[]")))))
        except ValueError:
            pass
        if not self.servers:
            raise LookupError("no upstream resolver configured ([dns] upstreams)")
        why = "no address"
        for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            try:
                found = await self._ask(name, rdtype)
            except LookupError as exc:
                why = str(exc)
                continue
            if found is not None:
                resolved, ttl = found
                self._check(resolved.address)
                if len(self._cache) >= self.size:
                    self._cache.clear()  # cheaper than LRU bookkeeping; refilled on demand
                self._cache[name] = (resolved, now + min(ttl, self.max_ttl))
                return resolved
        raise LookupError(f"{name}: {why}")

    def _check(self, address: str) -> str:
        if address in self.refuse or ipaddress.ip_address(address).is_unspecified:
            raise LookupError(f"{address} is the proxy's own address")
        return address

    async def _ask(self, name: str, rdtype: dns.rdatatype.RdataType
                   ) -> tuple[Resolved, int] | None:
        query = dns.message.make_query(name, rdtype)
        last = "upstream did not answer"
        for host, port in random.sample(self.servers, len(self.servers)):
            try:
                reply = await dns.asyncquery.udp(query, host, port=port, timeout=self.timeout)
                if reply.flags & dns.flags.TC:
                    reply = await dns.asyncquery.tcp(query, host, port=port,
                                                     timeout=self.timeout)
            except (dns.exception.DNSException, OSError) as exc:
                last = f"upstream {host}:{port}: {type(exc).__name__}"
                continue
            rcode = reply.rcode()
            if rcode == dns.rcode.NXDOMAIN:
                raise LookupError("no such name (NXDOMAIN)")
            if rcode != dns.rcode.NOERROR:
                last = f"upstream {host}:{port}: {dns.rcode.to_text(rcode)}"
                continue
            return _address_in(reply, name, rdtype)
        raise LookupError(last)


def _address_in(reply: dns.message.Message, name: str,
                rdtype: dns.rdatatype.RdataType) -> tuple[Resolved, int] | None:
    """The first address of `name` in the answer, following CNAMEs (each one kept, to be
    decided), with the least TTL."""
    target = dns.name.from_text(name)
    aliases: list[str] = []
    ttl = 86400
    for _ in range(16):
        for rrset in reply.answer:
            if rrset.name != target:
                continue
            if rrset.rdtype == rdtype and len(rrset):
                return (Resolved(str(next(iter(rrset))), tuple(aliases)),
                        min(ttl, rrset.ttl))
            if rrset.rdtype == dns.rdatatype.CNAME:
                target = next(iter(rrset)).target
                aliases.append(target.to_text(omit_final_dot=True).lower())
                ttl = min(ttl, rrset.ttl)
                break
        else:
            return None
    return None
