"""End to end with the real lists: uBlock's badware list and the URLhaus filter, as Debian ships
them (`webext-ublock-origin-chromium`), enforced at a school gateway by DNS, the proxy and the
firewall (issue 20).

The same three namespaces as `test_school_gateway` (see `e2e.netns`). The gateway runs this
checkout's `roja serve` (DNS, steering proxy) and `roja firewall apply` with
`listed_addresses = "deny"`; the internet runs NSD and one web origin. What is asked is taken
from the list files when the test runs, never written here:

- a badware site rule (`||host^$doc`): the pupil's DNS answer is NXDOMAIN;
- a URLhaus URL rule (`||host/path^$all`) on a host no list blocks whole: NSD in the
  internet gives the host the origin's address; Roja's DNS steers the host to its proxy, which
  answers the listed path with the block page (403) and serves another path from the origin;
- a URLhaus bare address: the internet namespace gets that address (the gateway routes it
  there), and the pupil's direct connection to it is dropped by the gateway's firewall, on the
  URLhaus list's own counter (which a refresh of the firewall keeps), while the gateway itself
  still reaches it; a name whose DNS answer is that address is blocked at DNS too;
- the DNS and proxy blocks are in the incident store, each with its list.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e.netns import (
    CLIENT_IP,
    GATEWAY_LAN_IP,
    INTERNET_IP,
    WEB_IP,
    Topology,
    topology,
)
from peers.nsd import NsdServer, require_peer, start_nsd
from peers.process import stop
from peers.zones import _zone
from real_lists_kit import LISTS, require_lists

from blocklists.compiled import CompiledList
from blocklists.store import ACTIVE_NAME
from reporting.incidents import IncidentStore

ROJA = str(Path(sys.executable).parent / "roja")
LAN = CLIENT_IP.rsplit(".", 1)[0] + ".0/24"
SITE_RULE = re.compile(r"^\|\|([a-z0-9.-]+\.[a-z]{2,})\^\$(?:doc|document|all)$")
URL_RULE = re.compile(r"^\|\|([a-z0-9.-]+\.[a-z]{2,})(/[A-Za-z0-9/._-]+)\^?\$all$")
CONTACT = "Mësuesja e TIK-ut, dhoma 12"

CONFIG = f"""
[school]
name = "Shkolla e Listave"
code = "E2E-LISTS"
[state]
dir = "{{state}}"
[dns]
listen = ["{GATEWAY_LAN_IP}:53"]
upstreams = ["{INTERNET_IP}:53"]
block_answer = "nxdomain"
[dns.acl]
allow = ["{LAN}", "127.0.0.0/8"]
[metrics]
listen = ""
[proxy]
enabled = true
mode = "steering"
listen = ""
steer_ipv4 = "{GATEWAY_LAN_IP}"
blockpage_listen = "{GATEWAY_LAN_IP}:8081"
school_contact = "{CONTACT}"
[[lists]]
id = "badware"
path = "{LISTS['badware']}"
format = "adblock"
category = "malware"
[[lists]]
id = "urlhaus"
path = "{LISTS['urlhaus']}"
format = "adblock"
category = "malware"
[[groups]]
id = "nxenes"
name = "Nxënësit"
networks = ["{LAN}"]
[policy]
allow_private = ["{WEB_IP.rsplit('.', 1)[0]}.0/24"]
[firewall]
lan_interface = "{{lan}}"
listed_addresses = "deny"
"""

ORIGIN = """
import http.server, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"origin: {self.path}\\nhost: {self.headers.get('Host')}\\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("0.0.0.0", 80), Handler)
print("ready", flush=True)
server.serve_forever()
"""

CONNECT = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], 80), timeout=2).close()
    print("connected")
except OSError as exc:
    print("no connection", type(exc).__name__)
"""


@dataclass(frozen=True)
class Picked:
    """What the test asks, taken from the real list files and Roja's compile of them."""

    site: str  # a badware `||host^$doc` (or $document, $all) site
    url_host: str  # a URLhaus URL rule's host, not blocked whole by either list
    url_path: str
    address: str  # a URLhaus bare IPv4 address


