"""Safe search: render what `policy.safesearch` decides as a CNAME, per group.

The table (which names, which safe endpoint, per level) is policy data
(`policy.safesearch.target`); this handler only builds the answer: the CNAME and the
target's addresses, resolved through the rest of the chain; if that fails, the operators'
published addresses are used, so safe search answers even without an upstream.
Config: per group, `safe_search = "off" | "moderate" | "strict"` (default `moderate`).
Metric: result `safesearch`.
"""

from __future__ import annotations

from dnslib import AAAA, CNAME, QTYPE, RR, A

from dns_resolver.messages import Answer, Next, Query
from policy.safesearch import tables

CNAME_TTL = 300
FALLBACK_TTL = 60

# Published virtual IPs of the safe endpoints (used only when the upstream cannot be reached).
FALLBACK = {
    "forcesafesearch.google.com": ("216.239.38.120", "2001:4860:4802:32::78"),
    "restrict.youtube.com": ("216.239.38.120", "2001:4860:4802:32::78"),
    "restrictmoderate.youtube.com": ("216.239.38.119", "2001:4860:4802:32::77"),
    "strict.bing.com": ("204.79.197.220", ""),
}


class SafeSearchHandler:
    def __init__(self) -> None:
        self.tables = tables()  # built once: one dict lookup per query

    async def handle(self, q: Query, call_next: Next) -> Answer:
        level = q.group.safe_search
        target = self.tables[level].get(q.name) if level != "off" else None
        if target is None:
            return await call_next(q)
        cname = RR(q.name, QTYPE.CNAME, rdata=CNAME(target + "."), ttl=CNAME_TTL)
        if q.qtype == QTYPE.CNAME:
            return _answer(q, target, (cname,), CNAME_TTL, synthetic=True)
        resolved = await call_next(q.for_name(target))
        records: tuple[RR, ...] = ()
        synthetic = resolved.rcode != 0 or resolved.kind == "servfail"
        if not synthetic:
            records = resolved.sections().answer
        elif target in FALLBACK and q.qtype in (QTYPE.A, QTYPE.AAAA):
            v4, v6 = FALLBACK[target]
            if q.qtype == QTYPE.A:
                records = (RR(target, QTYPE.A, rdata=A(v4), ttl=FALLBACK_TTL),)
            elif v6:
                records = (RR(target, QTYPE.AAAA, rdata=AAAA(v6), ttl=FALLBACK_TTL),)
        ttl: int | None = min([CNAME_TTL, *(rr.ttl for rr in records)])
        if not synthetic:  # reused no longer than the target's records (never, if stale)
            ttl = None if resolved.cache_ttl is None else min(CNAME_TTL, resolved.cache_ttl,
                                                              *(rr.ttl for rr in records))
        return _answer(q, target, (cname, *records), ttl, synthetic)


def _answer(q: Query, target: str, records: tuple[RR, ...], ttl: int | None,
            synthetic: bool) -> Answer:
    # The CNAME is ours: its TTL stays when the answer is reused; the target's records age
    # (all of it stays when everything is ours: the fallback addresses).
    return Answer("safesearch", f"safe search: {q.name} → {target}", answer=records,
                  label=target, cache_ttl=ttl, fixed_ttl=synthetic, fixed_records=1)
