"""The report bundle store: every report of a period, as numbered revisions r1, r2, ...

    store = BundleStore(state_dir)
    made = store.ensure(school, "2026-10", settings, now)   # the latest, or a new revision
    made.revision.number, made.created, made.revision.bundle.key
    store.revisions("K7", "2026-10")                          # oldest first

One store is used by `roja report build`, `roja report send` and the daemon's monthly step
(`reporting.delivery.tick`), so the files a teacher looks at are the files that were sent.

A period must have ended (Europe/Tirane) before a revision of it is made: `ensure` raises
`PeriodNotEndedError` otherwise (a preview is `roja report build --draft`, which writes only to
its output folder). `ensure` builds the report from the incident store as it is now and
compares it with the latest revision, leaving out the generation date: when nothing changed
the latest revision is returned as it is (its idempotency key stays the same across retries
and restarts); when anything changed (late incidents, incidents teachers recorded, a corrected
school name or office) it becomes revision N + 1, with a list of what changed. One `ensure`
runs at a time per state dir (`reports/.lock`), so the daemon's step and a teacher's `roja
report send` never both make a revision of the same report.

Layout: `state_dir/reports/<period>/r<N>/raport-<code>-<period>[-rN].{pdf,csv,json}` and
`revision.json` (number, build time, hashes, what changed), written last, so a revision counts
only once all its files are there. Reports built before revisions existed
(`state_dir/reports/raport-<code>-<period>.*`) are read as r1 in place: the outbox refers to
their paths.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from reporting import report_csv, report_json, report_pdf
from reporting.delivery_config import ReportSettings
from reporting.incidents import db_path
from reporting.outbox import Bundle
from reporting.report_data import (
    TIRANE,
    AuditHead,
    ReportData,
    SchoolLike,
    collect,
    parse_period,
)

FORMATS = ("pdf", "csv", "json")
META = "revision.json"
_REVISION_DIR = re.compile(r"r([1-9][0-9]{0,5})")
# (label, path in the report document) of the figures whose change `ensure` names
FIGURES = (
    ("Aksese të bllokuara / blocked requests", ("blocked", "total")),
    ("Incidente të bllokimit / block incidents", ("blocked", "incidents")),
    ("Përpjekje anashkalimi / bypass attempts", ("blocked", "circumvention_total")),
    ("Incidente nga mësuesit / incidents recorded by teachers", ("manual", "total")),
    ("Kontrolle të vlefshmërisë / validity checks", ("filter_status", "selftest_runs")),
    ("Përditësime të dështuara / failed list updates", ("filter_status", "sync_failures")),
    ("Incidente të humbura / incidents lost", ("filter_status", "incidents_dropped")),
    ("Shkolla / school", ("header", "school_name")),
    ("Qarku / county", ("header", "qark")),
    ("Bashkia / municipality", ("header", "municipality")),
    ("Mësuesi i TIK-ut / ICT teacher", ("header", "ict_teacher")),
    ("Drejtuar / addressed to", ("header", "recipient")),
)
OTHER_CHANGES = "ndryshime në hollësi / changes in the details"


class PeriodNotEndedError(ValueError):
    """A revision was asked for a period that has not ended yet."""

    def __init__(self, period: str, ends: datetime) -> None:
        self.period, self.ends = period, ends
        super().__init__(f"{period} ends {ends.isoformat()}")


@dataclass(frozen=True)
class Revision:
    """One stored revision of a period's report."""

    number: int
    bundle: Bundle
    built_at: float
    substance_sha256: str  # the content without its generation date
    changes: tuple[str, ...]  # what differs from the revision before ("" for r1)


@dataclass(frozen=True)
class Made:
    revision: Revision
    created: bool  # False: nothing changed, the latest revision was returned
    previous: Revision | None


def file_name(code: str, period: str, fmt: str, revision: int = 1) -> str:
    """`raport-<code>-<period>[-rN].<fmt>`, the code reduced to letters, digits, `-`, `_`."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", code).strip("_") or "pa-kod"
    suffix = f"-r{revision}" if revision > 1 else ""
    return f"raport-{safe}-{period}{suffix}.{fmt}"


def substance(document: Mapping[str, Any]) -> str:
    """SHA-256 of the report without its hash, its generation date and time and the audit
    log's head (the log grows with every policy change; the anchor of the first revision
    stands)."""
    report = {k: v for k, v in document["report"].items() if k != "audit"}
    report["header"] = {k: v for k, v in report["header"].items()
                        if k not in ("generated", "generated_at")}
    return hashlib.sha256(report_json.canonical({"schema": document.get("schema"),
                                                 "report": report})).hexdigest()


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, ...]:
    """The named figures that differ between two report documents, `label: old → new`."""
    out = []
    for label, (section, field) in FIGURES:
        a = old["report"].get(section, {}).get(field)
        b = new["report"].get(section, {}).get(field)
        if a != b:
            out.append(f"{label}: {'—' if a is None else a} → {'—' if b is None else b}")
    return tuple(out) or (OTHER_CHANGES,)


def period_ended(period: str, now: datetime) -> bool:
    return now.astimezone(TIRANE) >= parse_period(period).end


def audit_head(state_dir: Path) -> AuditHead | None:
    """Where the appliance's audit log stands, for the report to carry out of the school."""
    from filterd.audit import anchor  # the appliance's log (stdlib only; no cycle)

    found = anchor(state_dir)
    return AuditHead(found.length, found.head) if found else None


