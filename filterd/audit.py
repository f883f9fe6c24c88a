"""The audit log: every change to policy, append-only and hash-chained, for the inspector.

`<state_dir>/audit.log` holds one JSON object a line: `seq` (1, 2, ...), `time` (ISO 8601,
Europe/Tirane), `who`, `what`, `why`, `prev` (the previous entry's hash; 64 zeros for the
first) and `hash` = SHA-256 of the other six fields as canonical JSON. Editing an entry breaks
its hash; deleting, reordering or cutting out entries breaks `seq` and `prev`;
`<state_dir>/audit.head` keeps the last `seq hash`, so cutting entries off the end is seen too.
Writers (the daemon, the CLI) take an exclusive `flock` on the log while they append.

Entries: config reloads (with the config's SHA-256), lists added or removed, unblocks added,
removed or expired, unblock requests accepted or refused.

Whoever can write the state directory can still rewrite the whole chain and the head
consistently; so each monthly report carries the log's length and head hash (`anchor`) out of
the school, to the education office's inbox. `verify_against(state_dir, anchors)` then checks
that every anchored entry is still there with the same hash: a rewrite of anything up to an
anchored entry no longer matches, even when the chain itself is consistent.

    append(state_dir, who="A. Hoxha", what="unblock add #3 nxenesit example.org 45m", why="...")
    verify(state_dir)   # Verdict(ok=True, count=..., bad_seq=None, message=...)
    anchor(state_dir)   # Anchor(length=17, head="<hash of entry 17>") or None (empty log)
    verify_against(state_dir, [Anchor(17, "...", "raport 2026-10")])
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

LOG_NAME, HEAD_NAME = "audit.log", "audit.head"
GENESIS = "0" * 64
TIRANE = ZoneInfo("Europe/Tirane")
_FIELDS = ("seq", "time", "who", "what", "why", "prev")


@dataclass(frozen=True)
class Entry:
    seq: int
    time: str
    who: str
    what: str
    why: str
    prev: str
    hash: str


@dataclass(frozen=True)
class Anchor:
    """The log as it stood when a report left the school: `length` entries, the last with hash
    `head`; `source` says which report (or inbox receipt) carried it."""

    length: int
    head: str
    source: str = ""


@dataclass(frozen=True)
class Verdict:
    ok: bool
    count: int
    bad_seq: int | None
    message: str  # Albanian, then English


def entry_hash(fields: dict[str, Any]) -> str:
    body = json.dumps({k: fields[k] for k in _FIELDS}, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _clean(text: str) -> str:
    return " ".join(str(text).split())[:1000]


def append(state_dir: Path, *, who: str, what: str, why: str = "",
           now: datetime | None = None) -> Entry:
    """Add one entry at the end of the chain (under an exclusive lock) and return it."""
    state_dir.mkdir(parents=True, exist_ok=True)
    at = (now or datetime.now(TIRANE)).astimezone(TIRANE).isoformat(timespec="seconds")
    with open(state_dir / LOG_NAME, "a+", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            seq, prev = _last(state_dir)
            fields: dict[str, Any] = {"seq": seq + 1, "time": at, "who": _clean(who) or "?",
                                      "what": _clean(what), "why": _clean(why), "prev": prev}
            fields["hash"] = entry_hash(fields)
            f.seek(0, os.SEEK_END)
            f.write(json.dumps(fields, ensure_ascii=False, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())
            head = state_dir / HEAD_NAME
            tmp = head.with_suffix(".tmp")
            tmp.write_text(f"{fields['seq']} {fields['hash']}\n", encoding="ascii")
            os.replace(tmp, head)
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
    return Entry(**fields)


def _last(state_dir: Path) -> tuple[int, str]:
    """The last entry's seq and hash, from the head file (or the log when there is none)."""
    head = state_dir / HEAD_NAME
    try:
        seq_text, digest = head.read_text(encoding="ascii").split()
        return int(seq_text), digest
    except (OSError, ValueError):
        entries = read(state_dir)
        return (entries[-1].seq, entries[-1].hash) if entries else (0, GENESIS)


def read(state_dir: Path) -> list[Entry]:
    """Every readable entry in file order (unreadable lines are skipped: `verify` names them)."""
    out: list[Entry] = []
    try:
        lines = (state_dir / LOG_NAME).read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return out
    for line in lines:
        entry = _parse(line)
        if entry is not None:
            out.append(entry)
    return out


