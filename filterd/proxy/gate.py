"""What the proxy does with a connection or a request, from the policy alone (no mitmproxy).

An adapter: every rule is the policy's (`policy`), this module only maps its `Decision` to
what the proxy does. At ClientHello (or CONNECT) every name the client showed (SNI, CONNECT
target) is decided: a known DoH endpoint (`Decision.doh`) is refused; a blocked name is
blocked; a name with URL-level entries is intercepted; anything else passes through
undecrypted. For a request, every name (Host header, absolute-form URL host, SNI) is decided
as a host and the URL of the Host name with `Policy.decide_url`; any block blocks (domain
fronting), and only a decided name is ever connected to. Safe search (`policy.safesearch`):
`YouTube-Restrict` on YouTube, `safe=active` on Google search, `adlt=strict` on Bing search,
per group (`[proxy] youtube_restrict`, group `safe_search`).

Names the proxy resolves itself are decided again through their CNAME chain (`aliases`,
`request_aliases`), and every address it connects to is checked by `destination` (private
ranges, the gateway's own addresses: `policy.addresses`), so nothing reaches past the policy.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from blocklists.urls import CanonicalUrl, canonical_url, canonical_url_host
from policy import Decision, Group
from policy import safesearch as safe
from policy.ref import PolicySource
from reporting.incidents import Incident, IncidentSink

Kind = Literal["pass", "intercept", "block", "doh", "bad"]

__all__ = ["Gate", "Outcome", "PolicySource", "canonical_names", "incident", "record",
           "safe_search_param"]


@dataclass(frozen=True)
class Outcome:
    """`kind`, the name that decided it and the policy's decision (for blocks)."""

    kind: Kind
    host: str = ""
    decision: Decision | None = None
    url: str = ""

    @property
    def stops(self) -> bool:
        return self.kind in ("block", "doh", "bad")


def stop(host: str, d: Decision, url: str = "") -> Outcome:
    """The outcome of a block: `doh` for an encrypted-DNS endpoint, else `block`."""
    return Outcome("doh" if d.doh else "block", host, d, url)


def _bracketed(name: str) -> str:
    """mitmproxy gives an IPv6 address bare (the original destination in transparent mode,
    `fd77:2::80`); URL rules read it only as `[fd77:2::80]`."""
    if ":" in name and not name.startswith("["):
        try:
            return f"[{ipaddress.IPv6Address(name)}]"
        except ValueError:
            return name
    return name


def canonical_names(names: Iterable[str | None]) -> list[str] | None:
    """Canonical hosts of `names` (empty ones skipped, duplicates once); None if any cannot
    be read as a host at all (the request is then refused as malformed)."""
    out: list[str] = []
    for name in names:
        if not name:
            continue
        host = canonical_url_host(_bracketed(name.rstrip(".")))
        if host is None:
            return None
        if host not in out:
            out.append(host)
    return out


class Gate:
    def __init__(self, policy: PolicySource, youtube_restrict: str = "group",
                 gateway: Iterable[str] = ()) -> None:
        self.policy = policy
        self.youtube_restrict = youtube_restrict
        # The gateway's own addresses: never a destination (`destination`).
        self.gateway = frozenset(ipaddress.ip_address(a) for a in gateway)

    def group(self, client: str) -> Group:
        return self.policy.current.group_for(client)

    def connection(self, group: Group, names: Iterable[str | None]) -> Outcome:
        """At CONNECT or ClientHello: doh > block > intercept > pass, over every name."""
        hosts = canonical_names(names)
        if hosts is None:
            return Outcome("bad")
        policy = self.policy.current
        decided = [(host, policy.decide(group, host)) for host in hosts]
        blocks = [(host, d) for host, d in decided if d.blocked]
        if blocks:
            return stop(*next((b for b in blocks if b[1].doh), blocks[0]))
        if any(policy.needs_proxy(h) for h in hosts):
            return Outcome("intercept", hosts[0])
        return Outcome("pass", hosts[0] if hosts else "")

    def request(self, group: Group, scheme: str, host: str, path: str,
                others: Iterable[str | None] = ()) -> Outcome:
        """A request for `scheme://host/path` (host = the Host header's name); `others` are the
        other names the client showed for it (SNI, absolute-form URL host)."""
        hosts = canonical_names([host, *others])
        if not hosts or not path.startswith("/") or len(path) > 8192:
            return Outcome("bad")
        primary = hosts[0]
        first = self.connection(group, hosts[1:]) if len(hosts) > 1 else Outcome("pass")
        if first.stops:
            return first
        url = f"{scheme}://{primary}{path}"
        found = canonical_url(url)
        if found is None:
            return Outcome("bad")
        shown = _shown(found)
        d = self.policy.current.decide_url(group, found)
        if d.blocked:
            return stop(found.host, d, shown)
        return Outcome("pass", primary, d, shown)

    def request_aliases(self, group: Group, scheme: str, path: str,
                        aliases: Iterable[str]) -> Outcome | None:
        """The CNAME chain of a request's host: each alias decided for the same URL, as DNS
        decides each name of a chain; the first block (or DoH name), or None."""
        policy = self.policy.current
        for alias in aliases:
            found = canonical_url(f"{scheme}://{alias}{path}")
            if found is None:
                return Outcome("bad")
            d = policy.decide_url(group, found)
            if d.blocked:
                return stop(found.host, d, _shown(found))
        return None

    def destination(self, address: str) -> Decision | None:
        """A `private-address` block when the proxy may not connect to `address`."""
        return self.policy.current.destination(ipaddress.ip_address(address), self.gateway)

    def listed_destination(self, group: Group, address: str, host: str = "") -> Decision | None:
        """The block of an address the proxy would connect to when a deny (or legal) address
        list names it for `group` (`policy.address_rules`), or None. As at the resolver, a
        `host` the policy opens for the group (an allow list) meets only legal lists."""
        policy = self.policy.current
        if not policy.address_lists:
            return None
        opened = bool(host) and policy.decide(group, host).action == "allow"
        return policy.address_block(group, ipaddress.ip_address(address).packed,
                                    only_legal=opened)

    def youtube_level(self, group: Group, host: str) -> str | None:
        """`Moderate` or `Strict` for YouTube hosts (None: no header)."""
        level = group.safe_search if self.youtube_restrict == "group" else self.youtube_restrict
        return safe.youtube_level(level, host)


def _shown(found: CanonicalUrl) -> str:
    return f"{found.scheme}://{found.host}{found.path}"  # no query: it may be personal


def safe_search_param(group: Group, host: str, path: str) -> tuple[str, str] | None:
    """The query parameter that forces safe search on a search page, or None."""
    return safe.search_param(group.safe_search, host, path)


def incident(outcome: Outcome, client: str, group: Group, action: str) -> Incident:
    """The incident for a stop; a confidential entry is recorded by its hash id only."""
    d = outcome.decision
    assert d is not None
    name = d.entry if d.confidential else (outcome.url or outcome.host)
    return Incident(at=time.time(), client=client, group=group.id, name=name,
                    category=d.category, list_id=d.list_id, action=action, source="proxy",
                    reason=d.reason)


def record(sink: IncidentSink | None, outcome: Outcome, client: str, group: Group) -> None:
    # `roja selftest`'s reserved names (policy.reserved) are never incidents.
    if sink is None or outcome.decision is None or outcome.decision.selftest:
        return
    action = "doh-refused" if outcome.kind == "doh" else "blocked"
    sink.submit(incident(outcome, client, group, action))