def pick(compiled_path: Path) -> Picked:
    compiled = CompiledList(compiled_path)
    try:
        sites = [m.group(1) for line in LISTS["badware"].read_text().splitlines()
                 if (m := SITE_RULE.match(line))]
        site = next(s for s in sites if any(x.list_id == "badware" for x in compiled.lookup(s)))
        urls = [(m.group(1), m.group(2)) for line in LISTS["urlhaus"].read_text().splitlines()
                if (m := URL_RULE.match(line))]
        host, path = next((h, p) for h, p in sorted(urls) if not compiled.lookup(h)
                          and compiled.lookup_url(h, p) and compiled.has_url_entries(h))
        private = ipaddress.ip_network("10.0.0.0/8")
        address = next(a for a in sorted(compiled.addresses["urlhaus"])
                       if "/" not in a and ipaddress.ip_address(a).version == 4
                       and ipaddress.ip_address(a) not in private)
    finally:
        compiled.close()
    return Picked(site, host, path, address)


@dataclass
class Gateway:
    net: Topology
    state: Path
    config: Path
    picked: Picked

    def dig(self, name: str) -> str:
        return self.net.client.run("dig", "+short", "+tries=1", "+time=3",
                                   f"@{GATEWAY_LAN_IP}", name, check=False).stdout.decode()

    def dig_status(self, name: str) -> str:
        out = self.net.client.run("dig", "+tries=1", "+time=3", f"@{GATEWAY_LAN_IP}", name,
                                  check=False).stdout.decode()
        found = re.search(r"status: (\w+)", out)
        return found.group(1) if found else out

    def curl(self, host: str, path: str, address: str) -> tuple[int, str]:
        out = self.net.client.run(
            "curl", "-s", "-m", "10", "--resolve", f"{host}:80:{address}", "-w",
            "\n%{http_code}", f"http://{host}{path}", check=False).stdout.decode("utf-8",
                                                                                  "replace")
        body, _, code = out.rpartition("\n")
        return int(code or 0), body

    def counters(self) -> dict[str, int]:
        return self.net.counters()


