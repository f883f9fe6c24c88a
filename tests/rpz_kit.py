"""Test kit for RPZ against real secondaries on 127.0.0.1: Debian's `unbound` (address-only) or
BIND `named` (TSIG) as the secondary of a Roja `RpzServer`, forwarding everything else to an
NSD (tests/peers/nsd.py) serving `NSD_ZONES`, so an unblocked name has a real answer.

The `nsd` fixture is that NSD, one per test: a test module takes it with
`from rpz_kit import nsd_fixture  # noqa: F401` (pytest finds fixtures by module name)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dns.asyncquery
import dns.exception
import dns.message
import dns.rcode
import dns.rdatatype
import pytest
from peers.nsd import HOST, NsdServer, free_port, require_peer, start_nsd
from peers.process import stop

from blocklists.rpz_server import RpzServer

ORIGIN = "rpz.roja."
KEY_NAME = "roja-xfr."
SECRET = base64.b64encode(bytes(range(32))).decode()
DEADLINE = 15.0

_SOA = "$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 60\n@ NS ns1\nns1 A 127.0.0.1\n"
NSD_ZONES = {
    "example.": _SOA + "bad A 192.0.2.66\nsub.bad A 192.0.2.67\ngood A 192.0.2.10\n"
                       "new A 192.0.2.11\nnetted A 192.0.2.70\n",
    "test.": _SOA + "evil A 192.0.2.99\n",
    # The zone's canaries (s<serial>.canary.roja) exist nowhere: out there the root answers
    # NXDOMAIN for them, here this zone does (BIND applies RPZ to an answer, not to a SERVFAIL).
    "roja.": _SOA,
}


@pytest.fixture(name="nsd")
def nsd_fixture(tmp_path: Path) -> Iterator[NsdServer]:
    """NSD on a loopback port serving `NSD_ZONES`, stopped after the test."""
    server = start_nsd(tmp_path / "nsd", NSD_ZONES)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Secondary:
    """A running unbound or named child process answering on 127.0.0.1:`port`."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        stop(self.process)


async def rcode_and_answer(port: int, name: str) -> tuple[str, list[str]]:
    query = dns.message.make_query(name, dns.rdatatype.A)
    response = await dns.asyncquery.udp(query, HOST, port=port, timeout=1)
    return dns.rcode.to_text(response.rcode()), [str(rd) for rrset in response.answer
                                                 for rd in rrset]


async def primary_serves(port: int, zone: str = "rpz.roja") -> None:
    """Wait until the RPZ primary on `port` answers its zone's SOA over TCP. A secondary
    started before that fails its first refresh, and BIND then queues the NOTIFY behind its
    retry timer (seen under load: "refresh in progress, refresh check queued")."""
    query = dns.message.make_query(zone, dns.rdatatype.SOA)
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        with contextlib.suppress(dns.exception.DNSException, OSError, EOFError):
            if (await dns.asyncquery.tcp(query, HOST, port=port, timeout=1)).answer:
                return
        await asyncio.sleep(0.1)
    pytest.fail(f"the RPZ primary on {HOST}:{port} does not serve {zone}")


async def eventually(check: Callable[[], Awaitable[bool]], what: str,
                     secondary: Secondary) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        with contextlib.suppress(dns.exception.Timeout, OSError):
            if await check():
                return
        if secondary.process.poll() is not None:
            break
        await asyncio.sleep(0.1)
    pytest.fail(f"{secondary.name}: {what} did not happen\n{secondary.log()[-3000:]}")


def unbound_conf(workdir: Path, port: int, primary: int, nsd_port: int) -> str:
    return f"""server:
    interface: {HOST}@{port}
    port: {port}
    do-ip6: no
    username: ""
    chroot: ""
    directory: "{workdir}"
    pidfile: "{workdir}/unbound.pid"
    do-daemonize: no
    use-syslog: no
    logfile: ""
    verbosity: 1
    num-threads: 1
    module-config: "respip validator iterator"
    do-not-query-localhost: no
    access-control: 127.0.0.0/8 allow
    local-zone: "test." nodefault
    qname-minimisation: no
forward-zone:
    name: "."
    forward-addr: {HOST}@{nsd_port}
rpz:
    name: {ORIGIN}
    primary: {HOST}@{primary}
    zonefile: "{workdir}/rpz.roja.zone"
    allow-notify: {HOST}
    rpz-log: yes
    rpz-log-name: roja
remote-control:
    control-enable: no
"""


def named_conf(workdir: Path, port: int, primary: int, nsd_port: int, tsig: bool = True) -> str:
    key = f' key "{KEY_NAME}"' if tsig else ""
    return f"""options {{
    directory "{workdir}";
    pid-file "{workdir}/named.pid";
    session-keyfile "{workdir}/session.key";
    managed-keys-directory "{workdir}";
    listen-on port {port} {{ {HOST}; }};
    listen-on-v6 {{ none; }};
    recursion yes;
    allow-query {{ {HOST}; }};
    allow-recursion {{ {HOST}; }};
    dnssec-validation no;
    forward only;
    forwarders port {nsd_port} {{ {HOST}; }};
    notify no;
    response-policy {{ zone "{ORIGIN}" min-update-interval 0; }};
}};
controls {{ }};
key "{KEY_NAME}" {{ algorithm hmac-sha256; secret "{SECRET}"; }};
zone "{ORIGIN}" {{
    type secondary;
    file "rpz.roja.db";
    primaries port {primary} {{ {HOST}{key}; }};
    allow-notify {{ {HOST}; }};
}};
"""


def launch(kind: str, workdir: Path, port: int, primary: int, nsd_port: int,
           tsig: bool = True) -> Secondary:
    """Write the config of `kind` (unbound or named; named transfers with TSIG unless `tsig`
    is False) and start it in the foreground."""
    binary = require_peer(kind)
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / f"{kind}.conf"
    if kind == "unbound":
        conf.write_text(unbound_conf(workdir, port, primary, nsd_port))
        argv = [binary, "-d", "-c", str(conf)]
    else:
        conf.write_text(named_conf(workdir, port, primary, nsd_port, tsig))
        argv = [binary, "-g", "-4", "-n", "1", "-c", str(conf)]
    log_path = workdir / f"{kind}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, cwd=workdir)
    return Secondary(kind, port, process, log_path)


async def start_secondary(kind: str, workdir: Path, server: RpzServer,
                          nsd: NsdServer) -> Secondary:
    """Start unbound or named on a free port as the NOTIFY target of `server`; wait until it
    has the zone (bad.example is NXDOMAIN). A port taken meanwhile → another port."""
    for _ in range(3):
        port = free_port()
        server.notify = ((HOST, port),)
        secondary = launch(kind, workdir, port, server.bound[1], nsd.port)
        await asyncio.sleep(0.3)
        if secondary.process.poll() is None:
            break
        secondary.stop()
    else:
        pytest.fail(f"{kind} did not start:\n{secondary.log()}")

    async def has_zone() -> bool:
        return (await rcode_and_answer(port, "bad.example"))[0] == "NXDOMAIN"
    try:
        await eventually(has_zone, "the first transfer", secondary)
    except BaseException:
        secondary.stop()
        raise
    return secondary
