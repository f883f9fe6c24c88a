"""The report outbox: every delivery of a report bundle, retried until a channel confirms it.

    with Outbox(state_dir / "outbox.sqlite") as outbox:
        outbox.enqueue(bundle, settings.recipients(), now)      # idempotent
        outbox.run_due(now, {"smtp": SmtpChannel(...), "https": HttpsChannel(...)})

A row is one (idempotency key, channel, recipient); the key is the SHA-256 of the school code,
the period and the report's content hash, so enqueueing the same bundle twice adds nothing.
`run_due(now)` tries the rows that are due, oldest first, and marks a row `sent` only after the
channel confirmed (SMTP accepted the DATA, the inbox answered 200/201 with a receipt). A failed
attempt is retried after 1 min, 5 min, 30 min, 2 h, 12 h and then every 24 h; a channel's
permanent refusal, or a failure 7 days after the row was queued, ends in `failed_permanent`.

Revisions (`reporting.bundles`): a newer revision of the same school and period supersedes
the older revisions' rows that are still `queued` (`supersede`): they end as `superseded` and
are never sent, so an office does not receive an outdated report after its correction.

Exactly once, as far as SMTP allows: an attempt whose outcome is unknown (the SMTP server did
not answer after the whole message was sent, `DeliveryError(unknown=True)`, or an e-mail row
found in `sending` after its sender died) is counted in `uncertain`; it is retried once, with
the same Message-ID and idempotency key (a receiver that deduplicates counts it once), and a
second unknown outcome ends the row as `failed_permanent` ("outcome unknown"), so a slow mail
server no longer receives a new copy every retry for 7 days. HTTPS is idempotent at the inbox
(the key), so its unknown outcomes are simply retried.

Crash safety: a row is marked `sending` (and its attempt counted) in its own committed
transaction before the attempt. One sender at a time holds `outbox.lock` (flock, released by
the kernel when the process dies), so a row found in `sending` by the lock holder belongs to a
sender that died mid-attempt: it is retried at once. The message may then reach the receiver
twice, carrying the same idempotency key both times; the receiver counts it once. The daemon's
step skips a round while another process sends; `roja report send` waits for it
(`run_due(wait=...)`, bounded) and then tells the real outcome, or gets `SenderBusy` when the
other sender is still at it.

The database is its own SQLite file, apart from the incident store, opened and migrated by
`reporting.sqlite_store` (its policy, but synchronous=FULL: see `Outbox.__init__`).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from reporting.sqlite_store import Schema, open_store

log = logging.getLogger(__name__)

Status = Literal["queued", "sending", "sent", "failed_permanent", "superseded"]
CHANNELS = ("smtp", "https")
BACKOFF = (60.0, 300.0, 1800.0, 7200.0, 43200.0)  # after the 1st..5th failed attempt
DAILY = 86400.0  # after the 6th and later
GIVE_UP = 7 * 86400.0  # a failure this long after enqueueing is final
LOCK_POLL = 0.2  # seconds between looks at the sender lock while waiting for another sender

MAX_UNCERTAIN = 2  # e-mail attempts with an unknown outcome before a row stops (1 retry)
_TABLE = """
CREATE TABLE {name} (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL,
    school_code TEXT NOT NULL,
    period TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('smtp', 'https')),
    recipient TEXT NOT NULL,
    files TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'sending', 'sent', 'failed_permanent', 'superseded')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    next_attempt_at REAL NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    sent_at REAL,
    receipt TEXT NOT NULL DEFAULT '',
    uncertain INTEGER NOT NULL DEFAULT 0,
    UNIQUE (idempotency_key, channel, recipient)
)"""
# Version 1, as the first release created it (kept as written: a migration never changes).
_V1_TABLE = """CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL,
    school_code TEXT NOT NULL,
    period TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('smtp', 'https')),
    recipient TEXT NOT NULL,
    files TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'sending', 'sent', 'failed_permanent')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    next_attempt_at REAL NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    sent_at REAL,
    receipt TEXT NOT NULL DEFAULT '',
    UNIQUE (idempotency_key, channel, recipient)
)"""
_V1_COLUMNS = ("id, idempotency_key, school_code, period, channel, recipient, files, status, "
               "attempts, created_at, next_attempt_at, last_error, sent_at, receipt")
_INDEX = "CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_attempt_at)"


def _rebuild_v1(conn: sqlite3.Connection) -> None:
    """Version 2 adds the `superseded` status (a CHECK, so the table is rebuilt) and the
    `uncertain` count; version-1 rows keep everything they had."""
    conn.execute(_TABLE.format(name="deliveries_v2"))
    conn.execute(f"INSERT INTO deliveries_v2 ({_V1_COLUMNS}) SELECT {_V1_COLUMNS} FROM deliveries")
    conn.execute("DROP TABLE deliveries")
    conn.execute("ALTER TABLE deliveries_v2 RENAME TO deliveries")
    conn.execute(_INDEX)


# The migrations, for `reporting.sqlite_store` (version in PRAGMA user_version, as before).
SCHEMA = Schema("outbox.sqlite", (
    (_V1_TABLE, _INDEX),
    _rebuild_v1,
))
SCHEMA_VERSION = SCHEMA.version


def idempotency_key(school_code: str, period: str, content_sha256: str) -> str:
    """Hex SHA-256 of school code, period and content hash (separated by U+001F)."""
    return hashlib.sha256("\x1f".join((school_code, period, content_sha256)).encode()).hexdigest()


def backoff(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed attempt."""
    return BACKOFF[attempts - 1] if 1 <= attempts <= len(BACKOFF) else DAILY


