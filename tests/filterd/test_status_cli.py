"""`roja status`: HEALTHY (exit 0) only when the filter does its whole job. Against a running
appliance with a real signed hotline feed, real list files and real state (events, outbox,
incidents): healthy → 0; no hotline feed, a stale or failing one, an unloaded list, an old or
missing self-test, an overdue report, lost incidents → a warning (!, exit 1); a stopped service,
a held-back list, a failed self-test, a missing list file, an unreadable database, a full disk
→ a problem (✗, exit 1). `--json` says the same."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from feed_kit import served_feed

from dns_resolver.testing import ask_udp, make_query
from filterd.app import Appliance
from filterd.cli import main
from filterd.config import parse_config_text
from filterd.status import TIRANE, collect
from filterd.testing import dns_address, free_port, running_appliance
from reporting.config import IncidentSettings
from reporting.delivery import outbox_path, previous_month
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
[report.smtp]
host = "127.0.0.1"
port = 9
from_addr = "roja@shkolla.example.al"
to = ["dar@example.al"]
"""
DENY = "".join(f"bixhoz{i}.example\n" for i in range(10)) + "bet365.com\n"


class Inbox:
    """A delivery channel that takes everything (the outbox's Channel protocol)."""

    def accepts(self, recipient: str) -> bool:
        return True

    def send(self, delivery: Delivery) -> str:
        return f"250 ok {delivery.period}"


def status(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), "status", *args])
    return result.exit_code, result.output


def send_report(state: Path, period: str) -> None:
    report = state / "r.pdf"
    report.write_bytes(b"%PDF")
    with Outbox(outbox_path(state)) as outbox:
        outbox.enqueue(Bundle("AL-TR-0042", period, "ab" * 32, {"pdf": report}),
                       [("smtp", "dar@example.al")], time.time())
        outbox.run_due(time.time(), {"smtp": Inbox()})


def point_at(app: Appliance, config: Path) -> None:
    """The listen port was 0: point the config at the bound port, as on a gateway."""
    port = dns_address(app)[1]
    config.write_text(config.read_text(encoding="utf-8").replace(
        "127.0.0.1:0", f"127.0.0.1:{port}"), encoding="utf-8")


async def wait_for_hotline(app: Appliance) -> None:
    for _ in range(200):  # the first sync runs at start, then the policy reloads
        if app.lists.counts.get("hotline"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the hotline feed was not synced")


async def test_a_gateway_doing_its_whole_job_is_healthy(tmp_path: Path) -> None:
    (tmp_path / "deny.txt").write_text(DENY, encoding="utf-8")
    with served_feed(tmp_path) as feed:
        feed.publish()
        async with running_appliance(tmp_path, CONFIG + feed.config()) as app:
            config = tmp_path / "roja.toml"
            point_at(app, config)
            await wait_for_hotline(app)
            for _ in range(3):
                await asyncio.to_thread(ask_udp, dns_address(app), make_query("bet365.com"))
            state = tmp_path / "state"
            record_event(state / "incidents.sqlite", "selftest_pass", "12/12")
            send_report(state, previous_month(datetime.now(TIRANE)))
            await asyncio.sleep(0.3)  # the incident writer's batch
            code, out = await asyncio.to_thread(status, config)
            assert code == 0, out
            lines = out.splitlines()
            assert lines[0] == "Roja: Shkolla Çajupi (AL-TR-0042)"
            assert "✓ Shërbimi / service: përgjigjet / answering" in out
            assert "✓ Lista e linjës / hotline list: seriali / serial 1, 2 hyrje" in out
            assert "✓ Listat / lists: 2 lista të ngarkuara" in out
            assert "kaloi / passed" in out
            assert "→ dar@example.al: u dërgua / sent" in out
            assert "Incidente sot / incidents today: 3" in out
            assert lines[-1] == "Gjendja / overall: NË RREGULL / HEALTHY"
            assert "!" not in out and "✗" not in out

            code, out = await asyncio.to_thread(status, config, "--json")
            data = json.loads(out)
            assert code == 0 and data["healthy"] is True and data["state"] == "healthy"
            assert (data["problems"], data["warnings"]) == ([], [])
            assert data["incidents_today"] == 3 and data["report"]["status"] == "sent"
            assert data["dns_answering"] is True and data["active_lists"]["state"] == "loaded"

            record_event(state / "incidents.sqlite", "sync_fail", "HTTP 503")
            code, out = await asyncio.to_thread(status, config)
            assert code == 1
            assert "! Sinkronizimi i fundit dështoi / last sync failed" in out
            assert "HTTP 503" in out and "KUJDES / WARNING" in out

            record_event(state / "incidents.sqlite", "selftest_fail", "bixhoz: bet365.com resolved")
            code, out = await asyncio.to_thread(status, config)
            assert code == 1
            assert "✗ Vetëkontrolli i fundit / last self-test: DËSHTOI / FAILED: bixhoz: " \
                "bet365.com resolved" in out
            assert "KA PROBLEME / NEEDS ATTENTION" in out and "(selftest_failed)" in out

    code, out = await asyncio.to_thread(status, config, "--json")
    data = json.loads(out)
    assert code == 1 and "service" in data["problems"] and data["service"] == "down"
    assert data["state"] == "problem" and data["dns_answering"] is False


async def test_a_school_without_a_hotline_feed_is_a_warning_not_healthy(tmp_path: Path) -> None:
    (tmp_path / "deny.txt").write_text(DENY, encoding="utf-8")
    async with running_appliance(tmp_path, CONFIG) as app:
        config = tmp_path / "roja.toml"
        point_at(app, config)
        state = tmp_path / "state"
        record_event(state / "incidents.sqlite", "selftest_pass", "12/12")
        send_report(state, previous_month(datetime.now(TIRANE)))
        code, out = await asyncio.to_thread(status, config)
        assert code == 1, out
        assert "! Lista e linjës / hotline list: nuk është konfiguruar ([feed])" in out
        assert "NË RREGULL" not in out
        assert out.splitlines()[-1] == ("Gjendja / overall: KUJDES / WARNING: pa listën e "
                                        "linjës / no hotline list (list_not_configured)")
        data = json.loads((await asyncio.to_thread(status, config, "--json"))[1])
        assert (data["healthy"], data["state"]) == (False, "warning")
        assert (data["problems"], data["warnings"]) == ([], ["list_not_configured"])


async def test_a_stale_hotline_list_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "deny.txt").write_text(DENY, encoding="utf-8")
    with served_feed(tmp_path) as feed:
        feed.publish(now=datetime.now(TIRANE) - timedelta(days=3))  # valid for 7 days
        async with running_appliance(tmp_path, CONFIG + feed.config()) as app:
            await wait_for_hotline(app)
            point_at(app, tmp_path / "roja.toml")
            code, out = await asyncio.to_thread(status, tmp_path / "roja.toml")
    assert code == 1
    assert "! Lista e linjës / hotline list: seriali / serial 1" in out
    assert "E VJETËR / STALE (> 48 orë / h)" in out and "(list_stale)" in out


