"""Received reports: revisions, idempotency, receipts, and the files kept with them.

    result = accept(store, Incoming(...), late_day=10, now=time.time())
    result.receipt, result.revision, result.created   # created False = a replay

Rules (one transaction each, so an error stores nothing):
- the same (school, Idempotency-Key) again returns the first receipt (HTTP 200, nothing new);
  the same key with a different report is refused (`KeyReusedError`, HTTP 409);
- the report already current for (school, period), by content hash, returns its receipt too;
- a replay that brings files the stored revision lacks (the JSON was uploaded alone from an
  e-mail, the PDF came later by HTTPS) adds them to it; it stays one revision;
- a different report for the same (school, period) becomes revision N + 1 and the current one;
  the older revisions stay, with their files.
A report is late when it arrives after `late_day` of the month after its period (Tirane time).
The dashboard's numbers come from the summary columns and `submission_counts` stored here, not
from re-reading JSON; the bypass attempts column is `reporting.bypass_count.reported_attempts`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from reporting.bypass_count import reported_attempts
from reporting.inbox.store import Store

TIRANE = ZoneInfo("Europe/Tirane")
# (section in submission_counts, path in the report)
COUNT_SECTIONS = (("blocked", ("blocked", "by_category")),
                  ("manual", ("manual", "by_category")),
                  ("referral", ("manual", "by_referral")),
                  ("status", ("manual", "by_status")))
FILE_KINDS = ("json", "pdf", "csv")


class KeyReusedError(ValueError):
    """The idempotency key was used before for a different report of this school."""


@dataclass(frozen=True)
class Incoming:
    school_code: str
    period: str
    document: dict[str, Any]  # the verified report (roja.report/1 or /2)
    content_sha256: str
    file_sha256: str  # SHA-256 of the JSON file's bytes
    idempotency_key: str
    channel: str  # "https" or "manual"
    uploaded_by: str  # "token" or the staff member's name
    files: dict[str, tuple[str, bytes]]  # kind -> (file name, bytes)


@dataclass(frozen=True)
class Accepted:
    receipt: str
    content_sha256: str
    revision: int
    late: bool
    received_at: float
    created: bool


@dataclass(frozen=True)
class Submission:
    id: int
    school_code: str
    period: str
    revision: int
    current: bool
    content_sha256: str
    receipt: str
    received_at: float
    late: bool
    channel: str
    uploaded_by: str
    blocked_total: int
    circumvention: int
    manual_total: int
    selftest_runs: int
    selftest_fail: int
    files: tuple[str, ...]


def deadline(period: str, late_day: int) -> float:
    """The first instant after `late_day` of the month that follows `period` (YYYY-MM)."""
    year = int(period[:4])
    month = int(period[5:7]) if len(period) == 7 else 12  # a year report: due in January
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return datetime(year, month, late_day, tzinfo=TIRANE).timestamp() + 86400.0


def _accepted(row: tuple[Any, ...], created: bool) -> Accepted:
    return Accepted(str(row[0]), str(row[1]), int(row[2]), bool(row[3]), float(row[4]), created)


_RECEIPT = "receipt, content_sha256, revision, late, received_at"


def accept(store: Store, inc: Incoming, late_day: int, now: float) -> Accepted:
    """Store the report (or find it stored already) and return its receipt."""
    db = store.db
    db.execute("BEGIN IMMEDIATE")
    try:
        result = _accept(store, inc, late_day, now)
        db.execute("COMMIT")
        return result
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _accept(store: Store, inc: Incoming, late_day: int, now: float) -> Accepted:
    db = store.db
    row = db.execute(f"SELECT {_RECEIPT} FROM submissions WHERE school_code = ? AND "
                     "idempotency_key = ?", (inc.school_code, inc.idempotency_key)).fetchone()
    if row is not None:
        if row[1] != inc.content_sha256:
            raise KeyReusedError(inc.idempotency_key)
        _complete(store, str(row[0]), inc)
        return _accepted(row, created=False)
    row = db.execute(f"SELECT {_RECEIPT} FROM submissions WHERE school_code = ? AND period = ? "
                     "AND current = 1", (inc.school_code, inc.period)).fetchone()
    if row is not None and row[1] == inc.content_sha256:
        _complete(store, str(row[0]), inc)
        return _accepted(row, created=False)
    revision = 1 + int(db.execute("SELECT COALESCE(MAX(revision), 0) FROM submissions WHERE "
                                  "school_code = ? AND period = ?",
                                  (inc.school_code, inc.period)).fetchone()[0])
    db.execute("UPDATE submissions SET current = 0 WHERE school_code = ? AND period = ? AND "
               "current = 1", (inc.school_code, inc.period))
    receipt = f"RJ-{inc.period}-{inc.school_code}-r{revision}-{secrets.token_hex(4)}"
    late = now >= deadline(inc.period, late_day)
    report = inc.document["report"]
    status, blocked, manual = report["filter_status"], report["blocked"], report["manual"]
    cur = db.execute(
        "INSERT INTO submissions (school_code, period, revision, current, content_sha256, "
        "file_sha256, idempotency_key, receipt, received_at, late, channel, uploaded_by, "
        "blocked_total, circumvention, manual_total, selftest_runs, selftest_fail, "
        "no_validity_checks, sync_failures, list_age_days) "
        "VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (inc.school_code, inc.period, revision, inc.content_sha256, inc.file_sha256,
         inc.idempotency_key, receipt, now, int(late), inc.channel, inc.uploaded_by,
         blocked["total"], reported_attempts(blocked), manual["total"],
         status["selftest_runs"], status["selftest_fail"], int(status["no_validity_checks"]),
         status["sync_failures"], status["list_age_days"]))
    sid = int(cur.lastrowid or 0)
    counts = []
    for section, (part, field) in COUNT_SECTIONS:
        merged: dict[str, int] = {}
        for c in report[part][field]:
            merged[c["key"]] = merged.get(c["key"], 0) + int(c["count"])
        counts += [(sid, section, key, n) for key, n in merged.items()]
    db.executemany("INSERT INTO submission_counts VALUES (?, ?, ?, ?)", counts)
    db.executemany("INSERT INTO submission_files VALUES (?, ?, ?, ?)",
                   [(sid, kind, name, data) for kind, (name, data) in inc.files.items()])
    return Accepted(receipt, inc.content_sha256, revision, late, now, created=True)


def _complete(store: Store, receipt: str, inc: Incoming) -> None:
    """Add the files of a replay that the stored submission does not have yet."""
    store.db.executemany(
        "INSERT OR IGNORE INTO submission_files SELECT id, ?, ?, ? FROM submissions "
        "WHERE receipt = ?", [(kind, name, data, receipt)
                              for kind, (name, data) in inc.files.items()])


_COLUMNS = ("s.id, s.school_code, s.period, s.revision, s.current, s.content_sha256, s.receipt, "
            "s.received_at, s.late, s.channel, s.uploaded_by, s.blocked_total, "
            "s.circumvention, s.manual_total, s.selftest_runs, s.selftest_fail, "
            "(SELECT group_concat(kind) FROM submission_files f WHERE f.submission_id = s.id)")


def _submission(row: tuple[Any, ...]) -> Submission:
    files = tuple(k for k in FILE_KINDS if k in str(row[16] or "").split(","))
    blocked, circumvention, manual, runs, fail = (int(v) for v in row[11:16])
    return Submission(int(row[0]), str(row[1]), str(row[2]), int(row[3]), bool(row[4]),
                      str(row[5]), str(row[6]), float(row[7]), bool(row[8]), str(row[9]),
                      str(row[10]), blocked, circumvention, manual, runs, fail, files)


def history(store: Store, school_code: str) -> list[Submission]:
    """Every submission of the school, newest period first, newest revision first."""
    rows = store.db.execute(f"SELECT {_COLUMNS} FROM submissions s WHERE s.school_code = ? "
                            "ORDER BY s.period DESC, s.revision DESC", (school_code,))
    return [_submission(r) for r in rows]


def get(store: Store, submission_id: int) -> Submission | None:
    row = store.db.execute(f"SELECT {_COLUMNS} FROM submissions s WHERE s.id = ?",
                           (submission_id,)).fetchone()
    return _submission(row) if row else None


def file(store: Store, submission_id: int, kind: str) -> tuple[str, bytes] | None:
    """(file name, bytes) of a stored file, or None."""
    row = store.db.execute("SELECT name, data FROM submission_files WHERE submission_id = ? "
                           "AND kind = ?", (submission_id, kind)).fetchone()
    return (str(row[0]), bytes(row[1])) if row else None
