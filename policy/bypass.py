"""Encrypted-DNS endpoints: names through which a client's DNS would leave the filter.

A known DNS-over-HTTPS/-TLS endpoint (`dns.google`, `cloudflare-dns.com`, ... and any name
below one; the shipped list `blocklists.bypass.doh_hosts`) is blocked for every group, after
the legal layer and before the lists: no allow list, unblock or group setting opens it, since
through it every other rule would be bypassed. `Policy.decide` returns the block with list id
`doh`, category `filter_bypass`: the resolver answers it as blocked, the proxy refuses it
(incident `doh-refused`) and `roja policy explain` names it.

`Endpoints` is built once per policy: a name costs one slice and one dict lookup; only a
name whose last two labels are those of a listed endpoint is compared with those endpoints.
"""

from __future__ import annotations

from collections.abc import Iterable

DOH_LIST = "doh"


class Endpoints:
    """The listed endpoint names, grouped by their last two labels (`by_tail`), and
    `find(host)`: the most specific listed name that `host` is or sits below."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(names)
        grouped: dict[str, list[str]] = {}
        for name in self.names:
            grouped.setdefault(tail(name), []).append(name)
        self.by_tail = {t: tuple(sorted(ns, key=len, reverse=True)) for t, ns in grouped.items()}

    def find(self, host: str) -> str | None:
        below = self.by_tail.get(tail(host))
        return within(host, below) if below is not None else None


def within(host: str, names: tuple[str, ...]) -> str | None:
    """The first of `names` (one tail's, longest first) that `host` is or sits below."""
    for name in names:
        if host == name or (host.endswith(name) and host[-len(name) - 1] == "."):
            return name
    return None


def tail(host: str) -> str:
    """The last two labels (`dns.google` of `x.dns.google`); a single label is itself (no
    listed tail, which always has a dot). `Policy.decide` inlines this expression."""
    return host[host.rfind(".", 0, host.rfind(".")) + 1:]


def doh_reason(host: str, endpoint: str) -> str:
    below = "" if host == endpoint else f" (below {endpoint})"
    return f"DoH endpoint: {host}{below} is an encrypted-DNS resolver (filter bypass)"
