"""The decision engine: one pure answer to "may this client reach this name now?".

`Policy.decide(group, host, now)` never does I/O and never reads the clock; the DNS server
(and later the proxy) asks it and acts on the `Decision`. v1: per-subnet groups, deny lists,
allow lists, and legal lists that no allow rule overrides.
"""

from policy.engine import Decision, Group, ListRule, Policy

__all__ = ["Decision", "Group", "ListRule", "Policy"]
