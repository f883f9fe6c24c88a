"""End to end, transparent mode: the gateway redirects the LAN's web traffic to Roja's proxy.

The same three namespaces as `test_school_gateway` (see `e2e.netns`). The gateway runs the
installed Roja (`roja install --root`) with `[proxy] mode = "transparent"` and `roja firewall
apply` with `[firewall] transparent_proxy = "all"`; the internet runs NSD and a web origin
(HTTP on 80, HTTPS on 443 with a certificate from a test CA, and a UDP echo on 443 standing in
for QUIC). The pupil's curl and Python connect to the origin's own address, never the
proxy's: nftables `redirect` sends tcp 80/443 to the proxy, which reads the original address
(SO_ORIGINAL_DST), decides per URL over HTTP, passes TLS to an unlisted host through
undecrypted (the pupil sees the origin's certificate), intercepts TLS to a host with URL
entries (the pupil trusts the school CA), refuses a DoH name, and QUIC never leaves the LAN.

The LAN and the internet are dual-stack (`topology(ipv6=True)`): the `inet` table redirects
IPv6 80/443 too, and the default `transparent_host = ""` listens on :: as well as 0.0.0.0,
so `curl -6` to the origin's IPv6 address gets the same decisions (IP6T_SO_ORIGINAL_DST);
`v6.e2e.test` has only an AAAA record, so the proxy's own upstream connection is IPv6 too.

Issue 18 (nothing escapes the policy): an address typed as the host, TLS without SNI to an
address, a Host naming the gateway itself, and `alias.e2e.test CNAME video.e2e.test` are all
decided by the policy here too. The test "internet" is private (10.77.2.0/24, fd77:2::/64),
so `[policy] allow_private` opens it; the gateway's own addresses stay refused.
"""

from __future__ import annotations

import hashlib
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
    GATEWAY_WAN_IP,
    GATEWAY_WAN_IP6,
    INTERNET_IP,
    LAN6_NET,
    WEB_IP,
    WEB_IP6,
    Topology,
    topology,
)
from install_kit import roja_install
from peers.nsd import NsdServer, require_peer, start_nsd
from peers.process import stop
from peers.zones import ZONES, _zone
from proxy_kit import Certs, make_certs

from reporting.incidents import IncidentStore

ZONE = _zone("e2e.test.", f"www A {WEB_IP}\nvideo A {WEB_IP}\nv6 AAAA {WEB_IP6}\n"
             f"alias CNAME video\ngw A {GATEWAY_LAN_IP}\n")
NAMES = ("www.e2e.test", "video.e2e.test", "v6.e2e.test", "dns.google", "alias.e2e.test")
CONTACT = "Mësuesja e TIK-ut, dhoma 12"

CONFIG = f"""
[school]
name = "Shkolla Transparente"
code = "E2E-TP"
[state]
dir = "{{state}}"
[dns]
listen = ["{GATEWAY_LAN_IP}:53"]
upstreams = ["{INTERNET_IP}:53"]
[dns.acl]
allow = ["{CLIENT_IP.rsplit('.', 1)[0]}.0/24", "{LAN6_NET}/64", "127.0.0.0/8"]
[metrics]
listen = ""
[proxy]
enabled = true
mode = "transparent"
listen = ""
blockpage_listen = "{GATEWAY_LAN_IP}:8081"
school_contact = "{CONTACT}"
upstream_ca_file = "{{origin_ca}}"
[[lists]]
id = "video-urls"
path = "{{lists}}/video-urls.txt"
format = "urls"
category = "violence"
[[groups]]
id = "nxenes"
name = "Nxënësit"
networks = ["{CLIENT_IP.rsplit('.', 1)[0]}.0/24", "{LAN6_NET}/64"]
[policy]
allow_private = ["{WEB_IP.rsplit('.', 1)[0]}.0/24", "{WEB_IP6.rsplit(':', 1)[0]}:/64"]
[firewall]
lan_interface = "{{lan}}"
transparent_proxy = "all"
"""

