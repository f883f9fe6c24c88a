"""Encrypted-DNS endpoints: names through which a client's DNS would leave the filter.

A known DNS-over-HTTPS/-TLS endpoint (`dns.google`, `cloudflare-dns.com`, ... and any name
below one; the shipped list `blocklists.bypass.doh_hosts`) is blocked for every group, after
the legal layer and before the lists: no allow list, unblock or group setting opens it, since
through it every other rule would be bypassed. `Policy.decide` returns the block with list id
`doh`, category `filter_bypass`: the resolver answers it as blocked, the proxy refuses it
(incident `doh-refused`) and `roja policy explain` names it.

`Endpoints` is built once per policy: a name costs one slice and one set lookup unless its
last two labels are those of a listed endpoint.
"""

from __future__ import annotations

from collections.abc import Iterable

DOH_LIST = "doh"


class Endpoints:
    """The listed endpoint names, and `find(host)`: the listed name `host` is or sits below."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(names)
        self.tails = frozenset(tail(n) for n in self.names)

    def find(self, host: str) -> str | None:
        last_two = tail(host)
        if last_two not in self.tails:
            return None
        name = host
        while True:
            if name in self.names:
                return name
            if len(name) <= len(last_two):
                return None
            name = name[name.index(".") + 1:]


def tail(host: str) -> str:
    """The last two labels (`dns.google` of `x.dns.google`); a single label is itself (no
    listed tail, which always has a dot). `Policy.decide` inlines this expression."""
    return host[host.rfind(".", 0, host.rfind(".")) + 1:]


def doh_reason(host: str, endpoint: str) -> str:
    below = "" if host == endpoint else f" (below {endpoint})"
    return f"DoH endpoint: {host}{below} is an encrypted-DNS resolver (filter bypass)"
