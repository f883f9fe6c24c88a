"""End to end: a pupil's machine behind a school gateway running Roja, and an "internet".

Roja is installed with `roja install --root` into a temporary root (no systemd) and run from
there. Three network namespaces (see `e2e.netns`): the client asks the gateway's Roja for
names; Roja asks a real NSD in the internet namespace; the month's report leaves the gateway
by SMTP to a real aiosmtpd in the internet namespace. Everything runs as real processes
(`roja serve`, `roja bypass-watch` on the LAN card, `dig`, NSD, aiosmtpd); nothing leaves
the namespaces this test creates.
"""

from __future__ import annotations

import email
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cert_kit import self_signed
from e2e.netns import (
    CLIENT_IP,
    GATEWAY_LAN_IP,
    INTERNET_IP,
    OUTSIDE_RESOLVER_IP,
    WEB_IP,
    Topology,
    topology,
)
from install_kit import roja_install
from peers.nsd import NsdServer, require_peer, start_nsd
from peers.process import stop
from peers.zones import ZONES, _zone

from reporting.incidents import IncidentStore

ROOT = Path(__file__).resolve().parents[2]
TIRANE = ZoneInfo("Europe/Tirane")
SMTP_PORT = 2525
INBOX_PORT = 8443

E2E_ZONE = _zone("e2e.test.", f"""\
www A {WEB_IP}
lojra A {WEB_IP}
video A {WEB_IP}
""")

CONFIG = f"""
[school]
name = "Shkolla 9-vjeçare \\"Naim Frashëri\\""
code = "E2E-001"

[state]
dir = "{{state}}"

[dns]
listen = ["{GATEWAY_LAN_IP}:53"]
upstreams = ["{INTERNET_IP}:53"]
block_answer = "nxdomain"

[dns.acl]
allow = ["{CLIENT_IP.rsplit('.', 1)[0]}.0/24", "127.0.0.0/8"]

[metrics]
listen = ""

[proxy]
enabled = true
mode = "steering"
listen = ""
steer_ipv4 = "{GATEWAY_LAN_IP}"
blockpage_listen = "{GATEWAY_LAN_IP}:8081"
school_contact = "Mësuesja e TIK-ut, dhoma 12"

[[lists]]
id = "video-urls"
path = "{{lists}}/video-urls.txt"
format = "urls"
category = "violence"

[[lists]]
id = "lojra"
path = "{{lists}}/lojra.txt"
category = "dangerous_games"

[[groups]]
id = "nxenes"
name = "Nxënësit"
networks = ["{CLIENT_IP.rsplit('.', 1)[0]}.0/24"]
safe_search = "strict"

[policy]
# the namespaces' "internet" is a private network: the proxy refuses private destinations
# unless they are opened here (issue 18)
allow_private = ["{WEB_IP.rsplit('.', 1)[0]}.0/24"]

[selftest]
allowed_name = "www.e2e.test"

[firewall]
lan_interface = "{{lan}}"

[report]
qark = "Korçë"
municipality = "Pogradec"
ict_teacher = "Drita Çela"

[report.smtp]
host = "{INTERNET_IP}"
port = {SMTP_PORT}
starttls = false
from_addr = "roja@shkolla.e2e.test"
to = ["zva-korce@e2e.test"]

[report.https]
url = "https://{INTERNET_IP}:{INBOX_PORT}/api/reports"
token = "{{token}}"
ca_file = "{{ca}}"
"""


@dataclass
class School:
    net: Topology
    config: Path
    state: Path
    maildir: Path
    inbox_data: Path
    inbox_ca: Path
    nsd: NsdServer
    roja: subprocess.Popen[bytes]
    launcher: str
    watch_log: Path  # `roja bypass-watch` on the gateway's LAN card

    def dig(self, name: str, rdtype: str = "A", server: str = GATEWAY_LAN_IP) -> str:
        out = self.net.client.run("dig", "+time=2", "+tries=1", f"@{server}", name, rdtype,
                                  check=False)
        return out.stdout.decode()

    def roja_cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        return self.net.gateway.run(self.launcher, "--config", str(self.config), *args,
                                    timeout=120, check=check)


def _wait_for_dns(school: School) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if school.roja.poll() is not None:
            raise RuntimeError(f"roja serve exited: {school.roja.returncode}")
        if "status: NOERROR" in school.dig("www.e2e.test"):
            return
        time.sleep(0.2)
    raise RuntimeError("roja serve did not answer within 30 s")


