"""Address lists: which lists name an IP address, looked up in one bisect.

The list readers keep the addresses and networks a list names apart from its names
(`CompiledList.addresses`, list id → canonical text such as `192.0.2.7`, `10.0.0.0/8`,
`2001:db8::/32`). `AddressLists.build` turns them, once per policy, into sorted integer
ranges per IP version: every boundary where the set of covering lists changes, and that set.
A lookup is then one `bisect` over ints, with no `ipaddress` object made: the resolver asks
it for every A/AAAA record of an upstream answer (the 4 or 16 address bytes as they came).

`Policy.address_block` turns a hit into a decision: a legal list blocks for every group; a
deny list blocks for the groups it applies to, when their profile blocks its category now.
The entry named in the decision (and so in the incident and on the block page) is the
listed address or network that holds the address, found again only on a hit.

IPv4-mapped IPv6 addresses (`::ffff:192.0.2.7`), in answers and in lists, are the IPv4
address.
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

_MAPPED = 0xFFFF << 32  # ::ffff:0:0/96, IPv4-mapped IPv6
_MAPPED_MASK = ~0xFFFFFFFF & ((1 << 128) - 1)


@dataclass(frozen=True)
class _Ranges:
    """One IP version: `starts[i]` begins a run of addresses covered by `lists[i]`."""

    starts: list[int] = field(default_factory=list)
    lists: list[tuple[str, ...]] = field(default_factory=list)

    def find(self, value: int) -> tuple[str, ...]:
        i = bisect_right(self.starts, value) - 1
        return self.lists[i] if i >= 0 else ()


def _sweep(spans: list[tuple[int, int, str]]) -> _Ranges:
    """Ranges from (first, last, list id) spans that may overlap (a /8 and a /24 in it)."""
    events: dict[int, list[tuple[int, str]]] = {}
    for first, last, list_id in spans:
        events.setdefault(first, []).append((1, list_id))
        events.setdefault(last + 1, []).append((-1, list_id))
    active: dict[str, int] = {}
    out = _Ranges()
    for point in sorted(events):
        for step, list_id in events[point]:
            count = active.get(list_id, 0) + step
            if count:
                active[list_id] = count
            else:
                active.pop(list_id, None)
        covering = tuple(sorted(active))
        if out.lists and out.lists[-1] == covering:
            continue
        if not out.lists and not covering:
            continue
        out.starts.append(point)
        out.lists.append(covering)
    return out


def network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """A list's address entry as a network (IPv4-mapped IPv6 as IPv4), or None."""
    try:
        return _plain(ipaddress.ip_network(text, strict=False))
    except ValueError:
        return None


def _plain(net: ipaddress.IPv4Network | ipaddress.IPv6Network
           ) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """An IPv4-mapped IPv6 network (`::ffff:192.0.2.7`) as the IPv4 network it is."""
    first = int(net.network_address)
    if net.version == 6 and net.prefixlen >= 96 and first & _MAPPED_MASK == _MAPPED:
        return ipaddress.IPv4Network((first & 0xFFFFFFFF, net.prefixlen - 96))
    return net


@dataclass(frozen=True)
class AddressLists:
    """The address entries of every list, ready for lookups. Empty (and false) when no list
    names an address: the resolver then skips address records altogether."""

    v4: _Ranges = field(default_factory=_Ranges)
    v6: _Ranges = field(default_factory=_Ranges)
    # (list id, version) → {(first address as int, prefix length): canonical text}
    entries: Mapping[tuple[str, int], Mapping[tuple[int, int], str]] = field(
        default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.v4.starts or self.v6.starts)

    @classmethod
    def build(cls, addresses: Mapping[str, Sequence[str]]) -> AddressLists:
        """From list id → addresses and networks (canonical text; anything unreadable is
        skipped: the readers only keep what `ipaddress` read)."""
        spans: dict[int, list[tuple[int, int, str]]] = {4: [], 6: []}
        entries: dict[tuple[str, int], dict[tuple[int, int], str]] = {}
        for list_id, found in addresses.items():
            for text in found:
                net = network(text)
                if net is None:
                    continue
                first = int(net.network_address)
                spans[net.version].append((first, int(net.broadcast_address), list_id))
                entries.setdefault((list_id, net.version), {})[(first, net.prefixlen)] = text
        return cls(_sweep(spans[4]), _sweep(spans[6]), entries)

    def lists_of(self, packed: bytes) -> tuple[str, ...]:
        """The ids of the lists naming the address given as its 4 or 16 bytes (an A or AAAA
        record's data), in sorted order; () for none."""
        value = int.from_bytes(packed, "big")
        if len(packed) == 4:
            return self.v4.find(value)
        if value & _MAPPED_MASK == _MAPPED:
            return self.v4.find(value & 0xFFFFFFFF)
        return self.v6.find(value)

    def entry(self, list_id: str, packed: bytes) -> str:
        """The listed address or network of `list_id` holding the address (the longest)."""
        value = int.from_bytes(packed, "big")
        version, bits = (4, 32) if len(packed) == 4 else (6, 128)
        if version == 6 and value & _MAPPED_MASK == _MAPPED:
            version, bits, value = 4, 32, value & 0xFFFFFFFF
        table = self.entries.get((list_id, version), {})
        for prefix in range(bits, -1, -1):
            first = value >> (bits - prefix) << (bits - prefix)
            text = table.get((first, prefix))
            if text is not None:
                return text
        return ""

    def count(self) -> int:
        return sum(len(table) for table in self.entries.values())


NO_ADDRESS_LISTS = AddressLists()