def _wait_for_dns(net: Topology, roja: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if roja.poll() is not None:
            raise RuntimeError("roja serve exited: " + log.read_text(errors="replace"))
        out = net.client.run("dig", "+short", "+tries=1", "+time=1", f"@{GATEWAY_LAN_IP}",
                             "www.e2e.test", check=False).stdout.decode()
        if WEB_IP in out:
            return
        time.sleep(0.3)
    raise RuntimeError("Roja's DNS did not answer in 60 s: " + log.read_text(errors="replace"))


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    require_lists()
    for peer in ("curl", "nft", "dig"):
        require_peer(peer)
    work = tmp_path_factory.mktemp("real-lists")
    state, config = work / "state", work / "roja.toml"
    with topology() as net:
        config.write_text(CONFIG.replace("{state}", str(state))
                          .replace("{lan}", net.lan_interface), encoding="utf-8")
        log_path = work / "roja.log"
        log = log_path.open("wb")
        roja = net.gateway.popen([ROJA, "serve", "--config", str(config)], stdout=log,
                                 stderr=subprocess.STDOUT, cwd=str(work))
        nsd: NsdServer | None = None
        origin: subprocess.Popen[bytes] | None = None
        try:
            deadline = time.monotonic() + 60
            while not (state / ACTIVE_NAME).exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            picked = pick(state / ACTIVE_NAME)
            # The internet: NSD gives the URL rule's host and a name of the listed address;
            # the origin answers on every address, the listed one included (routed here).
            zones = {"e2e.test.": _zone("e2e.test.", f"www A {WEB_IP}\n"
                                                     f"listed-ip A {picked.address}\n"),
                     f"{picked.url_host}.": _zone(f"{picked.url_host}.", f"@ A {WEB_IP}\n")}
            nsd = start_nsd(work / "nsd", zones, host=INTERNET_IP, port=53,
                            netns=net.internet.name)
            net.internet.run("ip", "addr", "add", f"{picked.address}/32", "dev", "lo")
            net.gateway.run("ip", "route", "add", f"{picked.address}/32", "via", INTERNET_IP)
            origin = net.internet.popen([sys.executable, "-c", ORIGIN], stdout=subprocess.PIPE)
            assert origin.stdout is not None and origin.stdout.readline().strip() == b"ready"
            _wait_for_dns(net, roja, log_path)
            applied = net.gateway.run(ROJA, "--config", str(config), "firewall", "apply",
                                      check=False)
            assert applied.returncode == 0, applied.stderr.decode()
            yield Gateway(net, state, config, picked)
        finally:
            stop(roja, timeout=10)
            if origin is not None:
                origin.kill()
            if nsd is not None:
                nsd.stop()
            log.close()


def test_a_badware_site_is_refused_at_dns(gateway: Gateway) -> None:
    assert gateway.dig_status(gateway.picked.site) == "NXDOMAIN"
    assert gateway.dig_status(f"www.{gateway.picked.site}") == "NXDOMAIN"  # and below it
    assert WEB_IP in gateway.dig("www.e2e.test")  # an unlisted name resolves


def test_a_urlhaus_url_is_blocked_by_the_proxy_and_the_host_s_other_paths_served(
        gateway: Gateway) -> None:
    host, path = gateway.picked.url_host, gateway.picked.url_path
    steered = gateway.dig(host).split()
    assert steered == [GATEWAY_LAN_IP]  # the host has URL entries: DNS sends it to the proxy
    status, body = gateway.curl(host, path, steered[0])
    assert status == 403 and "origin:" not in body
    assert CONTACT in body and 'lang="sq"' in body
    status, body = gateway.curl(host, "/faqja-e-mesimit.html", steered[0])
    assert status == 200 and body == f"origin: /faqja-e-mesimit.html\nhost: {host}\n"


def test_a_urlhaus_address_is_dropped_by_the_firewall_and_counted(gateway: Gateway) -> None:
    address = gateway.picked.address
    # The address is there (the gateway itself reaches it: its own traffic is not forwarded).
    reached = gateway.net.gateway.run(sys.executable, "-c", CONNECT, address).stdout.decode()
    assert reached.strip() == "connected"
    before = gateway.counters()["list_urlhaus"]
    tried = gateway.net.client.run(sys.executable, "-c", CONNECT, address).stdout.decode()
    assert tried.startswith("no connection")
    dropped = gateway.counters()["list_urlhaus"]
    assert dropped > before
    # The lists' refresh (roja-firewall-lists.path runs this) keeps the count.
    gateway.net.gateway.run(ROJA, "--config", str(gateway.config), "firewall", "apply")
    assert gateway.counters()["list_urlhaus"] >= dropped
    # The origin's other address, not listed, is reached from the LAN.
    assert gateway.net.client.run(sys.executable, "-c", CONNECT,
                                  WEB_IP).stdout.decode().strip() == "connected"
    # A name whose answer is the listed address is blocked at DNS (like rpz-ip).
    assert gateway.dig_status("listed-ip.e2e.test") == "NXDOMAIN"


def test_the_blocks_are_in_the_incident_store(gateway: Gateway) -> None:
    picked = gateway.picked
    gateway.dig_status(picked.site)
    gateway.curl(picked.url_host, picked.url_path, GATEWAY_LAN_IP)
    gateway.dig_status("listed-ip.e2e.test")
    wanted = {("dns", picked.site), ("proxy", f"http://{picked.url_host}{picked.url_path}"),
              ("dns", "listed-ip.e2e.test")}
    deadline = time.monotonic() + 20  # the incident writer flushes in batches
    seen: set[tuple[str, str]] = set()
    while time.monotonic() < deadline:
        with IncidentStore(gateway.state / "incidents.sqlite") as store:
            rows = store.list_since(0)
        seen = {(r.source, r.name) for r in rows}
        if wanted <= seen:
            break
        time.sleep(0.3)
    assert wanted <= seen, sorted(seen)
    assert {r.list_id for r in rows if (r.source, r.name) in wanted} == {"badware", "urlhaus"}
