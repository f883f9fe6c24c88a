"""The reads behind `roja status` (`filterd.status` judges them): the service, a real DNS query,
the lists the filter compiled, the appliance's events, the report outbox, today's incidents and
the running filter's lost-incident counter. Each only reads; none writes state.
"""

from __future__ import annotations

import http.client
import secrets
import shutil
import socket
import ssl
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dnslib import DNSRecord

from filterd.config import RojaConfig
from reporting.bypass_count import IN_PERIOD, bypass_count
from reporting.delivery import outbox_path
from reporting.events import last_event
from reporting.incidents.schema import SCHEMA
from reporting.outbox import Delivery, Outbox
from reporting.sqlite_store import open_readonly

TIRANE = ZoneInfo("Europe/Tirane")


def _loopback(host: str) -> str:
    """The address to ask on this machine for a service that listens on `host`."""
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)


def probe_dns(address: tuple[str, int], timeout: float = 3.0) -> bool:
    """Does a real DNS query to `address` get a reply with our ID? The name is Firefox's DoH
    canary, which Roja answers itself (no upstream needed); any reply counts, even SERVFAIL
    (the timeout covers the upstream deadline when canaries are off)."""
    host, port = _loopback(address[0]), address[1]
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


def probe_tls(address: tuple[str, int], timeout: float = 3.0) -> bool:
    """Does `address` complete a TLS handshake (DoT or DoH)? The certificate is not checked:
    this asks whether the listener is up, not whether a client trusts it."""
    host, port = _loopback(address[0]), address[1]
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw, \
                context.wrap_socket(raw, server_hostname=None):
            return True
    except (OSError, ssl.SSLError):
        return False


def systemd_state(use_systemd: bool | None = None) -> str | None:
    """`systemctl is-active roja.service`, or None where systemd does not run the machine."""
    systemctl = shutil.which("systemctl")
    if use_systemd is None:
        use_systemd = systemctl is not None and Path("/run/systemd/system").is_dir()
    if not use_systemd or systemctl is None:
        return None
    out = subprocess.run([systemctl, "is-active", "roja.service"], capture_output=True,
                         text=True, check=False).stdout.strip()
    return out or "unknown"


def deliveries(state_dir: Path) -> list[Delivery]:
    path = outbox_path(state_dir)
    if not path.is_file():
        return []
    with Outbox(path) as outbox:
        return outbox.deliveries()


def last_report(rows: list[Delivery]) -> dict[str, Any] | None:
    """The newest report's delivery: the latest period's, a sent one preferred (a delivery a
    newer revision superseded is never the one shown)."""
    rows = [d for d in rows if d.status != "superseded"]
    if not rows:
        return None
    sent = [d for d in rows if d.status == "sent" and d.sent_at is not None]
    latest = max(rows, key=lambda d: (d.period, d.created_at))
    if sent:
        best = max(sent, key=lambda d: d.sent_at or 0.0)
        if best.period >= latest.period:
            latest = best
    return {"period": latest.period, "status": latest.status,
            "at": latest.sent_at or latest.created_at, "recipient": latest.recipient,
            "error": latest.last_error}


def midnight(moment: datetime) -> datetime:
    """The start of `moment`'s day in Tirana: what "today" means on every page and in status."""
    return moment.astimezone(TIRANE).replace(hour=0, minute=0, second=0, microsecond=0)


def incidents_today(db: Path, now: datetime) -> tuple[int, int, int]:
    """(incidents, bypass attempts, devices that tried a bypass) first seen today in Tirana,
    the bypass figures from `reporting.bypass_count` (the monthly report's count too). Raises
    sqlite3.Error when the database cannot be read, StoreTooNewError when a newer Roja wrote
    it."""
    start = midnight(now)
    end = start + timedelta(days=1)
    if not db.is_file():
        return 0, 0, 0
    con = open_readonly(db, SCHEMA, minimum=0)
    try:
        total = con.execute(f"SELECT COALESCE(SUM(count), 0) FROM incidents WHERE {IN_PERIOD}",
                            (start.timestamp(), end.timestamp())).fetchone()[0]
        bypass = bypass_count(con, start.timestamp(), end.timestamp())
    finally:
        con.close()
    return int(total), bypass.attempts, bypass.devices


def metric_sum(listen: tuple[str, int] | None, name: str,
               timeout: float = 2.0) -> int | None:
    """The sum of the samples of metric `name` (with or without labels) on the running
    filter's `/metrics`, or None when there is no metrics address or it does not answer."""
    if listen is None:
        return None
    conn = http.client.HTTPConnection(_loopback(listen[0]), listen[1], timeout=timeout)
    try:
        conn.request("GET", "/metrics")
        response = conn.getresponse()
        body = response.read(4 * 2**20).decode("utf-8", "replace")
        if response.status != 200:
            return None
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()
    return sum(int(float(line.split()[-1])) for line in body.splitlines()
               if line.startswith((name + " ", name + "{")))


def dropped_incidents(listen: tuple[str, int] | None, timeout: float = 2.0) -> int | None:
    """`roja_incidents_dropped_total` of the running filter (its `/metrics`), or None when
    there is no metrics address or it does not answer."""
    return metric_sum(listen, "roja_incidents_dropped_total", timeout)


def active_lists(cfg: RojaConfig) -> dict[str, Any]:
    """Are the configured lists (and the synced hotline list) the ones the filter compiled?
    {"state": "loaded" | "held_back" | "not_loaded" | "not_compiled" | "file_missing" |
    "unknown", "detail", "lists"}. "held_back": a list shrank too much and the filter kept the
    previous compile; "not_compiled": the filter never compiled (never started)."""
    from blocklists.compiled import CompiledList
    from blocklists.store import ACTIVE_NAME, fingerprint
    from filterd.app import list_sources  # the daemon's own list of sources

    sources = list_sources(cfg)
    out: dict[str, Any] = {"state": "loaded", "detail": "", "lists": len(sources)}
    try:
        wanted = fingerprint(sources)
    except FileNotFoundError as exc:
        return {**out, "state": "file_missing", "detail": str(exc.filename)}
    except OSError as exc:  # e.g. a list this user may not read
        return {**out, "state": "unknown", "detail": str(exc)}
    active = cfg.state_dir / ACTIVE_NAME
    try:
        compiled = CompiledList(active)
        try:
            have = compiled.meta.get("fingerprint")
        finally:
            compiled.close()
        compiled_at = active.stat().st_mtime
    except FileNotFoundError:
        return {**out, "state": "not_compiled"}
    except PermissionError as exc:
        return {**out, "state": "unknown", "detail": str(exc)}
    except (OSError, ValueError) as exc:  # damaged: the next start compiles again
        return {**out, "state": "not_loaded", "detail": str(exc)}
    if have == wanted:
        return out
    held = last_event(cfg.state_dir / "incidents.sqlite", ("list_held_back",))
    if held is not None and held["at"] >= compiled_at:
        return {**out, "state": "held_back", "detail": held["detail"]}
    return {**out, "state": "not_loaded"}
