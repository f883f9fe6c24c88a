"""The owner names of RPZ triggers: which list hosts can be QNAME triggers (`name_fits`,
`trigger_names`), and IP triggers (draft-vixie-dnsop-dns-rpz, section 4.3): an address or
network as the owner name of an `rpz-ip` trigger, which makes a resolver block any answer
holding an address in it (the RPZ form of Roja's answer-address check, `policy.address_lists`).

The owner is the prefix length, then the address's parts in reverse order; for IPv6 the
groups in RFC 5952 text, with `zz` standing for its `::`:

    32.7.2.0.192.rpz-ip          CNAME .   ; 192.0.2.7
    8.0.0.0.10.rpz-ip            CNAME .   ; 10.0.0.0/8
    48.zz.bad.db8.2001.rpz-ip    CNAME .   ; 2001:db8:bad::/48
    128.1.zz.db8.2001.rpz-ip     CNAME .   ; 2001:db8::1

`blocklists.rpz` holds these owners among a zone's names (they end in `.rpz-ip`, and get no
`*.` twin); a list host whose last label is an RPZ trigger label is never a QNAME trigger.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from blocklists.canonical import canonical_host

RPZ_IP = ".rpz-ip"
RESERVED = ("rpz-ip", "rpz-nsip", "rpz-nsdname", "rpz-client-ip")  # trigger labels, not hosts
MAX_NAME = 255  # octets on the wire, RFC 1035
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_CANONICAL = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")  # what canonical_host returns


def name_fits(name: str, origin: str) -> bool:
    """True if `name` is a canonical host (blocklists.canonical's output form) and the longer
    trigger, `*.name.origin.`, is at most 255 octets on the wire (its text length + 1)."""
    return len(name) + len(origin) + 4 <= MAX_NAME and _CANONICAL.fullmatch(name) is not None


def trigger_names(hosts: Iterable[str], addresses: Iterable[str], origin: str
                  ) -> tuple[frozenset[str], list[str]]:
    """The trigger owners of list hosts (canonicalised) and addresses/networks, and the
    entries that cannot be triggers (not a host name or address, a name under an RPZ trigger
    label, too long under `origin`)."""
    names: set[str] = set()
    rejected: list[str] = []
    for host in hosts:
        name = canonical_host(host)
        if name is not None and name_fits(name, origin) and \
                name.rsplit(".", 1)[-1] not in RESERVED:
            names.add(name)
        else:
            rejected.append(host)
    for address in addresses:
        owner = rpz_ip_owner(address)
        if owner is not None and name_fits(owner, origin):
            names.add(owner)
        else:
            rejected.append(address)
    return frozenset(names), rejected


def rpz_ip_owner(text: str) -> str | None:
    """The IP trigger owner (relative, without the origin) of an address or network, e.g.
    `24.0.2.0.192.rpz-ip` for 192.0.2.0/24; None when `text` is neither. IPv4-mapped IPv6
    is the IPv4 address; host bits are cleared."""
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    if isinstance(net, ipaddress.IPv6Network) and net.prefixlen >= 96 and \
            net.network_address.ipv4_mapped is not None:
        net = ipaddress.IPv4Network((int(net.network_address) & 0xFFFFFFFF, net.prefixlen - 96))
    if net.version == 4:
        return f"{net.prefixlen}.{'.'.join(reversed(str(net.network_address).split('.')))}" \
            f"{RPZ_IP}"
    # RFC 5952 text (its `::` is the longest run of zero groups) with `zz` for the `::`
    groups = [g for g in str(net.network_address).replace("::", ":zz:").split(":") if g]
    return f"{net.prefixlen}.{'.'.join(reversed(groups))}{RPZ_IP}"
