"""Unblock requests from the block page ("this was blocked by mistake"), kept for the ICT
teacher in `<state_dir>/overrides.sqlite`, table `unblock_requests`.

The block page records one; `roja unblock requests` (or the console's Kërkesat page) lists
them and the teacher accepts (which creates a time-boxed unblock) or refuses: both go through
`accept_request`/`refuse_request` here, which check, decide, audit and unblock in one order.
A request carries the group, the host and category, never the client (only its keyed
pseudonym) and never a confidential entry: for those the host is not stored at all
(`host = ""`, the category says enough and nothing can open them anyway). The same (group,
host) pending twice is one request with a counter.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from filterd import overrides_db

if TYPE_CHECKING:
    from filterd.config import RojaConfig
    from filterd.overrides import UnblockRow

DB_NAME = overrides_db.DB_NAME
STATUSES = ("pending", "accepted", "refused")
MAX_NOTE = 500



@dataclass(frozen=True)
class UnblockRequest:
    id: int
    created: float
    group_id: str
    host: str
    category: str
    list_id: str
    client: str
    note: str
    count: int
    status: str
    decided_by: str
    decided_at: float | None


def connect(state_dir: Path) -> sqlite3.Connection:
    return overrides_db.connect(state_dir)


def add_request(state_dir: Path, *, group_id: str, host: str, category: str, list_id: str,
                client: str = "", note: str = "", confidential: bool = False,
                now: float | None = None) -> int:
    """Record (or count again) a pending request; returns its id."""
    at = time.time() if now is None else now
    host = "" if confidential else host
    note = note.strip()[:MAX_NOTE]
    db = connect(state_dir)
    try:
        db.execute("BEGIN IMMEDIATE")
        row = db.execute(
            "SELECT id FROM unblock_requests WHERE status = 'pending' AND group_id = ? "
            "AND host = ? AND list_id = ?", (group_id, host, list_id)).fetchone()
        if row is not None:
            db.execute("UPDATE unblock_requests SET count = count + 1, updated = ?, "
                       "note = CASE WHEN ? != '' THEN ? ELSE note END WHERE id = ?",
                       (at, note, note, row[0]))
            request_id = int(row[0])
        else:
            cur = db.execute(
                "INSERT INTO unblock_requests (created, updated, group_id, host, category, "
                "list_id, client, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (at, at, group_id, host, category, list_id, client, note))
            request_id = int(cur.lastrowid or 0)
        db.execute("COMMIT")
        return request_id
    finally:
        db.close()


def list_requests(state_dir: Path, status: str | None = "pending") -> list[UnblockRequest]:
    db = connect(state_dir)
    try:
        sql = ("SELECT id, created, group_id, host, category, list_id, client, note, count, "
               "status, decided_by, decided_at FROM unblock_requests")
        rows = (db.execute(sql + " WHERE status = ? ORDER BY created", (status,))
                if status else db.execute(sql + " ORDER BY created"))
        return [UnblockRequest(*row) for row in rows]
    finally:
        db.close()


def decide_request(state_dir: Path, request_id: int, status: str, by: str,
                   now: float | None = None) -> UnblockRequest | None:
    """Mark a pending request accepted or refused; None if there is no such pending one."""
    if status not in ("accepted", "refused"):
        raise ValueError(f"status must be accepted or refused, not {status!r}")
    at = time.time() if now is None else now
    db = connect(state_dir)
    try:
        cur = db.execute("UPDATE unblock_requests SET status = ?, decided_by = ?, "
                         "decided_at = ?, updated = ? WHERE id = ? AND status = 'pending'",
                         (status, by, at, at, request_id))
        if cur.rowcount == 0:
            return None
    finally:
        db.close()
    return next(r for r in list_requests(state_dir, None) if r.id == request_id)


class DecisionError(ValueError):
    """Why a request cannot be decided; the message is Albanian, then English. `kind`:
    `missing` (no such pending request), `confidential`, `legal`, `group` (no longer in the
    config), `lists` (the lists did not load, so the legal layer cannot be checked)."""

    def __init__(self, kind: Literal["missing", "confidential", "legal", "group", "lists"],
                 message: str) -> None:
        super().__init__(message)
        self.kind = kind


def pending_request(state_dir: Path, request_id: int) -> UnblockRequest:
    found = {r.id: r for r in list_requests(state_dir, "pending")}.get(request_id)
    if found is None:
        raise DecisionError("missing", f"Nuk ka kërkesë në pritje #{request_id} / no pending "
                                       f"request #{request_id}")
    return found


def check_openable(cfg: RojaConfig, group_id: str, host: str) -> None:
    """Raise DecisionError unless `group_id` exists and no legal list blocks `host` (the
    check behind every unblock: `roja unblock add`, accepting a request). Loads the lists."""
    from filterd.app import build_policy
    from policy.categories import label

    groups = {g.id for g in cfg.policy.groups} | {cfg.policy.default_group.id}
    if group_id not in groups:
        raise DecisionError("group", f"Nuk ka grup {group_id!r} / no group {group_id!r} "
                                     f"(grupet / groups: {', '.join(sorted(groups))})")
    try:
        policy, compiled = build_policy(cfg)
    except Exception as exc:  # the lists must load to check the legal layer
        raise DecisionError("lists", "Listat nuk u ngarkuan, s'mund të kontrollohet shtresa "
                                     "ligjore / the lists did not load, the legal layer "
                                     f"cannot be checked: {exc}") from exc
    try:
        legal = policy.legal_block(host)
    finally:
        compiled.close()
    if legal is not None:
        raise DecisionError("legal", f"Refuzohet: {host} bllokohet nga një listë ligjore "
                                     f"({label(legal.category)}); asgjë nuk e hap. / Refused: "
                                     f"a legal list blocks {host} ({legal.category}); nothing "
                                     "can open it.")


def _openable(cfg: RojaConfig, request: UnblockRequest) -> None:
    if not request.host:
        raise DecisionError("confidential", "Refuzohet: një kërkesë konfidenciale vjen nga një "
                                            "listë ligjore; asgjë nuk e hap. / Refused: a "
                                            "confidential request comes from a legal list; "
                                            "nothing can open it.")
    check_openable(cfg, request.group_id, request.host)


def accept_request(cfg: RojaConfig, request_id: int, *, seconds: float, by: str, reason: str,
                   now: float, via: str = "") -> tuple[UnblockRequest, UnblockRow]:
    """Accept a pending request: check it can be opened, mark it accepted, audit it and
    create the time-boxed unblock (the running appliance picks it up within seconds).
    `via` is added to the audit line (e.g. " (console)"). Blocking: loads the lists."""
    from filterd import audit, overrides

    request = pending_request(cfg.state_dir, request_id)
    _openable(cfg, request)
    if decide_request(cfg.state_dir, request.id, "accepted", by, now) is None:
        raise DecisionError("missing", f"Kërkesa #{request_id} u vendos ndërkohë / request "
                                       f"#{request_id} was decided meanwhile")
    audit.append(cfg.state_dir, who=by, why=reason,
                 what=f"request accepted #{request.id}: group {request.group_id}, "
                      f"host {request.host}{via}")
    row = overrides.add(cfg.state_dir, group_id=request.group_id, host=request.host,
                        seconds=seconds, by=by, reason=reason, now=now, request_id=request.id)
    return request, row


def refuse_request(state_dir: Path, request_id: int, *, by: str, reason: str, now: float,
                   via: str = "") -> UnblockRequest:
    """Refuse a pending request and audit it."""
    from filterd import audit

    done = decide_request(state_dir, request_id, "refused", by, now)
    if done is None:
        raise DecisionError("missing", f"Nuk ka kërkesë në pritje #{request_id} / no pending "
                                       f"request #{request_id}")
    audit.append(state_dir, who=by, why=reason,
                 what=f"request refused #{request_id}: group {done.group_id}, "
                      f"host {done.host or '(confidential)'}{via}")
    return done
