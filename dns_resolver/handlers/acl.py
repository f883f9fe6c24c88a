"""ACL: only clients inside the configured networks get answers; everyone else gets REFUSED.

Config: `[dns.acl] allow = [...]` (default: loopback and the private LAN ranges), so Roja is
never an open resolver. Metric: counted as result `refused` in `roja_dns_queries_total`.
Example: a query from 203.0.113.5 with the default ACL → REFUSED.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from configkit import client_address
from dns_resolver.messages import Answer
from dns_resolver.wire import REFUSED

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
DEFAULT_ALLOW = ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                 "100.64.0.0/10", "169.254.0.0/16", "fc00::/7", "fe80::/10")
REFUSED_ANSWER = Answer("refused", "client outside the allowed networks", rcode=REFUSED)


class AclHandler:
    def __init__(self, allow: Sequence[Network], memo_size: int = 65536) -> None:
        self._v4 = [n for n in allow if n.version == 4]
        self._v6 = [n for n in allow if n.version == 6]
        self._memo: dict[str, bool] = {}
        self._memo_size = memo_size

    def allowed(self, client: str) -> bool:
        hit = self._memo.get(client)
        if hit is not None:
            return hit
        verdict = self._check(client)
        if len(self._memo) >= self._memo_size:
            self._memo.clear()
        self._memo[client] = verdict
        return verdict

    def _check(self, client: str) -> bool:
        addr = client_address(client)
        if addr is None:
            return False
        nets = self._v4 if addr.version == 4 else self._v6
        return any(addr in n for n in nets)

    def admit(self, client: str, now: float) -> Answer | None:
        return None if self.allowed(client) else REFUSED_ANSWER
