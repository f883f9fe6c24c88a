"""The `[rpz]` part of roja.toml: serving the hotline list to an ISP's resolvers as RPZ.

```
[rpz]
listen = "0.0.0.0:5300"          # empty or absent: off
origin = "rpz.roja."
allow = ["192.0.2.0/24"]         # secondaries that may transfer (AXFR/IXFR)
notify = ["192.0.2.53:53"]       # secondaries told about each new serial
tsig_name = "roja-rpz"           # with tsig_secret: transfers must be TSIG (hmac-sha256)
tsig_secret = ""                 # base64, e.g. from `tsig-keygen` or `openssl rand -base64 32`
secondaries = ["192.0.2.53:53"]  # the ISP's resolvers whose serial Roja watches (rpz_fleet)
check_interval = 60              # seconds between two checks of the secondaries
max_lag = 300                    # seconds a secondary may take to apply a new serial
```
The zone holds the non-confidential host entries of the synced hotline feed; its SOA serial is
the feed serial. See docs/rpz.md for BIND, Unbound, Knot and PowerDNS set-ups.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from dataclasses import dataclass

from configkit import Section, parse_hostport


@dataclass(frozen=True)
class RpzSettings:
    listen: tuple[str, int] | None = None
    origin: str = "rpz.roja."
    allow: tuple[str, ...] = ()
    notify: tuple[tuple[str, int], ...] = ()
    tsig_name: str = ""
    tsig_secret: str = ""
    secondaries: tuple[tuple[str, int], ...] = ()
    check_interval: float = 60.0
    max_lag: float = 300.0

    @property
    def enabled(self) -> bool:
        return self.listen is not None


def parse(s: Section) -> RpzSettings:
    listen_text = s.str("listen", "")
    listen = None
    if listen_text:
        try:
            listen = parse_hostport(listen_text, 53, allow_zero=True)
        except ValueError:
            raise s.error("listen", f"{listen_text!r} is not host:port") from None
    origin = s.str("origin", "rpz.roja.")
    if not origin.endswith(".") or origin == ".":
        raise s.error("origin", "must be an absolute zone name ending with '.', e.g. rpz.roja.")
    allow = tuple(str(n) for n in s.networks("allow", []))
    notify = []
    for text in s.str_list("notify", []):
        try:
            notify.append(parse_hostport(text, 53))
        except ValueError:
            raise s.error("notify", f"{text!r} is not an address like 192.0.2.53:53") from None
    secondaries = []
    for text in s.str_list("secondaries", []):
        try:
            secondaries.append(parse_hostport(text, 53))
        except ValueError:
            raise s.error("secondaries",
                          f"{text!r} is not an address like 192.0.2.53:53") from None
    check_interval = s.float("check_interval", 60.0, min=1, max=86400)
    max_lag = s.float("max_lag", 300.0, min=0)
    name, secret = s.str("tsig_name", ""), s.str("tsig_secret", "")
    if bool(name) != bool(secret):
        raise s.error("tsig_secret" if name else "tsig_name",
                      "tsig_name and tsig_secret go together")
    if secret:
        try:
            base64.b64decode(secret, validate=True)
        except (binascii.Error, ValueError):
            raise s.error("tsig_secret", "must be base64") from None
    if secondaries and listen is None:
        raise s.error("secondaries", "watching secondaries needs the zone served: set listen")
    if listen is not None and not allow:
        raise s.error("allow", "list the secondaries allowed to transfer the zone")
    for net in allow:
        ipaddress.ip_network(net)
    s.done()
    return RpzSettings(listen, origin, allow, tuple(notify), name, secret, tuple(secondaries),
                       check_interval, max_lag)
