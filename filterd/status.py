"""What `roja status` shows: one `Health` from the service, the lists, the self-tests, the
report outbox and today's incidents (Europe/Tirane day). Pure reads; never writes state.

The service is "up" when `systemctl is-active roja` says so (systemd running) or, without
systemd, when the configured DNS address answers a real query. Unhealthy: the service is
down, the hotline list is missing/expired/stale while a feed is configured, the last
self-test failed, or the last report delivery failed for good.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import sqlite3
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dnslib import DNSRecord

from blocklists.sync import status as feed_status
from filterd.config import RojaConfig
from filterd.list_apply import read_enforced
from reporting.delivery import outbox_path
from reporting.incidents import IncidentStore, IncidentStoreError
from reporting.outbox import Outbox

TIRANE = ZoneInfo("Europe/Tirane")


@dataclass
class Health:
    service: str                      # "active", "inactive", "failed", "answering", "down"
    service_how: str                  # "systemd" or "dns probe <addr>"
    lists: dict[str, Any]
    selftest: dict[str, Any] | None   # {"ok", "at", "detail"}
    report: dict[str, Any] | None     # {"period", "status", "at", "recipient"}
    incidents_today: int
    bypass_today: int = 0             # filter_bypass incidents (outside DNS, DoT, DoH, VPN)
    bypass_clients_today: int = 0     # distinct (pseudonymous) devices behind them
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "healthy": self.healthy}


def probe_dns(address: tuple[str, int], timeout: float = 3.0) -> bool:
    """Does a real DNS query to `address` get a reply with our ID? The name is Firefox's DoH
    canary, which Roja answers itself (no upstream needed); any reply counts, even SERVFAIL
    (the timeout covers the upstream deadline when canaries are off)."""
    host, port = address
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    query = DNSRecord.question("use-application-dns.net")
    query.header.id = secrets.randbelow(65536)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.connect((host, port))  # connected: a closed port fails at once (ICMP)
            s.send(query.pack())
            data = s.recv(4096)
        except OSError:
            return False
    return len(data) >= 2 and int.from_bytes(data[:2], "big") == query.header.id


def service_state(cfg: RojaConfig, use_systemd: bool | None = None) -> tuple[str, str]:
    systemctl = shutil.which("systemctl")
    if use_systemd is None:
        use_systemd = systemctl is not None and Path("/run/systemd/system").is_dir()
    if use_systemd and systemctl is not None:
        out = subprocess.run([systemctl, "is-active", "roja.service"], capture_output=True,
                             text=True, check=False).stdout.strip()
        return out or "unknown", "systemd"
    if not cfg.dns.listen:
        return "down", "no [dns] listen"
    address = cfg.dns.listen[0]
    up = probe_dns(address)
    return ("answering" if up else "down"), f"dns probe {address[0]}:{address[1]}"


def last_selftest(db: Path) -> dict[str, Any] | None:
    if not db.is_file():
        return None
    try:
        con = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True, timeout=5)
        try:
            row = con.execute("SELECT at, kind, detail FROM events WHERE kind IN "
                              "('selftest_pass', 'selftest_fail') ORDER BY at DESC, id DESC "
                              "LIMIT 1").fetchone()
        finally:
            con.close()
    except sqlite3.Error:  # no events table yet (schema v1): no self-test recorded
        return None
    if row is None:
        return None
    return {"ok": row[1] == "selftest_pass", "at": float(row[0]), "detail": str(row[2])}


def last_report(state_dir: Path) -> dict[str, Any] | None:
    path = outbox_path(state_dir)
    if not path.is_file():
        return None
    with Outbox(path) as outbox:
        deliveries = outbox.deliveries()
    if not deliveries:
        return None
    sent = [d for d in deliveries if d.status == "sent" and d.sent_at is not None]
    latest = max(deliveries, key=lambda d: (d.period, d.created_at))
    if sent:
        best = max(sent, key=lambda d: d.sent_at or 0.0)
        if best.period >= latest.period:
            latest = best
    return {"period": latest.period, "status": latest.status,
            "at": latest.sent_at or latest.created_at, "recipient": latest.recipient,
            "error": latest.last_error}


def incidents_today(db: Path, now: datetime) -> tuple[int, int, int]:
    """(incidents, bypass attempts, devices that tried a bypass) since midnight in Tirana."""
    start = now.astimezone(TIRANE).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        store = IncidentStore(db)
    except IncidentStoreError:
        return 0, 0, 0
    try:
        rows = store.list_since(start.timestamp(), limit=1_000_000)
    finally:
        store.close()
    bypass = [row for row in rows if row.category == "filter_bypass"]
    return (sum(row.count for row in rows), sum(row.count for row in bypass),
            len({row.client for row in bypass}))


def collect(cfg: RojaConfig, now: datetime | None = None,
            use_systemd: bool | None = None) -> Health:
    moment = now or datetime.now(TIRANE)
    state, how = service_state(cfg, use_systemd)
    db = cfg.state_dir / "incidents.sqlite"
    feed: dict[str, Any] = feed_status(cfg.state_dir) if (cfg.state_dir / "feed").exists() or \
        cfg.feed.enabled else {"serial": None}
    feed["enforced"] = read_enforced(cfg.state_dir)  # what the filter enforces (list_apply)
    total, bypass, bypass_clients = incidents_today(db, moment)
    health = Health(state, how, feed, last_selftest(db), last_report(cfg.state_dir), total,
                    bypass, bypass_clients)
    if state not in ("active", "answering"):
        health.problems.append("service")
    if cfg.feed.enabled:
        if feed.get("serial") is None:
            health.problems.append("list_missing")
        elif feed.get("expired"):
            health.problems.append("list_expired")
        elif feed.get("age_seconds", 0) > cfg.feed.stale_hours * 3600:
            health.problems.append("list_stale")
    if feed.get("refused"):  # a serial refused for unsigned removals: the teacher must know
        health.problems.append("list_refused")
    if (feed["enforced"] or {}).get("held_back"):
        health.problems.append("lists_held_back")
    if health.selftest is not None and not health.selftest["ok"]:
        health.problems.append("selftest_failed")
    if health.report is not None and health.report["status"] == "failed_permanent":
        health.problems.append("report_failed")
    return health


def ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} orë / h"
    return f"{seconds // 86400} ditë / days"
