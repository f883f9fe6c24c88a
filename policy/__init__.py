"""The decision engine: one pure answer to "may this client reach this name now?".

`Policy.decide(group, host, now)` never does I/O and never reads the clock; the DNS server
and the proxy ask it and act on the `Decision`. Groups (addresses, MAC addresses, networks),
profiles (blocked categories, safe search, extra lists), categories (`policy.categories`),
Europe/Tirane schedules (`policy.schedule`), time-boxed unblocks, and legal lists that nothing
opens. `policy.explain` says step by step why a decision is what it is.
"""

from policy.engine import Decision, Group, ListRule, Policy
from policy.schedule import Schedule, Window
from policy.state import Profile, Unblock

__all__ = ["Decision", "Group", "ListRule", "Policy", "Profile", "Schedule", "Unblock", "Window"]