async def test_a_held_back_list_is_a_problem_and_unloaded_lists_a_warning(tmp_path: Path) -> None:
    deny = tmp_path / "deny.txt"
    deny.write_text(DENY, encoding="utf-8")
    async with running_appliance(tmp_path, CONFIG) as app:
        config = tmp_path / "roja.toml"
        point_at(app, config)
        deny.write_text("bet365.com\n", encoding="utf-8")  # 11 names → 1: held back
        assert await app.reload()
        code, out = await asyncio.to_thread(status, config)
        assert code == 1
        # held back per list (issue 17): the others are applied, and it is a problem (✗)
        assert "✗ Listat / lists: 1 lista të ngarkuara në filtër" in out
        assert "  E mbajtur / held back: bixhoz: 11 → 1 hyrje / entries" in out
        assert "(lists_held_back)" in out

        deny.write_text(DENY + "bixhoz-ri.example\n", encoding="utf-8")
        assert await app.reload()
        deny.write_text(DENY + "bixhoz-ri.example\nedhe-nje.example\n", encoding="utf-8")
        code, out = await asyncio.to_thread(status, config)  # changed, not reloaded
        assert "! Listat / lists: skedarët e listave ndryshuan, filtri nuk i ka ngarkuar ende " \
            "(roja reload)" in out
        assert "(lists_not_loaded)" in out and "lists_held_back" not in out

        deny.unlink()
        data = json.loads((await asyncio.to_thread(status, config, "--json"))[1])
        assert "list_file_missing" in data["problems"]
        assert data["active_lists"]["detail"] == str(deny)


async def test_lost_incidents_are_a_warning(tmp_path: Path) -> None:
    (tmp_path / "deny.txt").write_text(DENY, encoding="utf-8")
    text = CONFIG.replace("flush_interval = 0.05", "flush_interval = 0.05\nqueue_size = 2")
    async with running_appliance(tmp_path, text, metrics=True) as app:
        config = tmp_path / "roja.toml"
        point_at(app, config)
        assert app.writer is not None
        for i in range(5):  # no await in between: the writer cannot take any: 3 are lost
            app.writer.submit(Incident(time.time(), "10.0.0.5", "nxenes", f"b{i}.example",
                                       "gambling", "bixhoz", "blocked", "dns", "listed"))
        code, out = await asyncio.to_thread(status, config)
    assert code == 1
    assert "! Filtri humbi 3 incidente që kur nisi" in out and "(incidents_dropped)" in out


async def test_a_stopped_dns_worker_is_a_warning(tmp_path: Path) -> None:
    """The config asks for 2 DNS processes; /metrics counts the one answering."""
    (tmp_path / "deny.txt").write_text(DENY, encoding="utf-8")
    async with running_appliance(tmp_path, CONFIG, metrics=True) as app:
        config = tmp_path / "roja.toml"
        point_at(app, config)
        code, out = await asyncio.to_thread(status, config)
        assert "✓ Procese DNS / DNS workers: 1 nga / of 1 (dns.workers = 1)" in out, out
        config.write_text(config.read_text(encoding="utf-8").replace(
            'upstreams = ["127.0.0.1:9"]', 'upstreams = ["127.0.0.1:9"]\nworkers = 2'))
        code, out = await asyncio.to_thread(status, config)
    assert code == 1
    assert "! Procese DNS / DNS workers: 1 nga / of 2 (dns.workers = 2)" in out
    assert "një proces DNS ka ndalur / a DNS worker stopped (dns_workers_missing)" in out