# The origin: HTTP on 80 and HTTPS on 443 (threads), and a UDP echo on 443 ("QUIC").
ORIGIN = """
import http.server, socket, ssl, sys, threading
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = f"origin: {self.path}\\nhost: {self.headers.get('Host')}\\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Origin", "yes")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
ip, cert, key = sys.argv[1:4]
family = socket.AF_INET6 if ":" in ip else socket.AF_INET
class Server(http.server.ThreadingHTTPServer):
    address_family = family
plain = Server((ip, 80), Handler)
tls = Server((ip, 443), Handler)
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
udp = socket.socket(family, socket.SOCK_DGRAM)
udp.bind((ip, 443))
def echo():
    while True:
        data, peer = udp.recvfrom(2048)
        udp.sendto(b"echo:" + data[:16], peer)
for target in (plain.serve_forever, tls.serve_forever, echo):
    threading.Thread(target=target, daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
"""

# What certificate does the pupil see for `name` at the origin's address? (sha256 of DER)
PEER_CERT = """
import hashlib, socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[3])
with socket.create_connection((sys.argv[1], 443), timeout=5) as raw:
    with ctx.wrap_socket(raw, server_hostname=sys.argv[2]) as tls:
        print(hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest())
        print(dict(x[0] for x in tls.getpeercert()["issuer"])["commonName"])
"""

QUIC = """
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.5)
for _ in range(3):
    s.sendto(b"\\xc0" + b"q" * 1199, (sys.argv[1], 443))
    try:
        print("answered", s.recvfrom(512)[0])
        break
    except OSError:
        continue
else:
    print("no answer")
"""


@dataclass
class Gateway:
    net: Topology
    certs: Certs
    state: Path
    config: Path
    launcher: str

    @property
    def school_ca(self) -> Path:
        return self.state / "ca" / "mitmproxy-ca-cert.pem"

    def curl(self, url: str, *args: str, ipv6: bool = False) -> tuple[int, str]:
        """curl from the pupil's machine to the origin's own address (its IPv6 address with
        `ipv6`, and `curl -6`): (status, body)."""
        host = url.split("/")[2]
        port = "443" if url.startswith("https") else "80"
        address = f"[{WEB_IP6}]" if ipv6 else WEB_IP
        family = ("-6",) if ipv6 else ()
        out = self.net.client.run(
            "curl", "-s", *family, "-m", "10", "--resolve", f"{host}:{port}:{address}", "-w",
            "\n%{http_code}", *args, url, check=False).stdout.decode("utf-8", "replace")
        body, _, code = out.rpartition("\n")
        return int(code or 0), body

    def python(self, script: str, *args: str) -> str:
        return self.net.client.run(sys.executable, "-c", script, *args,
                                   check=False).stdout.decode()

    def counters(self) -> dict[str, int]:
        return self.net.counters()


