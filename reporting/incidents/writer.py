"""The incident writer: a bounded queue, batches in one transaction each, retried with a
backoff until written (see the package docstring, `reporting.incidents`, for the whole story).

`submit` never blocks or awaits; the writer task takes up to `batch_size` incidents (or what
arrived within `flush_interval`), pseudonymises the clients, folds repeats into the row they
repeat (`dedup_seconds`) and commits. A batch that cannot be written (locked longer than the
busy timeout, or any error) goes back to the head of the queue and is tried again after 0.05 s
doubling to 5 s; only the queue's bound drops, counted and recorded as an `incidents_dropped`
event. The file is opened and migrated through `reporting.sqlite_store` in a thread, and the
writer's aiosqlite connection (its own thread) takes the same policy: no SQLite call runs on
the event loop.

Repeats are folded already at `submit`: an incident with the same (client, name, category) as
one still waiting in the queue, or as a row written less than `dedup_seconds` before its last
repeat, in the same Europe/Tirane month, only raises that entry's count: a dictionary lookup per
blocked query, no queue entry, no key or pseudonym work, no SQL. The repeats of written rows are
written together, one UPDATE per row, every `repeat_flush_seconds` (and at every month's end,
and at stop), so a client hammering a blocked name costs one UPDATE a minute, not one per query
(issue 21: the incident path was a third of a blocked query's CPU). The price, chosen and
documented: a kill -9 or a power cut loses at most `repeat_flush_seconds` of repeat counts,
never a row (a first block is written within `flush_interval`, as before);
`repeat_flush_seconds = 0` writes repeats with the next batch. At most `repeat_pairs` entries
are kept; beyond, a repeat goes through the queue and the store as before.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import aiosqlite
from prometheus_client.registry import CollectorRegistry

from reporting.config import IncidentSettings
from reporting.incidents.batch import Fold, Key, Queued, Seen, Taken, update_rows
from reporting.incidents.health import RateLimitedLog, WriterCollector
from reporting.incidents.rows import PSEUDONYM_CAPACITY, RowStore
from reporting.incidents.schema import DROPPED_EVENT, SCHEMA, Incident
from reporting.pseudonym import TiraneMonth
from reporting.sqlite_store import (
    RETRY_FIRST,
    RETRY_MAX,
    connection_pragmas,
    is_locked,
    open_store,
)

log = logging.getLogger("reporting.incidents")

STOP_TIMEOUT = 30.0  # how long `stop()` (and `start()` on a locked file) keeps trying
# (client, name) pairs kept in memory for deduplication (`[incidents] recent_pairs`); beyond
# this the writer asks the database. ~400 bytes a pair, so 16,384 pairs are ~6.5 MiB of the
# DNS process's memory target (issue 4); a school sees far fewer distinct blocked pairs a minute.
RECENT_CAPACITY = IncidentSettings().recent_pairs

class IncidentWriter:
    """Queues incidents without blocking and writes them to SQLite in batches."""

    def __init__(self, db_path: Path, key: bytes, settings: IncidentSettings,
                 registry: CollectorRegistry | None = None, *,
                 recent_capacity: int | None = None, shared: bool = False,
                 key_for_year: Callable[[int], bytes] | None = None) -> None:
        self.db_path = db_path
        self.settings = settings
        self.written = 0  # incidents stored (a repeat folded into a row counts too)
        self.dropped = 0  # incidents lost: queue full, or still unwritten when stopped
        self.batches = 0  # transactions committed
        self.failures = 0  # transactions that failed (their batch was queued again)
        self._unrecorded_drops = 0  # dropped, not yet written as an `incidents_dropped` event
        self._month_of = TiraneMonth()  # a row never spans two months (reports count by month)
        self._queue: deque[Queued] = deque()
        # Entries that repeats fold into: queued ones, and written rows still in their window
        # (at most `repeat_pairs`); `_dirty` the written ones with repeats not yet stored.
        self._waiting: dict[Fold, Queued] = {}
        self._dirty: list[Queued] = []
        self._next_repeats = float("inf")  # when pending repeats are written (unix time)
        self._next_expiry = 0.0  # when closed windows are next dropped from `_waiting`
        self._wake = asyncio.Event()
        self._db: aiosqlite.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._stopping = False
        self._open_capacity = settings.repeat_pairs
        self._open = 0  # entries of `_waiting` that are written rows (at most repeat_pairs)
        self._clients: dict[str, str] = {}
        capacity = settings.recent_pairs if recent_capacity is None else recent_capacity
        self._rows = RowStore(settings, key, key_for_year, capacity, shared=shared)
        self._errors = RateLimitedLog(60.0)
        if registry is not None:
            registry.register(WriterCollector(self))

    @property
    def queued(self) -> int:
        return len(self._queue)

    async def start(self) -> None:
        """Open the database (WAL), create or migrate the schema and start the writer task."""
        if self._task is not None or self._closed:
            raise RuntimeError("IncidentWriter.start() called twice")
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        db = await _open(self.db_path)
        self._db = db
        self._rows.started(time.time())
        self._task = asyncio.get_running_loop().create_task(self._run(),
                                                            name="roja-incident-writer")
        self._task.add_done_callback(_log_task_failure)

    def submit(self, incident: Incident) -> None:
        """Queue an incident (call it from the event loop's thread). Never blocks or awaits;
        when the queue is full the incident is counted as dropped instead. A repeat of an
        entry still queued, or of a row still in its window, is folded into it (module
        docstring)."""
        if self._closed:
            self.dropped += 1
            self._unrecorded_drops += 1
            return
        # Hot path for repeated blocks (every blocked query of a looping client): one tuple,
        # one dict lookup, a few compares; measured in bench/RESULTS.md (issue 21).
        fold = (incident.client, incident.name, incident.category)
        at = incident.at
        month = self._month_of(at)
        waiting = self._waiting.get(fold)
        if waiting is not None and waiting.month == month and \
                waiting.last_at >= at - self.settings.dedup_seconds:
            if waiting.count == 0 and waiting.row_id:  # a written row's first pending repeat
                self._dirty.append(waiting)
                if self._next_repeats == float("inf"):  # the first since the last write
                    self._schedule_repeats()
                    self._wake.set()  # the writer may be waiting without a deadline
            waiting.count += 1
            if at > waiting.last_at:
                waiting.last_at = at
            elif at < waiting.first_at:
                waiting.first_at = at
            return
        queue = self._queue
        if len(queue) >= self.settings.queue_size:
            self.dropped += 1
            self._unrecorded_drops += 1
            return
        # The client text is one object per client, not one per datagram: an open row keeps
        # its fold key (and so the text) for as long as it is repeated.
        clients = self._clients
        if len(clients) > PSEUDONYM_CAPACITY:
            clients.clear()
        fold = (clients.setdefault(fold[0], fold[0]), fold[1], fold[2])
        entry = Queued(incident, fold, month)
        queue.append(entry)
        # A replaced entry's pending repeats are in `_dirty` (or its batch is in flight).
        if waiting is not None and waiting.row_id:
            self._open -= 1
        self._waiting[fold] = entry
        n = len(queue)
        if n == 1 or n == self.settings.batch_size:
            self._wake.set()

    def _schedule_repeats(self) -> None:
        """Pending repeats are written `repeat_flush_seconds` after the first of them, and never
        later than the end of the Europe/Tirane month (a month's report counts only rows of
        that month, which must be complete when it is built)."""
        now = time.time()
        self._next_repeats = min(now + self.settings.repeat_flush_seconds,
                                 self._month_of.end_of(now))

    async def stop(self, patience: float = STOP_TIMEOUT) -> None:
        """Write everything queued so far (trying for up to `patience` seconds when the store
        is locked or failing), then close the database. What could not be written, and later
        submits, are counted as dropped."""
        self._closed = True
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is None and self._queue and self._db is not None:  # never started its task
            task = asyncio.get_running_loop().create_task(self._run())
        if task is not None and not task.done():  # a failed task was logged already
            await asyncio.wait([task], timeout=patience)
            if not task.done():
                task.cancel()
                await asyncio.wait([task])
        if self._queue:
            log.error("incident store: %d incidents could not be written before stopping "
                      "(the database stayed locked or failing for %.0f s)", len(self._queue),
                      patience)
        self.dropped += sum(q.count for q in self._queue)
        self.dropped += sum(q.count for q in set(self._dirty) if q.row_id)
        self._queue.clear()
        self._waiting.clear()
        self._open = 0
        self._dirty.clear()
        db, self._db = self._db, None
        if db is not None:
            await db.close()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        queue, batch_size = self._queue, self.settings.batch_size
        retry = RETRY_FIRST
        while True:
            if self._dirty and (self._stopping or time.time() >= self._next_repeats):
                if not await self._write_repeats():
                    await asyncio.sleep(retry)
                    retry = min(2 * retry, RETRY_MAX)
                    continue
                retry = RETRY_FIRST
            if not queue:
                if self._stopping:
                    if self._dirty:
                        continue
                    return
                self._wake.clear()
                wait = self._next_repeats - time.time() if self._dirty else None
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(None if wait is None else max(wait, 0.0)):
                        await self._wake.wait()
                continue
            deadline = loop.time() + self.settings.flush_interval
            while len(queue) < batch_size and not self._stopping:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await self._wake.wait()
            if await self._write_batch(self._take_batch()):
                retry = RETRY_FIRST
                continue
            await asyncio.sleep(retry)  # the batch is back at the head of the queue
            retry = min(2 * retry, RETRY_MAX)

    def _take_batch(self) -> list[Taken]:
        """The next batch, each entry with what it holds now; repeats arriving while it is
        written count anew in the entry (written later as repeats of its row)."""
        queue = self._queue
        batch: list[Taken] = []
        for _ in range(min(len(queue), self.settings.batch_size)):
            q = queue.popleft()
            batch.append((q, q.count, q.first_at, q.last_at))
            q.count = 0
        return batch

    def _put_back(self, batch: list[Taken]) -> None:
        """A batch that could not be written goes back to the head of the queue, in order."""
        self._queue.extendleft(q for q, _, _, _ in reversed(batch))
        for q, count, _, _ in batch:
            q.count += count

    async def _write_repeats(self) -> bool:
        """Write the pending repeats of written rows, one UPDATE per row, in one transaction;
        on failure keep them pending and return False."""
        dirty, self._dirty = self._dirty, []
        taken = []
        for q in dirty:
            if q.count:  # an entry may be listed twice; the first visit takes its count
                taken.append((q, q.count, q.first_at))
                q.count = 0
        db = self._db
        assert db is not None, "the writer task runs only while the database is open"
        try:
            await db.execute("BEGIN IMMEDIATE")
            try:
                # By row: two entries (another category) may hold the same row.
                updates: dict[int, list[float]] = {}
                for q, n, first in taken:
                    row = updates.setdefault(q.row_id, [0, first, q.last_at, q.row_first])
                    row[0] += n
                    row[1] = min(row[1], first)
                    row[2] = max(row[2], q.last_at)
                await update_rows(db, updates)
                await db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):
                    await db.execute("ROLLBACK")
                raise
        except BaseException as exc:
            for q, n, _ in taken:
                if not q.count:
                    self._dirty.append(q)
                q.count += n
            if not isinstance(exc, Exception):
                raise
            self.failures += 1
            self._errors.report(exc, len(self._queue) + len(taken))
            return False
        for q, _n, first in taken:
            q.row_first = min(q.row_first, first)
        self.written += sum(n for _, n, _ in taken)
        self._next_repeats = float("inf")
        self._after_write()
        return True

    def _after_write(self) -> None:
        """After a commit: schedule the write of repeats still pending (or that came in during
        it), and drop closed windows when their time has come."""
        if self._dirty and self._next_repeats == float("inf"):
            self._schedule_repeats()
        now = time.time()
        if now >= self._next_expiry:
            self._expire(now)

    def _expire(self, now: float) -> None:
        """Drop written rows whose window has closed (no repeat can fold into them any more),
        so `_waiting` holds only what may still be repeated."""
        horizon = now - self.settings.dedup_seconds
        month = self._month_of(now)
        closed = [fold for fold, q in self._waiting.items()
                  if q.row_id and not q.count and (q.last_at < horizon or q.month != month)]
        for fold in closed:
            del self._waiting[fold]
        self._open -= len(closed)
        self._next_expiry = now + max(self.settings.dedup_seconds, 1.0)

    async def _write_batch(self, batch: list[Taken]) -> bool:
        """Write `batch` in one transaction; on failure put it back at the head of the queue
        (in order) and return False."""
        db = self._db
        if not batch:
            return True
        assert db is not None, "the writer task runs only while the database is open"
        drops = self._unrecorded_drops
        try:
            await db.execute("BEGIN IMMEDIATE")
            try:
                keys, seen = await self._rows.store(db, batch)
                if drops:
                    await db.execute("INSERT INTO events (at, kind, detail) VALUES (?, ?, ?)",
                                     (time.time(), DROPPED_EVENT, str(drops)))
                await db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):
                    await db.execute("ROLLBACK")
                raise
        except BaseException as exc:  # never let a DB problem stop the writer, nor lose the batch
            self._put_back(batch)
            if not isinstance(exc, Exception):  # cancelled by stop(): it counts what is left
                raise
            self.failures += 1
            self._errors.report(exc, len(self._queue))
            return False
        if self._errors.failing:
            log.warning("incident store: writing again after %d failed attempts",
                        self._errors.recovered())
        self._unrecorded_drops -= drops
        self._rows.remember(seen)
        self.written += sum(count for _, count, _, _ in batch)
        self.batches += 1
        self._open_rows(batch, keys, seen)
        return True

    def _open_rows(self, batch: list[Taken], keys: list[Key], seen: dict[Key, Seen]) -> None:
        """The batch's entries are rows now: repeats folded into them since they were taken
        (and from now on) are written as the row's repeats."""
        waiting = self._waiting
        for (q, _, _, _), key in zip(batch, keys, strict=True):
            row_id, _last, first = seen[key]
            q.row_id, q.row_first, q.incident = row_id, first, None
            if q.count:
                self._dirty.append(q)
            if waiting.get(q.fold) is q:
                if self._open < self._open_capacity:
                    self._open += 1
                else:  # no room: its repeats queue new entries, which the store folds
                    del waiting[q.fold]
        self._after_write()

async def _open(path: Path) -> aiosqlite.Connection:
    """Create or migrate the file (in a thread, waiting up to STOP_TIMEOUT while another
    writer holds it), then open the writer's connection with the stores' policy."""
    retry, deadline = RETRY_FIRST, time.monotonic() + STOP_TIMEOUT
    while True:
        try:
            await asyncio.to_thread(lambda: open_store(path, SCHEMA).close())
            break
        except sqlite3.OperationalError as exc:  # locked by another writer: wait
            if not is_locked(exc) or time.monotonic() >= deadline:
                raise
            log.warning("incident store: %s; trying again", exc)
            await asyncio.sleep(retry)
            retry = min(2 * retry, RETRY_MAX)
    db = await aiosqlite.connect(path, isolation_level=None)
    try:
        for pragma in connection_pragmas():
            await db.execute(pragma)
    except BaseException:
        await db.close()
        raise
    return db


def _log_task_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("incident writer stopped unexpectedly", exc_info=task.exception())
