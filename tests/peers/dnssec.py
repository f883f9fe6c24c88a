"""A validating upstream for the tests: a zone signed here (BIND's dnssec-keygen and
dnssec-signzone), served by NSD (tests/peers/nsd.py), behind Unbound validating it with the
zone's own key as trust anchor. Nothing leaves loopback; ports are chosen at run time.

`sign_zone(workdir, zone, body, tamper)` returns the signed zone text and the trust-anchor file;
`tamper` replaces text after signing (a record whose signature no longer matches: bogus data).
`start_validator(workdir, zones)` signs each zone, starts NSD and Unbound and returns a
`Validator` (`.address`, `.stop()`) once Unbound answers each zone's SOA with AD.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rdatatype
import pytest

from dns_resolver.testing import free_port
from peers.nsd import HOST, NsdServer, require_peer, start_nsd
from peers.process import stop

START_TIMEOUT = 10.0


def _run(argv: list[str], cwd: Path) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def sign_zone(workdir: Path, zone: str, body: str,
              tamper: dict[str, str] | None = None) -> tuple[str, Path]:
    """Sign `body` (a zone file body for `zone`, with SOA and NS) with a fresh KSK and ZSK.
    Returns (signed zone text, path of the KSK's .key file: Unbound's trust anchor)."""
    keygen = require_peer("dnssec-keygen")
    signzone = require_peer("dnssec-signzone")
    keys = workdir / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    ksk = _run([keygen, "-q", "-K", str(keys), "-a", "ECDSAP256SHA256", "-f", "KSK", "-n",
                "ZONE", zone], workdir).strip()
    _run([keygen, "-q", "-K", str(keys), "-a", "ECDSAP256SHA256", "-n", "ZONE", zone], workdir)
    unsigned = workdir / f"{zone.rstrip('.')}.unsigned"
    unsigned.write_text(f"$ORIGIN {zone}\n{body}")
    signed = workdir / f"{zone.rstrip('.')}.signed"
    _run([signzone, "-q", "-S", "-K", str(keys), "-o", zone, "-f", str(signed),
          str(unsigned)], workdir)
    text = signed.read_text()
    for old, new in (tamper or {}).items():
        assert old in text, f"{old!r} not in the signed zone"
        text = text.replace(old, new)
    return text, keys / f"{ksk}.key"


@dataclass
class Validator:
    """Unbound (validating) on 127.0.0.1:`port`, in front of `nsd`."""

    port: int
    nsd: NsdServer
    process: subprocess.Popen[bytes] = field(repr=False)
    log_path: Path

    @property
    def address(self) -> tuple[str, int]:
        return (HOST, self.port)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        stop(self.process)
        self.nsd.stop()


def _unbound_conf(workdir: Path, port: int, nsd_port: int, zones: list[str],
                  anchors: list[Path]) -> str:
    lines = [
        "server:",
        f"    interface: {HOST}@{port}",
        f"    port: {port}",
        "    do-ip6: no",
        '    username: ""',
        '    chroot: ""',
        f'    directory: "{workdir}"',
        f'    pidfile: "{workdir}/unbound.pid"',
        "    do-daemonize: no",
        "    use-syslog: no",
        '    logfile: ""',
        "    verbosity: 1",
        "    num-threads: 1",
        '    module-config: "validator iterator"',
        "    do-not-query-localhost: no",
        "    access-control: 127.0.0.0/8 allow",
        '    local-zone: "test." nodefault',
        "    qname-minimisation: no",
        "    val-log-level: 2",
        *(f'    trust-anchor-file: "{anchor}"' for anchor in anchors),
        "remote-control:",
        "    control-enable: no",
    ]
    for zone in zones:
        lines += ["stub-zone:", f'    name: "{zone}"', f"    stub-addr: {HOST}@{nsd_port}"]
    return "\n".join(lines) + "\n"


def _validated(port: int, zone: str) -> bool:
    query = dns.message.make_query(zone, dns.rdatatype.SOA, want_dnssec=True)
    try:
        reply = dns.query.udp(query, HOST, port=port, timeout=0.3)
    except (dns.exception.Timeout, OSError):
        return False
    return bool(reply.flags & dns.flags.AD)


def start_validator(workdir: Path, zones: dict[str, str],
                    tamper: dict[str, str] | None = None) -> Validator:
    """Sign `zones` ({"signed.test.": body}), serve them by NSD, and start Unbound validating
    them. Returns when Unbound answers every zone's SOA with AD (fails the test otherwise)."""
    unbound = require_peer("unbound")
    signed: dict[str, str] = {}
    anchors = []
    for zone, body in zones.items():
        text, anchor = sign_zone(workdir / zone.rstrip("."), zone, body, tamper)
        signed[zone] = text
        anchors.append(anchor)
    nsd = start_nsd(workdir / "nsd", signed)
    port = free_port()
    conf = workdir / "unbound.conf"
    conf.write_text(_unbound_conf(workdir, port, nsd.port, list(zones), anchors))
    log_path = workdir / "unbound.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([unbound, "-d", "-c", str(conf)], stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    validator = Validator(port, nsd, process, log_path)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        if all(_validated(port, zone) for zone in zones):
            return validator
        time.sleep(0.1)
    validator.stop()
    pytest.fail(f"unbound did not validate {list(zones)}:\n{validator.log()}")
