"""Work the inbox does off its event loop: SQLite queries and password hashing.

    work = Offload(data_dir / "inbox.sqlite")
    user = await work.db(Store.user, "zyra.berat")      # on a database thread
    ok = await work.hash(verify, stored_hash, password)  # on the hashing pool; BusyError when full
    work.close()

A month dashboard (tens of milliseconds) or an argon2 check (about 0.1 s of CPU) would stop
every other request while it runs on the loop; here `/healthz`, the login page and other
people's pages keep answering. `DB_THREADS` threads each hold their own connection to the
database (WAL: readers do not wait for the writer; SQLite's busy timeout orders the writers).
The hashing pool has `HASH_THREADS` threads and at most `HASH_QUEUE` checks in flight: beyond
that `hash()` raises `BusyError` at once (the login answers 503) instead of queueing without
bound. Its threads run at a lower CPU priority (nice +`HASH_NICE`, Linux: per thread, and
argon2's own lane threads inherit it), so on a small machine the event loop and the database
threads still get the CPU while guesses are being hashed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from reporting.inbox.store import Store

log = logging.getLogger("roja.inbox")

DB_THREADS = 2
HASH_THREADS = 1
HASH_QUEUE = 8
HASH_NICE = 10

P = ParamSpec("P")
T = TypeVar("T")
_Job = tuple[Callable[[Store], Any], Future[Any]]


def _lower_priority() -> None:
    """This thread (not the process: Linux gives each thread its own nice value) yields the
    CPU to the event loop."""
    with contextlib.suppress(OSError, AttributeError):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + HASH_NICE)


def _log_failure(future: Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("inbox: a database write failed", exc_info=future.exception())


class BusyError(Exception):
    """More password checks are waiting than `HASH_QUEUE`."""


class Offload:
    """The database threads and the hashing pool of one inbox."""

    def __init__(self, db_path: Path, db_threads: int = DB_THREADS,
                 hash_threads: int = HASH_THREADS, hash_queue: int = HASH_QUEUE) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._serve, args=(db_path,), daemon=True,
                                          name=f"inbox-db-{i}") for i in range(db_threads)]
        for thread in self._threads:
            thread.start()
        self._hashing = ThreadPoolExecutor(hash_threads, thread_name_prefix="inbox-hash",
                                           initializer=_lower_priority)
        self._hash_queue = hash_queue
        self._pending = 0

    def _serve(self, db_path: Path) -> None:
        try:
            store: Store | None = Store(db_path)
        except Exception as exc:  # every job then fails with it (a 500 that is logged)
            store, broken = None, exc
        while (job := self._jobs.get()) is not None:
            fn, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                if store is None:
                    raise broken
                future.set_result(fn(store))
            except BaseException as exc:  # handed to the awaiting request
                future.set_exception(exc)
        if store is not None:
            store.close()

    async def db(self, fn: Callable[Concatenate[Store, P], T], *args: P.args,
                 **kwargs: P.kwargs) -> T:
        """`fn(store, *args, **kwargs)` on a database thread, with that thread's connection."""
        future: Future[T] = Future()
        self._jobs.put((lambda store: fn(store, *args, **kwargs), future))
        return await asyncio.wrap_future(future)

    def submit(self, fn: Callable[Concatenate[Store, P], Any], *args: P.args,
               **kwargs: P.kwargs) -> None:
        """`fn(store, *args, **kwargs)` on a database thread, not awaited (a write nobody waits
        for, such as a throttle count); a failure is logged."""
        future: Future[Any] = Future()
        future.add_done_callback(_log_failure)
        self._jobs.put((lambda store: fn(store, *args, **kwargs), future))

    async def hash(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)` on the hashing pool; BusyError when too many already wait."""
        if self._pending >= self._hash_queue:
            raise BusyError()
        self._pending += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._hashing, lambda: fn(*args, **kwargs))
        finally:
            self._pending -= 1

    def close(self) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()
        self._hashing.shutdown(wait=True)
