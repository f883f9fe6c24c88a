"""Staff accounts: argon2 passwords, sessions, CSRF tokens, one-time login links, throttling.

    user = login(store, "zyra.berat", password, now)     # None when wrong (or throttled)
    sid, csrf = new_session(store, user.name, hours=10, now=now)
    session(store, sid, now)                              # (User, csrf) or None
    link = new_link(store, "zyra.berat", now)             # `roja inbox user link`
    use_link(store, link, now)                            # the user's name, once, for 15 min

Session ids and link tokens are random (256 bits) and stored only as SHA-256; the session
cookie is HttpOnly, SameSite=Strict, and Secure when the inbox serves TLS. Each session has its
own CSRF token that every form carries (`csrf_ok`); the login form, before there is a session,
uses a double-submit cookie. Five wrong passwords for one name within 15 minutes block further
attempts for that name until the 15 minutes have passed (the access log counts them).
"""

from __future__ import annotations

import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from reporting.inbox.store import Store, User, sha256

SESSION_COOKIE = "roja_inbox"
LOGIN_CSRF_COOKIE = "roja_inbox_login"
LINK_MINUTES = 15
MAX_FAILURES = 5
FAILURE_WINDOW = 900.0
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


def throttled(store: Store, name: str, now: float) -> bool:
    row = store.db.execute("SELECT COUNT(*) FROM audit WHERE actor = ? AND action = "
                           "'login_failed' AND at > ?", (name, now - FAILURE_WINDOW)).fetchone()
    return int(row[0]) >= MAX_FAILURES


def login(store: Store, name: str, password: str, now: float, address: str = "") -> User | None:
    """The user when name and password match (logged either way), else None."""
    user = store.user(name)
    if throttled(store, name, now):
        store.audit(name, "login_throttled", "", address, now)
        return None
    ok: bool
    try:
        ok = _hasher.verify(user.password_hash if user else _DUMMY, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None:
        store.audit(name, "login_failed", "", address, now)
        return None
    store.audit(name, "login", "password", address, now)
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
