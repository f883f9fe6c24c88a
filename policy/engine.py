"""Groups, list rules and the `decide()` function (pure: no I/O, injected time).

Order of a decision: legal lists (and the hashed confidential set) block and nothing opens
them; then a known DoH/DoT endpoint blocks (`policy.bypass`), nothing opens it either;
then a time-boxed unblock of the host for the group; then allow lists; then deny lists, whose
entries block when the group's profile blocks their category at that moment (schedules
open or close categories). An `$important` deny entry (`X@important`) is opened only by the
school's own allow lists (kind `allow`) and unblocks, never by another list's `@@` entries.
Addresses follow the same order (`policy.address_rules`). `decide(..., now=None)` uses the
state computed for the policy's own `now` (the appliance moves it with `at(now)` at every
schedule boundary); an explicit `now` outside that state's validity computes the state for
that moment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cache
from typing import Literal

from blocklists.bypass import doh_hosts
from blocklists.compiled import Match
from blocklists.urls import CanonicalUrl, canonical_url
from configkit import client_address
from policy.address_lists import NO_ADDRESS_LISTS, AddressLists
from policy.address_rules import AddressDecisions
from policy.addresses import (
    CATEGORY as ADDRESS_CATEGORY,
)
from policy.addresses import (
    IP_LITERAL,
    Address,
    AddressRules,
    host_address,
    ip_literal_reason,
)
from policy.bypass import DOH_LIST, Endpoints, doh_reason, within
from policy.categories import ALIASES
from policy.decision import PASS as PASS
from policy.decision import Decision as Decision
from policy.decision import Group as Group
from policy.decision import HashedMatcher as HashedMatcher
from policy.decision import ListKind as ListKind
from policy.decision import ListRule as ListRule
from policy.decision import Matcher as Matcher
from policy.decision import Network as Network
from policy.schedule import Schedule
from policy.state import GroupState, Profile, State, Unblock, state_at


def doh_block(host: str, endpoint: str) -> Decision:
    """The block of `host`, a known DoH/DoT endpoint or a name below `endpoint`."""
    return Decision("block", doh_reason(host, endpoint), ADDRESS_CATEGORY, DOH_LIST, endpoint)


@cache
def shipped_endpoints() -> Endpoints:
    """The DoH/DoT endpoint names shipped with the lists (`blocklists.bypass`), built once."""
    return Endpoints(doh_hosts())


def normalize_mac(text: str) -> str | None:
    """`AA-BB-CC-DD-EE-FF` or `aa:bb:...` → `aa:bb:cc:dd:ee:ff`; None if not a MAC address."""
    parts = text.strip().lower().replace("-", ":").split(":")
    if len(parts) != 6 or not all(len(p) == 2 and all(c in "0123456789abcdef" for c in p)
                                  for p in parts):
        return None
    return ":".join(parts)


GroupHow = Literal["address", "mac", "network", "default"]


@dataclass
class Policy(AddressDecisions):
    groups: tuple[Group, ...]
    default_group: Group
    rules: dict[str, ListRule]
    matcher: Matcher
    confidential: HashedMatcher | None = None
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    schedules: tuple[Schedule, ...] = ()
    holidays: frozenset[date] = frozenset()
    unblocks: tuple[Unblock, ...] = ()
    neighbours: Mapping[str, str] = field(default_factory=dict)  # address → MAC, a snapshot
    now: datetime | None = None
    addresses: AddressRules = field(default_factory=AddressRules)  # [policy] allow_private
    endpoints: Endpoints = field(default_factory=shipped_endpoints)  # policy.bypass
    # The lists' address entries (policy.address_lists); made from the matcher's `addresses`
    # (a CompiledList's) when not given, once: `at()` and the other copies carry it over.
    address_lists: AddressLists = NO_ADDRESS_LISTS
    _by_network: list[tuple[Network, Group]] = field(default_factory=list, init=False)
    _by_address: dict[str, Group] = field(default_factory=dict, init=False)
    _by_mac: dict[str, Group] = field(default_factory=dict, init=False)
    _rules: dict[str, ListRule] = field(default_factory=dict, init=False)
    _standalone_allow: frozenset[str] = field(default=frozenset(), init=False)
    _doh: dict[str, tuple[str, ...]] = field(default_factory=dict, init=False)
    _state: State = field(default=State(None, None, {}), init=False)
    _oneoff: State = field(default=State(None, None, {}), init=False)

    def __post_init__(self) -> None:
        # Allow entries inside a deny or allow list X are tagged `X@allow`: an allow rule that
        # applies where X applies. Inside a legal list they are ignored (nothing opens it).
        # `$important` entries of list X are tagged `X@important`: X's rule, marked important.
        self._rules = dict(self.rules) | {
            f"{r.id}@allow": ListRule(r.id, "allow", r.category)
            for r in self.rules.values() if r.kind != "legal"} | {
            f"{r.id}@important": replace(r, important=True) for r in self.rules.values()}
        self._standalone_allow = frozenset(r.id for r in self.rules.values() if r.kind == "allow")
        self._doh = self.endpoints.by_tail
        pairs = [(net, g) for g in self.groups for net in g.networks]
        # Longest prefix first, so a /24 group wins over the /16 it sits in.
        self._by_network = sorted(pairs, key=lambda p: p[0].prefixlen, reverse=True)
        self._by_address = {a: g for g in self.groups for a in g.addresses}
        self._by_mac = {m: g for g in self.groups for m in g.macs}
        self._state = self._compute(self.now)
        if self.address_lists is NO_ADDRESS_LISTS:
            self.address_lists = AddressLists.build(getattr(self.matcher, "addresses", {}))

    def _group_profiles(self) -> dict[str, Profile | None]:
        return {g.id: self.profiles.get(g.profile) if g.profile else None
                for g in (*self.groups, self.default_group)}

    def _compute(self, now: datetime | None) -> State:
        return state_at(self._group_profiles(), self.schedules, self.holidays, self.unblocks,
                        now)

    # -- new policies from this one (the appliance swaps them in, then clears its caches) --

    def at(self, now: datetime) -> Policy:
        """This policy with its state moved to `now` (schedules in force, unblocks active)."""
        return replace(self, now=now)

    def with_unblocks(self, unblocks: tuple[Unblock, ...], now: datetime | None = None) -> Policy:
        return replace(self, unblocks=unblocks, now=now if now is not None else self.now)

    def with_neighbours(self, neighbours: Mapping[str, str]) -> Policy:
        return replace(self, neighbours=neighbours)

    def next_change(self) -> datetime | None:
        """When the state computed for `now` stops being valid (UTC), or None: never."""
        return self._state.until

    def state_for(self, group: Group, now: datetime | None = None) -> GroupState:
        state = self._state
        if now is not None and not state.valid_at(now):
            state = self._oneoff
            if not state.valid_at(now):
                state = self._oneoff = self._compute(now)
        found = state.groups.get(group.id)
        if found is not None:
            return found
        # A group this policy does not know (an old policy's, or a test's): computed alone.
        return state_at({group.id: self.profiles.get(group.profile) if group.profile else None},
                        self.schedules, self.holidays, self.unblocks, now or self.now
                        ).groups[group.id]

    # -- groups --

    def locate(self, client: str, mac: str | None = None) -> tuple[Group, GroupHow, str]:
        """The client's group, how it was found, and the matching address/MAC/network."""
        address = client_address(client)
        if address is None:
            return self.default_group, "default", ""
        key = str(address)
        group = self._by_address.get(key)
        if group is not None:
            return group, "address", key
        if self._by_mac:
            found = normalize_mac(mac) if mac else self.neighbours.get(key)
            if found is not None and found in self._by_mac:
                return self._by_mac[found], "mac", found
        for net, group in self._by_network:
            if address.version == net.version and address in net:
                return group, "network", str(net)
        return self.default_group, "default", ""

    def group_for(self, client: str, mac: str | None = None) -> Group:
        return self.locate(client, mac)[0]

    # -- decisions --

    def rule_for(self, list_id: str) -> ListRule | None:
        """The rule of a compiled list id (`X@allow` is list X's allow rule)."""
        return self._rules.get(list_id)

    def legal_block(self, host: str) -> Decision | None:
        """The legal layer alone: the block of a legal list or the confidential set, or None."""
        return self._legal(host, self.matcher.lookup(host))

    def _legal(self, host: str, matches: list[Match]) -> Decision | None:
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
        return None

    def allow_applies(self, group: Group, gs: GroupState, m: Match, rule: ListRule) -> bool:
        return self._opens(group, gs, m.list_id, rule)

    def _pick(self, group: Group, gs: GroupState,
              matches: list[Match]) -> tuple[Match | None, Match | None]:
        """The allow and deny matches that decide; an important deny match leaves only an
        allow match of the school's own allow lists."""
        allow: Match | None = None
        own: Match | None = None
        deny: Match | None = None
        important: Match | None = None
        for m in matches:
            rule = self._rules.get(m.list_id)
            if rule is None or rule.kind == "legal":
                continue
            if rule.kind == "allow":
                if (allow is None or own is None) and self.allow_applies(group, gs, m, rule):
                    allow = allow or m
                    if own is None and self.own_allow(rule):
                        own = m
            elif (deny is None or (important is None and rule.important)) and \
                    group.applies(rule.id) and gs.blocks(rule.id, m.category or rule.category,
                                                         ALIASES):
                deny = deny or m
                if rule.important and important is None:
                    important = m
        if important is not None:
            return own, important
        return allow, deny

    def decide(self, group: Group, host: str, now: datetime | None = None) -> Decision:
        """Decide for canonical `host`: legal, then a known DoH endpoint (`policy.bypass`,
        nothing opens it), then unblocks, then allow, then deny. An IP-address host also meets
        the address rules (`policy.addresses`)."""
        matches = self.matcher.lookup(host)
        legal = self._legal(host, matches)
        if legal is not None:
            return legal
        # `policy.bypass.tail`, inlined: one slice and one dict lookup for an ordinary name.
        below = self._doh.get(host[host.rfind(".", 0, host.rfind(".")) + 1:])
        if below is not None:
            endpoint = within(host, below)
            if endpoint is not None:
                return doh_block(host, endpoint)
        address = host_address(host)
        if address is not None:
            return self._decide_address(group, host, address, matches, now)
        if not matches:
            return PASS
        gs = self.state_for(group, now)
        allow, deny = self._pick(group, gs, matches)
        return self._outcome(gs, host, allow, deny)

    def _decide_address(self, group: Group, host: str, address: Address,
                        matches: list[Match], now: datetime | None) -> Decision:
        """A private address is refused; then the lists (names, then address lists); then an
        address the lists leave alone is blocked for a group with `ip_literals = "block"`
        (unless unblocked)."""
        private = self.destination(address)
        if private is not None:
            return private
        gs = self.state_for(group, now)
        found = self._outcome(gs, host, *self._pick(group, gs, matches)) if matches else PASS
        if found.action != "block":  # a deny address list blocks even with ip_literals "allow"
            opened = found.action == "allow" or gs.unblock_for(host) is not None
            listed = self.address_decision(group, address.packed, now, only_legal=opened)
            if listed is not None and (listed.blocked or found.action == "pass"):
                found = listed
            if found.blocked:
                return found
        if found.action != "pass" or group.ip_literals == "allow":
            return found
        unblock = gs.unblock_for(host)
        if unblock is not None:
            return Decision("allow", f"unblock #{unblock.id} of {unblock.host} by "
                            f"{unblock.by} until {unblock.expires.isoformat()}",
                            ADDRESS_CATEGORY, "unblock", unblock.host)
        return Decision("block", ip_literal_reason(host), ADDRESS_CATEGORY, IP_LITERAL, host)

    def _outcome(self, gs: GroupState, host: str, allow: Match | None,
                 deny: Match | None) -> Decision:
        if allow is not None:
            return Decision("allow", f"allow list {allow.list_id!r} lists {allow.entry}",
                            allow.category, allow.list_id, allow.entry)
        if deny is not None:
            rule = self._rules.get(deny.list_id)
            category = deny.category or (rule.category if rule else "")
            unblock = gs.unblock_for(host)
            if unblock is not None:
                return Decision("allow", f"unblock #{unblock.id} of {unblock.host} by "
                                f"{unblock.by} until {unblock.expires.isoformat()}",
                                category, "unblock", unblock.host)
            list_id = rule.id if rule else deny.list_id  # `X@important` is list X
            return Decision("block", f"list {list_id!r} lists {deny.entry}",
                            category, list_id, deny.entry)
        return PASS

    def needs_proxy(self, host: str) -> bool:
        """Does canonical `host` (or a parent) have URL-level entries, so that only the proxy
        can decide for it? The resolver steers such names to the proxy (DNS steering)."""
        return self.matcher.has_url_entries(host)

    def decide_url(self, group: Group, url: str | CanonicalUrl,
                   now: datetime | None = None) -> Decision:
        """Decide for a URL: the host's decision first (a blocked host blocks every URL on
        it), then confidential URL hashes, then URL entries (legal, then allow, then deny; an
        unblock of the host opens its deny entries too). An unparseable URL passes here; the
        proxy answers it 400 before asking."""
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
        for m in matches:
            rule = self._rules.get(m.list_id)
            if rule is not None and rule.kind == "legal":
                return Decision("block", f"legal list {rule.id!r} lists {m.entry}",
                                m.category or rule.category, rule.id, m.entry, legal=True)
        if host_decision.action == "allow":
            return host_decision
        if not matches:
            return PASS
        gs = self.state_for(group, now)
        allow, deny = self._pick(group, gs, matches)
        return self._outcome(gs, found.host, allow, deny)
