"""A real authoritative upstream for the tests: NSD on 127.0.0.1 at a port chosen at run time.

`start_nsd(workdir, zones)` writes an nsd.conf and one zone file per zone into `workdir`, checks
them with `nsd-checkconf`/`nsd-checkzone`, starts `nsd -d` in the foreground as a child process
and waits until every zone answers its SOA. It returns an `NsdServer` (`.host`, `.port`,
`.stop()`). NSD runs as the current user (`username: ""`), so it works as root and as a normal
user; it keeps all its state in `workdir` (no database file, no remote control) and nothing
leaves loopback.

`require_peer(program)` (from `peers.programs`, re-exported here) finds an external program.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from dns_resolver.testing import free_port
from peers.programs import require_peer

HOST = "127.0.0.1"
START_TIMEOUT = 10.0
START_ATTEMPTS = 5


@dataclass
class NsdServer:
    """A running NSD child process serving `zones` on `host`:`port` (UDP and TCP)."""

    host: str
    port: int
    workdir: Path
    zones: tuple[str, ...]
    process: subprocess.Popen[bytes] = field(repr=False)
    netns: str | None = None
    _stopped: bool = field(default=False, init=False, repr=False)

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def log_path(self) -> Path:
        return self.workdir / "nsd.log"

    def log(self) -> str:
        """NSD's stdout/stderr so far (for error messages)."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Terminate NSD and wait for it (kill it after 5 s), then end any child it left behind.

        NSD runs in its own process group (its id is the main process's id), so its server and
        xfrd children are ended by that id even if the main process had to be killed.
        """
        if self._stopped:
            return
        self._stopped = True
        pgid = self.process.pid
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                _signal_group(pgid, signal.SIGKILL)
                self.process.wait(timeout=5)
        deadline = time.monotonic() + 2  # NSD's children take about 1 s to shut down
        while _signal_group(pgid, 0):
            if time.monotonic() >= deadline:
                _signal_group(pgid, signal.SIGKILL)
                break
            time.sleep(0.02)

    def __enter__(self) -> NsdServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _signal_group(pgid: int, sig: int) -> bool:
    """Send `sig` to process group `pgid`; False if the group no longer exists."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


def _zone_filename(zone: str) -> str:
    name = zone.rstrip(".") or "root"
    return f"{name}.zone"


def _write_conf(workdir: Path, port: int, zones: dict[str, str], host: str = HOST) -> Path:
    lines = [
        "server:",
        f"    ip-address: {host}@{port}",
        "    do-ip6: no",
        '    username: ""',
        '    chroot: ""',
        f'    zonesdir: "{workdir}"',
        f'    pidfile: "{workdir / "nsd.pid"}"',
        f'    xfrdfile: "{workdir / "xfrd.state"}"',
        f'    xfrdir: "{workdir}"',
        f'    zonelistfile: "{workdir / "zone.list"}"',
        '    database: ""',
        "    verbosity: 0",
        "    server-count: 1",
        "    hide-version: yes",
        "    log-only-syslog: no",
        "",
        "remote-control:",
        "    control-enable: no",
        "",
    ]
    for zone in zones:
        lines += ["zone:", f'    name: "{zone}"', f'    zonefile: "{_zone_filename(zone)}"', ""]
    conf = workdir / "nsd.conf"
    conf.write_text("\n".join(lines))
    return conf


def _check(argv: list[str]) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{result.stdout}{result.stderr}")


def _answers_soa(host: str, port: int, zone: str, netns: str | None = None) -> bool:
    if netns is not None:  # the address is only reachable inside that namespace
        result = subprocess.run(["ip", "netns", "exec", netns, "dig", "+short", "+time=1",
                                 "+tries=1", "-p", str(port), f"@{host}", zone, "SOA"],
                                capture_output=True, text=True, check=False)
        return result.returncode == 0 and bool(result.stdout.strip())
    query = dns.message.make_query(zone, dns.rdatatype.SOA)
    try:
        response = dns.query.udp(query, host, port=port, timeout=0.2)
    except (dns.exception.Timeout, OSError):
        return False
    return response.rcode() == dns.rcode.NOERROR and bool(response.answer)


def _wait_ready(server: NsdServer, deadline: float) -> bool:
    """True once every zone answers its SOA; False if NSD exited or the deadline passed."""
    pending = list(server.zones)
    while time.monotonic() < deadline:
        if not server.running():
            return False
        pending = [z for z in pending
                   if not _answers_soa(server.host, server.port, z, server.netns)]
        if not pending:
            return True
        time.sleep(0.05)
    return False


def start_nsd(workdir: Path, zones: dict[str, str], *, host: str = HOST,
              port: int | None = None, netns: str | None = None) -> NsdServer:
    """Start NSD serving `zones` ({"example.test.": zone file text}) on 127.0.0.1:<free port>
    (or on `host`:`port` inside network namespace `netns`, for the end-to-end test).

    Zone texts are complete zone files (with SOA and NS); their names are relative to the zone
    unless $ORIGIN says otherwise. Returns once every zone answers its SOA (10 s at most);
    raises RuntimeError with NSD's log otherwise. Skips/fails via `require_peer` if NSD is missing.
    """
    if not zones:
        raise ValueError("start_nsd needs at least one zone")
    nsd = require_peer("nsd")
    checkconf = require_peer("nsd-checkconf")
    checkzone = require_peer("nsd-checkzone")
    workdir.mkdir(parents=True, exist_ok=True)
    for zone, text in zones.items():
        path = workdir / _zone_filename(zone)
        path.write_text(f"$ORIGIN {zone}\n{text}")
        _check([checkzone, zone, str(path)])

    failures: list[str] = []
    for _ in range(START_ATTEMPTS):
        listen_port = port if port is not None else free_port()
        conf = _write_conf(workdir, listen_port, zones, host)
        _check([checkconf, str(conf)])
        with contextlib.suppress(FileNotFoundError):
            (workdir / "nsd.pid").unlink()
        with (workdir / "nsd.log").open("wb") as log:
            prefix = ["ip", "netns", "exec", netns] if netns is not None else []
            process = subprocess.Popen(
                [*prefix, nsd, "-d", "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=workdir,
                process_group=0,
            )
        server = NsdServer(host, listen_port, workdir, tuple(zones), process, netns)
        if _wait_ready(server, time.monotonic() + START_TIMEOUT):
            return server
        exited = not server.running()
        server.stop()
        failures.append(f"port {listen_port}: exit {process.returncode}\n{server.log()}")
        if not exited or port is not None:
            break  # running but silent for START_TIMEOUT: another port will not help
    raise RuntimeError("NSD did not start:\n" + "\n".join(failures))
