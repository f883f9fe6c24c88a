"""Test kit for `roja demo`: the real command in a subprocess on ports chosen at run time,
asked with `dig`/`kdig`, its `/metrics` read over HTTP, stopped with Ctrl-C (SIGINT).

`running_demo` returns once the demo answers DNS and has printed its lines to try (they are
printed when everything, proxy included, is listening)."""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode
import pytest
from peers.nsd import require_peer

from dns_resolver.testing import free_port
from filterd.commands.demo_examples import DemoPorts
from filterd.commands.demo_internet import SITE_ADDRESS

BIN = Path(sys.executable).parent
START_DEADLINE = 30.0
PRINTED_LAST = "Ndalo me Ctrl-C / stop with Ctrl-C."


@dataclass
class Demo:
    ports: DemoPorts
    directory: Path
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    @property
    def port(self) -> int:
        return self.ports.dns

    @property
    def metrics_port(self) -> int:
        return self.ports.metrics

    def dig(self, *args: str, program: str = "dig") -> str:
        """Run dig (or kdig) against the demo and return its output."""
        tool = require_peer(program)
        argv = [tool, "@127.0.0.1", "-p", str(self.port), "+time=5", "+tries=1", *args]
        if program == "kdig":
            argv = [tool, "@127.0.0.1", "-p", str(self.port), "+timeout=5", "+retry=0", *args]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        return result.stdout + result.stderr

    def metrics(self) -> dict[str, float]:
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    def roja(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN / "roja"), *args], capture_output=True, text=True,
                              timeout=30, check=False, cwd=self.directory)

    def printed(self) -> str:
        return self.stdout.read_text(encoding="utf-8", errors="replace")

    def log(self) -> str:
        return self.printed() + self.stderr.read_text(errors="replace")


def status(output: str) -> str:
    """The rcode shown by dig (`status: NXDOMAIN,`) or kdig (`status: NXDOMAIN;`)."""
    found = re.search(r"status: ([A-Z]+)", output)
    assert found, f"no answer:\n{output}"
    return found.group(1)


def ede(output: str) -> str | None:
    found = re.search(r"EDE: (\d+ \([A-Za-z ]+\))", output)
    return found.group(1) if found else None


def answers(port: int) -> bool:
    query = dns.message.make_query("use-application-dns.net", "A")
    try:
        reply = dns.query.udp(query, "127.0.0.1", port=port, timeout=0.3)
    except (dns.exception.Timeout, OSError):
        return False
    return reply.rcode() == dns.rcode.NXDOMAIN


def two_free_ports() -> tuple[int, int]:
    """A DNS port free on 127.0.0.1 and ::1 (UDP and TCP), and a different metrics port."""
    while True:
        port = free_port()
        try:  # free_port checked 127.0.0.1; the demo also listens on [::1]
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                with socket.socket(socket.AF_INET6, kind) as sock:
                    sock.bind(("::1", port))
        except OSError:
            continue
        metrics_port = free_port()
        if metrics_port != port:
            return port, metrics_port


def free_proxy_block() -> int:
    """A base port whose five (proxy, steering, block page, sample site) are free on the
    addresses the demo uses for them."""
    while True:
        base = free_port()
        try:
            for host in ("127.0.0.1", "127.0.0.2", SITE_ADDRESS):
                for port in range(base, base + 5):
                    with socket.socket() as sock:
                        sock.bind((host, port))
        except OSError:
            continue
        return base


def start_demo(tmp_path: Path, upstream: str) -> Demo:
    roja = BIN / "roja"
    assert roja.is_file(), f"{roja} is missing: install the project into the venv (./run)"
    port, metrics_port = two_free_ports()
    ports = DemoPorts(port, metrics_port, free_proxy_block(), free_port(), free_port(),
                      free_port())
    directory = tmp_path / "demo"
    out, err = tmp_path / "demo.stdout", tmp_path / "demo.stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [str(roja), "demo", "--port", str(port), "--metrics-port", str(metrics_port),
             "--proxy-port", str(ports.proxy), "--dot-port", str(ports.dot),
             "--doh-port", str(ports.doh), "--console-port", str(ports.console),
             "--dir", str(directory), "--upstream", upstream],
            stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, cwd=tmp_path)
    return Demo(ports, directory, process, out, err)


def ready(demo: Demo) -> bool:
    return answers(demo.port) and PRINTED_LAST in demo.printed()


@contextlib.contextmanager
def running_demo(tmp_path: Path, upstream: str) -> Iterator[Demo]:
    """Start `roja demo` in `tmp_path`; on exit press Ctrl-C and check that it stops cleanly.

    Other tests may take the chosen ports between the check and the demo's bind; the demo then
    says so and exits, and it is started again on other ports (three attempts)."""
    for attempt in range(3):
        demo = start_demo(tmp_path, upstream)
        process = demo.process
        deadline = time.monotonic() + START_DEADLINE
        while not ready(demo):
            if process.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        else:
            break
        stop(process)
        if "Address already in use" not in demo.log() or attempt == 2:
            pytest.fail(f"roja demo does not answer (exit {process.returncode}):\n{demo.log()}")
    try:
        yield demo
    finally:
        stop(process)
    assert process.returncode in (0, -signal.SIGINT, 130), demo.log()
    assert "Traceback" not in demo.log(), demo.log()


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C, as a user would; SIGKILL only if it has not stopped 15 s later."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
