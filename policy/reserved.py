"""Reserved names: what Roja answers itself, before any list, for the names through which
clients decide where their (encrypted) DNS goes.

- Bypass canaries get NXDOMAIN: `use-application-dns.net` (Firefox keeps DoH off) and
  `mask.icloud.com`, `mask-h2.icloud.com`, `mask-canary.icloud.com` (iCloud Private Relay off).
- `resolver.arpa` (RFC 9462, Discovery of Designated Resolvers): NODATA, unless this resolver
  serves encrypted DNS itself (`[dns.tls]`/`[dns.https]`): then `_dns.resolver.arpa` SVCB names
  those endpoints, so managed devices upgrade to DNS over TLS/HTTPS *to the gateway*, and
  still get the school's filtering.

- `selftest.roja.test` (RFC 6761 `.test`, never on the Internet): `roja selftest` lists one
  name per list below it (`blocklists.store.selftest_name`) and checks that both servers block
  it. A block of such a name is a check, not a pupil: `Decision.selftest`, never an incident.

Pure: `reserved(name, qtype, ddr)` reads nothing and decides; the DNS canary handler renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

from blocklists.store import SELFTEST_ZONE

CANARY_NAMES = frozenset({"use-application-dns.net", "mask.icloud.com", "mask-h2.icloud.com",
                          "mask-canary.icloud.com"})
DDR_ZONE = "resolver.arpa"
DDR_NAME = "_dns.resolver.arpa"
SVCB = 64
SELFTEST_SUFFIX = "." + SELFTEST_ZONE


def is_selftest(name: str) -> bool:
    """Is `name` (a host, or a URL entry's `host/path`) one of the self-test's reserved names?"""
    return name.split("/", 1)[0].endswith(SELFTEST_SUFFIX)


@dataclass(frozen=True)
class Designated:
    """One encrypted endpoint, as a DDR SVCB record names it: alpn ("dot", or "h2" and
    "http/1.1"), port and, for DoH, the URI template path (`/dns-query{?dns}`)."""

    alpn: tuple[str, ...]
    port: int
    dohpath: str = ""


@dataclass(frozen=True)
class Ddr:
    """The designated resolvers to announce: the name in their certificate (`target`), the
    endpoints in order of preference, and address hints (the listeners' own addresses)."""

    target: str
    endpoints: tuple[Designated, ...]
    ipv4: tuple[str, ...] = ()
    ipv6: tuple[str, ...] = ()


class Reserved(NamedTuple):
    kind: Literal["nxdomain", "nodata", "designated"]
    reason: str
    zone: str                     # the owner of the SOA sent with a negative answer; the label
    ddr: Ddr | None = None        # for "designated": what to announce


def reserved(name: str, qtype: int, ddr: Ddr | None) -> Reserved | None:
    """The reserved answer for `name` (lower case, no final dot), or None for an ordinary name."""
    if name in CANARY_NAMES:
        return Reserved("nxdomain", f"canary {name}: bypass switched off", name)
    if name == DDR_ZONE or name.endswith("." + DDR_ZONE):
        if ddr is not None and ddr.endpoints and name == DDR_NAME and qtype == SVCB:
            return Reserved("designated", "resolver.arpa: designated encrypted resolvers "
                            "(RFC 9462)", DDR_ZONE, ddr)
        return Reserved("nodata", "resolver.arpa: no designated resolver (RFC 9462)", DDR_ZONE)
    return None
