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


def test_two_workers_share_the_port_and_metrics(tmp_path: Path) -> None:
    write_lists(tmp_path / "lists", {"deny.txt": "bet365.com\n"})
    port, metrics = free_port(), free_port()
    config = tmp_path / "roja.toml"
    config.write_text(f"""
[state]
dir = "{tmp_path}/state"
[dns]
listen = ["127.0.0.1:{port}"]
upstreams = ["127.0.0.1:9"]
workers = 2
[metrics]
listen = "127.0.0.1:{metrics}"
[[lists]]
id = "deny"
path = "lists/deny.txt"
category = "gambling"
""")
    roja = Path(sys.executable).parent / "roja"
    proc = subprocess.Popen([str(roja), "--config", str(config), "serve"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            reply = ask_udp(("127.0.0.1", port), make_query("bet365.com"), timeout=0.5)
            if reply is not None:
                break
        else:
            raise AssertionError("roja did not answer")
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                  text=True).stdout.split()
        assert children, "no extra worker process"
        sockets = bound(port, 2)
        assert len(sockets) == 2, sockets  # two processes bound the port
        answered = 0
        for i in range(300):  # each query from a new socket: the kernel spreads them
            reply = ask_udp(("127.0.0.1", port), make_query(f"w{i}.bet365.com"), timeout=2)
            answered += parse(reply).header.rcode == 3
        assert answered == 300
        time.sleep(2.5)  # workers report every second
        body = urllib.request.urlopen(f"http://127.0.0.1:{metrics}/metrics").read().decode()
        line = next(x for x in body.splitlines()
                    if x.startswith('roja_dns_queries_total{result="blocked"}'))
        assert float(line.split()[-1]) >= 301
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    hours = json.loads((tmp_path / "state/traffic.json").read_text())["hours"]
    assert sum(h["blocked"] for h in hours) >= 301
    assert sum(h["queries"] for h in hours) >= sum(h["blocked"] for h in hours)


def test_workers_auto_answers_on_every_core_and_status_says_so(tmp_path: Path) -> None:
    """`dns.workers = "auto"`: one process per core Roja may run on, all on one port; /metrics
    and `roja status` show how many answer."""
    write_lists(tmp_path / "lists", {"deny.txt": "bet365.com\n"})
    port, metrics = free_port(), free_port()
    cores = len(os.sched_getaffinity(0))
    config = tmp_path / "roja.toml"
    config.write_text(f"""
[state]
dir = "{tmp_path}/state"
[dns]
listen = ["127.0.0.1:{port}"]
upstreams = ["127.0.0.1:9"]
workers = "auto"
[metrics]
listen = "127.0.0.1:{metrics}"
[[lists]]
id = "deny"
path = "lists/deny.txt"
category = "gambling"
""")
    roja = Path(sys.executable).parent / "roja"
    proc = subprocess.Popen([str(roja), "--config", str(config), "serve"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while ask_udp(("127.0.0.1", port), make_query("bet365.com"), timeout=0.5) is None:
            assert time.monotonic() < deadline, "roja did not answer"
        sockets = bound(port, cores)
        assert len(sockets) == cores, sockets
        time.sleep(2.5)  # workers report every second
        body = urllib.request.urlopen(f"http://127.0.0.1:{metrics}/metrics").read().decode()
        assert f"roja_dns_workers {float(cores)}" in body
        status = subprocess.run([str(roja), "--config", str(config), "status"],
                                capture_output=True, text=True, timeout=60)
        assert f"DNS workers: {cores} nga / of {cores} (auto: {cores} " in status.stdout, \
            status.stdout
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
