"""How every Roja SQLite store is opened and migrated: one connection policy, one runner.

    INBOX = Schema("inbox.sqlite", (
        ("CREATE TABLE schools (...)", "CREATE INDEX ..."),   # version 1
        ("ALTER TABLE schools ADD COLUMN zva ...", _fill_zva),  # version 2
    ))
    db = open_store(path, INBOX)            # WAL, busy timeout, foreign keys, migrated
    with transaction(db):                   # BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error)
        db.execute("INSERT ...")

The stores (incidents with manual incidents and events, outbox, inbox, console accounts,
overrides with unblock requests) each declare a `Schema`: an ordered list of steps, where
step i takes the schema from version i to i + 1 and is a tuple of SQL statements or a
function of the connection (a data fix such as filling in a new column).

Connection policy (`configure`), the same for every store:
- `journal_mode=WAL`: readers (the CLI, the console, the report) never wait for the writer
  and the writer never waits for them; only writers queue behind each other.
- `busy_timeout` `BUSY_TIMEOUT_MS`: a writer waits that long for another writer's lock before
  SQLite reports "database is locked". Writes that must not be lost (incidents, events,
  `roja incident add`) retry above it with a backoff (`retry_locked`) instead of giving up.
- `foreign_keys=ON`: the references the schemas declare are enforced.
- `synchronous=NORMAL`: in WAL mode a commit is safe against a crash of the process (kill -9,
  an exception) and the file never corrupts; only a power cut can undo the last commits before
  the next WAL sync. That is the bound we accept for incidents, the inbox and the console,
  and it saves an fsync per transaction (the incident writer commits several times a second
  under load). The outbox passes `durable=True` (`synchronous=FULL`): its rows record what
  has left the machine, and an undone "sent" mark is a second e-mail to an office.

The version is kept in one place, `PRAGMA user_version`. Databases written by Roja before
this module kept it in a `schema_version` table (the incident and inbox stores) or nowhere
(console, overrides: their first step uses `IF NOT EXISTS`, so it runs harmlessly over the
tables an unversioned file already has); the runner reads that table when `user_version` is
0, moves the number into `user_version` and drops the table, in one transaction. Each step
runs in its own `BEGIN IMMEDIATE` transaction that first reads the version again, so two
processes opening the same old file migrate it once. Opening a current database takes no
write lock. A database newer than the code is refused with `StoreTooNewError`, which names
the file, Albanian first; the CLI shows it as it is (`filterd.errors.unexpected`).

Writes that must not be lost (`roja incident add`, events) go through `retry_locked`: after
the busy timeout they try again with a backoff, and a caller with a person waiting (the CLI,
the console) gives up after its bound with `StoreLockedError` (Albanian first, the file named).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
RETRY_FIRST = 0.05  # seconds before the first retry of a write that found the store locked
RETRY_MAX = 5.0  # the backoff doubles up to this

Step = tuple[str, ...] | Callable[[sqlite3.Connection], None]


@dataclass(frozen=True)
class Schema:
    """The migrations of one store; `name` is its file name, for messages."""

    name: str
    steps: tuple[Step, ...]

    @property
    def version(self) -> int:
        return len(self.steps)


class StoreError(Exception):
    """A store problem told in Albanian (`sq`) and English (`en`), naming the file."""

    def __init__(self, path: Path, sq: str, en: str) -> None:
        self.path, self.sq, self.en = path, sq, en
        super().__init__(f"{sq} / {en}")


class StoreTooNewError(StoreError):
    """The database was made by a newer Roja than this one."""

    def __init__(self, path: Path, version: int, known: int) -> None:
        self.version, self.known = version, known
        super().__init__(
            path,
            f"baza e të dhënave {path} është shkruar nga një Roja më e re (skema {version}; "
            f"kjo njeh deri në {known}): përditësoni Roja-n",
            f"the database {path} was written by a newer Roja (schema {version}; this one "
            f"knows up to {known}): update Roja")


class StoreLockedError(StoreError):
    """Another program held the write lock longer than the caller could wait."""

    def __init__(self, path: Path, seconds: float) -> None:
        super().__init__(
            path,
            f"baza e të dhënave {path} mbeti e zënë nga një program tjetër për {seconds:.0f} "
            "s; provoni përsëri",
            f"the database {path} stayed locked by another program for {seconds:.0f} s; "
            "try again")


def configure(db: sqlite3.Connection, *, durable: bool = False) -> None:
    """Apply the connection policy (see the module docstring) to an open connection."""
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
    mode = db.execute("PRAGMA journal_mode = WAL").fetchone()
    if str(mode[0] if mode else "?").lower() != "wal":
        log.warning("SQLite refused WAL mode; writers will wait for readers")


def connection_pragmas(*, durable: bool = False) -> tuple[str, ...]:
    """The per-connection part of the policy, for connections opened elsewhere (aiosqlite);
    WAL is a property of the file, set by `open_store` before."""
    return (f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}", "PRAGMA foreign_keys = ON",
            f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")


def open_store(path: Path, schema: Schema, *, durable: bool = False,
               check_same_thread: bool = True) -> sqlite3.Connection:
    """Open (creating it and its directory if missing) and migrate the store at `path`, in
    autocommit mode: `transaction()` groups statements. SQLite errors carry the path as a
    note (the CLI names the file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                         check_same_thread=check_same_thread)
    try:
        configure(db, durable=durable)
        migrate(db, schema, path)
    except sqlite3.Error as exc:
        db.close()
        exc.add_note(str(path))
        raise
    except BaseException:
        db.close()
        raise
    return db


