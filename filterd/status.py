"""What `roja status` says: one `Health`, HEALTHY only when the filter is doing its whole job.

The facts come from `filterd.status_reads`; this module judges them. A *problem* means the
filter is not doing its job now; a *warning* means it filters but something it should do is
missing or late. HEALTHY (exit 0, `"healthy": true`) only with neither. Ids, in `problems`:

    service              the roja unit is not active (without systemd: DNS does not answer)
    dns_not_answering    the unit runs but the configured DNS address does not answer
    no_block_lists       no deny or legal list and no hotline list: nothing is blocked
    list_file_missing    a configured list file is gone: the next start or reload fails
    list_missing         the hotline feed is configured but has never synced
    list_expired         the active hotline list has expired
    list_refused         a new hotline serial was refused (entries removed without signed
                         removals): the filter keeps the last good list
    lists_held_back      a list shrank too much: the filter keeps that list's previous entries
                         (the others are applied); `roja reload` exits 3 and says why
    selftest_failed      the last self-test failed
    report_failed        the last report delivery failed for good
    incidents_unreadable the incident database cannot be read
    disk_full            under MIN_FREE_BYTES free for the state directory

and in `warnings`:

    list_not_configured  no `[feed]`: pages the hotline confirmed are not blocked
    list_stale           the hotline list is older than `[feed] stale_hours`
    list_sync_failed     the last hotline sync failed (the last good list stays active)
    lists_not_loaded     the list files changed since the filter compiled them (roja reload),
                         or it never compiled them
    selftest_missing     no self-test recorded yet
    selftest_old         the last self-test is older than SELFTEST_MAX_AGE (the timer is daily)
    report_no_recipients `[report]` has no recipient: the report is only built
    report_overdue       last month's report has not reached every recipient REPORT_GRACE
                         after `[report] send_day`
    incidents_dropped    the running filter lost incidents (`roja_incidents_dropped_total`)
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from blocklists.sync import status as feed_status
from filterd.config import RojaConfig
from filterd.list_apply import read_enforced
from filterd.status_reads import (
    TIRANE,
    active_lists,
    deliveries,
    dropped_incidents,
    incidents_today,
    last_report,
    metric_sum,
    probe_dns,
    probe_tls,
    systemd_state,
)
from reporting.delivery import previous_month
from reporting.events import last_event
from reporting.sqlite_store import StoreError

SELFTEST_MAX_AGE = timedelta(hours=48)  # roja-selftest.timer runs daily at 07:30 and at boot
REPORT_GRACE = timedelta(days=3)  # retries after send_day before a report counts as overdue
MIN_FREE_BYTES = 100 * 2**20  # below this, incidents and compiled lists cannot be written

__all__ = ["TIRANE", "Health", "ago", "collect"]


@dataclass
class Health:
    service: str                      # "active", "inactive", "failed", "answering", "down"
    service_how: str                  # "systemd" or "dns probe <addr>"
    lists: dict[str, Any]             # the hotline feed (blocklists.sync.status)
    selftest: dict[str, Any] | None   # {"ok", "at", "detail"}
    report: dict[str, Any] | None     # {"period", "status", "at", "recipient", "error"}
    incidents_today: int
    bypass_today: int = 0             # reporting.bypass_count, as the monthly report counts
    bypass_clients_today: int = 0     # distinct (pseudonymous) devices behind them
    dns_answering: bool | None = None  # None: no [dns] listen to ask
    encrypted: dict[str, bool] = field(default_factory=dict)  # "DoT 127.0.0.1:853" → handshake ok
    active_lists: dict[str, Any] = field(default_factory=dict)  # status_reads.active_lists
    last_sync: dict[str, Any] | None = None  # the newest sync_ok/sync_fail event
    report_due: dict[str, Any] | None = None  # {"period", "due", "missing": [recipients]}
    incidents_dropped: int | None = None  # None: the metrics address did not answer
    dns_workers: int | None = None    # DNS processes answering (roja_dns_workers); None: unknown
    incidents_error: str = ""         # why the incident database could not be read
    disk_free_bytes: int | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems and not self.warnings

    @property
    def state(self) -> str:
        return "problem" if self.problems else "warning" if self.warnings else "healthy"

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "healthy": self.healthy, "state": self.state}


def _encrypted(cfg: RojaConfig, h: Health) -> None:
    """DoT and DoH listeners the config names: each must complete a TLS handshake, or the
    devices DDR sent there lose DNS (a problem, not a warning)."""
    settings = cfg.dns.encrypted
    for kind, listen in (("DoT", settings.tls_listen), ("DoH", settings.https_listen)):
        for host, port in listen:
            h.encrypted[f"{kind} {host}:{port}"] = probe_tls((host, port))
    if not all(h.encrypted.values()):
        h.problems.append("encrypted_dns_down")


def collect(cfg: RojaConfig, now: datetime | None = None, use_systemd: bool | None = None,
            min_free_bytes: int = MIN_FREE_BYTES) -> Health:
    moment = (now or datetime.now(TIRANE)).astimezone(TIRANE)
    db = cfg.state_dir / "incidents.sqlite"
    listen = cfg.dns.listen[0] if cfg.dns.listen else None
    answering = probe_dns(listen) if listen is not None else None
    unit = systemd_state(use_systemd)
    if unit is not None:
        state, how = unit, "systemd"
    elif listen is None:
        state, how = "down", "no [dns] listen"
    else:
        state, how = ("answering" if answering else "down"), f"dns probe {listen[0]}:{listen[1]}"
    feed: dict[str, Any] = feed_status(cfg.state_dir) if (cfg.state_dir / "feed").exists() or \
        cfg.feed.enabled else {"serial": None}
    feed["enforced"] = read_enforced(cfg.state_dir)  # what the filter enforces (list_apply)
    rows = deliveries(cfg.state_dir)
    selftest = last_event(db, ("selftest_pass", "selftest_fail"))
    h = Health(state, how, feed, None if selftest is None else {
        "ok": selftest["kind"] == "selftest_pass", "at": selftest["at"],
        "detail": selftest["detail"]}, last_report(rows), 0, dns_answering=answering)
    up = state in ("active", "answering")
    if not up:
        h.problems.append("service")
    elif answering is False:
        h.problems.append("dns_not_answering")
    if up:
        _encrypted(cfg, h)
    _lists(cfg, h)
    _selftest(h, moment)
    _report(cfg, h, rows, moment)
    try:
        h.incidents_today, h.bypass_today, h.bypass_clients_today = incidents_today(db, moment)
    except sqlite3.Error as exc:  # damaged, or this user may not read it
        h.problems.append("incidents_unreadable")
        h.incidents_error = f"{db}: {exc}"
    except StoreError as exc:  # a newer Roja wrote it: its sentence names the file
        h.problems.append("incidents_unreadable")
        h.incidents_error = str(exc)
    if up:
        h.incidents_dropped = dropped_incidents(cfg.metrics_listen)
        h.dns_workers = metric_sum(cfg.metrics_listen, "roja_dns_workers")
        if h.dns_workers is not None and h.dns_workers < cfg.dns.workers:
            h.warnings.append("dns_workers_missing")  # a worker stopped: fewer cores answer
        if h.incidents_dropped:
            h.warnings.append("incidents_dropped")
    if cfg.state_dir.is_dir():
        h.disk_free_bytes = shutil.disk_usage(cfg.state_dir).free
        if h.disk_free_bytes < min_free_bytes:
            h.problems.append("disk_full")
    return h


def _lists(cfg: RojaConfig, h: Health) -> None:
    feed = h.lists
    if not any(lc.rule.kind in ("deny", "legal") for lc in cfg.policy.lists) and \
            not cfg.feed.enabled:
        h.problems.append("no_block_lists")
    if not cfg.feed.enabled:
        h.warnings.append("list_not_configured")
    elif feed.get("serial") is None:
        h.problems.append("list_missing")
    elif feed.get("expired"):
        h.problems.append("list_expired")
    elif feed.get("age_seconds", 0) > cfg.feed.stale_hours * 3600:
        h.warnings.append("list_stale")
    if cfg.feed.enabled:
        h.last_sync = last_event(cfg.state_dir / "incidents.sqlite", ("sync_ok", "sync_fail"))
        if h.last_sync is not None and h.last_sync["kind"] == "sync_fail":
            h.warnings.append("list_sync_failed")
    h.active_lists = active_lists(cfg)
    found = {"held_back": "lists_held_back", "not_loaded": "lists_not_loaded",
             "not_compiled": "lists_not_loaded",
             "file_missing": "list_file_missing"}.get(h.active_lists["state"])
    if feed.get("refused"):  # a serial refused for unsigned removals: the teacher must know
        h.problems.append("list_refused")
    if (feed.get("enforced") or {}).get("held_back"):  # held back per list (list_apply)
        h.problems.append("lists_held_back")
    if found in ("list_file_missing", "lists_held_back"):
        if found not in h.problems:
            h.problems.append(found)
    elif found is not None:
        h.warnings.append(found)


def _selftest(h: Health, moment: datetime) -> None:
    if h.selftest is None:
        h.warnings.append("selftest_missing")
    elif not h.selftest["ok"]:
        h.problems.append("selftest_failed")
    elif moment.timestamp() - h.selftest["at"] > SELFTEST_MAX_AGE.total_seconds():
        h.warnings.append("selftest_old")


def _report(cfg: RojaConfig, h: Health, rows: list[Any], moment: datetime) -> None:
    if h.report is not None and h.report["status"] == "failed_permanent":
        h.problems.append("report_failed")
    recipients = cfg.report.recipients()
    if not recipients:
        h.warnings.append("report_no_recipients")
        return
    period = previous_month(moment)
    due = moment.replace(day=cfg.report.send_day, hour=0, minute=0, second=0,
                         microsecond=0) + REPORT_GRACE
    sent = {(d.channel, d.recipient) for d in rows if d.period == period and d.status == "sent"}
    missing = [r for c, r in recipients if (c, r) not in sent]
    h.report_due = {"period": period, "due": due.timestamp(), "missing": missing}
    if missing and moment >= due:
        h.warnings.append("report_overdue")


def ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} orë / h"
    return f"{seconds // 86400} ditë / days"
