"""`roja demo` tried as a new user would: the real command in a subprocess, asked with `dig` and
`kdig`, its `/metrics` read over HTTP and its incidents listed with `roja incidents list`.

The demo's stand-in upstream forwards the names it does not know to the NSD fixture
(`upstream_dns`) or, in the offline test, to a port where nothing listens. Every process is
stopped with Ctrl-C (SIGINT) and must exit cleanly. The printed examples are checked one by
one in tests/filterd/commands/test_demo_examples.py.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import console_kit
import httpx
import pytest
from demo_kit import BIN, Demo, ede, running_demo, status, two_free_ports
from peers.nsd import NsdServer, require_peer
from peers.zones import BIG_TXT_COUNT

from dns_resolver.testing import free_port
from reporting.pseudonym import load_or_create_key, pseudonym


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, upstream_dns: NsdServer) -> Iterator[Demo]:
    """One demo for the tests that only ask questions (they do not count anything)."""
    require_peer("dig")
    with running_demo(tmp_path_factory.mktemp("demo"), upstream_dns_address(upstream_dns)) as d:
        yield d


def upstream_dns_address(upstream: NsdServer) -> str:
    return f"{upstream.host}:{upstream.port}"


def test_demo_prints_the_dig_lines_to_try(demo: Demo) -> None:
    printed = demo.stdout.read_text()
    assert f"dig @127.0.0.1 -p {demo.port} bet365.com" in printed
    assert f"http://127.0.0.1:{demo.metrics_port}/metrics" in printed
    assert (demo.directory / "roja.toml").is_file()


def test_listed_domain_and_its_subdomains_are_blocked(demo: Demo) -> None:
    for name in ("bet365.com", "www.bet365.com", "a.b.BET365.com."):
        out = demo.dig(name)
        assert status(out) == "NXDOMAIN", out
        assert ede(out) == "17 (Filtered)", out
        assert "ANSWER: 0" in out
    legal = demo.dig("hotline-test.roja.test")
    assert status(legal) == "NXDOMAIN" and ede(legal) == "15 (Blocked)", legal
    hosts_format = demo.dig("www.pornhub.com")
    assert status(hosts_format) == "NXDOMAIN" and ede(hosts_format) == "17 (Filtered)"


def test_kdig_over_tcp_sees_the_same_block(demo: Demo) -> None:
    out = demo.dig("+tcp", "+edns", "www.bet365.com", program="kdig")
    assert status(out) == "NXDOMAIN", out
    assert "TCP" in out
    assert re.search(r"EDE: 17 \(Filtered\)", out), out


def test_allowed_name_resolves_through_the_upstream(demo: Demo) -> None:
    assert demo.dig("+short", "www.allowed.test").split() == ["192.0.2.10"]
    assert demo.dig("+short", "AAAA", "www.allowed.test").split() == ["2001:db8::10"]
    out = demo.dig("nothere.allowed.test")
    assert status(out) == "NXDOMAIN" and ede(out) is None  # the upstream's NXDOMAIN, not ours
    # Too big for UDP: the stand-in upstream truncates, Roja asks it again over TCP.
    assert len(demo.dig("+short", "TXT", "big.allowed.test").split()) == BIG_TXT_COUNT


def test_google_comes_back_as_the_safe_search_cname(demo: Demo) -> None:
    out = demo.dig("www.google.com")
    assert status(out) == "NOERROR"
    assert re.search(r"^www\.google\.com\.\s+\d+\s+IN\s+CNAME\s+forcesafesearch\.google\.com\.$",
                     out, re.MULTILINE), out
    assert re.search(r"^forcesafesearch\.google\.com\.\s+\d+\s+IN\s+A\s+216\.239\.38\.120$",
                     out, re.MULTILINE), out


def test_client_outside_the_acl_is_refused(demo: Demo) -> None:
    out = demo.dig("-b", "127.0.0.9", "www.allowed.test")
    assert status(out) == "REFUSED", out
    assert "ANSWER: 0" in out


def test_teachers_reach_social_media_and_pupils_do_not(demo: Demo) -> None:
    pupil = demo.dig("tiktok.com")
    assert status(pupil) == "NXDOMAIN" and ede(pupil) == "17 (Filtered)", pupil
    teacher = demo.dig("-b", "127.0.0.3", "tiktok.com")
    # Not blocked by Roja: forwarded (the test upstream does not know tiktok.com).
    assert ede(teacher) is None and status(teacher) != "NXDOMAIN", teacher
    # Teachers still get gambling blocked, and the allow list opens one name for pupils.
    assert status(demo.dig("-b", "127.0.0.3", "bet365.com")) == "NXDOMAIN"
    allowed = demo.dig("newsroom.tiktok.com")
    assert ede(allowed) is None and status(allowed) != "NXDOMAIN", allowed


def test_metrics_and_incidents_count_the_blocks(tmp_path: Path,
                                                upstream_dns: NsdServer) -> None:
    require_peer("dig")
    with running_demo(tmp_path, upstream_dns_address(upstream_dns)) as demo:
        check_metrics_and_incidents(demo)


def check_metrics_and_incidents(demo: Demo) -> None:
    """A fresh demo: every counter below starts at zero."""
    for args in (["bet365.com"], ["www.bet365.com"], ["tiktok.com"], ["hotline-test.roja.test"],
                 ["-b", "127.0.0.9", "bet365.com"], ["-b", "127.0.0.3", "tiktok.com"],
                 ["www.google.com"], ["www.allowed.test"]):
        demo.dig(*args)
    demo.dig("www.bet365.com", program="kdig")
    m = demo.metrics()
    assert m['roja_dns_blocked_total{list="bixhoz"}'] == 3
    assert m['roja_dns_blocked_total{list="rrjete-sociale"}'] == 1
    assert m['roja_dns_blocked_total{list="hotline"}'] == 1
    assert m['roja_dns_queries_total{result="blocked"}'] == 5
    assert m['roja_dns_queries_total{result="refused"}'] == 1
    assert m['roja_dns_queries_total{result="safesearch"}'] == 1
    assert m['roja_dns_queries_total{result="upstream"}'] >= 1
    assert m['roja_lists_entries{list="bixhoz"}'] == 3
    assert m['roja_lists_entries{list="pornografi"}'] == 2  # the bad line is not an entry
    assert m["roja_dns_handler_errors_total"] == 0

    # Five blocks, four names from one client: the writer stores them within its flush interval.
    deadline = time.monotonic() + 15
    while demo.metrics()["roja_incidents_written_total"] < 5:
        assert time.monotonic() < deadline, demo.metrics()
        time.sleep(0.1)
    assert demo.metrics()["roja_incidents_dropped_total"] == 0

    result = demo.roja("--config", str(demo.directory / "roja.toml"), "incidents", "list",
                       "--since", "1h")
    assert result.returncode == 0, result.stderr
    table = result.stdout
    rows = {line.split()[4]: line for line in table.splitlines()
            if re.match(r"\d\d\.\d\d\.\d{4} ", line)}
    assert set(rows) == {"bet365.com", "www.bet365.com", "tiktok.com", "hotline-test.roja.test"}
    assert rows["www.bet365.com"].split()[-1] == "2"  # dig and kdig: one incident, twice
    assert "nxenesit" in rows["tiktok.com"] and "social_media" in rows["tiktok.com"]
    assert "127.0.0.1" not in table and "127.0.0.3" not in table
    year = datetime.now(ZoneInfo("Europe/Tirane")).year  # pseudonym keys change every year
    client = pseudonym(load_or_create_key(demo.directory / "state", year), "127.0.0.1")
    assert all(row.split()[2] == client for row in rows.values())


def test_offline_demo_blocks_and_fails_fast_without_an_upstream(tmp_path: Path) -> None:
    require_peer("dig")
    with running_demo(tmp_path, "127.0.0.1:9") as demo:
        blocked = demo.dig("www.bet365.com")
        assert status(blocked) == "NXDOMAIN" and ede(blocked) == "17 (Filtered)"
        assert status(demo.dig("use-application-dns.net")) == "NXDOMAIN"
        assert status(demo.dig("mask.icloud.com")) == "NXDOMAIN"
        arpa = demo.dig("resolver.arpa")
        assert status(arpa) == "NOERROR" and "ANSWER: 0" in arpa
        assert "forcesafesearch.google.com." in demo.dig("+short", "www.google.com")
        # dig waits 5 s at most: a hang would show "timed out" instead of an rcode.
        allowed = demo.dig("www.allowed.test")
        assert status(allowed) == "SERVFAIL", allowed
        assert status(demo.dig("tiktok.com")) == "NXDOMAIN"  # still answered after failures


@pytest.mark.parametrize("taken", ["dns", "metrics", "console"])
def test_a_taken_port_gives_a_clear_message_and_exit(tmp_path: Path, taken: str) -> None:
    """Port 5353 is often held by avahi (mDNS): the demo must say so and stop, not hang."""
    port, metrics_port = two_free_ports()
    console_port = free_port()
    busy_port = {"dns": port, "metrics": metrics_port, "console": console_port}[taken]
    kind = socket.SOCK_DGRAM if taken == "dns" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as holder:
        holder.bind(("127.0.0.1", busy_port))
        if kind == socket.SOCK_STREAM:
            holder.listen()
        process = subprocess.Popen(
            [str(BIN / "roja"), "demo", "--port", str(port), "--metrics-port",
             str(metrics_port), "--console-port", str(console_port), "--dir",
             str(tmp_path / "demo"), "--upstream", "127.0.0.1:9"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=tmp_path)
        try:
            stdout, stderr = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
            pytest.fail(f"roja demo hangs on a taken port:\n{stdout}{stderr}")
    assert process.returncode == 1, stdout + stderr
    assert f"127.0.0.1:{busy_port}" in stderr and "Address already in use" in stderr, stderr
    assert "Provoni porta të tjera / try other ports" in stderr
    assert "Traceback" not in stderr


def test_the_printed_teacher_login_opens_the_console(demo: Demo) -> None:
    """The console line, user and password the demo prints are enough to sign in, over HTTPS
    trusting only the demo's school CA."""
    printed = demo.printed()
    url = re.search(r"the teacher's console: (https://\S+)/", printed)
    login = re.search(r"përdoruesi / user: (\S+)\s+fjalëkalimi / password: (\S+)", printed)
    assert url and login, printed
    assert url[1] == f"https://127.0.0.1:{demo.ports.console}"
    ca = demo.directory / "state" / "ca" / "mitmproxy-ca-cert.pem"

    async def sign_in() -> tuple[int, str]:
        verify = ssl.create_default_context(cafile=str(ca))
        async with httpx.AsyncClient(base_url=url[1], verify=verify, timeout=30) as client:
            signed = await console_kit.login(client, login[1], login[2])
            assert signed.status_code == 303, signed.text
            page = await client.get("/pasqyra")
            return page.status_code, page.text

    code, html = asyncio.run(sign_in())
    assert code == 200 and "Shkolla Demo" in html and "Mësuesi i TIK-ut" in html, html


def test_an_upstream_that_is_not_an_address_is_named(tmp_path: Path) -> None:
    result = subprocess.run([str(BIN / "roja"), "demo", "--upstream", "dns.example",
                             "--dir", str(tmp_path / "demo")], capture_output=True, text=True,
                            timeout=30, check=False, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "'dns.example' nuk është adresë IP me portë" in result.stderr
    assert "Traceback" not in result.stderr
