"""`dns.workers = 2`: two processes share the port and /metrics adds up both; the per-hour
counts the console draws (`traffic.json`) add up both too, and are written at stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dns_resolver.testing import ask_udp, make_query, parse
from filterd.testing import free_port, write_lists


def bound(port: int, wanted: int, wait: float = 30.0) -> list[str]:
    """The UDP sockets bound to `port` (`ss`), once there are `wanted` or `wait` s passed: a
    spawned worker imports Roja first, which takes seconds on a busy machine."""
    deadline = time.monotonic() + wait
    while True:
        lines = subprocess.run(["ss", "-ulpnH", f"sport = :{port}"], capture_output=True,
                               text=True).stdout.strip().splitlines()
        if len(lines) >= wanted or time.monotonic() > deadline:
            return lines
        time.sleep(0.2)


ROJA = Path(sys.executable).parent / "roja"


@dataclass
class Served:
    """A real `roja serve` with `workers` DNS processes: its process, config, DNS and metrics
    ports; after the `with`, how it stopped (SIGTERM)."""

    proc: subprocess.Popen[str]
    config: Path
    port: int
    metrics: int
    err: str = ""

    def metric_lines(self) -> list[str]:
        time.sleep(2.5)  # workers report every second
        url = f"http://127.0.0.1:{self.metrics}/metrics"
        return urllib.request.urlopen(url).read().decode().splitlines()


@contextmanager
def serving(tmp_path: Path, workers: str) -> Iterator[Served]:
    write_lists(tmp_path / "lists", {"deny.txt": "bet365.com\n"})
    port, metrics = free_port(), free_port()
    config = tmp_path / "roja.toml"
    config.write_text(f"""
[state]
dir = "{tmp_path}/state"
[dns]
listen = ["127.0.0.1:{port}"]
upstreams = ["127.0.0.1:9"]
workers = {workers}
[metrics]
listen = "127.0.0.1:{metrics}"
[[lists]]
id = "deny"
path = "lists/deny.txt"
category = "gambling"
""")
    proc = subprocess.Popen([str(ROJA), "--config", str(config), "serve"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    served = Served(proc, config, port, metrics)
    try:
        deadline = time.monotonic() + 30
        while ask_udp(("127.0.0.1", port), make_query("bet365.com"), timeout=0.5) is None:
            assert time.monotonic() < deadline, "roja did not answer"
        yield served
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        _out, served.err = proc.communicate(timeout=20)


def test_two_workers_share_the_port_and_metrics(tmp_path: Path) -> None:
    with serving(tmp_path, "2") as served:
        children = subprocess.run(["pgrep", "-P", str(served.proc.pid)], capture_output=True,
                                  text=True).stdout.split()
        assert children, "no extra worker process"
        sockets = bound(served.port, 2)
        assert len(sockets) == 2, sockets  # two processes bound the port
        answered = 0
        for i in range(300):  # each query from a new socket: the kernel spreads them
            reply = ask_udp(("127.0.0.1", served.port), make_query(f"w{i}.bet365.com"),
                            timeout=2)
            answered += parse(reply).header.rcode == 3
        assert answered == 300
        line = next(x for x in served.metric_lines()
                    if x.startswith('roja_dns_queries_total{result="blocked"}'))
        assert float(line.split()[-1]) >= 301
    assert served.proc.returncode == 0, served.err
    assert "Traceback" not in served.err
    hours = json.loads((tmp_path / "state/traffic.json").read_text())["hours"]
    assert sum(h["blocked"] for h in hours) >= 301
    assert sum(h["queries"] for h in hours) >= sum(h["blocked"] for h in hours)


def test_workers_auto_answers_on_every_core_and_status_says_so(tmp_path: Path) -> None:
    """`dns.workers = "auto"`: one process per core Roja may run on, all on one port; /metrics
    and `roja status` show how many answer."""
    cores = len(os.sched_getaffinity(0))
    with serving(tmp_path, '"auto"') as served:
        sockets = bound(served.port, cores)
        assert len(sockets) == cores, sockets
        assert f"roja_dns_workers {float(cores)}" in served.metric_lines()
        status = subprocess.run([str(ROJA), "--config", str(served.config), "status"],
                                capture_output=True, text=True, timeout=60)
        assert f"DNS workers: {cores} nga / of {cores} (auto: {cores} " in status.stdout, \
            status.stdout
    assert served.proc.returncode == 0, served.err