def _parse(line: str) -> Entry | None:
    try:
        data = json.loads(line)
        return Entry(int(data["seq"]), str(data["time"]), str(data["who"]), str(data["what"]),
                     str(data["why"]), str(data["prev"]), str(data["hash"]))
    except (ValueError, KeyError, TypeError):
        return None


def _bad(n: int, seq: int, sq: str, en: str) -> Verdict:
    return Verdict(False, n, seq, f"Regjistri i auditimit NUK është i paprekur: hyrja {seq}: "
                   f"{sq}. / The audit log is NOT intact: entry {seq}: {en}.")


def verify(state_dir: Path) -> Verdict:
    """Walk the chain; the first entry that does not fit is named."""
    try:
        lines = (state_dir / LOG_NAME).read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        lines = []
    prev, expected = GENESIS, 1
    for line in lines:
        entry = _parse(line)
        if entry is None:
            return _bad(expected - 1, expected, "rresht i palexueshëm (i prerë ose i ndryshuar)",
                        "unreadable line (cut or altered)")
        if entry.seq != expected:
            return _bad(expected - 1, expected, f"mungon ose është zhvendosur (gjeta {entry.seq})",
                        f"missing or moved (found {entry.seq} in its place)")
        fields = entry.__dict__
        if entry.prev != prev:
            return _bad(expected - 1, expected, "nuk lidhet me hyrjen e mëparshme",
                        "does not chain to the previous entry")
        if entry_hash(fields) != entry.hash:
            return _bad(expected - 1, expected, "përmbajtja është ndryshuar",
                        "its content was changed")
        prev, expected = entry.hash, expected + 1
    count = expected - 1
    try:
        head_seq, head_hash = (state_dir / HEAD_NAME).read_text(encoding="ascii").split()
    except (OSError, ValueError):
        head_seq, head_hash = "", ""
    if head_seq and (int(head_seq) != count or head_hash != prev):
        return _bad(count, count + 1, f"mungojnë hyrjet në fund (koka thotë {head_seq})",
                    f"entries are missing at the end (the head says {head_seq})")
    return Verdict(True, count, None, f"Regjistri i auditimit është i paprekur: {count} hyrje. "
                   f"/ The audit log is intact: {count} entries.")


def anchor(state_dir: Path) -> Anchor | None:
    """Where the log stands now (its head), or None while it is empty."""
    if not (state_dir / LOG_NAME).exists():
        return None
    length, head = _last(state_dir)
    return Anchor(length, head) if length > 0 else None


def verify_against(state_dir: Path, anchors: list[Anchor]) -> Verdict:
    """`verify`, then each anchor: its entry must still exist with the anchored hash. The
    first anchor (by length) that does not match is named, with the entries that changed
    somewhere after the last anchor that does."""
    verdict = verify(state_dir)
    if not verdict.ok:
        return verdict
    hashes = [e.hash for e in read(state_dir)]
    matched = 0
    for a in sorted(anchors, key=lambda a: a.length):
        if a.length <= 0:
            continue
        where = f"{matched + 1}–{a.length}" if matched + 1 < a.length else f"{a.length}"
        if a.length > len(hashes):
            return _bad(len(hashes), len(hashes) + 1,
                        f"mungon: {a.source} ankoroi {a.length} hyrje, regjistri ka vetëm "
                        f"{len(hashes)} (u prenë ose u rishkruan hyrjet {where})",
                        f"missing: {a.source} anchored {a.length} entries, the log has only "
                        f"{len(hashes)} (entries {where} were cut or rewritten)")
        if hashes[a.length - 1] != a.head:
            return _bad(len(hashes), a.length,
                        f"nuk përputhet me kokën e ankoruar në {a.source}: regjistri u "
                        f"rishkrua (ndryshim në hyrjet {where})",
                        f"does not match the head anchored in {a.source}: the log was "
                        f"rewritten (a change in entries {where})")
        matched = a.length
    n = len([a for a in anchors if a.length > 0])
    return Verdict(True, len(hashes), None,
                   f"Regjistri i auditimit është i paprekur: {len(hashes)} hyrje, përputhet me "
                   f"{n} ankorime. / The audit log is intact: {len(hashes)} entries, matching "
                   f"{n} anchors.")
