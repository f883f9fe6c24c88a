"""Items gathered during one event-loop round and handed over together at its end.

Used for datagrams: on a VM, a datagram that wakes its sleeping receiver costs about three
times one sent while the receiver is awake, so the replies (`server.UdpListener`) and the
upstream queries (`upstream_udp.UdpExchanges`) of one round go out back to back
(bench/RESULTS.md, issue 21).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class RoundBatch[T]:
    """`add` items during a loop round; `flush` gets them all, in order, once the round's
    ready callbacks have run (call it on the loop's thread)."""

    def __init__(self, flush: Callable[[list[T]], None]) -> None:
        self._flush = flush
        self._items: list[T] = []

    def add(self, item: T) -> None:
        if not self._items:
            asyncio.get_running_loop().call_soon(self._run)
        self._items.append(item)

    def _run(self) -> None:
        items, self._items = self._items, []
        self._flush(items)
