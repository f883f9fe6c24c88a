"""Report delivery in one call: build (or reuse) a bundle, enqueue it, run the outbox.

    bundle = ensure_bundle(state_dir, "2026-10", school, settings, now)
    results = send(state_dir, bundle, settings, now)       # `roja report send`
    tick(state_dir, school, settings, now)                  # the daemon, e.g. hourly

A bundle is the three files `raport-<code>-<period>.{pdf,csv,json}` in `state_dir/reports/`;
once written it is reused (its content hash, hence its idempotency key, stays the same), so the
daemon and `roja report send` never produce a second version of a report by themselves. The
outbox is `state_dir/outbox.sqlite`. `tick` does, on or after `settings.send_day` of a month,
what `roja report send` does for the previous month, and otherwise only retries due rows.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from reporting import report_csv, report_json, report_pdf
from reporting.delivery_config import ReportSettings
from reporting.delivery_https import HttpsChannel
from reporting.delivery_smtp import SmtpChannel
from reporting.incidents import db_path
from reporting.outbox import Bundle, Channel, Delivery, Outbox
from reporting.report_data import TIRANE, AuditHead, SchoolLike, collect, parse_period

FORMATS = ("pdf", "csv", "json")


def file_name(code: str, period: str, fmt: str) -> str:
    """`raport-<code>-<period>.<fmt>`, the code reduced to letters, digits, `-` and `_`."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", code).strip("_") or "pa-kod"
    return f"raport-{safe}-{period}.{fmt}"


def reports_dir(state_dir: Path) -> Path:
    return state_dir / "reports"


def outbox_path(state_dir: Path) -> Path:
    return state_dir / "outbox.sqlite"


def previous_month(now: datetime) -> str:
    local = now.astimezone(TIRANE)
    year, month = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
    return f"{year}-{month:02d}"


def load_bundle(state_dir: Path, code: str, period: str) -> Bundle | None:
    """The bundle already in `state_dir/reports/`, or None when a file is missing/unreadable."""
    files = {fmt: reports_dir(state_dir) / file_name(code, period, fmt) for fmt in FORMATS}
    if not all(p.is_file() for p in files.values()):
        return None
    try:
        document = json.loads(files["json"].read_bytes())
        content_hash = str(document["content_sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Bundle(code, period, content_hash, files)


def ensure_bundle(state_dir: Path, period: str, school: SchoolLike, settings: ReportSettings,
                  now: datetime) -> Bundle:
    """The period's bundle, built from the incident store when it is not there yet."""
    found = load_bundle(state_dir, school.code, period)
    if found is not None:
        return found
    data = collect(db_path(state_dir), parse_period(period), school, settings.qark,
                   settings.municipality, settings.ict_teacher, now,
                   settings.addressee().line, audit_head(state_dir))
    out = reports_dir(state_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {fmt: out / file_name(school.code, period, fmt) for fmt in FORMATS}
    # The JSON goes last: a bundle counts as built only once all three files exist.
    for fmt, render in (("pdf", report_pdf.render), ("csv", report_csv.render),
                        ("json", report_json.render)):
        _write(files[fmt], render(data))
    return Bundle(school.code, period, report_json.to_document(data)["content_sha256"], files)


def audit_head(state_dir: Path) -> AuditHead | None:
    """Where the appliance's audit log stands, for the report to carry out of the school."""
    from filterd.audit import anchor  # the appliance's log (stdlib only; no cycle)

    found = anchor(state_dir)
    return AuditHead(found.length, found.head) if found else None


def channels(settings: ReportSettings) -> dict[str, Channel]:
    out: dict[str, Channel] = {}
    if settings.smtp is not None:
        out["smtp"] = SmtpChannel(settings.smtp)
    if settings.https is not None:
        out["https"] = HttpsChannel(settings.https)
    return out


def send(state_dir: Path, bundle: Bundle, settings: ReportSettings, now: datetime,
         channel_map: Mapping[str, Channel] | None = None) -> list[Delivery]:
    """Enqueue `bundle` for every configured recipient, run the due rows, and return the
    bundle's rows as they stand afterwards."""
    with Outbox(outbox_path(state_dir)) as outbox:
        outbox.enqueue(bundle, settings.recipients(), now.timestamp())
        outbox.run_due(now.timestamp(), channels(settings) if channel_map is None
                       else channel_map)
        return outbox.deliveries(key=bundle.key)


def tick(state_dir: Path, school: SchoolLike, settings: ReportSettings,
         now: datetime) -> list[Delivery]:
    """The daemon's periodic step (blocking: run it in a thread). Returns the rows attempted."""
    if now.astimezone(TIRANE).day >= settings.send_day:
        bundle = ensure_bundle(state_dir, previous_month(now), school, settings, now)
        if settings.recipients():
            with Outbox(outbox_path(state_dir)) as outbox:
                outbox.enqueue(bundle, settings.recipients(), now.timestamp())
    if not outbox_path(state_dir).is_file():
        return []
    with Outbox(outbox_path(state_dir)) as outbox:
        return outbox.run_due(now.timestamp(), channels(settings))


def _write(path: Path, content: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
