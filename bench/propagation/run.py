"""Propagation benchmark: how long from a hotline publish until the name is blocked at the
school gateway (Roja's own DNS) and at an ISP's resolver (unbound as RPZ secondary).

Run from the repository root::

    python -m bench propagation                     # 10,000 entries, 5 publishes
    python -m bench propagation --entries 100000 --rounds 10

Everything is real and on 127.0.0.1, on ports chosen at run time: the publisher directory
served over HTTP, `roja serve` (feed + `[rpz]` primary with NOTIFY to unbound), Debian's
unbound with an `rpz:` zone from Roja, and `roja lists sync` run by hand for each publish (the
daemon's own sync adds its `[feed] interval` in front of the same path). Each round publishes
one new name; times are from the start of `roja lists sync`:

- `sync_s`: the sync command is done (download, signature and removal checks, files written);
- `gateway_s`: Roja's DNS answers NXDOMAIN for the new name (watched, compiled, enforced);
- `isp_s`: unbound answers NXDOMAIN (new zone serial, NOTIFY, IXFR);
- `apply_s`: `gateway_s` - `sync_s`, the daemon's part (whoever wrote the file: within 5 s).

The issue's goal: the gateway within 5 s, the ISP secondary within 10 s.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode

from bench.dns.measure import free_port
from bench.dns.peers import ROJA_EXE
from blocklists.publish import keygen, publish

HEADER = "url,category,confirmed_at,case_id,confidential\n"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def _served(root: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=root))
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _cases(entries: int, extra: int) -> str:
    rows = [f"site{i}.example,hate_speech,2026-11-01,C-{i},jo\n" for i in range(entries)]
    rows += [f"new{r}.example,grooming,2026-11-02,N-{r},jo\n" for r in range(extra)]
    return HEADER + "".join(rows)


def _blocked(port: int, name: str) -> bool:
    query = dns.message.make_query(name, "A")
    try:
        reply = dns.query.udp(query, "127.0.0.1", port=port, timeout=0.5)
    except (OSError, dns.exception.Timeout):
        return False
    return reply.rcode() == dns.rcode.NXDOMAIN


def _wait(check: Callable[[], bool], limit: float, what: str) -> float:
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > limit:
            raise SystemExit(f"propagation: {what} did not happen within {limit:.0f} s")
        time.sleep(0.02)
    return time.monotonic()


def _unbound_conf(workdir: Path, port: int, primary: int) -> str:
    return f"""server:
    interface: 127.0.0.1@{port}
    port: {port}
    do-ip6: no
    username: ""
    chroot: ""
    directory: "{workdir}"
    pidfile: ""
    do-daemonize: no
    use-syslog: no
    logfile: ""
    verbosity: 0
    num-threads: 1
    module-config: "respip iterator"
    do-not-query-localhost: no
    access-control: 127.0.0.0/8 allow
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@9
rpz:
    name: rpz.roja.
    primary: 127.0.0.1@{primary}
    zonefile: "{workdir}/rpz.roja.zone"
    allow-notify: 127.0.0.1
remote-control:
    control-enable: no
"""


def _roja_conf(state: Path, dns_port: int, rpz_port: int, unbound_port: int, url: str,
               pub: Path) -> str:
    return f"""[state]
dir = "{state}"
[dns]
listen = ["127.0.0.1:{dns_port}"]
upstreams = ["127.0.0.1:9"]
[dns.acl]
rate_limit_qps = 0
[metrics]
listen = ""
[feed]
url = "{url}"
public_key = "{pub}"
feed_id = "bench"
interval = 86400
[rpz]
listen = "127.0.0.1:{rpz_port}"
allow = ["127.0.0.1/32"]
notify = ["127.0.0.1:{unbound_port}"]
"""


def measure(workdir: Path, entries: int, rounds: int) -> list[dict[str, float]]:
    key, pub = keygen(workdir / "keys")
    www, cases = workdir / "www", workdir / "cases.csv"
    www.mkdir()
    cases.write_text(_cases(entries, 0), encoding="utf-8")
    publish(cases, key, www, "bench")
    dns_port, rpz_port, unbound_port = free_port(), free_port(), free_port()
    unbound = shutil.which("unbound") or "/usr/sbin/unbound"
    results: list[dict[str, float]] = []
    with _served(www) as url, contextlib.ExitStack() as stack:
        config = workdir / "roja.toml"
        config.write_text(_roja_conf(workdir / "state", dns_port, rpz_port, unbound_port, url,
                                     pub))
        roja = subprocess.Popen([str(ROJA_EXE), "--config", str(config), "serve"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stack.callback(_stop, roja)
        _wait(lambda: _blocked(dns_port, "site0.example"), 120, "the first sync at start")
        udir = workdir / "unbound"
        udir.mkdir()
        (udir / "unbound.conf").write_text(_unbound_conf(udir, unbound_port, rpz_port))
        secondary = subprocess.Popen([unbound, "-d", "-c", str(udir / "unbound.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stack.callback(_stop, secondary)
        _wait(lambda: _blocked(unbound_port, "site0.example"), 60, "unbound's first AXFR")
        for r in range(rounds):
            cases.write_text(_cases(entries, r + 1), encoding="utf-8")
            publish(cases, key, www, "bench")
            start = time.monotonic()
            subprocess.run([str(ROJA_EXE), "--config", str(config), "lists", "sync"],
                           check=True, stdout=subprocess.DEVNULL)
            synced = time.monotonic()
            name = f"new{r}.example"
            gateway = _wait(functools.partial(_blocked, dns_port, name), 60, "the gateway block")
            isp = _wait(functools.partial(_blocked, unbound_port, name), 60, "unbound's block")
            row = {"round": r + 1, "sync_s": round(synced - start, 3),
                   "gateway_s": round(gateway - start, 3), "isp_s": round(isp - start, 3),
                   "apply_s": round(gateway - synced, 3)}
            print(json.dumps(row), flush=True)
            results.append(row)
    return results


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench propagation",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=10_000, help="hotline entries")
    parser.add_argument("--rounds", type=int, default=5, help="publishes to time")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="roja-propagation-") as tmp:
        rows = measure(Path(tmp), args.entries, args.rounds)
    summary = {key: {"median": statistics.median(r[key] for r in rows),
                     "max": max(r[key] for r in rows)}
               for key in ("sync_s", "gateway_s", "isp_s", "apply_s")}
    print(json.dumps({"entries": args.entries, "rounds": args.rounds, **summary}))
    return 0
