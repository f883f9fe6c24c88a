"""`roja firewall apply|remove` inside network namespaces made here (never the host's):
LAN DNS to any address lands on Roja's port, DoT leaving the LAN is dropped and counted,
and the host-side tables of the namespace are left alone; with `transparent_proxy = "all"`
web traffic lands on the proxy's ports with its original destination readable
(SO_ORIGINAL_DST), the gateway's own web ports stay direct, and QUIC is dropped.

    client ns 10.78.x.2 ──veth "rojalan0"── gateway ns 10.78.x.1 ── wan0 (veth, nothing behind)
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e.netns import require_netns
from peers.nsd import require_peer

ROOT = Path(__file__).resolve().parents[3]
ROJA = [str(Path(sys.executable).parent / "roja")]


def require_netns_and_nft() -> None:
    require_netns()
    require_peer("nft")


@dataclass(frozen=True)
class Pair:
    client: str
    gateway: str
    net: str

    def run(self, ns: str, *cmd: str, stdin: str | None = None) -> str:
        result = subprocess.run(["ip", "netns", "exec", ns, *cmd], capture_output=True,
                                text=True, input=stdin, timeout=60, cwd=ROOT)
        assert result.returncode == 0, f"{cmd}: {result.stdout}{result.stderr}"
        return result.stdout


@pytest.fixture
def pair() -> Iterator[Pair]:
    require_netns_and_nft()
    tag = uuid.uuid4().hex[:6]
    client, gateway = f"rojafw-c-{tag}", f"rojafw-g-{tag}"
    net = f"10.78.{int(tag[:2], 16)}"
    created: list[str] = []
    try:
        for ns in (client, gateway):
            subprocess.run(["ip", "netns", "add", ns], check=True)
            created.append(ns)
        subprocess.run(["ip", "-n", gateway, "link", "add", "rojalan0", "type", "veth",
                        "peer", "name", "eth0", "netns", client], check=True)
        for ns, dev, addr in ((gateway, "rojalan0", f"{net}.1/24"), (client, "eth0",
                                                                     f"{net}.2/24")):
            subprocess.run(["ip", "-n", ns, "addr", "add", addr, "dev", dev], check=True)
            subprocess.run(["ip", "-n", ns, "link", "set", dev, "up"], check=True)
            subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        subprocess.run(["ip", "-n", client, "route", "add", "default", "via", f"{net}.1"],
                       check=True)
        # A dummy "internet" side, so LAN traffic to the outside is routed (into forward).
        subprocess.run(["ip", "-n", gateway, "link", "add", "wan0", "type", "veth", "peer",
                        "name", "wan1"], check=True)
        for dev in ("wan0", "wan1"):
            subprocess.run(["ip", "-n", gateway, "link", "set", dev, "up"], check=True)
        subprocess.run(["ip", "-n", gateway, "addr", "add", "203.0.113.1/24", "dev", "wan0"],
                       check=True)
        subprocess.run(["ip", "-n", gateway, "route", "add", "default", "via", "203.0.113.2"],
                       check=True)
        subprocess.run(["ip", "netns", "exec", gateway, "sysctl", "-qw",
                        "net.ipv4.ip_forward=1"], check=True)
        yield Pair(client, gateway, net)
    finally:
        for ns in created:
            subprocess.run(["ip", "netns", "delete", ns], check=False)


def write_config(tmp_path: Path, port: int, extra: str = "") -> Path:
    path = tmp_path / "roja.toml"
    path.write_text(f'[state]\ndir = "{tmp_path}/state"\n[dns]\nlisten = ["0.0.0.0:{port}"]\n'
                    '[firewall]\nlan_interface = "rojalan0"\n' + extra, encoding="utf-8")
    return path


ECHO = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
print("ready", flush=True)
data, peer = s.recvfrom(512)
s.sendto(b"roja:" + data, peer)
"""

SEND = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"query", (sys.argv[1], 53))
print(s.recvfrom(512)[0].decode())
"""

DOT = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], 853), timeout=1)
    print("connected")
except OSError as exc:
    print("blocked", type(exc).__name__)
"""


