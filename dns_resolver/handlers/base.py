"""The written contract every handler follows."""

from __future__ import annotations

from typing import Protocol

from dns_resolver.messages import Answer, Next, Query
from dns_resolver.wire import Question
from policy import Group


class Handler(Protocol):
    """Answer `q`, or return `await call_next(q)` (possibly after looking at the answer)."""

    async def handle(self, q: Query, call_next: Next) -> Answer: ...


class QuickStage(Protocol):
    """The synchronous front of a handler, which the fast path runs in chain order: it answers
    from the question and the group alone (a block, a canary), or returns None."""

    def quick(self, q: Question, group: Group) -> Answer | None: ...


class Admission(Protocol):
    """A check run for every query before any cache, synchronously (the fast path calls it).

    Returns None to admit, or the Answer to send instead."""

    def admit(self, client: str, now: float) -> Answer | None: ...
