"""The inbox's SQLite database: schema and migrations, schools, tokens, users, sessions, audit.

    with Store(data_dir / "inbox.sqlite") as store:
        store.put_schools(schools)                     # insert or update by code
        token = store.issue_token("BR-001")            # shown once; only its SHA-256 is kept
        store.school_for_token(token)                  # -> School | None
        store.audit("zyra.berat", "login", "ok", "10.0.0.5")

Submissions (reports and their revisions) are in `reporting.inbox.submissions`, over the same
connection. `SCHEMA` lists the migrations, which `reporting.sqlite_store` (the stores' one
runner and connection policy) applies on opening, one transaction each. Version 2 gives schools
a ZVA (filled in from their municipality by `reporting.offices`) and users a DRAP or ZVA; users
and schools that have only a qark keep working unchanged. Tokens, session ids and login
links are stored only as SHA-256 hex; passwords only as argon2 hashes (`reporting.inbox.auth`).
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType

from reporting import offices
from reporting.inbox.qarqe import QARQE
from reporting.inbox.registry import School, school_zva
from reporting.sqlite_store import Schema, open_store, transaction

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
    (   # 2: education offices (DRAP, ZVA); schools.zva is filled in by _fill_zva
        "ALTER TABLE schools ADD COLUMN zva TEXT NOT NULL DEFAULT ''",
        "CREATE INDEX schools_zva ON schools (zva)",
        "ALTER TABLE users ADD COLUMN drap TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE users ADD COLUMN zva TEXT NOT NULL DEFAULT ''",
    ),
)


def _fill_zva(db: sqlite3.Connection) -> None:
    """Give every school without a ZVA its municipality's (reporting/offices.toml)."""
    rows = db.execute("SELECT code, qark, municipality FROM schools WHERE zva = ''")
    for code, qark, municipality in rows.fetchall():
        zva, _ = school_zva(str(qark), str(municipality))
        if zva:
            db.execute("UPDATE schools SET zva = ? WHERE code = ?", (zva, code))


def _v2(db: sqlite3.Connection) -> None:
    for statement in MIGRATIONS[1]:
        db.execute(statement)
    _fill_zva(db)


# For `reporting.sqlite_store`; version 3 keeps the login throttle's counts across restarts.
SCHEMA = Schema(DB_FILE, (
    MIGRATIONS[0],
    _v2,
    ("""CREATE TABLE login_throttle (
            key TEXT PRIMARY KEY, failures INTEGER NOT NULL, last REAL NOT NULL,
            seq INTEGER NOT NULL)""",),
))
SCHOOL_COLUMNS = "code, name, qark, municipality, email, zva"
USER_COLUMNS = "name, role, qark, municipality, password_hash, drap, zva"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Scope:
    """Which schools a person may see: a DRAP, a qark (optionally one municipality), a ZVA, or
    all of them (every field empty: the ministry). Fields that are set must all hold."""

    qark: str = ""
    municipality: str = ""
    drap: str = ""  # DRAP id: the schools of its qarqe
    zva: str = ""  # ZVA id

    @property
    def everything(self) -> bool:
        return not (self.qark or self.municipality or self.drap or self.zva)

    def qarqe(self) -> tuple[str, ...]:
        """The qarqe this scope may reach (all 12 for the ministry)."""
        table = offices.load()
        if self.qark:
            return (self.qark,)
        if self.drap:
            drap = table.draps.get(self.drap)
            return drap.qarqe if drap else ()
        if self.zva:  # a ZVA's schools are in its qark, or another under the same DRAP
            drap = table.drap_of_zva(self.zva)
            return drap.qarqe if drap else ()
        return tuple(QARQE)

    def sql(self, alias: str = "sc") -> tuple[str, tuple[str, ...]]:
        """(' AND ...' condition on the schools table `alias`, parameters)."""
        where, params = "", list[str]()
        if self.drap:
            qarqe = self.qarqe() or ("",)
            where += f" AND {alias}.qark IN ({', '.join('?' * len(qarqe))})"
            params += qarqe
        for column in ("qark", "municipality", "zva"):
            if value := getattr(self, column):
                where += f" AND {alias}.{column} = ?"
                params.append(value)
        return where, tuple(params)

    def allows(self, school: School) -> bool:
        return ((not self.drap or school.qark in self.qarqe())
                and (not self.qark or school.qark == self.qark)
                and (not self.municipality or school.municipality == self.municipality)
                and (not self.zva or school.zva == self.zva))

    def contains(self, other: Scope) -> bool:
        """Whether every school `other` may see is also within this scope."""
        if self.everything:
            return True
        if other.everything:
            return False
        if self.drap and not set(other.qarqe()) <= set(self.qarqe()):
            return False
        return all(not getattr(self, f) or getattr(other, f) == getattr(self, f)
                   for f in ("qark", "municipality", "zva"))

    def query(self) -> str:
        """The dashboard's query string that narrows to this scope ("" for everything)."""
        parts = [f"{f}={getattr(self, f)}" for f in ("drap", "qark", "zva") if getattr(self, f)]
        return "?" + "&".join(parts) if parts else ""