def test_apply_redirects_dns_drops_dot_and_removes_only_its_table(
        pair: Pair, tmp_path: Path) -> None:
    config = write_config(tmp_path, 5300)
    # A table of "the host" inside the gateway namespace, which Roja must leave alone.
    pair.run(pair.gateway, "nft", "-f", "-", stdin="table inet host_fw {\n chain input {\n"
             " type filter hook input priority 0; policy accept;\n }\n}\n")
    for _ in range(2):  # applying twice replaces the table, no duplicate rules
        out = pair.run(pair.gateway, *ROJA, "--config", str(config), "firewall", "apply")
        assert "table inet roja" in out
    listing = pair.run(pair.gateway, "nft", "list", "table", "inet", "roja")
    assert listing.count("redirect to :5300") == 1
    assert "roja_steered" not in listing and "proxy_redirected\" redirect" not in listing

    echo = subprocess.Popen(["ip", "netns", "exec", pair.gateway, sys.executable, "-c", ECHO,
                             "5300"], stdout=subprocess.PIPE, text=True)
    try:
        assert echo.stdout is not None and echo.stdout.readline().strip() == "ready"
        # DNS sent to an outside resolver's address lands on Roja's port on the gateway.
        reply = pair.run(pair.client, sys.executable, "-c", SEND, "192.0.2.53")
        assert reply.strip() == "roja:query"
    finally:
        echo.kill()
        echo.wait()
    dot = pair.run(pair.client, sys.executable, "-c", DOT, "198.51.100.7")
    assert dot.startswith("blocked")

    counters = pair.run(pair.gateway, *ROJA, "--config", str(config), "firewall", "render")
    assert "dns_redirected" in counters
    listing = pair.run(pair.gateway, "nft", "list", "counters", "table", "inet", "roja")
    assert _packets(listing, "dns_redirected") >= 1
    assert _packets(listing, "dot_dropped") >= 1

    out = pair.run(pair.gateway, *ROJA, "--config", str(config), "firewall", "remove")
    assert "removed" in out
    tables = pair.run(pair.gateway, "nft", "list", "tables")
    assert "inet roja" not in tables and "inet host_fw" in tables
    again = pair.run(pair.gateway, *ROJA, "--config", str(config), "firewall", "remove")
    assert "was not loaded" in again


def _packets(listing: str, name: str) -> int:
    lines = listing.splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith(f"counter {name} "):
            for follow in lines[i + 1:i + 3]:
                if "packets" in follow:
                    return int(follow.split("packets")[1].split()[0])
    raise AssertionError(f"counter {name} not in {listing}")


def test_check_command_never_loads_anything(pair: Pair, tmp_path: Path) -> None:
    config = write_config(tmp_path, 53)
    out = pair.run(pair.gateway, *ROJA, "--config", str(config), "firewall", "check")
    assert "OK" in out
    assert "inet roja" not in pair.run(pair.gateway, "nft", "list", "tables")


ORIGINAL_DST = """
import socket, struct, sys
servers = []
for port in sys.argv[1:]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(port)))
    s.listen()
    servers.append(s)
print("ready", flush=True)
import selectors
sel = selectors.DefaultSelector()
for s in servers:
    sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        conn, _ = key.fileobj.accept()
        raw = conn.getsockopt(socket.SOL_IP, 80, 16)  # SO_ORIGINAL_DST
        port, = struct.unpack("!H", raw[2:4])
        here = conn.getsockname()[1]
        conn.sendall(f"{here} {socket.inet_ntoa(raw[4:8])}:{port}".encode())
        conn.close()
"""

ASK = """
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
print(c.recv(100).decode())
"""

QUIC = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.sendto(b"\\xc0" + b"q" * 1199, (sys.argv[1], 443))
try:
    print("answered", s.recvfrom(512)[0])
except OSError as exc:
    print("no answer", type(exc).__name__)
"""


def test_transparent_all_redirects_web_keeps_the_original_address_and_drops_quic(
        pair: Pair, tmp_path: Path) -> None:
    config = write_config(tmp_path, 5300, 'transparent_proxy = "all"\n'
                          "proxy_http_port = 3128\nproxy_https_port = 3129\n"
                          '[proxy]\nenabled = true\nmode = "transparent"\n')
    pair.run(pair.gateway, *ROJA, "--config", str(config), "firewall", "apply")
    listener = subprocess.Popen(["ip", "netns", "exec", pair.gateway, sys.executable, "-c",
                                 ORIGINAL_DST, "3128", "3129", "80"],
                                stdout=subprocess.PIPE, text=True)
    try:
        assert listener.stdout is not None and listener.stdout.readline().strip() == "ready"
        # Web traffic to any outside address lands on the proxy's ports, which can still
        # read where the pupil was going (what mitmproxy's transparent mode relies on).
        http = pair.run(pair.client, sys.executable, "-c", ASK, "198.51.100.7", "80")
        assert http.strip() == "3128 198.51.100.7:80"
        https = pair.run(pair.client, sys.executable, "-c", ASK, "198.51.100.8", "443")
        assert https.strip() == "3129 198.51.100.8:443"
        # The gateway's own web port (block page, CA page) is not redirected.
        own = pair.run(pair.client, sys.executable, "-c", ASK, f"{pair.net}.1", "80")
        assert own.strip().startswith("80 ")
    finally:
        listener.kill()
        listener.wait()
    quic = pair.run(pair.client, sys.executable, "-c", QUIC, "198.51.100.9")
    assert quic.startswith("no answer")
    listing = pair.run(pair.gateway, "nft", "list", "counters", "table", "inet", "roja")
    assert _packets(listing, "proxy_redirected") >= 2
    assert _packets(listing, "quic_dropped") >= 1


TCP = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], 80), timeout=0.5)
except OSError:
    pass
"""


