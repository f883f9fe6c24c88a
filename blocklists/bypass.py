"""Known filter-bypass endpoints shipped with the lists: DNS-over-HTTPS host names (refused
by the proxy and the resolver), the addresses of public DoH/DoT resolvers (dropped by the
firewall), and the ports of VPN protocols (watched by the bypass watch and the firewall).

The files live in `blocklists/data/` (`doh_hosts.txt`, `doh_addresses.txt`): one entry per
line, `#` comments. They are maintained with the lists; a school adds its own with a
`[[lists]]` entry of category `filter_bypass`.
"""

from __future__ import annotations

import ipaddress
from functools import cache
from importlib.resources import files

from blocklists.canonical import canonical_host

# (protocol, port, name): the usual VPN handshake ports.
VPN_PORTS: tuple[tuple[str, int, str], ...] = (
    ("udp", 1194, "OpenVPN"),
    ("tcp", 1194, "OpenVPN"),
    ("udp", 51820, "WireGuard"),
    ("udp", 500, "IKE"),
    ("udp", 4500, "IKE NAT-T"),
    ("tcp", 1723, "PPTP"),
    ("udp", 1701, "L2TP"),
)
DOT_PORT = 853


def _lines(name: str) -> list[str]:
    text = files("blocklists").joinpath("data", name).read_text(encoding="utf-8")
    return [line.split("#", 1)[0].strip() for line in text.splitlines()
            if line.split("#", 1)[0].strip()]


@cache
def doh_hosts() -> frozenset[str]:
    """Canonical DoH host names."""
    return frozenset(h for h in (canonical_host(x) for x in _lines("doh_hosts.txt")) if h)


def is_doh_host(host: str) -> bool:
    """Is canonical `host` a known DoH endpoint (or a name below one)?"""
    hosts = doh_hosts()
    labels = host.split(".")
    return any(".".join(labels[i:]) in hosts for i in range(len(labels) - 1))


@cache
def doh_addresses() -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]:
    return tuple(ipaddress.ip_address(x) for x in _lines("doh_addresses.txt"))
