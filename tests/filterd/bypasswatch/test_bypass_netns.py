"""`roja bypass-watch` capturing for real: two network namespaces made here joined by a veth
pair; a "pupil" namespace sends real packets (scapy, through its kernel's routing) towards a
"gateway" namespace where the watch runs on the veth card. Nothing leaves the namespaces (the
gateway does not forward). Checks: every kind lands in the SQLite store, pseudonymised and
rate-limited; DNS to the gateway itself and ordinary traffic do not; the metric counts."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bypass_kit import bypass_packets
from e2e.netns import Namespace, require_netns

from filterd.testing import free_port
from reporting.incidents import IncidentRow, IncidentStore, db_path
from reporting.pseudonym import TiraneYear, pseudonym, yearly_keys

ROOT = Path(__file__).resolve().parents[3]
NET = "10.78.9"
PUPIL_IP, GATEWAY_IP = f"{NET}.17", f"{NET}.1"


@dataclass(frozen=True)
class Pair:
    pupil: Namespace
    gateway: Namespace
    interface: str  # the gateway's veth card


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@pytest.fixture
def pair() -> Iterator[Pair]:
    require_netns()
    tag = uuid.uuid4().hex[:6]
    pupil, gateway = Namespace(f"roja-bwp-{tag}"), Namespace(f"roja-bwg-{tag}")
    made: list[Namespace] = []
    try:
        for ns in (pupil, gateway):
            _ip("netns", "add", ns.name)
            made.append(ns)
            ns.run("ip", "link", "set", "lo", "up")
        dev_p, dev_g = f"bw{tag}p", f"bw{tag}g"
        _ip("link", "add", dev_p, "netns", pupil.name, "type", "veth", "peer", "name", dev_g,
            "netns", gateway.name)
        for ns, dev, address in ((pupil, dev_p, PUPIL_IP), (gateway, dev_g, GATEWAY_IP)):
            ns.run("ip", "addr", "add", f"{address}/24", "dev", dev)
            ns.run("ip", "link", "set", dev, "up")
        pupil.run("ip", "route", "add", "default", "via", GATEWAY_IP)
        yield Pair(pupil, gateway, dev_g)
    finally:
        for ns in reversed(made):
            pids = subprocess.run(["ip", "netns", "pids", ns.name], capture_output=True,
                                  text=True).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            subprocess.run(["ip", "netns", "del", ns.name], capture_output=True)


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "roja.toml"
    path.write_text(f"""
[state]
dir = "{tmp_path / 'state'}"

[dns]
listen = ["{GATEWAY_IP}:53"]

[metrics]
listen = ""

[[groups]]
id = "nxenes"
name = "Nxënësit"
networks = ["{NET}.0/24"]
""", encoding="utf-8")
    return path


def _roja(*args: str) -> list[str]:
    return [sys.executable, "-c", "from filterd.cli import main; main()", *args]


def _wait_for_line(proc: subprocess.Popen[bytes], text: str, timeout: float = 20) -> str:
    assert proc.stderr is not None
    seen = b""
    sel = selectors.DefaultSelector()
    sel.register(proc.stderr, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while text.encode() not in seen:
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            raise AssertionError(f"the watch did not say {text!r}: {seen.decode(errors='replace')}")
        if sel.select(left):
            seen += os.read(proc.stderr.fileno(), 4096)
    return seen.decode()


def _rows(state: Path, kinds: int, timeout: float = 15) -> list[IncidentRow]:
    deadline = time.monotonic() + timeout
    rows: list[IncidentRow] = []
    while time.monotonic() < deadline:
        if db_path(state).exists():
            with IncidentStore(db_path(state)) as store:
                rows = store.list_since(0)
            if len({r.name.split()[0] for r in rows}) >= kinds:
                return rows
        time.sleep(0.2)
    return rows


def test_the_watch_records_real_bypass_attempts_from_a_pupil(pair: Pair,
                                                             tmp_path: Path) -> None:
    config = _config(tmp_path)
    metrics = free_port()  # the gateway namespace has its own loopback: any port is free there
    watch = pair.gateway.popen(_roja("--config", str(config), "bypass-watch", "--interface",
                                     pair.interface, "--metrics", f"127.0.0.1:{metrics}"),
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for_line(watch, "watching")
        pair.pupil.run(sys.executable, "-c",
                       "import sys; sys.path[:0] = ['.', 'tests']; from bypass_kit import "
                       f"send_all; send_all({PUPIL_IP!r}, {GATEWAY_IP!r})", timeout=60)
        kinds = set(bypass_packets(PUPIL_IP))
        rows = _rows(tmp_path / "state", len(kinds))
        scrape = pair.gateway.run(sys.executable, "-c",
                                  f"import httpx; print(httpx.get('http://127.0.0.1:{metrics}"
                                  "/metrics').text)").stdout.decode()
    finally:
        watch.send_signal(signal.SIGTERM)
        _out, err = watch.communicate(timeout=20)
    assert watch.returncode == 0, err.decode()

    assert {r.name.split()[0] for r in rows} == kinds
    dns_rows = [r for r in rows if r.name.startswith("outside_dns")]
    # UDP and TCP to the outside resolver, the UDP query sent three times: one incident
    assert [r.name for r in dns_rows] == ["outside_dns 192.0.2.53:53"]
    assert all(r.name.split()[1].split(":")[0] != GATEWAY_IP for r in rows)  # Roja is no bypass
    key = yearly_keys(tmp_path / "state")(TiraneYear()(rows[0].first_at))
    for r in rows:
        assert (r.source, r.category, r.group) == ("bypass", "filter_bypass", "nxenes")
        assert r.client == pseudonym(key, PUPIL_IP)
        assert PUPIL_IP not in r.reason and PUPIL_IP not in r.name
    assert 'roja_bypass_detected_total{kind="outside_dns"} 4.0' in scrape
    assert 'roja_bypass_detected_total{kind="wireguard"} 2.0' in scrape
    # The kernel prefilter let through the 15 bypass packets and only 5 of the 9 ordinary
    # ones (DNS to the gateway, a SYN and a ClientHello to 443, a QUIC Initial, UDP 500);
    # plain HTTP, odd UDP, the DNS reply and the SYN-ACK never reached Python.
    assert "roja_bypass_packets_total 20.0" in scrape


def test_an_unknown_interface_is_a_clear_error(pair: Pair, tmp_path: Path) -> None:
    result = pair.gateway.run(*_roja("--config", str(_config(tmp_path)), "bypass-watch",
                                     "--interface", "nuk-ka0"), check=False)
    assert result.returncode == 1
    assert "nuk-ka0" in result.stderr.decode() and "nuk u hap" in result.stderr.decode()


def test_metrics_endpoint_needs_host_and_port(tmp_path: Path) -> None:
    result = subprocess.run(_roja("--config", str(_config(tmp_path)), "bypass-watch",
                                  "--interface", "lo", "--metrics", "nonsense"),
                            capture_output=True, cwd=ROOT, timeout=30)
    assert result.returncode == 2 and b"host:port" in result.stderr