def build_data(state_dir: Path, period: str, school: SchoolLike, settings: ReportSettings,
               now: datetime) -> ReportData:
    """The report of `period` from the incident store as it is at `now`."""
    return collect(db_path(state_dir), parse_period(period), school, settings.qark,
                   settings.municipality, settings.ict_teacher, now,
                   settings.addressee().line, settings.group_names, audit_head(state_dir))


def render_all(data: ReportData) -> dict[str, bytes]:
    return {"pdf": report_pdf.render(data), "csv": report_csv.render(data),
            "json": report_json.render(data)}


class BundleStore:
    """The revisions under `state_dir/reports/`."""

    def __init__(self, state_dir: Path) -> None:
        self.root = state_dir / "reports"
        self.state_dir = state_dir

    def revisions(self, code: str, period: str) -> list[Revision]:
        """Every complete revision of the school's period, oldest first."""
        found: list[Revision] = []
        legacy = self._legacy(code, period)
        if legacy is not None:
            found.append(legacy)
        folder = self.root / period
        numbers = sorted(int(m[1]) for p in (folder.iterdir() if folder.is_dir() else ())
                         if (m := _REVISION_DIR.fullmatch(p.name)))
        for number in numbers:
            revision = self._read(code, period, folder / f"r{number}", number)
            if revision is not None and not (legacy is not None and number == 1):
                found.append(revision)
        return found

    def latest(self, code: str, period: str) -> Revision | None:
        revisions = self.revisions(code, period)
        return revisions[-1] if revisions else None

    def ensure(self, school: SchoolLike, period: str, settings: ReportSettings,
               now: datetime, *, allow_running: bool = False) -> Made:
        """The latest revision when the report built now is the same, else a new one.
        `allow_running` lets a period that has not ended through: only the inbox demo, whose
        throw-away school shows this month's report late in a month."""
        if not allow_running and not period_ended(period, now):
            raise PeriodNotEndedError(period, parse_period(period).end)
        with self._lock():
            return self._ensure(school, period, settings, now)

    def _ensure(self, school: SchoolLike, period: str, settings: ReportSettings,
                now: datetime) -> Made:
        data = build_data(self.state_dir, period, school, settings, now)
        document = report_json.to_document(data)
        digest = substance(document)
        previous = self.latest(school.code, period)
        if previous is not None and previous.substance_sha256 == digest:
            return Made(previous, False, previous)
        number = 1 if previous is None else previous.number + 1
        folder = self.root / period / f"r{number}"
        folder.mkdir(parents=True, exist_ok=True)
        files = {fmt: folder / file_name(school.code, period, fmt, number) for fmt in FORMATS}
        for fmt, content in render_all(data).items():
            _write(files[fmt], content)
        what = () if previous is None else changes(
            json.loads(previous.bundle.files["json"].read_bytes()), document)
        meta = {"revision": number, "school_code": school.code, "built_at": now.timestamp(),
                "content_sha256": document["content_sha256"], "substance_sha256": digest,
                "changes": list(what)}
        _write(folder / META, json.dumps(meta, ensure_ascii=False, indent=2).encode())
        revision = Revision(number, Bundle(school.code, period, document["content_sha256"],
                                           files), now.timestamp(), digest, what)
        return Made(revision, True, previous)

    @contextmanager
    def _lock(self) -> Iterator[None]:
        """One `ensure` at a time per state dir (`reports/.lock`, flock: the kernel releases it
        when the holder dies). Without it the daemon's step and a `roja report send` started
        together both built "r1", each with its own generation time, and both were queued."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _read(self, code: str, period: str, folder: Path, number: int) -> Revision | None:
        """The revision in `folder`; `code` "" reads whichever school's it is."""
        try:
            meta = json.loads((folder / META).read_bytes())
            code = code or str(meta.get("school_code", ""))
            files = {fmt: folder / file_name(code, period, fmt, number) for fmt in FORMATS}
            if not all(p.is_file() for p in files.values()):
                return None
            return Revision(number, Bundle(code, period, str(meta["content_sha256"]), files),
                            float(meta["built_at"]), str(meta["substance_sha256"]),
                            tuple(str(c) for c in meta.get("changes", ())))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _legacy(self, code: str, period: str) -> Revision | None:
        """A bundle built before revisions existed (flat in `reports/`), as r1."""
        files = {fmt: self.root / file_name(code, period, fmt) for fmt in FORMATS}
        if not all(p.is_file() for p in files.values()):
            return None
        try:
            document = json.loads(files["json"].read_bytes())
            if not document["report"]["header"].get("period_complete", True):
                return None  # built before the period ended: never reused
            return Revision(1, Bundle(code, period, str(document["content_sha256"]), files),
                            files["json"].stat().st_mtime, substance(document), ())
        except (OSError, ValueError, KeyError, TypeError):
            return None


def revision_of(json_path: Path) -> int:
    """The revision number of a bundle file (from its folder's `revision.json`; 1 if none)."""
    try:
        return int(json.loads((json_path.parent / META).read_bytes())["revision"])
    except (OSError, ValueError, KeyError, TypeError):
        return 1


def _write(path: Path, content: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