@dataclass(frozen=True)
class Bundle:
    """The files of one report (`pdf`, `csv`, `json` → path) and what identifies it."""

    school_code: str
    period: str
    content_sha256: str
    files: Mapping[str, Path]

    @property
    def key(self) -> str:
        return idempotency_key(self.school_code, self.period, self.content_sha256)


@dataclass(frozen=True)
class Delivery:
    id: int
    key: str
    school_code: str
    period: str
    channel: str
    recipient: str
    files: Mapping[str, Path]
    status: Status
    attempts: int
    created_at: float
    next_attempt_at: float
    last_error: str
    sent_at: float | None
    receipt: str
    uncertain: int = 0  # attempts whose outcome is unknown (the receiver may have it)


class DeliveryError(Exception):
    """A failed attempt; `permanent` means retrying cannot help (the receiver refused it);
    `unknown` that the receiver may have it all the same (no answer after the whole message)."""

    def __init__(self, message: str, *, permanent: bool = False, unknown: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.unknown = unknown


class SenderBusy(Exception):  # noqa: N818 (a state, not a failure)
    """Another process kept the sender lock for the whole wait: it is delivering now."""

    def __init__(self, waited: float) -> None:
        super().__init__(f"another sender held the outbox for {waited:.0f} s")
        self.waited = waited


class Channel(Protocol):
    """One way out (SMTP, HTTPS). `send` returns a receipt text or raises DeliveryError."""

    def accepts(self, recipient: str) -> bool: ...

    def send(self, delivery: Delivery) -> str: ...


class Outbox:
    """The outbox database at `path` (created with its schema when missing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # FULL, not the stores' NORMAL: a "sent" mark undone by a power cut is a second
        # e-mail to an office (reporting.sqlite_store).
        self.conn = open_store(path, SCHEMA, durable=True)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def enqueue(self, bundle: Bundle, recipients: Iterable[tuple[str, str]],
                now: float) -> list[Delivery]:
        """One row per (channel, recipient) for this bundle; rows already there stay as they
        are (superseded ones are queued again). Returns the bundle's rows for these
        recipients."""
        pairs = list(dict.fromkeys(recipients))
        for channel, _ in pairs:
            if channel not in CHANNELS:
                raise ValueError(f"unknown channel {channel!r}")
        files = json.dumps({k: str(v) for k, v in sorted(bundle.files.items())})
        with self._transaction():
            for channel, recipient in pairs:
                self.conn.execute(
                    "INSERT OR IGNORE INTO deliveries (idempotency_key, school_code, period, "
                    "channel, recipient, files, created_at, next_attempt_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (bundle.key, bundle.school_code, bundle.period, channel, recipient, files,
                     now, now))
            # the same content again after a newer revision had superseded it: send it after all
            self.conn.execute("UPDATE deliveries SET status = 'queued', next_attempt_at = ?, "
                              "last_error = '' WHERE idempotency_key = ? AND "
                              "status = 'superseded'", (now, bundle.key))
        wanted = set(pairs)
        return [d for d in self.deliveries(key=bundle.key) if (d.channel, d.recipient) in wanted]

    def supersede(self, bundle: Bundle, now: float) -> int:
        """Mark the still-queued rows of the same school and period with another key as
        `superseded` by `bundle`; returns how many."""
        with self._transaction():
            cur = self.conn.execute(
                "UPDATE deliveries SET status = 'superseded', next_attempt_at = ?, "
                "last_error = ? WHERE school_code = ? AND period = ? AND idempotency_key != ? "
                "AND status = 'queued'",
                (now, f"zëvendësuar nga rishikimi i ri / superseded by a newer revision "
                      f"({bundle.content_sha256[:12]})", bundle.school_code, bundle.period,
                 bundle.key))
        return cur.rowcount

    def deliveries(self, *, period: str | None = None, key: str | None = None) -> list[Delivery]:
        """Rows, newest first, optionally only one period's or one bundle's."""
        sql, params = "SELECT * FROM deliveries WHERE 1", list[str]()
        if period is not None:
            sql, params = sql + " AND period = ?", [*params, period]
        if key is not None:
            sql, params = sql + " AND idempotency_key = ?", [*params, key]
        rows = self.conn.execute(sql + " ORDER BY created_at DESC, id", params)
        return [_delivery(r) for r in rows]

    def run_due(self, now: float, channels: Mapping[str, Channel], *, wait: float = 0.0,
                waiting: Callable[[], None] | None = None) -> list[Delivery]:
        """Attempt every due row whose channel is given and accepts its recipient; returns the
        rows as they ended. While another process is sending: with `wait` 0, [] at once;
        otherwise wait up to `wait` seconds for it to finish (calling `waiting()` once when
        the wait begins), then go on with the rows still due (`now` moved by the wait), or
        raise SenderBusy when it still sends."""
        done: list[Delivery] = []
        with self._sender_lock(wait, waiting) as waited:
            if waited is None:
                if wait > 0:
                    raise SenderBusy(wait)
                return done
            now += waited  # the other sender's rows are judged (and stamped) as of now
            rows = self.conn.execute(
                "SELECT * FROM deliveries WHERE status = 'sending' OR "
                "(status = 'queued' AND next_attempt_at <= ?) ORDER BY next_attempt_at, id",
                (now,)).fetchall()
            for row in rows:
                delivery = _delivery(row)
                channel = channels.get(delivery.channel)
                if channel is None or not channel.accepts(delivery.recipient):
                    continue
                if delivery.status == "sending" and delivery.channel == "smtp":
                    # its sender died mid-attempt: the server may have the message
                    delivery = self._uncertain(delivery, now, "the sender stopped mid-attempt")
                    if delivery.status != "sending":
                        done.append(delivery)
                        continue
                done.append(self._attempt(delivery, channel, now))
        return done

    def _attempt(self, delivery: Delivery, channel: Channel, now: float) -> Delivery:
        with self._transaction():
            self.conn.execute("UPDATE deliveries SET status = 'sending', attempts = attempts + 1 "
                              "WHERE id = ?", (delivery.id,))
        attempts = delivery.attempts + 1
        try:
            missing = [str(p) for p in delivery.files.values() if not p.is_file()]
            if missing:
                raise DeliveryError(f"skedari mungon / file missing: {', '.join(missing)}",
                                    permanent=True)
            receipt = channel.send(delivery)
        except Exception as exc:
            permanent = isinstance(exc, DeliveryError) and exc.permanent
            message = str(exc) if isinstance(exc, DeliveryError) else (
                f"{type(exc).__name__}: {exc}")
            if isinstance(exc, DeliveryError) and exc.unknown and delivery.channel == "smtp":
                return self._uncertain(delivery, now, message, attempts)
            final = permanent or now - delivery.created_at >= GIVE_UP
            log.warning("report delivery %s to %s failed (attempt %d, %s): %s",
                        delivery.channel, delivery.recipient, attempts,
                        "final" if final else "will retry", message)
            with self._transaction():
                self.conn.execute(
                    "UPDATE deliveries SET status = ?, next_attempt_at = ?, last_error = ? "
                    "WHERE id = ?", ("failed_permanent" if final else "queued",
                                     now + backoff(attempts), message[:2000], delivery.id))
        else:
            with self._transaction():
                self.conn.execute(
                    "UPDATE deliveries SET status = 'sent', sent_at = ?, receipt = ?, "
                    "last_error = '' WHERE id = ?", (now, receipt[:4000], delivery.id))
        row = self.conn.execute("SELECT * FROM deliveries WHERE id = ?", (delivery.id,))
        return _delivery(row.fetchone())

    def _uncertain(self, delivery: Delivery, now: float, message: str,
                   attempts: int | None = None) -> Delivery:
        """Count an attempt whose outcome is unknown; the second one ends the row."""
        uncertain = delivery.uncertain + 1
        final = uncertain >= MAX_UNCERTAIN
        if final:
            message = (f"përfundimi i panjohur {uncertain} herë; nuk provohet më, që marrësi të "
                       f"mos e marrë dy herë: pyesni zyrën nëse e ka / outcome unknown "
                       f"{uncertain} times; not retried so the receiver does not get copies: "
                       f"ask the office whether it has it. Last: {message}")
        log.warning("report delivery %s to %s: outcome unknown (%d), %s: %s", delivery.channel,
                    delivery.recipient, uncertain, "final" if final else "retried once",
                    message)
        status = "failed_permanent" if final else ("queued" if attempts else "sending")
        with self._transaction():
            self.conn.execute(
                "UPDATE deliveries SET status = ?, uncertain = ?, next_attempt_at = ?, "
                "last_error = ? WHERE id = ?",
                (status, uncertain, now + backoff(attempts or 1) if attempts else now,
                 message[:2000], delivery.id))
        row = self.conn.execute("SELECT * FROM deliveries WHERE id = ?", (delivery.id,))
        return _delivery(row.fetchone())

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @contextmanager
    def _sender_lock(self, wait: float = 0.0,
                     waiting: Callable[[], None] | None = None) -> Iterator[float | None]:
        """Hold `outbox.lock`: the seconds waited for it (0.0 when it was free at once), or
        None when another process kept it for all of `wait`."""
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT,
                     0o600)
        started = time.monotonic()
        waited = 0.0
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if waited >= wait:
                        yield None
                        return
                    if waiting is not None:
                        waiting()
                        waiting = None
                    time.sleep(min(LOCK_POLL, wait - waited))
                    waited = time.monotonic() - started
            yield waited
        finally:
            os.close(fd)  # closing the descriptor releases the lock


def _delivery(row: tuple[Any, ...]) -> Delivery:
    (id_, key, code, period, channel, recipient, files, status, attempts, created, next_at,
     error, sent_at, receipt, uncertain) = row
    return Delivery(int(id_), str(key), str(code), str(period), str(channel), str(recipient),
                    {k: Path(v) for k, v in json.loads(files).items()}, status, int(attempts),
                    float(created), float(next_at), str(error),
                    None if sent_at is None else float(sent_at), str(receipt), int(uncertain))
