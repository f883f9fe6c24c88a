"""The values a policy decision is made of: list rules, groups, the matchers a policy reads
and the `Decision` it returns (`policy.engine` decides; the servers only read these)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol

from blocklists.compiled import Match
from blocklists.confidential import HashMatch
from policy.addresses import IpLiterals
from policy.bypass import DOH_LIST
from policy.reserved import is_selftest
from policy.state import SafeSearch

ListKind = Literal["deny", "allow", "legal"]
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
    """How a list is used: `deny` blocks, `allow` unblocks, `legal` blocks and wins over all.
    `important`: the rule of a list's `$important` entries (`X@important`), which only the
    school's own allow lists and unblocks open."""

    id: str
    kind: ListKind
    category: str
    important: bool = False


@dataclass(frozen=True)
class Group:
    """Clients identified by explicit addresses, MAC addresses (through the neighbour table
    snapshot the policy is given) or networks; the lists, profile and safe-search level."""

    id: str
    name: str
    networks: tuple[Network, ...] = ()
    lists: frozenset[str] | None = None  # None: every deny and allow list applies
    safe_search: SafeSearch = "moderate"
    addresses: tuple[str, ...] = ()      # canonical address text (configkit.client_address)
    macs: tuple[str, ...] = ()           # lower-case, colon-separated
    profile: str = ""                    # a Profile id; "" blocks every category
    ip_literals: IpLiterals = "block"    # IP-address hosts (policy.addresses)
    family: bool = False                 # subscribers' family filter (ISP report, plan 3.3)

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

    @property
    def selftest(self) -> bool:
        """A block of `roja selftest`'s reserved names (`policy.reserved`): never an incident."""
        return is_selftest(self.entry)

    @property
    def doh(self) -> bool:
        """A known encrypted-DNS endpoint (`policy.bypass`): the proxy refuses it as such."""
        return self.list_id == DOH_LIST


PASS = Decision("pass", "no list matches")