def open_readonly(path: Path, schema: Schema, *, minimum: int = 1) -> sqlite3.Connection:
    """A read-only connection to an existing store whose version this code reads (`minimum`
    up to the schema's); StoreTooNewError when newer, sqlite3.DatabaseError when older (with
    the default 1: not one of ours at all). Every reader that opens a store without migrating
    it goes through here (`roja status`, the report's data, the console's overview), so none
    guesses at the tables of a newer Roja; `minimum=0` for readers that answer empty for a
    table not there yet."""
    db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True,
                         timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = read_version(db)
        if version > schema.version:
            raise StoreTooNewError(path, version, schema.version)
        if version < minimum:
            raise sqlite3.DatabaseError(f"{path}: not a Roja {schema.name} database")
    except BaseException:
        db.close()
        raise
    return db


def read_version(db: sqlite3.Connection) -> int:
    """The schema version: `user_version`, or an older Roja's `schema_version` table."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version == 0 and _has_legacy_table(db):
        row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
        version = int(row[0] or 0) if row else 0
    return version


def _has_legacy_table(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                      "name = 'schema_version'").fetchone() is not None


def migrate(db: sqlite3.Connection, schema: Schema, path: Path) -> None:
    """Bring the store up to `schema.version`, one step per transaction."""
    if int(db.execute("PRAGMA user_version").fetchone()[0]) == schema.version:
        return  # current: no write lock taken
    while True:
        with transaction(db):
            version = read_version(db)  # again, under the lock: another process may have
            if version > schema.version:
                raise StoreTooNewError(path, version, schema.version)
            if _has_legacy_table(db):
                db.execute("DROP TABLE schema_version")
            if version < schema.version:
                step = schema.steps[version]
                if callable(step):
                    step(db)
                else:
                    for statement in step:
                        db.execute(statement)
                version += 1
            db.execute(f"PRAGMA user_version = {version}")
        if version == schema.version:
            return


@contextlib.contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT on an autocommit connection; ROLLBACK on any error."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def is_locked(exc: BaseException) -> bool:
    """Whether `exc` is SQLite saying another writer holds the lock."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def retry_locked[T](fn: Callable[[], T], path: Path, *, patience: float | None = None) -> T:
    """`fn()`, tried again with a backoff (0.05 s doubling to 5 s) while the store at `path`
    is locked by another writer, for up to `patience` seconds (None: as long as the process
    lives); then StoreLockedError. Each try already waits the busy timeout inside SQLite, so
    the whole wait may pass `patience` by up to one busy timeout."""
    retry = RETRY_FIRST
    deadline = None if patience is None else time.monotonic() + patience
    while True:
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            if not is_locked(exc):
                raise
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise StoreLockedError(path, patience or 0.0) from exc
            log.warning("%s: %s; trying again in %.2f s", path, exc, retry)
        time.sleep(retry if left is None else min(retry, left))
        retry = min(2 * retry, RETRY_MAX)