@dataclass(frozen=True)
class User:
    name: str
    role: str  # "office" or "ministry"
    qark: str
    municipality: str
    password_hash: str
    drap: str = ""
    zva: str = ""

    @property
    def scope(self) -> Scope:
        if self.role == "ministry":
            return Scope()
        return Scope(self.qark, self.municipality, self.drap, self.zva)


class Store:
    """One connection to the inbox database (use from one thread)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = open_store(path, SCHEMA)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    # Schools -------------------------------------------------------------------------------

    def put_schools(self, schools: Iterable[School], now: float | None = None) -> tuple[int, int]:
        """Insert new schools and update known ones (by code); returns (added, updated). A
        school without a ZVA gets its municipality's (reporting/offices.toml)."""
        now = time.time() if now is None else now
        added = updated = 0
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for s in schools:
                if not s.zva:
                    s = replace(s, zva=school_zva(s.qark, s.municipality)[0])
                known = self.db.execute("SELECT 1 FROM schools WHERE code = ?",
                                        (s.code,)).fetchone()
                if known:
                    self.db.execute("UPDATE schools SET name = ?, qark = ?, municipality = ?, "
                                    "email = ?, zva = ?, updated_at = ? WHERE code = ?",
                                    (s.name, s.qark, s.municipality, s.email, s.zva, now,
                                     s.code))
                    updated += 1
                else:
                    self.db.execute("INSERT INTO schools (code, name, qark, municipality, "
                                    "email, added_at, updated_at, zva) "
                                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                    (s.code, s.name, s.qark, s.municipality, s.email, now, now,
                                     s.zva))
                    added += 1
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return added, updated

    def school(self, code: str) -> School | None:
        row = self.db.execute(f"SELECT {SCHOOL_COLUMNS} FROM schools WHERE code = ?",
                              (code,)).fetchone()
        return School(*row) if row else None

    def schools(self, scope: Scope = Scope()) -> list[School]:
        where, params = scope.sql()
        rows = self.db.execute(f"SELECT {SCHOOL_COLUMNS} FROM schools sc "
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
            "INSERT INTO users (name, role, qark, municipality, password_hash, created_at, "
            "drap, zva) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
            "role = excluded.role, qark = excluded.qark, municipality = excluded.municipality, "
            "drap = excluded.drap, zva = excluded.zva, password_hash = excluded.password_hash",
            (user.name, user.role, user.qark, user.municipality, user.password_hash,
             time.time() if now is None else now, user.drap, user.zva))

    def user(self, name: str) -> User | None:
        row = self.db.execute(f"SELECT {USER_COLUMNS} FROM users WHERE name = ?",
                              (name,)).fetchone()
        return User(*row) if row else None

    # Audit ---------------------------------------------------------------------------------

    def audit(self, actor: str, action: str, detail: str = "", address: str = "",
              now: float | None = None) -> None:
        """One line of the access log (logins, exports, downloads, uploads, admin actions)."""
        self.db.execute("INSERT INTO audit (at, actor, action, detail, address) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (time.time() if now is None else now, actor, action, detail[:500],
                         address))

    # Login throttle (reporting.inbox.throttle) ----------------------------------------------

    def save_throttle(self, key: str, failures: int, last: float, seq: int) -> None:
        """One count of the login throttle, unless a newer change (`seq`) is already saved."""
        self.db.execute(
            "INSERT INTO login_throttle VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
            "failures = excluded.failures, last = excluded.last, seq = excluded.seq "
            "WHERE excluded.seq > login_throttle.seq", (key, failures, last, seq))

    def load_throttle(self, since: float, limit: int) -> list[tuple[str, int, float, int]]:
        """The saved counts with a failure since `since` (the others are deleted), the newest
        `limit`, and the highest sequence number left (as a row with no failures): every
        later change is numbered above every row kept."""
        with transaction(self.db):
            self.db.execute("DELETE FROM login_throttle WHERE last < ? OR failures <= 0",
                            (since,))
            rows = self.db.execute("SELECT key, failures, last, seq FROM login_throttle WHERE "
                                   "failures > 0 ORDER BY last DESC LIMIT ?", (limit,)).fetchall()
            top = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM login_throttle").fetchone()
        return [(str(k), int(f), float(la), int(q)) for k, f, la, q in rows] + [
            ("", 0, 0.0, int(top[0]))]

    def audit_rows(self, limit: int = 100) -> list[tuple[float, str, str, str, str]]:
        rows = self.db.execute("SELECT at, actor, action, detail, address FROM audit "
                               "ORDER BY id DESC LIMIT ?", (limit,))
        return [(float(a), str(b), str(c), str(d), str(e)) for a, b, c, d, e in rows]
