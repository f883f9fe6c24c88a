"""One count of filter bypass attempts: the same incidents give the same number in `roja status`,
in the monthly report's headline (JSON, CSV), in its `filter_bypass` row, and in the education
office's inbox for the uploaded report.

The incidents are the three kinds a gateway writes: a DNS-over-HTTPS name refused by the proxy
(`filterd.proxy.gate`), a name of the school's own `filter_bypass` list blocked by the resolver,
and a DoT connection the bypass watch saw twice (one row, count 2)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path

from inbox_kit import login as inbox_login
from inbox_kit import report_doc, running_inbox, upload

from filterd.commands.status import render
from filterd.config import School, parse_config_text
from filterd.proxy.gate import Outcome, incident
from filterd.status import collect as status_of
from policy.engine import Group, doh_block
from reporting import report_csv, report_json
from reporting.config import IncidentSettings
from reporting.incidents import Incident, IncidentWriter
from reporting.report_data import collect as report_of
from reporting.report_filter import TIRANE

DAY = datetime(2026, 10, 14, 10, 0, tzinfo=TIRANE)
CONFIG = """
[school]
name = "Shkolla Naim Frashëri"
code = "BR-001"
[state]
dir = "state"
[dns]
listen = ["127.0.0.1:9"]
upstreams = ["127.0.0.1:9"]
[metrics]
listen = ""
"""


async def write_incidents(db: Path) -> None:
    writer = IncidentWriter(db, b"k" * 32, IncidentSettings())
    await writer.start()
    at = DAY.timestamp()
    doh = doh_block("dns.google", "dns.google")
    refused = incident(Outcome("doh", "dns.google", doh), "10.0.0.5",
                       Group("nxenes", "Nxënësit"), "doh-refused")
    writer.submit(refused._replace(at=at))
    writer.submit(Incident(at + 60, "10.0.0.6", "nxenes", "doh.shkolla.example",
                           "filter_bypass", "bypass-shkolla", "blocked", "dns", "listed"))
    for minute in (2, 3):  # the bypass watch: the same client and kind, folded into one row
        writer.submit(Incident(at + 60 * minute, "10.0.0.5", "nxenes", "dot 1.1.1.1",
                               "filter_bypass", "bypass-watch", "detected", "bypass",
                               "DNS-over-TLS → 1.1.1.1"))
    writer.submit(Incident(at + 240, "10.0.0.7", "nxenes", "bet365.com", "gambling", "deny",
                           "blocked", "dns", "listed"))
    await writer.stop()


async def test_status_report_and_inbox_count_the_same_bypass_attempts(tmp_path: Path) -> None:
    config = tmp_path / "roja.toml"
    cfg = parse_config_text(CONFIG, config)
    cfg.state_dir.mkdir()
    db = cfg.state_dir / "incidents.sqlite"
    await write_incidents(db)

    health = status_of(cfg, now=DAY + timedelta(hours=2), use_systemd=False)
    status_count = health.bypass_today
    assert status_count == 4 and health.bypass_clients_today == 2
    assert any(f"filter bypass attempts today: {status_count} nga / from 2 pajisje" in line
               for line in render(cfg, health))

    data = report_of(db, "2026-10", School("Shkolla Naim Frashëri", "BR-001"), "Berat",
                     "Berat", "Drita Çela", datetime(2026, 11, 1, 8, 0, tzinfo=TIRANE))
    row = {c.key: c.count for c in data.blocked.by_category}["filter_bypass"]
    document = json.loads(report_json.render(data))
    headline_json = document["report"]["blocked"]["circumvention_total"]
    rows = list(csv.reader(io.StringIO(report_csv.render(data).decode("utf-8-sig"))))
    headline_csv = next(int(r[-1]) for r in rows if r[:3] == ["Përpjekje anashkalimi",
                                                             "total", "Gjithsej"])

    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        r = await upload(c, inbox.tokens["BR-001"], report_json.render(data))
        assert r.status_code == 201, r.text
        await inbox_login(c, "berat")
        month = (await c.get("/api/v1/months/2026-10")).json()
    inbox_count = next(s["circumvention"] for s in month["schools"] if s["code"] == "BR-001")

    counts = {"status": status_count, "report headline (JSON)": headline_json,
              "report headline (CSV)": headline_csv, "filter_bypass row": row,
              "inbox": inbox_count, "inbox total": month["circumvention_total"]}
    assert set(counts.values()) == {4}, repr(counts)


async def test_the_inbox_counts_the_bypass_rows_of_an_older_gateways_report(
        tmp_path: Path) -> None:
    """A gateway from before the one count sent a headline of 0 with 1 under filter_bypass."""
    old = report_doc("BR-001", blocked={"filter_bypass": 1, "gambling": 2}, circumvention=0)
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        r = await upload(c, inbox.tokens["BR-001"], json.dumps(old).encode())
        assert r.status_code == 201, r.text
        await inbox_login(c, "berat")
        month = (await c.get("/api/v1/months/2026-10")).json()
    assert month["circumvention_total"] == 1
    assert [s["circumvention"] for s in month["schools"] if s["code"] == "BR-001"] == [1]
