"""`roja status`: against a running appliance and real state files (events, outbox,
incidents); healthy → 0, a stopped service or a failed self-test → 1; `--json`."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from click.testing import CliRunner

from dns_resolver.testing import ask_udp, make_query
from filterd.cli import main
from filterd.testing import dns_address, running_appliance
from reporting.config import IncidentSettings
from reporting.delivery import outbox_path
from reporting.events import record_event
from reporting.incidents import Incident, IncidentWriter
from reporting.outbox import Bundle, Delivery, Outbox

CONFIG = """
[school]
name = "Shkolla Çajupi"
code = "AL-TR-0042"
[state]
dir = "{state}"
[dns]
listen = ["127.0.0.1:0"]
upstreams = ["127.0.0.1:9"]
[incidents]
flush_interval = 0.05
[[lists]]
id = "bixhoz"
path = "deny.txt"
format = "domains"
kind = "deny"
category = "gambling"
"""


class Inbox:
    """A delivery channel that takes everything (the outbox's Channel protocol)."""

    def accepts(self, recipient: str) -> bool:
        return True

    def send(self, delivery: Delivery) -> str:
        return f"250 ok {delivery.period}"


def status(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), "status", *args])
    return result.exit_code, result.output


async def test_status_of_a_running_appliance(tmp_path: Path) -> None:
    (tmp_path / "deny.txt").write_text("bet365.com\n", encoding="utf-8")
    async with running_appliance(tmp_path, CONFIG) as app:
        address = dns_address(app)
        config = tmp_path / "roja.toml"
        # the listen port was 0: point the config at the bound port, as on a gateway
        config.write_text(config.read_text(encoding="utf-8").replace(
            "127.0.0.1:0", f"127.0.0.1:{address[1]}"), encoding="utf-8")
        for _ in range(3):
            await asyncio.to_thread(ask_udp, address, make_query("bet365.com"))
        state = tmp_path / "state"
        record_event(state / "incidents.sqlite", "selftest_pass", "12/12")
        report = state / "r.pdf"
        report.write_bytes(b"%PDF")
        with Outbox(outbox_path(state)) as outbox:
            outbox.enqueue(Bundle("AL-TR-0042", "2026-09", "ab" * 32, {"pdf": report}),
                           [("smtp", "dar@example.al")], time.time())
            outbox.run_due(time.time(), {"smtp": Inbox()})
        await asyncio.sleep(0.3)  # the incident writer's batch
        code, out = await asyncio.to_thread(status, config)
        assert code == 0, out
        lines = out.splitlines()
        assert lines[0] == "Roja: Shkolla Çajupi (AL-TR-0042)"
        assert "✓ Shërbimi / service: përgjigjet / answering" in out
        assert "kaloi / passed" in out
        assert "2026-09 → dar@example.al: u dërgua / sent" in out
        assert "Incidente sot / incidents today: 3" in out
        assert "NË RREGULL / HEALTHY" in out

        code, out = await asyncio.to_thread(status, config, "--json")
        data = json.loads(out)
        assert code == 0 and data["healthy"] is True and data["problems"] == []
        assert data["incidents_today"] == 3 and data["report"]["status"] == "sent"

        record_event(state / "incidents.sqlite", "selftest_fail", "bixhoz: bet365.com resolved")
        code, out = await asyncio.to_thread(status, config)
        assert code == 1
        assert "DËSHTOI / FAILED: bixhoz: bet365.com resolved" in out
        assert "selftest_failed" in out

    code, out = await asyncio.to_thread(status, config, "--json")
    data = json.loads(out)
    assert code == 1 and "service" in data["problems"] and data["service"] == "down"


def test_status_with_nothing_yet(tmp_path: Path) -> None:
    (tmp_path / "deny.txt").write_text("", encoding="utf-8")
    config = tmp_path / "roja.toml"
    config.write_text(CONFIG.replace("{state}", str(tmp_path / "state"))
                      .replace("127.0.0.1:0", "127.0.0.1:9"), encoding="utf-8")
    code, out = status(config)
    assert code == 1
    assert "asnjë ende / none yet" in out and "Incidente sot / incidents today: 0" in out
    assert "nuk përgjigjet / not answering" in out


async def test_status_counts_todays_bypass_attempts(tmp_path: Path) -> None:
    (tmp_path / "deny.txt").write_text("", encoding="utf-8")
    config = tmp_path / "roja.toml"
    config.write_text(CONFIG.replace("{state}", str(tmp_path / "state"))
                      .replace("127.0.0.1:0", "127.0.0.1:9"), encoding="utf-8")
    state = tmp_path / "state"
    state.mkdir()
    writer = IncidentWriter(state / "incidents.sqlite", b"k" * 32, IncidentSettings())
    await writer.start()
    now = time.time()
    for client, kind in (("10.0.0.5", "dot 1.1.1.1"), ("10.0.0.5", "doh dns.google"),
                         ("10.0.0.9", "vpn 203.0.113.7:1194")):
        writer.submit(Incident(now, client, "nxenes", kind, "filter_bypass", "bypass-watch",
                               "detected", "bypass", kind))
    writer.submit(Incident(now, "10.0.0.7", "nxenes", "bet365.com", "gambling", "deny",
                           "blocked", "dns", "listed"))
    await writer.stop()
    code, out = await asyncio.to_thread(status, config)
    assert code == 1  # nothing answers DNS at 127.0.0.1:9
    assert "Incidente sot / incidents today: 4" in out
    assert ("Përpjekje për të anashkaluar filtrin sot / filter bypass attempts today: 3 "
            "nga / from 2 pajisje / devices") in out
    data = json.loads((await asyncio.to_thread(status, config, "--json"))[1])
    assert data["bypass_today"] == 3 and data["bypass_clients_today"] == 2
    assert "10.0.0.5" not in out  # devices are counted, never named
