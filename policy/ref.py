"""The policy in force, shared by the DNS resolver and the proxy.

`PolicyRef` holds it; a reload replaces `current` in one assignment, so every decision after
that moment, in either server, is made by the new policy. `PolicySource` is what a server
needs: anything with the policy in force as `current`.
"""

from __future__ import annotations

from typing import Protocol

from policy.engine import Policy


class PolicySource(Protocol):
    """Anything with the policy in force as `current` (the appliance's `PolicyRef`)."""

    current: Policy


class PolicyRef:
    """The policy in force; a reload replaces `current` in one assignment."""

    def __init__(self, policy: Policy) -> None:
        self.current = policy
