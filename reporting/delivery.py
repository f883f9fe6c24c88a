"""Report delivery in one call: make (or reuse) a revision, enqueue it, run the outbox.

    bundle = ensure_bundle(state_dir, "2026-10", school, settings, now)
    results = send(state_dir, bundle, settings, now)       # `roja report send`
    tick(state_dir, school, settings, now)                  # the daemon, e.g. hourly

Bundles live in the revision store (`reporting.bundles`, `state_dir/reports/<period>/r<N>/`),
shared with `roja report build`: the latest revision is reused while the report built now is
the same (its idempotency key stays the same), and a change after it (late or teachers'
incidents, a correction) becomes the next revision. Sending a revision supersedes the older
revisions' deliveries that had not gone out yet. A period that has not ended is refused
(`reporting.bundles.PeriodNotEndedError`). The outbox is `state_dir/outbox.sqlite`. `tick`
does, on or after `settings.send_day` of a month, what `roja report send` does for the previous
month (so a change to last month is sent as a new revision by the next hourly step), and
otherwise only retries due rows. It waits `settle` seconds after the month ended before it
builds the month's report: the incident writers write what they hold at the month's end (held
repeats, the last batch within `[incidents] flush_interval`), and a report built in that moment
would miss the month's last blocks and be followed by a second revision.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path

from reporting import bundles
from reporting.bundles import FORMATS, BundleStore, Made
from reporting.delivery_config import ReportSettings
from reporting.delivery_https import HttpsChannel
from reporting.delivery_smtp import SmtpChannel
from reporting.outbox import Bundle, Channel, Delivery, Outbox
from reporting.report_data import TIRANE, SchoolLike

__all__ = [
    "FORMATS",
    "Made",
    "audit_head",
    "ensure_bundle",
    "file_name",
    "load_bundle",
    "make_revision",
    "outbox_path",
    "previous_month",
    "reports_dir",
    "send",
    "tick",
]

file_name = bundles.file_name
audit_head = bundles.audit_head


def reports_dir(state_dir: Path) -> Path:
    return state_dir / "reports"


def outbox_path(state_dir: Path) -> Path:
    return state_dir / "outbox.sqlite"


def previous_month(now: datetime) -> str:
    local = now.astimezone(TIRANE)
    year, month = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
    return f"{year}-{month:02d}"


def load_bundle(state_dir: Path, code: str, period: str) -> Bundle | None:
    """The latest revision's bundle of the period, or None when there is none."""
    latest = BundleStore(state_dir).latest(code, period)
    return None if latest is None else latest.bundle


def make_revision(state_dir: Path, period: str, school: SchoolLike,
                  settings: ReportSettings, now: datetime, *,
                  allow_running: bool = False) -> Made:
    """The period's latest revision, or a new one when the report changed since
    (raises `bundles.PeriodNotEndedError` for a period that has not ended)."""
    return BundleStore(state_dir).ensure(school, period, settings, now,
                                         allow_running=allow_running)


def ensure_bundle(state_dir: Path, period: str, school: SchoolLike, settings: ReportSettings,
                  now: datetime, *, allow_running: bool = False) -> Bundle:
    """The bundle of `make_revision`."""
    return make_revision(state_dir, period, school, settings, now,
                         allow_running=allow_running).revision.bundle


def channels(settings: ReportSettings) -> dict[str, Channel]:
    out: dict[str, Channel] = {}
    if settings.smtp is not None:
        out["smtp"] = SmtpChannel(settings.smtp)
    if settings.https is not None:
        out["https"] = HttpsChannel(settings.https)
    return out


def sender_wait(settings: ReportSettings) -> float:
    """How long `roja report send` waits for another sender (the timer's run) to finish: one
    SMTP attempt's command timeout plus its DATA timeout, or one HTTPS attempt's timeout."""
    smtp = settings.smtp.timeout + settings.smtp.data_timeout if settings.smtp else 0.0
    return max(smtp, settings.https.timeout if settings.https else 0.0)


def send(state_dir: Path, bundle: Bundle, settings: ReportSettings, now: datetime,
         channel_map: Mapping[str, Channel] | None = None, *, wait: float = 0.0,
         waiting: Callable[[], None] | None = None) -> list[Delivery]:
    """Enqueue `bundle` for every configured recipient (superseding older revisions' rows
    that had not gone out), run the due rows, and return the bundle's rows afterwards. With
    `wait`, another process sending is waited for (`Outbox.run_due`; SenderBusy after)."""
    with Outbox(outbox_path(state_dir)) as outbox:
        _enqueue(outbox, bundle, settings, now)
        outbox.run_due(now.timestamp(), channels(settings) if channel_map is None
                       else channel_map, wait=wait, waiting=waiting)
        return outbox.deliveries(key=bundle.key)


def _enqueue(outbox: Outbox, bundle: Bundle, settings: ReportSettings, now: datetime) -> None:
    outbox.enqueue(bundle, settings.recipients(), now.timestamp())
    outbox.supersede(bundle, now.timestamp())


def tick(state_dir: Path, school: SchoolLike, settings: ReportSettings,
         now: datetime, approved: Callable[[Bundle], bool] = lambda bundle: True,
         settle: float = 0.0) -> list[Delivery]:
    """The daemon's periodic step (blocking: run it in a thread). Returns the rows attempted.
    A revision `approved` refuses (not signed by the director, `filterd.report_signoff`) is
    built but not queued. Last month's report is built once `settle` seconds have passed since
    the month ended (until then only due retries run)."""
    period = previous_month(now)
    settled = bundles.period_ended(period, now - timedelta(seconds=settle))
    if now.astimezone(TIRANE).day >= settings.send_day and settled:
        bundle = ensure_bundle(state_dir, period, school, settings, now)
        if settings.recipients() and approved(bundle):
            with Outbox(outbox_path(state_dir)) as outbox:
                _enqueue(outbox, bundle, settings, now)
    if not outbox_path(state_dir).is_file():
        return []
    with Outbox(outbox_path(state_dir)) as outbox:
        return outbox.run_due(now.timestamp(), channels(settings))