def _wait_for_watch(school: School, watch: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while b"watching" not in school.watch_log.read_bytes():
        if watch.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("roja bypass-watch did not start: "
                               + school.watch_log.read_text(errors="replace"))
        time.sleep(0.1)


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[School]:
    require_peer("dig")
    work = tmp_path_factory.mktemp("e2e")
    installed = roja_install(work / "root", "--non-interactive", "--lan-interface", "lan0",
                             "--lan-address", GATEWAY_LAN_IP, "--school-code", "E2E-001")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    launcher = str(work / "root/opt/roja/venv/bin/roja")
    lists = work / "lists"
    lists.mkdir()
    (lists / "lojra.txt").write_text("# Lojëra të rrezikshme (test)\nlojra.e2e.test\n")
    (lists / "video-urls.txt").write_text("video.e2e.test/dhune/\n")
    site = work / "site"
    (site / "dhune").mkdir(parents=True)
    (site / "dhune" / "klip.html").write_text("violent clip\n")
    (site / "mesim.html").write_text("<p>mësim</p>\n")
    config = work / "roja.toml"
    state = work / "state"
    inbox_data = work / "inbox"
    cert, key = self_signed(work, INTERNET_IP, "inbox-")
    schools = work / "schools.csv"
    schools.write_text("code,name,qark,municipality,email\n"
                       "E2E-001,Shkolla Naim Frashëri,Korçë,Pogradec,tik@e2e.test\n"
                       "E2E-002,Shkolla Çajupi,Korçë,Korçë,tik2@e2e.test\n", encoding="utf-8")
    inbox = [launcher, "inbox"]
    for argv in ([*inbox, "schools", "import", str(schools), "--data-dir", str(inbox_data)],
                 [*inbox, "user", "add", "zva-korce", "--role", "office", "--qark", "Korçë",
                  "--password-file", str(_password_file(work)), "--data-dir", str(inbox_data)]):
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
    issued = subprocess.run([*inbox, "token", "issue", "E2E-001", "--data-dir", str(inbox_data)],
                            capture_output=True, text=True, timeout=60)
    token = _token_in(issued.stdout)
    with topology() as net:
        config.write_text(CONFIG.replace("{state}", str(state)).replace("{lists}", str(lists))
                          .replace("{lan}", net.lan_interface).replace("{token}", token)
                          .replace("{ca}", str(cert)), encoding="utf-8")
        nsd = start_nsd(work / "nsd", {**ZONES, "e2e.test.": E2E_ZONE}, host=INTERNET_IP,
                        port=53, netns=net.internet.name)
        maildir = work / "maildir"
        smtp = net.internet.popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Mailbox",
             str(maildir), "-l", f"{INTERNET_IP}:{SMTP_PORT}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        web = net.internet.popen([sys.executable, "-m", "http.server", "80", "--bind", WEB_IP,
                                  "--directory", str(site)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        inbox_server = net.internet.popen(
            [*inbox, "serve", "--data-dir", str(inbox_data), "--listen",
             f"{INTERNET_IP}:{INBOX_PORT}", "--tls-cert", str(cert), "--tls-key", str(key)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        log = (work / "roja.log").open("wb")
        roja = net.gateway.popen([launcher, "serve", "--config", str(config)],
                                 stdout=log, stderr=subprocess.STDOUT, cwd=str(work))
        school = School(net, config, state, maildir, inbox_data, cert, nsd, roja, launcher,
                        work / "watch.log")
        watch_log = school.watch_log.open("wb")
        watch = net.gateway.popen([launcher, "--config", str(config), "bypass-watch",
                                   "--interface", net.lan_interface],
                                  stdout=watch_log, stderr=subprocess.STDOUT, cwd=str(work))
        try:
            _wait_for_dns(school)
            applied = school.roja_cli("firewall", "apply")
            assert applied.returncode == 0, applied.stderr.decode()
            _wait_for_watch(school, watch)
            yield school
        finally:
            stop(watch, timeout=10)
            watch_log.close()
            stop(roja, timeout=10)
            smtp.kill()
            inbox_server.kill()
            web.kill()
            nsd.stop()
            log.close()


def test_allowed_names_resolve_through_the_gateway(school: School) -> None:
    out = school.dig("www.e2e.test")
    assert "status: NOERROR" in out and WEB_IP in out


def test_a_listed_name_is_blocked_for_the_pupil(school: School) -> None:
    out = school.dig("lojra.e2e.test")
    assert "status: NXDOMAIN" in out and WEB_IP not in out


def test_safe_search_is_enforced_for_the_pupil(school: School) -> None:
    out = school.dig("www.google.com")
    assert "forcesafesearch.google.com." in out and "216.239.38.120" in out


def test_a_url_listed_path_is_blocked_by_the_proxy_and_the_rest_of_the_host_passes(
        school: School) -> None:
    steered = school.dig("video.e2e.test")
    assert GATEWAY_LAN_IP in steered and WEB_IP not in steered  # DNS steers it to the proxy
    assert WEB_IP in school.dig("www.e2e.test")                 # no URL entries: untouched

    def curl(url: str) -> tuple[str, str]:
        out = school.net.client.run("curl", "-s", "-m", "10", "-w", "\n%{http_code}", url,
                                    check=False).stdout.decode()
        body, _, code = out.rpartition("\n")
        return code, body

    code, body = curl("http://video.e2e.test/dhune/klip.html")
    assert code == "403" and "violent clip" not in body
    assert "ALO 116 111" in body and "Mësuesja e TIK-ut, dhoma 12" in body
    code, body = curl("http://video.e2e.test/mesim.html")
    assert code == "200" and "mësim" in body
    code, body = curl("http://www.e2e.test/dhune/klip.html")  # another host: not listed
    assert code == "200" and "violent clip" in body


def test_the_filter_self_test_passes_on_the_gateway(school: School) -> None:
    result = school.roja_cli("selftest")
    out = result.stdout.decode()
    assert result.returncode == 0, out + result.stderr.decode()
    assert "✔ [nxenes] lista 'lojra' (dangerous_games)" in out
    assert "✔ [nxenes] kërkim i sigurt (strict)" in out


def test_an_outside_resolver_gets_the_gateway_s_answer_instead(school: School) -> None:
    # The firewall redirects the LAN's port 53 to Roja, whatever address the pupil asks.
    out = school.dig("lojra.e2e.test", server=OUTSIDE_RESOLVER_IP)
    assert "status: NXDOMAIN" in out
    assert "status: NOERROR" in school.dig("www.e2e.test", server=OUTSIDE_RESOLVER_IP)


def test_dns_over_tls_to_an_outside_resolver_is_dropped(school: School) -> None:
    listener = school.net.internet.popen(
        [sys.executable, "-c", "import socket,time; s=socket.socket(); "
         f"s.bind(('{OUTSIDE_RESOLVER_IP}', 853)); s.listen(); time.sleep(30)"])
    try:
        time.sleep(0.3)
        probe = school.net.client.run(
            sys.executable, "-c", "import socket; socket.create_connection("
            f"('{OUTSIDE_RESOLVER_IP}', 853), timeout=2)", check=False)
        assert probe.returncode != 0 and b"timed out" in probe.stderr
    finally:
        listener.kill()
        listener.wait()


def test_the_outside_resolver_and_dot_attempts_are_logged_by_the_bypass_watch(
        school: School) -> None:
    school.dig("www.e2e.test", server=OUTSIDE_RESOLVER_IP)  # also done by the tests above
    # One incident per pupil and kind a minute: the DNS one may name an earlier outside
    # resolver of this module; the DoT one is the test above.
    deadline = time.monotonic() + 15
    kinds: set[str] = set()
    while time.monotonic() < deadline:
        with IncidentStore(school.state / "incidents.sqlite") as store:
            rows = [r for r in store.list_since(0) if r.source == "bypass"]
        kinds = {r.name.split()[0] for r in rows}
        if {"outside_dns", "dot"} <= kinds:
            break
        time.sleep(0.3)
    assert {"outside_dns", "dot"} <= kinds, [r.name for r in rows]
    assert f"dot {OUTSIDE_RESOLVER_IP}:853" in {r.name for r in rows}
    assert all(r.category == "filter_bypass" and r.group == "nxenes" and
               r.client != CLIENT_IP for r in rows)
    listed = school.roja_cli("incidents", "list").stdout.decode()
    assert f"dot {OUTSIDE_RESOLVER_IP}:853" in listed and CLIENT_IP not in listed


def test_the_month_report_lists_the_block_and_reaches_the_office_by_smtp(
        school: School) -> None:
    school.dig("lojra.e2e.test")
    deadline = time.monotonic() + 20  # the incident writer flushes in batches
    while b"lojra.e2e.test" not in school.roja_cli("incidents", "list").stdout:
        assert time.monotonic() < deadline, "the block never became an incident"
        time.sleep(0.3)
    month = datetime.now(TIRANE).strftime("%Y-%m")
    # This month has not ended: it is never sent (issue 22), only previewed.
    early = school.roja_cli("report", "send", "--month", month, check=False)
    assert early.returncode == 1 and "periudha nuk ka mbaruar" in early.stderr.decode()
    draft = school.state / "draft"
    built = school.roja_cli("report", "build", "--draft", "--month", month, "--out",
                            str(draft), "--format", "csv")
    assert built.returncode == 0, built.stderr.decode()
    csv_text = next(draft.glob("*.csv")).read_bytes().decode("utf-8-sig")
    assert "E2E-001" in csv_text
    lines = csv_text.splitlines()
    assert "Gjendja e filtrit,selftest_pass,Kontrolle të kaluara,1" in lines
    assert any(line.startswith("Aksesi i bllokuar sipas kategorisë,dangerous_games,"
                               "Lojëra të rrezikshme,") for line in lines)
    assert any(line.startswith("Aksesi i bllokuar sipas kategorisë,violence,")
               for line in lines)  # the proxy's URL block (run earlier in this module)
    assert not any(line.startswith("Përpjekje anashkalimi,total,Gjithsej,0")
                   for line in lines)  # the bypass watch's incidents (run earlier) are counted
    # The self-test's own reserved names are never pupils' incidents.
    assert b"selftest.roja.test" not in school.roja_cli("incidents", "list").stdout
    # Last month's report, which has ended, leaves the gateway by e-mail with its three files.
    sent = school.roja_cli("report", "send", "--month", last_month())
    assert sent.returncode == 0, sent.stderr.decode()
    messages = list((school.maildir / "new").iterdir())
    assert len(messages) == 1
    message = email.message_from_bytes(messages[0].read_bytes())
    assert message["To"] == "zva-korce@e2e.test"
    names = [part.get_filename() or "" for part in message.walk() if part.get_filename()]
    assert sorted(n.rsplit(".", 1)[-1] for n in names) == ["csv", "json", "pdf"]
    mailed = next(p for p in message.walk() if (p.get_filename() or "").endswith(".csv"))
    assert "E2E-001" in mailed.get_payload(decode=True).decode("utf-8-sig")


def last_month() -> str:
    now = datetime.now(TIRANE)
    return f"{now.year - 1}-12" if now.month == 1 else f"{now.year}-{now.month - 1:02d}"


def test_the_report_reaches_the_education_office_inbox_and_shows_as_submitted(
        school: School) -> None:
    month = last_month()
    status = school.roja_cli("report", "status", "--month", month).stdout.decode()
    if "https" not in status or "dërguar / sent" not in status:
        sent = school.roja_cli("report", "send", "--month", month)
        assert sent.returncode == 0, sent.stderr.decode()
    link = school.net.internet.run(
        school.launcher, "inbox", "user", "link", "zva-korce", "--data-dir",
        str(school.inbox_data)).stdout.decode()
    url = next(w for w in link.split() if w.startswith("http"))
    url = f"https://{INTERNET_IP}:{INBOX_PORT}/" + url.split("/", 3)[3]
    jar = str(school.inbox_data / "cookies.txt")
    curl = ["curl", "-sSL", "--cacert", str(school.inbox_ca), "-c", jar, "-b", jar]
    school.net.internet.run(*curl, url)  # the one-time link logs the office in
    page = school.net.internet.run(
        *curl, f"https://{INTERNET_IP}:{INBOX_PORT}/muaji/{month}").stdout.decode()
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    on_time = datetime.now(TIRANE).day <= 10  # the inbox's late_day
    counts = "1 Dorëzuar në afat 0 Me vonesë" if on_time else "0 Dorëzuar në afat 1 Me vonesë"
    assert f"2 Shkolla gjithsej {counts} 1 Mungon" in text, text[:1500]
    assert ("Shkolla Naim Frashëri E2E-001 · Pogradec "
            f"{'Dorëzuar' if on_time else 'Me vonesë'}") in text, text[:3000]



def _password_file(directory: Path) -> Path:
    path = directory / "password.txt"
    path.write_text("fjalëkalim-i-gjatë-e2e\n", encoding="utf-8")
    return path


def _token_in(text: str) -> str:
    words = [w for w in text.split() if len(w) >= 24 and w.isascii() and "/" not in w]
    assert words, text
    return words[0]
