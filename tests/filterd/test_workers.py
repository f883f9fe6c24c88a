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
        time.sleep(3)  # let the second worker bind too
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                  text=True).stdout.split()
        assert children, "no extra worker process"
        sockets = subprocess.run(["ss", "-ulpnH", f"sport = :{port}"], capture_output=True,
                                 text=True).stdout
        assert len(sockets.strip().splitlines()) == 2, sockets  # two processes bound the port
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