def test_list_addresses_are_dropped_and_counted_per_list(pair: Pair, tmp_path: Path) -> None:
    """A legal list's addresses are dropped by default; a deny list's with
    `listed_addresses = "deny"`; each list counts its own drops; the sets follow the compiled
    lists in force at each apply."""
    from blocklists.store import ListSource, build_active

    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "legal.txt").write_text("198.51.100.0/24\n")
    (lists / "ipbad.txt").write_text("# IP keqdashëse\n192.0.2.99\n")
    extra = "".join(
        f'[[lists]]\nid = "{lid}"\npath = "{lists}/{lid}.txt"\nformat = "addresses"\n'
        f'kind = "{kind}"\ncategory = "{cat}"\n'
        for lid, kind, cat in (("legal", "legal", "csam"), ("ipbad", "deny", "malware")))
    build_active([ListSource("legal", lists / "legal.txt", "addresses", "csam"),
                  ListSource("ipbad", lists / "ipbad.txt", "addresses", "malware")],
                 tmp_path / "state").compiled.close()

    config = write_config(tmp_path, 53, extra)
    pair.run(pair.gateway, *ROJA, "--config", str(config), "firewall", "apply")
    listing = pair.run(pair.gateway, "nft", "list", "table", "inet", "roja")
    assert "198.51.100.0/24" in listing and "list_ipbad" not in listing
    for target in ("198.51.100.7", "192.0.2.99", "192.0.2.100"):
        pair.run(pair.client, sys.executable, "-c", TCP, target)
    counted = pair.run(pair.gateway, "nft", "list", "counters", "table", "inet", "roja")
    assert _packets(counted, "list_legal") >= 1

    config.write_text(config.read_text().replace(
        '[firewall]\n', '[firewall]\nlisted_addresses = "deny"\n'))
    pair.run(pair.gateway, *ROJA, "--config", str(config), "firewall", "apply")
    pair.run(pair.client, sys.executable, "-c", TCP, "192.0.2.99")
    pair.run(pair.client, sys.executable, "-c", TCP, "192.0.2.100")  # not listed: not counted
    counted = pair.run(pair.gateway, "nft", "list", "counters", "table", "inet", "roja")
    assert _packets(counted, "list_ipbad") >= 1
    assert _packets(counted, "list_legal") >= 1  # carried over the new table, not reset
    before = _packets(counted, "list_ipbad")
    pair.run(pair.client, sys.executable, "-c", TCP, "192.0.2.100")
    counted = pair.run(pair.gateway, "nft", "list", "counters", "table", "inet", "roja")
    assert _packets(counted, "list_ipbad") == before


def test_a_list_refresh_keeps_the_counters(pair: Pair, tmp_path: Path) -> None:
    """A new serial of a list (what roja-firewall-lists.path applies) changes the set's
    addresses but keeps what the per-list counter had counted: a teacher's "dropped today"
    figure does not fall to zero at each list refresh."""
    from blocklists.store import ListSource, build_active

    lists = tmp_path / "lists"
    lists.mkdir()
    feed = lists / "ipbad.txt"
    feed.write_text("192.0.2.99\n")
    source = ListSource("ipbad", feed, "addresses", "malware")
    build_active([source], tmp_path / "state").compiled.close()
    extra = (f'[[lists]]\nid = "ipbad"\npath = "{feed}"\nformat = "addresses"\n'
             'kind = "deny"\ncategory = "malware"\n')
    config = write_config(tmp_path, 53, extra)
    config.write_text(config.read_text().replace(
        '[firewall]\n', '[firewall]\nlisted_addresses = "deny"\n'))
    pair.run(pair.gateway, *ROJA, "--config", str(config), "firewall", "apply")
    pair.run(pair.client, sys.executable, "-c", TCP, "192.0.2.99")
    counted = pair.run(pair.gateway, "nft", "list", "counters", "table", "inet", "roja")
    before = _packets(counted, "list_ipbad")
    assert before >= 1

    feed.write_text("192.0.2.99\n192.0.2.100\n")  # the next serial adds an address
    build_active([source], tmp_path / "state").compiled.close()
    pair.run(pair.gateway, *ROJA, "--config", str(config), "firewall", "apply")
    listing = pair.run(pair.gateway, "nft", "list", "table", "inet", "roja")
    assert "192.0.2.100" in listing
    counted = pair.run(pair.gateway, "nft", "list", "counters", "table", "inet", "roja")
    assert _packets(counted, "list_ipbad") >= before  # not reset by the refresh
    pair.run(pair.client, sys.executable, "-c", TCP, "192.0.2.100")
    counted = pair.run(pair.gateway, "nft", "list", "counters", "table", "inet", "roja")
    assert _packets(counted, "list_ipbad") > before
