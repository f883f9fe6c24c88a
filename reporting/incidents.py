"""The incident store: every block becomes a row, written in batches, clients pseudonymous.

Servers (the DNS resolver, later the proxy) call `IncidentWriter.submit(Incident(...))`, which
never blocks or awaits: it appends to a bounded in-memory queue, or drops and counts when the
queue is full (decision 6). One writer task takes up to `batch_size` incidents, or whatever
arrived within `flush_interval`, and writes them in one SQLite transaction (WAL,
`synchronous=NORMAL`).

Nothing is given up while the process lives (issue 22): other programs write to the same file
(the daily purge, `roja incident add`, bypass-watch, events), so a transaction waits up to
`BUSY_TIMEOUT_MS` for the lock and, when that is not enough (or any other error), the batch goes
back to the head of the queue and is tried again after a backoff (0.05 s doubling to 5 s). Only
the queue's bound can drop: while the store is unwritable the queue fills, and what arrives
beyond `queue_size` is dropped and counted. Those drops are written to the store as an
`incidents_dropped` event (detail: how many) with the next batch that gets through, so the
monthly report's filter-status section shows them; `roja status` shows the running count.
`stop(patience)` keeps trying for `patience` seconds; what is still queued then is dropped.

Before anything is stored, the client address is replaced by its `reporting.pseudonym` HMAC;
the raw address never reaches the disk. With `key_for_year=yearly_keys(state_dir)` the key is
that of the incident's Europe/Tirane year, so pseudonyms cannot be linked across years (the
`key` argument is then unused).

Deduplication: an incident with the same (pseudonymous client, name) as a row whose `last_at` is
at most `dedup_seconds` older is not a new row; that row's `count` goes up and its `last_at`
moves on (so a pupil retrying every few seconds stays one incident). Recent rows are remembered
in a bounded map; on a miss the writer looks in the database, so the window holds across a
restart and across several writer processes.

Repeats are folded already at `submit`: an incident with the same (client, name, category) as
one still waiting in the queue, within `dedup_seconds` of its last repeat, only raises that
entry's count (no new queue entry, no key or pseudonym work in the writer). The store would
have folded it into the same row anyway, so the rows and `written` are what they were; a
dashboard hammering a blocked name costs a dictionary lookup per query (issue 21: this was
about a third of a blocked query's CPU under load).

`IncidentStore` is the synchronous, read-only view for `roja incidents list|tail`. (This
module is over 400 lines on purpose: the writer and its reader share the schema, migrations and
row layout, and one module keeps them from drifting apart.)

Config: `[incidents]` (see `reporting.config`). Metrics (if a registry is given):
`roja_incidents_written_total` (incidents stored, repeats included) and
`roja_incidents_dropped_total` (queue full, or still unwritten when the writer stopped).

Example:

    writer = IncidentWriter(db_path(state_dir), load_or_create_key(state_dir), settings)
    await writer.start()
    writer.submit(Incident(time.time(), "10.0.0.17", "pupils", "bad.example", "adult",
                           "ut1-adult", "blocked", "dns", "listed in ut1-adult"))
    await writer.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

import aiosqlite
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from reporting.config import IncidentSettings
from reporting.pseudonym import TiraneYear, pseudonym

log = logging.getLogger(__name__)

DB_FILENAME = "incidents.sqlite"
SCHEMA_VERSION = 2
BUSY_TIMEOUT_MS = 5000
RETRY_FIRST = 0.05  # seconds before the first retry of a batch that could not be written
RETRY_MAX = 5.0  # the backoff doubles up to this
STOP_TIMEOUT = 30.0  # how long `stop()` keeps trying to write what is queued
DROPPED_EVENT = "incidents_dropped"  # events row kind; detail = how many were dropped
# (client, name) pairs kept in memory for deduplication (`[incidents] recent_pairs`); beyond
# this the writer asks the database. ~400 bytes a pair, so 16,384 pairs are ~6.5 MiB of the
# DNS process's memory target (issue 4); a school sees far fewer distinct blocked pairs a minute.
RECENT_CAPACITY = IncidentSettings().recent_pairs
PSEUDONYM_CAPACITY = 65536
_LOOKUP_CHUNK = 400  # (client, name) pairs per SQL lookup: 800 parameters

# MIGRATIONS[i] takes the schema from version i to version i + 1.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE incidents (
            id INTEGER PRIMARY KEY,
            first_at REAL NOT NULL,
            last_at REAL NOT NULL,
            count INTEGER NOT NULL DEFAULT 1,
            client TEXT NOT NULL,
            grp TEXT NOT NULL,
            name TEXT NOT NULL,
            category TEXT NOT NULL,
            list_id TEXT NOT NULL,
            action TEXT NOT NULL,
            source TEXT NOT NULL,
            reason TEXT NOT NULL
        )""",
        # No index holds last_at or count: a repeat (the common write under load) is then an
        # UPDATE that touches no index. Periods are selected by first_at.
        "CREATE INDEX incidents_first_at ON incidents (first_at)",
        "CREATE INDEX incidents_client_name ON incidents (client, name)",
    ),
    (  # v2: incidents teachers record by hand (reporting.manual), and the appliance's own log
        """CREATE TABLE manual_incidents (
            id INTEGER PRIMARY KEY,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            occurred_on TEXT NOT NULL,
            category TEXT NOT NULL,
            platform TEXT NOT NULL,
            age_band TEXT NOT NULL,
            gender TEXT NOT NULL,
            referrals TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            recorded_by TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX manual_incidents_occurred_on ON manual_incidents (occurred_on)",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            kind TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX events_at ON events (at)",
    ),
)

_COLUMNS = "id, first_at, last_at, count, client, grp, name, category, list_id, action, " \
           "source, reason"
_INSERT = f"INSERT INTO incidents ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_UPDATE = ("UPDATE incidents SET count = count + ?, first_at = MIN(first_at, ?), "
           "last_at = MAX(last_at, ?) WHERE id = ?")
# The usual repeat: the row's first_at stays (it is indexed; setting it, even to its own value,
# rewrites the index entry: measured 40 → 20 µs of CPU per repeat on a 100k-row store).
_BUMP = "UPDATE incidents SET count = count + ?, last_at = MAX(last_at, ?) WHERE id = ?"

_Key = tuple[str, str]  # (pseudonymous client, name)
_Seen = tuple[int, float, float]  # (row id, last_at, first_at)
_Fold = tuple[str, str, str]  # (raw client, name, category): what `submit` folds by


def db_path(state_dir: Path) -> Path:
    """Where the incident database of an installation lives."""
    return state_dir / DB_FILENAME


class Incident(NamedTuple):
    """One block, as a server reports it."""

    at: float  # unix time
    client: str  # raw client IP text; pseudonymised by the writer before it is stored
    group: str
    name: str  # the blocked name
    category: str
    list_id: str
    action: str  # e.g. "blocked", "cname-blocked"
    source: str  # "dns" (later "proxy", "bypass")
    reason: str


class IncidentSink(Protocol):
    """What a server needs from the writer."""

    def submit(self, incident: Incident) -> None: ...


class _Queued:
    """An incident waiting for the writer, with the repeats `submit` folded into it."""

    __slots__ = ("count", "first_at", "fold", "incident", "last_at", "year")

    def __init__(self, incident: Incident, fold: _Fold, year: int) -> None:
        self.incident = incident
        self.fold = fold
        self.year = year  # its Europe/Tirane year (0 without yearly keys): pseudonyms differ
        self.count = 1
        self.first_at = self.last_at = incident.at


@dataclass(frozen=True, slots=True)
class IncidentRow:
    """One stored incident; `client` is the pseudonym, `count` the repeats it stands for."""

    id: int
    first_at: float
    last_at: float
    count: int
    client: str
    group: str
    name: str
    category: str
    list_id: str
    action: str
    source: str
    reason: str


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
        self._key = key
        # With `key_for_year` (e.g. `reporting.pseudonym.yearly_keys`), each incident is keyed
        # by its Europe/Tirane year instead of `key`, so pseudonyms of two years never link.
        self._key_for_year = key_for_year
        self._year_of = TiraneYear()
        self._queue: deque[_Queued] = deque()
        self._waiting: dict[_Fold, _Queued] = {}  # queued entries that repeats fold into
        self._wake = asyncio.Event()
        self._db: aiosqlite.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._stopping = False
        # Must outlive one batch, so that a row made earlier in the batch is never forgotten.
        capacity = settings.recent_pairs if recent_capacity is None else recent_capacity
        self._capacity = max(capacity, 2 * settings.batch_size)
        self._recent: OrderedDict[_Key, _Seen] = OrderedDict()
        self._pseudonyms: dict[tuple[int, str], str] = {}
        # The database lookup for pairs missing from `_recent` is only needed while the memory
        # cannot be complete: in the first dedup window after start (rows from before the
        # restart), after `_recent` evicted a pair still inside its window, or when other
        # processes write to the same database (`shared`). Skipping it otherwise halves the
        # cost of an incident for a name seen for the first time (measured: ~22 → ~11 µs).
        self._shared = shared
        self._memory_complete_after = float("inf")
        self._errors = _RateLimitedLog(60.0)
        if registry is not None:
            registry.register(_WriterCollector(self))

    @property
    def queued(self) -> int:
        """Entries waiting for the writer (folded repeats do not add any)."""
        return len(self._queue)

    async def start(self) -> None:
        """Open the database (WAL), create or migrate the schema and start the writer task."""
        if self._task is not None or self._closed:
            raise RuntimeError("IncidentWriter.start() called twice")
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(self.db_path, isolation_level=None)
        try:
            retry, deadline = RETRY_FIRST, time.monotonic() + STOP_TIMEOUT
            while True:
                try:
                    await _prepare(db)
                    break
                except sqlite3.OperationalError as exc:  # locked by another writer: wait
                    if not _busy(exc) or time.monotonic() >= deadline:
                        raise
                    log.warning("incident store: %s; trying again", exc)
                    await asyncio.sleep(retry)
                    retry = min(2 * retry, RETRY_MAX)
        except BaseException:
            await db.close()
            raise
        self._db = db
        self._memory_complete_after = time.time() + self.settings.dedup_seconds
        self._task = asyncio.get_running_loop().create_task(self._run(),
                                                            name="roja-incident-writer")
        self._task.add_done_callback(_log_task_failure)

    def submit(self, incident: Incident) -> None:
        """Queue an incident (call it from the event loop's thread). Never blocks or awaits;
        when the queue is full the incident is counted as dropped instead. A repeat of an
        entry still queued is folded into it (module docstring)."""
        if self._closed:
            self.dropped += 1
            self._unrecorded_drops += 1
            return
        # Hot path for repeated blocks (every blocked query of a looping client): one tuple,
        # one dict lookup, a few compares; measured in bench/RESULTS.md (issue 21).
        fold = (incident.client, incident.name, incident.category)
        at = incident.at
        year = 0 if self._key_for_year is None else self._year_of(at)
        waiting = self._waiting.get(fold)
        if waiting is not None and waiting.year == year and \
                waiting.last_at >= at - self.settings.dedup_seconds:
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
        entry = _Queued(incident, fold, year)
        queue.append(entry)
        self._waiting[fold] = entry
        n = len(queue)
        if n == 1 or n == self.settings.batch_size:
            self._wake.set()

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
        self._queue.clear()
        self._waiting.clear()
        db, self._db = self._db, None
        if db is not None:
            await db.close()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        queue, batch_size = self._queue, self.settings.batch_size
        retry = RETRY_FIRST
        while True:
            if not queue:
                if self._stopping:
                    return
                self._wake.clear()
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

    def _take_batch(self) -> list[_Queued]:
        """The next batch; its entries take no more repeats (those queue a new entry)."""
        queue, waiting = self._queue, self._waiting
        batch = [queue.popleft() for _ in range(min(len(queue), self.settings.batch_size))]
        for q in batch:
            if waiting.get(q.fold) is q:
                del waiting[q.fold]
        return batch

    def _put_back(self, batch: list[_Queued]) -> None:
        """A batch that could not be written goes back to the head of the queue, in order."""
        self._queue.extendleft(reversed(batch))
        for q in batch:
            self._waiting.setdefault(q.fold, q)

    async def _write_batch(self, batch: list[_Queued]) -> bool:
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
                seen = await self._store(db, batch)
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
        self._remember(seen)
        self.written += sum(q.count for q in batch)
        self.batches += 1
        return True

    async def _store(self, db: aiosqlite.Connection, batch: list[_Queued]) -> dict[_Key, _Seen]:
        """Insert new rows and bump repeated ones; returns what the batch touched."""
        dedup = self.settings.dedup_seconds
        keyed = [((self._pseudonym(q.incident.client, q.first_at), q.incident.name), q)
                 for q in batch]
        recent = self._recent
        missing = {k for k, _ in keyed if k not in recent}
        found: dict[_Key, _Seen] = {}
        earliest = min(q.first_at for _, q in keyed)
        memory_complete = not self._shared and earliest > self._memory_complete_after
        if missing and not memory_complete:
            found = await _lookup(db, missing, earliest - dedup)
        rows = await db.execute_fetchall("SELECT COALESCE(MAX(id), 0) FROM incidents")
        next_id = int(next(iter(rows))[0]) + 1
        touched: dict[_Key, _Seen] = {}
        inserts: dict[int, _NewRow] = {}
        # id -> [added count, first_at, last_at, the row's first_at]
        updates: dict[int, list[float]] = {}
        for key, q in keyed:  # q: an incident and the repeats folded into it at submit
            hit = touched.get(key) or recent.get(key) or found.get(key)
            if hit is not None and hit[1] >= q.first_at - dedup:
                row_id, last = hit[0], max(hit[1], q.last_at)
                first = min(hit[2], q.first_at)
                new = inserts.get(row_id)
                if new is not None:
                    new.first_at = first
                    new.last_at = last
                    new.count += q.count
                else:
                    bump = updates.setdefault(row_id, [0, q.first_at, last, hit[2]])
                    bump[0] += q.count
                    bump[1] = min(bump[1], q.first_at)
                    bump[2] = max(bump[2], last)
            else:
                row_id, last, first = next_id, q.last_at, q.first_at
                next_id += 1
                inserts[row_id] = _NewRow(row_id, q.first_at, q.last_at, q.count, key[0],
                                          q.incident)
            touched[key] = (row_id, last, first)
        if inserts:
            await db.executemany(_INSERT, [r.values() for r in inserts.values()])
        earlier = [(int(n), f, la, row_id) for row_id, (n, f, la, was) in updates.items()
                   if f < was]  # only when the clock went back
        if earlier:
            await db.executemany(_UPDATE, earlier)
        if len(earlier) < len(updates):
            await db.executemany(_BUMP, [(int(n), la, row_id) for row_id, (n, f, la, was)
                                         in updates.items() if f >= was])
        return touched

    def _remember(self, seen: dict[_Key, _Seen]) -> None:
        if not seen:
            return
        recent = self._recent
        for key, value in seen.items():
            recent[key] = value
            recent.move_to_end(key)
        horizon = max(v[1] for v in seen.values()) - self.settings.dedup_seconds
        while recent:
            oldest = next(iter(recent.values()))
            if len(recent) <= self._capacity and oldest[1] >= horizon:
                break
            recent.popitem(last=False)
            if oldest[1] >= horizon:  # evicted inside its window: ask the database again
                self._memory_complete_after = max(self._memory_complete_after,
                                                  oldest[1] + self.settings.dedup_seconds)

    def _pseudonym(self, client: str, at: float) -> str:
        key_for_year = self._key_for_year
        year = 0 if key_for_year is None else self._year_of(at)
        cache = self._pseudonyms
        value = cache.get((year, client))
        if value is None:
            if len(cache) >= PSEUDONYM_CAPACITY:
                cache.clear()
            key = self._key if key_for_year is None else key_for_year(year)
            value = cache[(year, client)] = pseudonym(key, client)
        return value


@dataclass(slots=True)
class _NewRow:
    id: int
    first_at: float
    last_at: float
    count: int
    client: str  # the pseudonym
    incident: Incident

    def values(self) -> tuple[object, ...]:
        i = self.incident
        return (self.id, self.first_at, self.last_at, self.count, self.client, i.group, i.name,
                i.category, i.list_id, i.action, i.source, i.reason)


async def _prepare(db: aiosqlite.Connection) -> None:
    await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    mode = await db.execute_fetchall("PRAGMA journal_mode = WAL")
    if str(next(iter(mode), ("?",))[0]).lower() != "wal":
        log.warning("incident store: SQLite refused WAL mode; writes may wait for readers")
    await db.execute("PRAGMA synchronous = NORMAL")
    await db.execute("BEGIN IMMEDIATE")
    try:
        await db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        rows = list(await db.execute_fetchall("SELECT MAX(version) FROM schema_version"))
        version = int(rows[0][0] or 0)
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"the incident database has schema version {version}, made by a newer Roja "
                f"(this one knows up to {SCHEMA_VERSION})")
        for statements in MIGRATIONS[version:]:
            for statement in statements:
                await db.execute(statement)
        if version < SCHEMA_VERSION:
            await db.execute("DELETE FROM schema_version")
            await db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
        await db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(Exception):
            await db.execute("ROLLBACK")
        raise


def _busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


async def _lookup(db: aiosqlite.Connection, keys: Iterable[_Key],
                  since: float) -> dict[_Key, _Seen]:
    """The newest row per (client, name) with last_at >= since."""
    found: dict[_Key, _Seen] = {}
    pending = list(keys)
    for start in range(0, len(pending), _LOOKUP_CHUNK):
        chunk = pending[start:start + _LOOKUP_CHUNK]
        values = ", ".join("(?, ?)" for _ in chunk)
        params: list[object] = [part for key in chunk for part in key]
        params.append(since)
        # CROSS JOIN keeps SQLite from reordering: one (client, name) index search per key,
        # whatever the table statistics say.
        rows = await db.execute_fetchall(
            f"SELECT i.client, i.name, i.id, i.last_at, i.first_at FROM (VALUES {values}) AS k "
            "CROSS JOIN incidents AS i ON i.client = k.column1 AND i.name = k.column2 "
            "AND i.last_at >= ?", params)
        for client, name, row_id, last_at, first_at in rows:
            key = (client, name)
            if key not in found or last_at > found[key][1]:
                found[key] = (int(row_id), float(last_at), float(first_at))
    return found


def _log_task_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("incident writer stopped unexpectedly", exc_info=task.exception())


class _RateLimitedLog:
    """At most one error line per interval, saying how many were held back."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._next = 0.0
        self._held = 0
        self._attempts = 0  # failed attempts since the last success

    @property
    def failing(self) -> bool:
        return self._attempts > 0

    def recovered(self) -> int:
        attempts, self._attempts, self._next = self._attempts, 0, 0.0
        return attempts

    def report(self, exc: Exception, waiting: int) -> None:
        self._attempts += 1
        now = time.monotonic()
        if now < self._next:
            self._held += 1
            return
        self._next = now + self._interval
        held, self._held = self._held, 0
        more = f" ({held} more failed attempts since the last message)" if held else ""
        log.error("incident store: could not write %d incidents yet (kept queued, retrying): "
                  "%s: %s%s", waiting, type(exc).__name__, exc, more)


class _WriterCollector(Collector):
    def __init__(self, writer: IncidentWriter) -> None:
        self._writer = writer

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily("roja_incidents_written",
                                  "Incidents stored (repeats folded into a row included).",
                                  value=self._writer.written)
        yield CounterMetricFamily("roja_incidents_dropped",
                                  "Incidents lost: queue full, or unwritten at stop.",
                                  value=self._writer.dropped)

    def describe(self) -> Iterator[Metric]:
        return self.collect()


class IncidentStoreError(Exception):
    """The incident database cannot be read."""


class NoIncidentStoreError(IncidentStoreError):
    """There is no incident database yet (nothing was ever blocked, or a fresh install)."""


class IncidentStore:
    """Read-only, synchronous access to the incident database (for the CLI)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        if not db_path.is_file():
            raise NoIncidentStoreError(f"{db_path}: there is no incident database yet")
        uri = db_path.resolve().as_uri() + "?mode=ro"
        try:
            self._db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as exc:
            raise IncidentStoreError(f"{db_path}: cannot open the incident database ({exc})"
                                     ) from exc
        try:
            row = self._db.execute("SELECT MAX(version) FROM schema_version").fetchone()
        except sqlite3.Error as exc:
            self._db.close()
            raise IncidentStoreError(f"{db_path}: not a Roja incident database ({exc})") from exc
        version = int(row[0] or 0) if row else 0
        if not 1 <= version <= SCHEMA_VERSION:
            self._db.close()
            raise IncidentStoreError(f"{db_path}: incident database schema version {version} "
                                     f"is not one this Roja reads (1..{SCHEMA_VERSION})")

    def list_since(self, since_unix: float, limit: int = 1000) -> list[IncidentRow]:
        """The newest `limit` incidents seen since `since_unix`, oldest first."""
        rows = self._query(f"SELECT {_COLUMNS} FROM incidents WHERE last_at >= ? "
                           "ORDER BY last_at DESC, id DESC LIMIT ?", (since_unix, limit))
        rows.reverse()
        return rows

    def between(self, start: float, end: float, *, category: str = "", group: str = "",
                limit: int = 1000) -> list[IncidentRow]:
        """The newest `limit` incidents first seen in [start, end), optionally of one category
        and one group, newest first (periods are selected by first_at, which is indexed)."""
        sql = f"SELECT {_COLUMNS} FROM incidents WHERE first_at >= ? AND first_at < ?"
        params: list[str | float | int] = [start, end]
        if category:
            sql += " AND category = ?"
            params.append(category)
        if group:
            sql += " AND grp = ?"
            params.append(group)
        return self._query(sql + " ORDER BY first_at DESC, id DESC LIMIT ?",
                           (*params, limit))

    def after_id(self, last_id: int, limit: int = 1000) -> list[IncidentRow]:
        """Rows created after row `last_id`, in order (for `tail`)."""
        return self._query(f"SELECT {_COLUMNS} FROM incidents WHERE id > ? ORDER BY id LIMIT ?",
                           (last_id, limit))

    def latest(self, n: int) -> list[IncidentRow]:
        """The last `n` rows created, oldest first."""
        rows = self._query(f"SELECT {_COLUMNS} FROM incidents ORDER BY id DESC LIMIT ?", (n,))
        rows.reverse()
        return rows

    def max_id(self) -> int:
        try:
            row = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM incidents").fetchone()
        except sqlite3.Error as exc:
            raise IncidentStoreError(f"{self.db_path}: cannot read incidents ({exc})") from exc
        return int(row[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> IncidentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _query(self, sql: str, params: tuple[str | float | int, ...]) -> list[IncidentRow]:
        try:
            rows = self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise IncidentStoreError(f"{self.db_path}: cannot read incidents ({exc})") from exc
        return [IncidentRow(int(r[0]), float(r[1]), float(r[2]), int(r[3]), *map(str, r[4:]))
                for r in rows]
