"""Steering: where a name that only the proxy can decide is sent.

A host with URL-level entries (`Policy.needs_proxy`) must reach the proxy, so the resolver
answers it with the proxy's steer address (`dns_resolver.handlers.steering`) and the proxy
listens there (`filterd.proxy.config`). `SteerSettings` is that shared piece: the addresses
and the TTL of steered answers, from `[proxy] steer_ipv4`, `steer_ipv6`, `steer_ttl`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SteerSettings:
    ipv4: str = ""
    ipv6: str = ""
    ttl: int = 30
