"""The inbox's SQLite database: schema and migrations, schools, tokens, users, sessions, audit.

    with Store(data_dir / "inbox.sqlite") as store:
        store.put_schools(schools)                     # insert or update by code
        token = store.issue_token("BR-001")            # shown once; only its SHA-256 is kept
        store.school_for_token(token)                  # -> School | None
        store.audit("zyra.berat", "login", "ok", "10.0.0.5")

Submissions (reports and their revisions) are in `reporting.inbox.submissions`, over the same
connection. `MIGRATIONS[i]` takes the schema from version i to i + 1; opening a database runs
the missing ones in one transaction. WAL mode, foreign keys on. Tokens, session ids and login
links are stored only as SHA-256 hex; passwords only as argon2 hashes (`reporting.inbox.auth`).
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from reporting.inbox.registry import School

DB_FILE = "inbox.sqlite"

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE schools (
            code TEXT PRIMARY KEY, name TEXT NOT NULL, qark TEXT NOT NULL,
            municipality TEXT NOT NULL, email TEXT NOT NULL DEFAULT '',
            added_at REAL NOT NULL, updated_at REAL NOT NULL)""",
        "CREATE INDEX schools_qark ON schools (qark, municipality)",
        """CREATE TABLE tokens (
            id INTEGER PRIMARY KEY, school_code TEXT NOT NULL REFERENCES schools (code),
            token_sha256 TEXT NOT NULL UNIQUE, issued_at REAL NOT NULL, revoked_at REAL)""",
        """CREATE TABLE submissions (
            id INTEGER PRIMARY KEY,
            school_code TEXT NOT NULL REFERENCES schools (code),
            period TEXT NOT NULL, revision INTEGER NOT NULL,
            current INTEGER NOT NULL DEFAULT 1,
            content_sha256 TEXT NOT NULL, file_sha256 TEXT NOT NULL,
            idempotency_key TEXT NOT NULL, receipt TEXT NOT NULL UNIQUE,
            received_at REAL NOT NULL, late INTEGER NOT NULL,
            channel TEXT NOT NULL CHECK (channel IN ('https', 'manual')),
            uploaded_by TEXT NOT NULL,
            blocked_total INTEGER NOT NULL, circumvention INTEGER NOT NULL,
            manual_total INTEGER NOT NULL, selftest_runs INTEGER NOT NULL,
            selftest_fail INTEGER NOT NULL, no_validity_checks INTEGER NOT NULL,
            sync_failures INTEGER NOT NULL, list_age_days INTEGER,
            UNIQUE (school_code, period, revision),
            UNIQUE (school_code, idempotency_key))""",
        "CREATE INDEX submissions_period ON submissions (period, current, school_code)",
        """CREATE TABLE submission_counts (
            submission_id INTEGER NOT NULL REFERENCES submissions (id),
            section TEXT NOT NULL, key TEXT NOT NULL, count INTEGER NOT NULL)""",
        "CREATE INDEX submission_counts_submission ON submission_counts (submission_id)",
        """CREATE TABLE submission_files (
            submission_id INTEGER NOT NULL REFERENCES submissions (id),
            kind TEXT NOT NULL, name TEXT NOT NULL, data BLOB NOT NULL,
            PRIMARY KEY (submission_id, kind))""",
        """CREATE TABLE users (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL CHECK (role IN ('office', 'ministry')),
            qark TEXT NOT NULL DEFAULT '', municipality TEXT NOT NULL DEFAULT '',
            password_hash TEXT NOT NULL, created_at REAL NOT NULL)""",
        """CREATE TABLE sessions (
            id_sha256 TEXT PRIMARY KEY, user_name TEXT NOT NULL REFERENCES users (name),
            csrf TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL)""",
        """CREATE TABLE login_links (
            token_sha256 TEXT PRIMARY KEY, user_name TEXT NOT NULL REFERENCES users (name),
            created_at REAL NOT NULL, expires_at REAL NOT NULL, used_at REAL)""",
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY, at REAL NOT NULL, actor TEXT NOT NULL,
            action TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '',
            address TEXT NOT NULL DEFAULT '')""",
        "CREATE INDEX audit_at ON audit (at)",
    ),
)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Scope:
    """Which schools a person may see: a qark (and optionally one municipality), or all."""

    qark: str = ""  # "" = every qark (the ministry)
    municipality: str = ""

    def sql(self, alias: str = "sc") -> tuple[str, tuple[str, ...]]:
        """(' AND ...' condition on the schools table `alias`, parameters)."""
        if not self.qark:
            return "", ()
        if not self.municipality:
            return f" AND {alias}.qark = ?", (self.qark,)
        return (f" AND {alias}.qark = ? AND {alias}.municipality = ?",
                (self.qark, self.municipality))

    def allows(self, school: School) -> bool:
        return (not self.qark or school.qark == self.qark) and (
            not self.municipality or school.municipality == self.municipality)


@dataclass(frozen=True)
class User:
    name: str
    role: str  # "office" or "ministry"
    qark: str
    municipality: str
    password_hash: str

    @property
    def scope(self) -> Scope:
        return Scope() if self.role == "ministry" else Scope(self.qark, self.municipality)


class Store:
    """One connection to the inbox database (use from one thread)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, timeout=10.0)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def _migrate(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
            row = self.db.execute("SELECT MAX(version) FROM schema_version").fetchone()
            version = int(row[0] or 0)
            if version > len(MIGRATIONS):
                raise RuntimeError(f"{self.path}: schema version {version} is newer than this "
                                   f"program ({len(MIGRATIONS)}); update roja")
            for statements in MIGRATIONS[version:]:
                for statement in statements:
                    self.db.execute(statement)
            if version < len(MIGRATIONS):
                self.db.execute("INSERT INTO schema_version VALUES (?)", (len(MIGRATIONS),))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    # Schools -------------------------------------------------------------------------------

    def put_schools(self, schools: Iterable[School], now: float | None = None) -> tuple[int, int]:
        """Insert new schools and update known ones (by code); returns (added, updated)."""
        now = time.time() if now is None else now
        added = updated = 0
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for s in schools:
                known = self.db.execute("SELECT 1 FROM schools WHERE code = ?",
                                        (s.code,)).fetchone()
                if known:
                    self.db.execute("UPDATE schools SET name = ?, qark = ?, municipality = ?, "
                                    "email = ?, updated_at = ? WHERE code = ?",
                                    (s.name, s.qark, s.municipality, s.email, now, s.code))
                    updated += 1
                else:
                    self.db.execute("INSERT INTO schools VALUES (?, ?, ?, ?, ?, ?, ?)",
                                    (s.code, s.name, s.qark, s.municipality, s.email, now, now))
                    added += 1
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return added, updated

    def school(self, code: str) -> School | None:
        row = self.db.execute("SELECT code, name, qark, municipality, email FROM schools "
                              "WHERE code = ?", (code,)).fetchone()
        return School(*row) if row else None

    def schools(self, scope: Scope = Scope()) -> list[School]:
        where, params = scope.sql()
        rows = self.db.execute("SELECT code, name, qark, municipality, email FROM schools sc "
                               f"WHERE 1 = 1{where} ORDER BY qark, name, code", params)
        return [School(*r) for r in rows]

    # Tokens --------------------------------------------------------------------------------

    def issue_token(self, code: str, now: float | None = None) -> str:
        """A new upload token for the school (older ones stay valid until revoked)."""
        if self.school(code) is None:
            raise KeyError(code)
        token = f"roja_{secrets.token_urlsafe(32)}"
        self.db.execute("INSERT INTO tokens (school_code, token_sha256, issued_at) "
                        "VALUES (?, ?, ?)", (code, sha256(token), time.time() if now is None
                                             else now))
        return token

    def revoke_tokens(self, code: str, now: float | None = None) -> int:
        cur = self.db.execute("UPDATE tokens SET revoked_at = ? WHERE school_code = ? AND "
                              "revoked_at IS NULL", (time.time() if now is None else now, code))
        return cur.rowcount

    def school_for_token(self, token: str) -> School | None:
        row = self.db.execute("SELECT school_code FROM tokens WHERE token_sha256 = ? AND "
                              "revoked_at IS NULL", (sha256(token),)).fetchone()
        return self.school(row[0]) if row else None

    # Users ---------------------------------------------------------------------------------

    def put_user(self, user: User, now: float | None = None) -> None:
        """Add the user, or replace role, scope and password of an existing one."""
        self.db.execute(
            "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
            "role = excluded.role, qark = excluded.qark, municipality = excluded.municipality, "
            "password_hash = excluded.password_hash",
            (user.name, user.role, user.qark, user.municipality, user.password_hash,
             time.time() if now is None else now))

    def user(self, name: str) -> User | None:
        row = self.db.execute("SELECT name, role, qark, municipality, password_hash FROM users "
                              "WHERE name = ?", (name,)).fetchone()
        return User(*row) if row else None

    # Audit ---------------------------------------------------------------------------------

    def audit(self, actor: str, action: str, detail: str = "", address: str = "",
              now: float | None = None) -> None:
        """One line of the access log (logins, exports, downloads, uploads, admin actions)."""
        self.db.execute("INSERT INTO audit (at, actor, action, detail, address) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (time.time() if now is None else now, actor, action, detail[:500],
                         address))

    def audit_rows(self, limit: int = 100) -> list[tuple[float, str, str, str, str]]:
        rows = self.db.execute("SELECT at, actor, action, detail, address FROM audit "
                               "ORDER BY id DESC LIMIT ?", (limit,))
        return [(float(a), str(b), str(c), str(d), str(e)) for a, b, c, d, e in rows]