def offline_config(tmp_path: Path, extra: str = "") -> Path:
    """A gateway whose filter is not running (nothing answers 127.0.0.1:9)."""
    (tmp_path / "deny.txt").write_text(DENY, encoding="utf-8")
    config = tmp_path / "roja.toml"
    config.write_text(CONFIG.replace("{state}", str(tmp_path / "state"))
                      .replace("127.0.0.1:0", "127.0.0.1:9") + extra, encoding="utf-8")
    return config


def test_status_with_nothing_yet(tmp_path: Path) -> None:
    code, out = status(offline_config(tmp_path))
    assert code == 1
    assert "! Vetëkontrolli / self-test: asnjë ende" in out
    assert "Incidente sot / incidents today: 0" in out
    assert "✗ Shërbimi / service: nuk përgjigjet / not answering" in out


def test_old_self_test_overdue_report_and_no_recipients(tmp_path: Path) -> None:
    config = offline_config(tmp_path)
    cfg = parse_config_text(config.read_text(encoding="utf-8"), config)
    now = datetime(2026, 11, 5, 10, 0, tzinfo=TIRANE)  # send_day 1 + 3 days: October is late
    record_event(cfg.state_dir / "incidents.sqlite", "selftest_pass", "12/12",
                 at=(now - timedelta(hours=49)).timestamp())
    h = collect(cfg, now=now, use_systemd=False)
    assert {"selftest_old", "report_overdue"} <= set(h.warnings)
    assert h.report_due == {"period": "2026-10", "due": datetime(
        2026, 11, 4, tzinfo=TIRANE).timestamp(), "missing": ["dar@example.al"]}
    assert "report_overdue" not in collect(cfg, now=now - timedelta(days=2),
                                           use_systemd=False).warnings
    send_report(cfg.state_dir, "2026-10")
    assert "report_overdue" not in collect(cfg, now=now, use_systemd=False).warnings

    bare = parse_config_text(config.read_text(encoding="utf-8").split("[report.smtp]")[0],
                             config)
    assert "report_no_recipients" in collect(bare, now=now, use_systemd=False).warnings


def test_an_unreadable_database_and_a_full_disk_are_problems(tmp_path: Path) -> None:
    config = offline_config(tmp_path)
    state = tmp_path / "state"
    state.mkdir()
    (state / "incidents.sqlite").write_bytes(b"this is not a database" * 100)
    code, out = status(config)
    assert code == 1
    assert "✗ Incidente sot / incidents today: baza e të dhënave nuk lexohet" in out
    assert "incidents.sqlite: file is not a database" in out
    cfg = parse_config_text(config.read_text(encoding="utf-8"), config)
    h = collect(cfg, use_systemd=False, min_free_bytes=2**62)  # more than any disk has
    assert {"incidents_unreadable", "disk_full"} <= set(h.problems)


async def test_status_counts_todays_bypass_attempts(tmp_path: Path) -> None:
    config = offline_config(tmp_path)
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


async def test_encrypted_dns_that_does_not_answer_is_a_problem(tmp_path: Path) -> None:
    """Devices DDR sent to the gateway's DoT/DoH lose DNS when it stops: `roja status` checks
    each configured listener with a TLS handshake and names the one that does not answer."""
    (tmp_path / "deny.txt").write_text(DENY, encoding="utf-8")
    dot = free_port()
    text = CONFIG + f'[dns.tls]\nlisten = ["127.0.0.1:{dot}"]\n'
    async with running_appliance(tmp_path, text) as app:
        config = tmp_path / "roja.toml"
        point_at(app, config)
        code, out = await asyncio.to_thread(status, config)
        assert f"✓ DoT 127.0.0.1:{dot}: pranon lidhje TLS / accepts TLS" in out, out
        assert "encrypted_dns_down" not in out
        doh = free_port()  # configured, but nothing listens there
        config.write_text(config.read_text(encoding="utf-8")
                          + f'[dns.https]\nlisten = ["127.0.0.1:{doh}"]\n', encoding="utf-8")
        code, out = await asyncio.to_thread(status, config)
        assert code == 1
        assert f"✗ DoH 127.0.0.1:{doh}: NUK pranon lidhje TLS / NOT accepting TLS" in out
        assert "(encrypted_dns_down)" in out and "KA PROBLEME / NEEDS ATTENTION" in out
        code, out = await asyncio.to_thread(status, config, "--json")
        data = json.loads(out)
        assert data["encrypted"] == {f"DoT 127.0.0.1:{dot}": True,
                                     f"DoH 127.0.0.1:{doh}": False}
