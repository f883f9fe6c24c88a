"""Staff accounts: argon2 passwords, sessions, CSRF tokens, one-time login links, throttling.

    user = await login(work, gate, "zyra.berat", password, now, address)
                                           # User, None (wrong) or Refused (wait; not checked)
    sid, csrf = new_session(store, user.name, hours=10, now=now)
    session(store, sid, now)                              # (User, csrf) or None
    link = new_link(store, "zyra.berat", now)             # `roja inbox user link`
    use_link(store, link, now)                            # the user's name, once, for 15 min

Session ids and link tokens are random (256 bits) and stored only as SHA-256; the session
cookie is HttpOnly, SameSite=Strict, and Secure when the inbox serves TLS. Each session has its
own CSRF token that every form carries (`csrf_ok`); the login form, before there is a session,
uses a double-submit cookie. Wrong passwords slow down the address that sends them, and the
name it tries from that address, with exponential backoff (`reporting.inbox.throttle`); a name
is never locked for everyone, so nobody can lock a colleague out. An attempt that must wait is
refused without hashing; the argon2 check runs on the hashing pool and the database work on the
database threads (`reporting.inbox.offload`), never on the event loop. The access log records
each failure and the first refusal of each backoff step.
"""

from __future__ import annotations

import hmac
import math
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from reporting.inbox.offload import BusyError, Offload
from reporting.inbox.store import Store, User, sha256
from reporting.inbox.throttle import Throttle

SESSION_COOKIE = "roja_inbox"
LOGIN_CSRF_COOKIE = "roja_inbox_login"
LINK_MINUTES = 15
MIN_PASSWORD = 10
ROLES = ("office", "ministry")

_hasher = PasswordHasher()
# Verified against when the name is unknown, so both cases take the same time.
_DUMMY = _hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"fjalëkalimi duhet të ketë të paktën {MIN_PASSWORD} shenja / the "
                         f"password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


@dataclass(frozen=True)
class Refused:
    """Too many failures from this address (or for this name from it): try again later."""

    retry_after: int  # seconds


def check_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches (CPU-heavy: call it on the hashing pool). An unknown user
    (None) is checked against a dummy hash, so both cases take the same time."""
    try:
        return bool(_hasher.verify(password_hash or _DUMMY, password)) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def login(work: Offload, gate: Throttle, name: str, password: str, now: float,
                address: str = "") -> User | Refused | None:
    """The user when name and password match, None when not (both logged), Refused when this
    address must wait first (the password is then not checked)."""
    wait = gate.attempt(address, name, now)
    if wait > 0:
        if gate.first_refusal(address, name, now):
            await work.db(Store.audit, name, "login_throttled", f"{math.ceil(wait)} s",
                          address, now)
        return Refused(math.ceil(wait))
    try:
        user = await work.db(Store.user, name)
        ok = await work.hash(check_password, user.password_hash if user else None, password)
    except BusyError:
        gate.undo(address, name)
        raise
    if not ok or user is None:
        await work.db(Store.audit, name, "login_failed", "", address, now)
        return None
    gate.succeeded(address, name)
    await work.db(Store.audit, name, "login", "password", address, now)
    return user


def new_session(store: Store, name: str, hours: int, now: float) -> tuple[str, str]:
    """(session id for the cookie, CSRF token for the forms)."""
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    store.db.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))
    store.db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                     (sha256(sid), name, csrf, now, now + hours * 3600.0))
    return sid, csrf


def session(store: Store, sid: str, now: float) -> tuple[User, str] | None:
    row = store.db.execute("SELECT user_name, csrf FROM sessions WHERE id_sha256 = ? AND "
                           "expires_at > ?", (sha256(sid), now)).fetchone()
    if row is None:
        return None
    user = store.user(row[0])
    return (user, str(row[1])) if user else None


def end_session(store: Store, sid: str) -> None:
    store.db.execute("DELETE FROM sessions WHERE id_sha256 = ?", (sha256(sid),))


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(expected) and given is not None and hmac.compare_digest(expected, given)


def new_link(store: Store, name: str, now: float) -> str:
    """A one-time login token for `name`, valid LINK_MINUTES (raises KeyError: no such user)."""
    if store.user(name) is None:
        raise KeyError(name)
    token = secrets.token_urlsafe(32)
    store.db.execute("INSERT INTO login_links VALUES (?, ?, ?, ?, NULL)",
                     (sha256(token), name, now, now + LINK_MINUTES * 60.0))
    return token


def use_link(store: Store, token: str, now: float) -> str | None:
    """The user's name if the link is valid and unused; marks it used."""
    cur = store.db.execute("UPDATE login_links SET used_at = ? WHERE token_sha256 = ? AND "
                           "used_at IS NULL AND expires_at > ? RETURNING user_name",
                           (now, sha256(token), now))
    rows = cur.fetchall()
    return str(rows[0][0]) if rows else None
