"""Addresses as hosts and as destinations: the two address rules of the policy.

1. **IP-literal hosts** (`http://3232235777/`, `CONNECT 192.168.1.1:443`, a Host header of
   `0xC0A80101`): a name list cannot see an address, so typing one would bypass every list.
   The canonicaliser (`blocklists.urls`) reads every notation (decimal, hex, octal, short
   forms, IPv4-mapped and NAT64 IPv6) into one text; `Policy.decide` then blocks the address
   for a group with `ip_literals = "block"` (the default) unless an allow list lists it. The
   decision's list id is `ip-literal`, category `filter_bypass`, so the block page, the
   incident and `roja policy explain` all say what happened.
2. **Private destinations** (`private_decision`): loopback, link-local, RFC 1918/ULA, CGNAT,
   multicast, reserved and unspecified addresses, and the gateway's own addresses, are no web
   destination for a client: they reach the gateway's own services (the block-page server,
   metrics) or the LAN behind the filter. They are refused, as an IP-literal host and as the
   address a name resolves to, unless `[policy] allow_private` lists a network holding them;
   the gateway's own addresses stay refused even then. List id `private-address`.

Not done, and why: treating every address a listed name resolves to as that name. A list of
millions of names cannot be resolved ahead, the answers move, and shared CDN addresses would
block unrelated sites. IP-literal hosts are blocked by default instead; a group allowed to use
them (teachers, a lab) can reach a listed site by its address (docs/threats.md).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IpLiterals = Literal["block", "allow"]
IP_LITERAL = "ip-literal"
PRIVATE = "private-address"
CATEGORY = "filter_bypass"
_DIGITS = frozenset("0123456789]")


@dataclass(frozen=True)
class AddressRules:
    """`[policy] allow_private`: private networks that clients may reach through the proxy."""

    allow_private: tuple[Network, ...] = ()


def host_address(host: str) -> Address | None:
    """The address of a canonical host (`192.168.1.1`, `[fd00::1]`), or None for a name.
    Fast for names: a top-level label never ends in a digit."""
    if not host or host[-1] not in _DIGITS:
        return None
    try:
        return ipaddress.ip_address(host[1:-1] if host.startswith("[") else host)
    except ValueError:
        return None


def _plain(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def private_reason(address: Address, rules: AddressRules,
                   gateway: Collection[Address] = ()) -> str | None:
    """Why `address` may not be reached (the gateway's own, or private and not allowed), or
    None when it may. `Policy.destination` turns this into a `private-address` block."""
    address = _plain(address)
    if address in gateway:
        return f"{address} is the gateway itself (its own services are no web destination)"
    if address.is_global and not address.is_multicast:
        return None
    if any(address.version == n.version and address in n for n in rules.allow_private):
        return None
    return (f"{address} is a private, loopback or local address ([policy] allow_private "
            "does not list it)")


def ip_literal_reason(host: str) -> str:
    return f'{host} is an IP address, not a name (the group\'s ip_literals is "block")'
