"""The console's accounts and sessions, in `<state_dir>/console.sqlite`.

    with Accounts(state_dir) as accounts:
        accounts.add("a.hoxha", "teacher", password, now)      # `roja console user add`
        user = accounts.login("a.hoxha", password, now, "10.0.0.5")   # None: wrong/throttled
        sid, csrf = accounts.new_session(user.name, now)
        accounts.session(sid, now, idle_seconds=1800, max_seconds=36000)  # (User, csrf)|None

Two roles: `teacher` (the ICT teacher: everything) and `director` (reads, signs reports).
Passwords are argon2 hashes (`reporting.inbox.auth.hash_password`, at least 10 characters);
session ids are random and kept only as SHA-256, each with its own CSRF token. A session ends
after `idle_seconds` without a request and `max_seconds` after the login. Five wrong
passwords for one name within 15 minutes refuse that name for the rest of the 15 minutes
(the inbox's numbers, `reporting.inbox.auth`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from reporting.inbox.auth import hash_password
from reporting.sqlite_store import Schema, open_store

DB_NAME = "console.sqlite"
# Logins are throttled by source address and by account *from that address*, as the inbox's
# (reporting.inbox.throttle): nobody can lock a teacher out by guessing from another machine.
ADDRESS_FAILURES = 10  # wrong passwords from one address, whatever names it tries
PAIR_FAILURES = 5  # wrong passwords for one account from one address
FAILURE_WINDOW = 15 * 60.0  # seconds a failure counts
ROLES = ("teacher", "director")
ROLE_LABELS = {"teacher": "Mësuesi i TIK-ut / ICT teacher",
               "director": "Drejtori / director"}
NAME = re.compile(r"^[\w.@-]{2,40}$")

# Version 1 uses IF NOT EXISTS: releases before `reporting.sqlite_store` kept no version, so
# over their files it creates nothing and only records the version.
SCHEMA = Schema(DB_NAME, (
    (
        """CREATE TABLE IF NOT EXISTS users (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL CHECK (role IN ('teacher', 'director')),
            password_hash TEXT NOT NULL, created_at REAL NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS sessions (
            id_sha256 TEXT PRIMARY KEY, user_name TEXT NOT NULL REFERENCES users (name),
            csrf TEXT NOT NULL, created_at REAL NOT NULL, last_seen REAL NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS logins (
            id INTEGER PRIMARY KEY, at REAL NOT NULL, name TEXT NOT NULL, ok INTEGER NOT NULL,
            address TEXT NOT NULL DEFAULT '')""",
        "CREATE INDEX IF NOT EXISTS logins_name ON logins (name, at)",
        """CREATE TABLE IF NOT EXISTS signatures (
            period TEXT NOT NULL, content_sha256 TEXT NOT NULL, user_name TEXT NOT NULL,
            role TEXT NOT NULL, at REAL NOT NULL,
            PRIMARY KEY (period, content_sha256, user_name))""",
    ),
))

_hasher = PasswordHasher()
_DUMMY = _hasher.hash(secrets.token_hex(16))  # verified against for unknown names


class AccountError(ValueError):
    """What an account command cannot do; the message is Albanian, then English."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    created_at: float = 0.0

    @property
    def teacher(self) -> bool:
        return self.role == "teacher"

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Accounts:
    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / DB_NAME
        self.db = open_store(self.path, SCHEMA, check_same_thread=False)
        self.path.chmod(0o600)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Accounts:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # accounts -----------------------------------------------------------------------------
    def user(self, name: str) -> User | None:
        row = self.db.execute("SELECT name, role, created_at FROM users WHERE name = ?",
                              (name,)).fetchone()
        return User(*row) if row else None

    def users(self) -> list[User]:
        return [User(*r) for r in self.db.execute(
            "SELECT name, role, created_at FROM users ORDER BY name")]

    def add(self, name: str, role: str, password: str, now: float) -> User:
        if not NAME.match(name):
            raise AccountError(f"{name!r}: emri duhet 2–40 shkronja, shifra ose . _ - @ / "
                               "the name needs 2–40 letters, digits or . _ - @")
        if role not in ROLES:
            raise AccountError(f"{role!r}: roli duhet / the role must be teacher or director")
        if self.user(name) is not None:
            raise AccountError(f"{name!r} ekziston tashmë / already exists (roja console user "
                               "reset)")
        self.db.execute("INSERT INTO users VALUES (?, ?, ?, ?)",
                        (name, role, _hash(password), now))
        return User(name, role, now)

    def remove(self, name: str) -> bool:
        self.db.execute("DELETE FROM sessions WHERE user_name = ?", (name,))
        return self.db.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount > 0

    def reset(self, name: str, password: str) -> bool:
        """A new password; every session of that user ends."""
        done = self.db.execute("UPDATE users SET password_hash = ? WHERE name = ?",
                               (_hash(password), name)).rowcount > 0
        self.db.execute("DELETE FROM sessions WHERE user_name = ?", (name,))
        return done

    # logins and sessions ------------------------------------------------------------------
    def throttled(self, name: str, now: float, address: str = "") -> bool:
        since = now - FAILURE_WINDOW
        by_address, by_pair = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(name = ?), 0) FROM logins WHERE address = ? AND "
            "ok = 0 AND at > ?", (name[:80], address, since)).fetchone()
        return int(by_address) >= ADDRESS_FAILURES or int(by_pair) >= PAIR_FAILURES

    def login(self, name: str, password: str, now: float, address: str = "") -> User | None:
        """The user when name and password match and this address may try the name now."""
        if self.throttled(name, now, address):
            return None
        row = self.db.execute("SELECT password_hash FROM users WHERE name = ?",
                              (name,)).fetchone()
        try:
            ok = _hasher.verify(row[0] if row else _DUMMY, password) and row is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        self.db.execute("INSERT INTO logins (at, name, ok, address) VALUES (?, ?, ?, ?)",
                        (now, name[:80], int(ok), address))
        return self.user(name) if ok else None

    def new_session(self, name: str, now: float) -> tuple[str, str]:
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                        (_sha(sid), name, csrf, now, now))
        return sid, csrf

    def session(self, sid: str, now: float, idle_seconds: float,
                max_seconds: float) -> tuple[User, str] | None:
        """(user, CSRF token) of a live session, which counts as used now; None otherwise."""
        self.db.execute("DELETE FROM sessions WHERE last_seen < ? OR created_at < ?",
                        (now - idle_seconds, now - max_seconds))
        row = self.db.execute("SELECT user_name, csrf FROM sessions WHERE id_sha256 = ?",
                              (_sha(sid),)).fetchone()
        if row is None:
            return None
        user = self.user(row[0])
        if user is None:
            return None
        self.db.execute("UPDATE sessions SET last_seen = ? WHERE id_sha256 = ?",
                        (now, _sha(sid)))
        return user, str(row[1])

    # report signatures ------------------------------------------------------------------
    def sign(self, period: str, content_sha256: str, user: User, now: float) -> None:
        """`user` signs the report of `period` with this content (once per content)."""
        self.db.execute("INSERT OR IGNORE INTO signatures VALUES (?, ?, ?, ?, ?)",
                        (period, content_sha256, user.name, user.role, now))

    def signatures(self, period: str) -> list[tuple[str, str, str, float]]:
        """(content_sha256, user, role, at) of a period's signatures, oldest first."""
        return [(str(a), str(b), str(c), float(d)) for a, b, c, d in self.db.execute(
            "SELECT content_sha256, user_name, role, at FROM signatures WHERE period = ? "
            "ORDER BY at", (period,))]

    def end_session(self, sid: str) -> None:
        self.db.execute("DELETE FROM sessions WHERE id_sha256 = ?", (_sha(sid),))


def _hash(password: str) -> str:
    try:
        return hash_password(password)
    except ValueError as exc:
        raise AccountError(str(exc)) from None
