"""Safe search: rewrite search engines to their safe endpoints with a CNAME, per group.

`www.google.<every ccTLD>` → `forcesafesearch.google.com`; `www.bing.com` → `strict.bing.com`;
`duckduckgo.com`, `www.`/`start.duckduckgo.com` → `safe.duckduckgo.com`; YouTube names →
`restrictmoderate.youtube.com` (or `restrict.youtube.com` when the group is `strict`); Ecosia →
`strict-safe-search.ecosia.org`. The answer carries the CNAME and the target's addresses,
resolved through the rest of the chain; if that fails, the operators' published addresses
are used, so safe search answers even without an upstream.
Config: per group, `safe_search = "off" | "moderate" | "strict"` (default `moderate`).
Metric: result `safesearch`.
"""

from __future__ import annotations

from importlib import resources

from dnslib import AAAA, CNAME, QTYPE, RR, A

from dns_resolver.messages import Answer, Next, Query

CNAME_TTL = 300
FALLBACK_TTL = 60

# Published virtual IPs of the safe endpoints (used only when the upstream cannot be reached).
FALLBACK = {
    "forcesafesearch.google.com": ("216.239.38.120", "2001:4860:4802:32::78"),
    "restrict.youtube.com": ("216.239.38.120", "2001:4860:4802:32::78"),
    "restrictmoderate.youtube.com": ("216.239.38.119", "2001:4860:4802:32::77"),
    "strict.bing.com": ("204.79.197.220", ""),
}

YOUTUBE = ("www.youtube.com", "m.youtube.com", "youtubei.googleapis.com",
           "youtube.googleapis.com", "www.youtube-nocookie.com")


def rewrite_table(level: str) -> dict[str, str]:
    """Name → safe target for a safe-search level (`moderate` or `strict`)."""
    table: dict[str, str] = {}
    text = resources.files("dns_resolver.data").joinpath("google_domains.txt").read_text()
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        for domain in line.split():
            table["www." + domain] = "forcesafesearch.google.com"
            table[domain] = "forcesafesearch.google.com"
    for name in ("www.bing.com", "bing.com"):
        table[name] = "strict.bing.com"
    for name in ("duckduckgo.com", "www.duckduckgo.com", "start.duckduckgo.com"):
        table[name] = "safe.duckduckgo.com"
    youtube = "restrict.youtube.com" if level == "strict" else "restrictmoderate.youtube.com"
    for name in YOUTUBE:
        table[name] = youtube
    for name in ("www.ecosia.org", "ecosia.org"):
        table[name] = "strict-safe-search.ecosia.org"
    return table


class SafeSearchHandler:
    def __init__(self) -> None:
        self.tables = {level: rewrite_table(level) for level in ("moderate", "strict")}

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
