"""The written contract every handler follows."""

from __future__ import annotations

from typing import Protocol

from dns_resolver.messages import Answer, Next, Query


class Handler(Protocol):
    """Answer `q`, or return `await call_next(q)` (possibly after looking at the answer)."""

    async def handle(self, q: Query, call_next: Next) -> Answer: ...


class Admission(Protocol):
    """A check run for every query before any cache, synchronously (the fast path calls it).

    Returns None to admit, or the Answer to send instead."""

    def admit(self, client: str, now: float) -> Answer | None: ...
