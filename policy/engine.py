"""Groups, list rules and the `decide()` function (pure: no I/O, injected time)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, NamedTuple, Protocol

from blocklists.compiled import Match
from blocklists.confidential import HashMatch
from blocklists.urls import CanonicalUrl, canonical_url
from configkit import client_address

ListKind = Literal["deny", "allow", "legal"]
SafeSearch = Literal["off", "moderate", "strict"]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Matcher(Protocol):
    def lookup(self, host: str) -> list[Match]: ...

    def has_url_entries(self, host: str) -> bool: ...

    def lookup_url(self, host: str, path: str) -> list[Match]: ...


class HashedMatcher(Protocol):
    """The confidential (hashed) entries: matches carry a hash id, never the entry."""

    def match_host(self, host: str) -> list[HashMatch]: ...

    def match_url(self, url: str) -> list[HashMatch]: ...


@dataclass(frozen=True)
class ListRule:
    """How a list is used: `deny` blocks, `allow` unblocks, `legal` blocks and wins over all."""

    id: str
    kind: ListKind
    category: str


@dataclass(frozen=True)
class Group:
    """Clients identified by their networks, and the lists and safe-search level they get."""

    id: str
    name: str
    networks: tuple[Network, ...] = ()
    lists: frozenset[str] | None = None  # None: every deny and allow list applies
    safe_search: SafeSearch = "moderate"

    def applies(self, list_id: str) -> bool:
        return self.lists is None or list_id in self.lists


class Decision(NamedTuple):
    """The outcome and why. `action` is `block`, `allow` (an allow rule matched) or `pass`."""

    action: Literal["block", "allow", "pass"]
    reason: str
    category: str = ""
    list_id: str = ""
    entry: str = ""
    legal: bool = False
    confidential: bool = False

    @property
    def blocked(self) -> bool:
        return self.action == "block"


PASS = Decision("pass", "no list matches")


@dataclass
class Policy:
    groups: tuple[Group, ...]
    default_group: Group
    rules: dict[str, ListRule]
    matcher: Matcher
    confidential: HashedMatcher | None = None
    _by_network: list[tuple[Network, Group]] = field(default_factory=list, init=False)
    _rules: dict[str, ListRule] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        # Allow entries inside a deny or allow list X are tagged `X@allow`: an allow rule that
        # applies where X applies. Inside a legal list they are ignored (nothing opens it).
        self._rules = dict(self.rules) | {
            f"{r.id}@allow": ListRule(r.id, "allow", r.category)
            for r in self.rules.values() if r.kind != "legal"}
        pairs = [(net, g) for g in self.groups for net in g.networks]
        # Longest prefix first, so a /24 group wins over the /16 it sits in.
        self._by_network = sorted(pairs, key=lambda p: p[0].prefixlen, reverse=True)

    def group_for(self, client: str) -> Group:
        address = client_address(client)
        if address is None:
            return self.default_group
        for net, group in self._by_network:
            if address.version == net.version and address in net:
                return group
        return self.default_group

    def decide(self, group: Group, host: str, now: datetime | None = None) -> Decision:
        """Decide for canonical `host`. Legal lists first, then allow, then deny."""
        del now  # schedules arrive with policy v2; the signature is already final
        matches = self.matcher.lookup(host)
        for m in matches:
            rule = self._rules.get(m.list_id)
            if rule is not None and rule.kind == "legal":
                return Decision("block", f"legal list {rule.id!r} lists {m.entry}",
                                m.category or rule.category, rule.id, m.entry, legal=True)
        if self.confidential is not None:
            hashed = self.confidential.match_host(host)
            if hashed:
                h = hashed[0]
                # Never the entry's text: only its hash id may appear anywhere.
                return Decision("block", f"confidential list {h.list_id!r} (hash {h.hash_id})",
                                h.category, h.list_id, f"sha256:{h.hash_id}", legal=True,
                                confidential=True)
        if not matches:
            return PASS
        allow: Match | None = None
        deny: Match | None = None
        for m in matches:
            rule = self._rules.get(m.list_id)
            if rule is None:
                continue
            if rule.kind == "legal":
                continue  # handled above
            if not group.applies(rule.id):
                continue
            if rule.kind == "allow" and allow is None:
                allow = m
            elif rule.kind == "deny" and deny is None:
                deny = m
        if allow is not None:
            return Decision("allow", f"allow list {allow.list_id!r} lists {allow.entry}",
                            allow.category, allow.list_id, allow.entry)
        if deny is not None:
            return Decision("block", f"list {deny.list_id!r} lists {deny.entry}",
                            deny.category, deny.list_id, deny.entry)
        return PASS

    def needs_proxy(self, host: str) -> bool:
        """Does canonical `host` (or a parent) have URL-level entries, so that only the proxy
        can decide for it? The resolver steers such names to the proxy (DNS steering)."""
        return self.matcher.has_url_entries(host)

    def decide_url(self, group: Group, url: str | CanonicalUrl,
                   now: datetime | None = None) -> Decision:
        """Decide for a URL: the host's decision first (a blocked host blocks every URL on
        it), then confidential URL hashes, then URL entries (legal, then allow, then deny).
        An unparseable URL passes here; the proxy answers it 400 before asking."""
        found = canonical_url(url) if isinstance(url, str) else url
        if found is None:
            return PASS
        host_decision = self.decide(group, found.host, now)
        if host_decision.blocked:
            return host_decision
        if self.confidential is not None:
            hashed = self.confidential.match_url(found.url)
            if hashed:
                h = hashed[0]
                return Decision("block", f"confidential list {h.list_id!r} (hash {h.hash_id})",
                                h.category, h.list_id, f"sha256:{h.hash_id}", legal=True,
                                confidential=True)
        path = found.path + ("?" + found.query if found.query else "")
        matches = self.matcher.lookup_url(found.host, path)
        allow: Match | None = None
        deny: Match | None = None
        for m in matches:
            rule = self._rules.get(m.list_id)
            if rule is None:
                continue
            if rule.kind == "legal":
                return Decision("block", f"legal list {rule.id!r} lists {m.entry}",
                                m.category or rule.category, rule.id, m.entry, legal=True)
            if not group.applies(rule.id):
                continue
            if rule.kind == "allow" and allow is None:
                allow = m
            elif rule.kind == "deny" and deny is None:
                deny = m
        if host_decision.action == "allow":
            return host_decision
        if allow is not None:
            return Decision("allow", f"allow list {allow.list_id!r} lists {allow.entry}",
                            allow.category, allow.list_id, allow.entry)
        if deny is not None:
            return Decision("block", f"list {deny.list_id!r} lists {deny.entry}",
                            deny.category, deny.list_id, deny.entry)
        return PASS
