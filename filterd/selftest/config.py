"""The `[selftest]` table of roja.toml.

    [selftest]
    allowed_name = "www.isigurt.al"   # a name that must resolve through the filter
    timeout = 3.0                     # seconds per DNS question
"""

from __future__ import annotations

from dataclasses import dataclass

from blocklists.canonical import canonical_host
from configkit import Section


@dataclass(frozen=True)
class SelftestSettings:
    allowed_name: str = "www.isigurt.al"
    timeout: float = 3.0


def parse(s: Section) -> SelftestSettings:
    name = s.str("allowed_name", SelftestSettings.allowed_name)
    host = canonical_host(name)
    if not host or "." not in host:
        raise s.error("allowed_name", f"{name!r} is not a host name")
    timeout = s.float("timeout", 3.0, min=0.2, max=30.0)
    s.done()
    return SelftestSettings(host, timeout)