def _wait_until_served(gw: Gateway, roja: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if roja.poll() is not None:
            raise RuntimeError("roja serve exited: " + log.read_text(errors="replace"))
        status, _ = gw.curl("http://www.e2e.test/gati")
        if status == 200:
            return
        time.sleep(0.3)
    raise RuntimeError("the transparent proxy did not answer in 40 s: "
                       + log.read_text(errors="replace")[-3000:])


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    for peer in ("curl", "nft", "dig"):
        require_peer(peer)
    work = tmp_path_factory.mktemp("transparent")
    installed = roja_install(work / "root", "--non-interactive", "--lan-interface", "lan0",
                             "--lan-address", GATEWAY_LAN_IP, "--school-code", "E2E-TP")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    launcher = str(work / "root/opt/roja/venv/bin/roja")
    certs = make_certs(work, NAMES)
    lists = work / "lists"
    lists.mkdir()
    (lists / "video-urls.txt").write_text("video.e2e.test/dhune/\n", encoding="utf-8")
    state, config = work / "state", work / "roja.toml"
    with topology(ipv6=True) as net:
        config.write_text(CONFIG.replace("{state}", str(state)).replace("{lists}", str(lists))
                          .replace("{lan}", net.lan_interface)
                          .replace("{origin_ca}", str(certs.ca)), encoding="utf-8")
        nsd: NsdServer = start_nsd(work / "nsd", {**ZONES, "e2e.test.": ZONE},
                                   host=INTERNET_IP, port=53, netns=net.internet.name)
        origins = [net.internet.popen([sys.executable, "-c", ORIGIN, ip, str(certs.cert),
                                       str(certs.key)], stdout=subprocess.PIPE)
                   for ip in (WEB_IP, WEB_IP6)]
        log_path = work / "roja.log"
        log = log_path.open("wb")
        roja = net.gateway.popen([launcher, "serve", "--config", str(config)], stdout=log,
                                 stderr=subprocess.STDOUT, cwd=str(work))
        gw = Gateway(net, certs, state, config, launcher)
        try:
            for origin in origins:
                assert origin.stdout is not None
                assert origin.stdout.readline().strip() == b"ready"
            applied = net.gateway.run(launcher, "--config", str(config), "firewall", "apply",
                                      check=False)
            assert applied.returncode == 0, applied.stderr.decode()
            _wait_until_served(gw, roja, log_path)
            yield gw
        finally:
            stop(roja, timeout=10)
            for origin in origins:
                origin.kill()
            nsd.stop()
            log.close()


def test_dns_gives_the_real_address_and_the_firewall_redirects_web_traffic(
        gateway: Gateway) -> None:
    # Transparent mode: no steering, the pupil goes to the origin's own address ...
    answer = gateway.net.client.run("dig", "+short", f"@{GATEWAY_LAN_IP}", "video.e2e.test",
                                    check=False).stdout.decode()
    assert answer.strip() == WEB_IP
    # ... and the gateway's nftables send tcp 80/443 to the proxy instead.
    assert gateway.counters()["proxy_redirected"] >= 1


def test_a_listed_path_is_blocked_and_the_rest_passes_untouched(gateway: Gateway) -> None:
    status, body = gateway.curl("http://video.e2e.test/dhune/klip.html")
    assert status == 403 and "origin:" not in body
    assert "ALO 116 111" in body and CONTACT in body and 'lang="sq"' in body
    status, body = gateway.curl("http://video.e2e.test/mesim.html")
    assert status == 200 and body == "origin: /mesim.html\nhost: video.e2e.test\n"
    status, body = gateway.curl("http://www.e2e.test/dhune/klip.html")  # another host
    assert status == 200 and body == "origin: /dhune/klip.html\nhost: www.e2e.test\n"


def test_https_to_an_unlisted_host_is_not_decrypted(gateway: Gateway) -> None:
    # Trusting only the origin's CA works only if the proxy does not decrypt.
    status, body = gateway.curl("https://www.e2e.test/salut", "--cacert",
                                str(gateway.certs.ca))
    assert status == 200 and "origin: /salut" in body
    seen = gateway.python(PEER_CERT, WEB_IP, "www.e2e.test", str(gateway.certs.ca)).split()
    assert seen[0] == hashlib.sha256(gateway.certs.der()).hexdigest()


def test_https_to_a_host_with_url_entries_is_intercepted_and_decided_per_url(
        gateway: Gateway) -> None:
    school_ca = str(gateway.school_ca)
    status, body = gateway.curl("https://video.e2e.test/dhune/klip.html", "--cacert",
                                school_ca)
    assert status == 403 and "ALO 116 111" in body and "origin:" not in body
    status, body = gateway.curl("https://video.e2e.test/mesim.html", "--cacert", school_ca)
    assert status == 200 and body == "origin: /mesim.html\nhost: video.e2e.test\n"
    seen = gateway.python(PEER_CERT, WEB_IP, "video.e2e.test", school_ca).split("\n")
    assert seen[0] != hashlib.sha256(gateway.certs.der()).hexdigest()  # the school CA's
    # Without the school CA the pupil's TLS check fails: nothing readable leaks.
    status, body = gateway.curl("https://video.e2e.test/dhune/klip.html", "--cacert",
                                str(gateway.certs.ca))
    assert status == 0 and body == ""


def test_a_doh_name_over_443_is_refused_and_recorded(gateway: Gateway) -> None:
    status, body = gateway.curl("https://dns.google/dns-query?dns=AAAB", "--cacert",
                                str(gateway.certs.ca))
    assert status == 0 and "origin:" not in body
    deadline = time.monotonic() + 15  # the incident writer flushes in batches
    rows: list[str] = []
    while time.monotonic() < deadline:
        with IncidentStore(gateway.state / "incidents.sqlite") as store:
            rows = [f"{r.source} {r.action} {r.name}" for r in store.list_since(0)]
        if "proxy doh-refused dns.google" in rows:
            break
        time.sleep(0.3)
    assert "proxy doh-refused dns.google" in rows, rows


def test_quic_never_leaves_the_lan(gateway: Gateway) -> None:
    before = gateway.counters()["quic_dropped"]
    assert gateway.python(QUIC, WEB_IP).strip() == "no answer"  # the origin echoes UDP 443
    assert gateway.counters()["quic_dropped"] >= before + 1


TWO_HOSTS = """
import socket, sys
c = socket.create_connection((sys.argv[1], 80), timeout=5)
f = c.makefile("rb")
for host in sys.argv[2:]:
    c.sendall(f"GET /p HTTP/1.1\\r\\nHost: {host}\\r\\n\\r\\n".encode())
    status = f.readline().split()[1].decode()
    length = 0
    while (line := f.readline()) not in (b"\\r\\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    f.read(length)
    print(status)
"""


def test_another_host_on_one_redirected_connection_is_421(gateway: Gateway) -> None:
    statuses = gateway.python(TWO_HOSTS, WEB_IP, "video.e2e.test", "www.e2e.test",
                              "video.e2e.test").split()
    assert statuses == ["200", "421", "200"]


# -- IPv6: the same decisions for the pupil's IPv6 connections --

def test_ipv6_a_listed_path_is_blocked_and_the_rest_passes(gateway: Gateway) -> None:
    before = gateway.counters()["proxy_redirected"]
    status, body = gateway.curl("http://video.e2e.test/dhune/klip.html", ipv6=True)
    assert status == 403 and "origin:" not in body
    assert "ALO 116 111" in body and CONTACT in body and 'lang="sq"' in body
    status, body = gateway.curl("http://video.e2e.test/mesim.html", ipv6=True)
    assert status == 200 and body == "origin: /mesim.html\nhost: video.e2e.test\n"
    # v6.e2e.test has only an AAAA record: the proxy reaches the origin over IPv6 as well.
    status, body = gateway.curl("http://v6.e2e.test/dhune/klip.html", ipv6=True)
    assert status == 200 and body == "origin: /dhune/klip.html\nhost: v6.e2e.test\n"
    assert gateway.counters()["proxy_redirected"] >= before + 3


def test_ipv6_https_to_an_unlisted_host_is_not_decrypted(gateway: Gateway) -> None:
    for name in ("www.e2e.test", "v6.e2e.test"):
        status, body = gateway.curl(f"https://{name}/salut", "--cacert",
                                    str(gateway.certs.ca), ipv6=True)
        assert status == 200 and body == f"origin: /salut\nhost: {name}\n"
        seen = gateway.python(PEER_CERT, WEB_IP6, name, str(gateway.certs.ca)).split()
        assert seen and seen[0] == hashlib.sha256(gateway.certs.der()).hexdigest()


def test_ipv6_https_to_a_listed_host_is_intercepted_and_blocked(gateway: Gateway) -> None:
    status, body = gateway.curl("https://video.e2e.test/dhune/klip.html", "--cacert",
                                str(gateway.school_ca), ipv6=True)
    assert status == 403 and "ALO 116 111" in body and "origin:" not in body


def test_ipv6_quic_never_leaves_the_lan(gateway: Gateway) -> None:
    before = gateway.counters()["quic_dropped"]
    assert gateway.python(QUIC, WEB_IP6).strip() == "no answer"
    assert gateway.counters()["quic_dropped"] >= before + 1


DIRECT = """
import socket, sys
for address, port in ((sys.argv[1], 8080), (sys.argv[2], 8443)):
    try:
        socket.create_connection((address, port), timeout=1).close()
        print("open")
    except OSError:
        print("closed")
"""


def test_the_proxy_ports_answer_the_lan_only(gateway: Gateway) -> None:
    # The transparent listeners bind every address; from the WAN side they stay closed.
    before = gateway.counters()["proxy_port_dropped"]
    seen = gateway.net.internet.run(sys.executable, "-c", DIRECT, GATEWAY_WAN_IP,
                                    GATEWAY_WAN_IP6, check=False).stdout.decode().split()
    assert seen == ["closed", "closed"]
    assert gateway.counters()["proxy_port_dropped"] >= before + 2
    # ... while they do listen there, on both families (loopback is not dropped).
    seen = gateway.net.gateway.run(sys.executable, "-c", DIRECT, "127.0.0.1", "::1",
                                   check=False).stdout.decode().split()
    assert seen == ["open", "open"]


# -- issue 18: addresses, the gateway itself and aliases, through the transparent proxy --

ONE_REQUEST = """
import socket, sys
c = socket.create_connection((sys.argv[1], 80), timeout=5)
c.sendall(f"GET /proxy.pac HTTP/1.1\\r\\nHost: {sys.argv[2]}\\r\\nConnection: close\\r\\n\\r\\n"
          .encode())
data = b""
while chunk := c.recv(65536):
    data += chunk
print(data.split(b" ")[1].decode(), "FindProxyForURL" in data.decode("utf-8", "replace"))
"""

NO_SNI = """
import socket, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
try:
    with socket.create_connection((sys.argv[1], 443), timeout=5) as raw:
        with ctx.wrap_socket(raw) as tls:
            tls.sendall(b"GET /salut HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
            print("open", tls.recv(200).split(b"\\r\\n")[0].decode())
except OSError as exc:
    print("refused", type(exc).__name__)
"""


def test_an_address_typed_as_the_host_gets_the_block_page(gateway: Gateway) -> None:
    decimal = str(int.from_bytes(bytes(int(x) for x in WEB_IP.split("."))))
    for host in (WEB_IP, decimal):
        out = gateway.python(ONE_REQUEST, WEB_IP, host).split()
        assert out == ["403", "False"], (host, out)
    status, body = gateway.curl(f"http://{WEB_IP}/salut")
    assert status == 403 and "ALO 116 111" in body and "origin:" not in body


def test_tls_without_sni_to_an_address_is_refused(gateway: Gateway) -> None:
    for address in (WEB_IP, WEB_IP6):
        out = gateway.python(NO_SNI, address).strip()
        assert out.startswith("refused"), (address, out)


def test_the_gateways_own_services_are_not_reachable_through_the_proxy(
        gateway: Gateway) -> None:
    for host in ("gw.e2e.test:8081", f"{GATEWAY_LAN_IP}:8081", f"{GATEWAY_WAN_IP}:8081"):
        out = gateway.python(ONE_REQUEST, WEB_IP, host).split()
        assert out and out[0] in ("403", "502") and out[1] == "False", (host, out)


def test_an_alias_of_a_url_listed_name_is_decided_per_url(gateway: Gateway) -> None:
    status, body = gateway.curl("http://alias.e2e.test/dhune/klip.html")
    assert status == 403 and "ALO 116 111" in body and "origin:" not in body
    status, body = gateway.curl("http://alias.e2e.test/mesim.html")
    assert status == 200 and body == "origin: /mesim.html\nhost: alias.e2e.test\n"
    status, body = gateway.curl("https://alias.e2e.test/dhune/klip.html", "--cacert",
                                str(gateway.school_ca))
    assert status == 403 and "origin:" not in body
