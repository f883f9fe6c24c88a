"""`python -m bench proxy`: the whole-filter cost of Roja's design against squid + squidGuard.

The same 100,000-entry list (98,000 blocked domains + 2,000 URL entries on 2% of the hosts
that are requested) in Roja and in squid + squidGuard, one local origin, one request mix:
requests spread over 5,000 hosts, 2% of which have URL entries (a third of their requests go
to listed paths). Measured per 1,000 requests, CPU time of the filter's processes only
(utime + stime from /proc of the whole process tree; the client and the origin are not
counted):

- squid + squidGuard proxying every request (squid resolves names from a hosts file, so its
  DNS costs nothing here);
- Roja, as a school uses it: the client asks Roja's DNS once per host and round (as a
  browser's DNS cache does; Roja's own cache answers from the second round on, as it does
  for a school's many pupils), goes straight to the origin for hosts without URL entries and
  through Roja's proxy (DNS steering) for the 2% that have them; Roja's CPU = DNS + proxy;
- per proxied request: Roja's proxy alone on steered hosts, plain mitmdump as a regular proxy,
  squid + squidGuard.

Goal (issue 5): Roja ≤ 0.5× squid + squidGuard for the whole filter. Needs root (ports 80 on
127.0.0.1 and 127.0.0.2), squid, squidguard, dnsmasq (`./run bench` installs them).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import dnslib

from bench.dns.measure import cpu_seconds, free_port
from bench.proxy import peers

ZONE = "bench.test"
ORIGIN_IP, STEER_IP = "127.0.0.1", "127.0.0.2"
# Connections are kept alive per (address, port, host), as browsers do (HTTP/1.1 connections
# are per origin). Reusing one connection to the steering listener for *another* host got no
# answer at all (the listener is bound to the first host; it should say 421, not hang).
STEERED_KEEPALIVE = True


def dataset(hosts: int, domains: int, steered_share: float,
            paths_per_host: int) -> tuple[list[str], list[str], list[str], set[str]]:
    names = [f"h{i}.{ZONE}" for i in range(hosts)]
    steered = set(names[:max(1, int(hosts * steered_share))])
    blocked = [f"x{i}.blocked.test" for i in range(domains)]
    urls = [f"{h}/bad/{k}/" for h in sorted(steered) for k in range(paths_per_host)]
    return names, blocked, urls, steered


def request_mix(names: list[str], steered: set[str], n: int, seed: int) -> list[tuple[str, str]]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        host = rnd.choice(names)
        if host in steered and rnd.random() < 1 / 3:
            path = f"/bad/{rnd.randrange(20)}/page{i}"
        else:
            path = f"/ok/{i}"
        out.append((host, path))
    return out


class Pool:
    """Keep-alive HTTP/1.1 connections per (address, port, host), as a browser keeps them."""

    def __init__(self) -> None:
        self.conns: dict[tuple[str, int, str], http.client.HTTPConnection] = {}

    def get(self, address: str, port: int, target: str, host: str, keep: bool = True,
            per_host: bool = True) -> int:
        for attempt in range(2):
            key = (address, port, host if per_host else "")  # a proxy's connection: shared
            conn = self.conns.get(key)
            if conn is None:
                conn = self.conns[key] = http.client.HTTPConnection(
                    address, port, timeout=30)
            try:
                conn.request("GET", target, headers={"Host": host})
                resp = conn.getresponse()
                resp.read()
                if not keep:  # see `STEERED_KEEPALIVE`
                    conn.close()
                    del self.conns[key]
                return resp.status
            except (http.client.HTTPException, OSError):
                conn.close()
                del self.conns[key]
                if attempt:
                    raise
        return 0

    def close(self) -> None:
        for conn in self.conns.values():
            conn.close()


def resolve(port: int, name: str, sock: socket.socket) -> str:
    q = dnslib.DNSRecord.question(name, "A")
    sock.sendto(q.pack(), ("127.0.0.1", port))
    reply = dnslib.DNSRecord.parse(sock.recv(4096))
    return next((str(rr.rdata) for rr in reply.rr if rr.rtype == 1), "")


def measure(pids: list[int], run: Callable[[], dict[str, int]]) -> tuple[float, float, dict]:
    before = sum(cpu_seconds(p) for p in pids)
    t0 = time.monotonic()
    statuses = run()
    wall = time.monotonic() - t0
    return sum(cpu_seconds(p) for p in pids) - before, wall, statuses


def count(statuses: dict[str, int], status: int) -> None:
    statuses[str(status)] = statuses.get(str(status), 0) + 1


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench proxy", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=4000, help="requests per run (4000)")
    p.add_argument("--hosts", type=int, default=1000, help="distinct hosts requested (1000)")
    p.add_argument("--domains", type=int, default=98_000, help="blocked domains (98000)")
    p.add_argument("--steered", type=float, default=0.02, help="share of hosts with URL entries")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    p.add_argument("--out", type=Path, help="also write the Markdown table here")
    args = p.parse_args(argv)
    if os.geteuid() != 0:
        print("needs root (port 80 on 127.0.0.1/127.0.0.2)")
        return 2
    names, blocked, urls, steered = dataset(args.hosts, args.domains, args.steered,
                                            2000 // max(1, int(args.hosts * args.steered)))
    mix = request_mix(names, steered, args.requests, 1)
    work = Path(tempfile.mkdtemp(prefix="roja-bench-proxy-"))
    os.chmod(work, 0o755)
    procs: list[peers.Proc] = []
    try:
        procs.append(peers.origin(work, ORIGIN_IP, 80))
        dns_up = free_port()
        procs.append(peers.dnsmasq(work, dns_up, ZONE, ORIGIN_IP))
        lists = work / "lists"
        lists.mkdir()
        (lists / "domains.txt").write_text("\n".join(blocked) + "\n")
        (lists / "urls.txt").write_text("\n".join(urls) + "\n")
        roja_dns = free_port()
        roja = peers.roja(work, f"""
[state]
dir = "{work / 'state'}"
[dns]
listen = ["127.0.0.1:{roja_dns}"]
upstreams = ["127.0.0.1:{dns_up}"]
[dns.acl]
allow = ["127.0.0.0/8"]
[metrics]
listen = ""
[log]
level = "warning"
[incidents]
[[lists]]
id = "domains"
path = "{lists / 'domains.txt'}"
category = "gambling"
[[lists]]
id = "urls"
path = "{lists / 'urls.txt'}"
format = "urls"
category = "pornography"
[proxy]
enabled = true
mode = "steering"
listen = ""
steer_ipv4 = "{STEER_IP}"
steer_http_port = 80
blockpage_listen = ""
""")
        procs.append(roja)
        squid_port, mitm_port = free_port(), free_port()
        squid = peers.squid(work, squid_port, blocked, [u.rstrip("/") for u in urls], names,
                            ORIGIN_IP)
        procs.append(squid)
        mitm = peers.mitmdump(work, mitm_port)
        procs.append(mitm)
        peers.wait_port(ORIGIN_IP, 80, procs[0])
        peers.wait_port(STEER_IP, 80, roja, 120)
        peers.wait_port("127.0.0.1", squid_port, squid)
        peers.wait_port("127.0.0.1", mitm_port, mitm)
        time.sleep(2)  # squidGuard children open their databases

        def via_proxy(port: int, literal: bool = False) -> Callable[[], dict[str, int]]:
            def run() -> dict[str, int]:
                pool, statuses = Pool(), {}  # type: ignore[var-annotated]
                for host, path in mix:
                    # mitmdump resolves with the system resolver, which does not know the
                    # bench names: give it the origin's address (no DNS cost for either).
                    target = f"http://{ORIGIN_IP if literal else host}{path}"
                    count(statuses, pool.get("127.0.0.1", port, target, host, per_host=False))
                pool.close()
                return statuses
            return run

        def roja_school() -> dict[str, int]:
            pool, statuses = Pool(), {}  # type: ignore[var-annotated]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(5)
                cache: dict[str, str] = {}
                for host, path in mix:
                    address = cache.get(host) or cache.setdefault(host,
                                                                  resolve(roja_dns, host, s))
                    count(statuses, pool.get(address, 80, path, host,
                                             keep=address != STEER_IP or STEERED_KEEPALIVE))
            pool.close()
            return statuses

        steered_mix = [(h, p) for h, p in mix if h in steered]

        def roja_proxy_only() -> dict[str, int]:
            pool, statuses = Pool(), {}  # type: ignore[var-annotated]
            for host, path in steered_mix * 10:
                count(statuses, pool.get(STEER_IP, 80, path, host, keep=STEERED_KEEPALIVE))
            pool.close()
            return statuses

        rows: dict[str, list[tuple[float, float, int, dict]]] = {}  # type: ignore[type-arg]
        plans = [("squid+squidGuard, every request", [squid.pid], via_proxy(squid_port),
                  len(mix)),
                 ("Roja, DNS steering + proxy (whole filter)", [roja.pid], roja_school,
                  len(mix)),
                 ("Roja proxy alone, steered hosts", [roja.pid], roja_proxy_only,
                  len(steered_mix) * 10),
                 ("plain mitmdump, every request", [mitm.pid], via_proxy(mitm_port, literal=True),
                  len(mix))]
        via_proxy(squid_port)()  # warm-up: squidGuard children, DNS caches, connections
        roja_school()
        for r in range(args.rounds):
            for name, pids, run, n in plans[r % len(plans):] + plans[:r % len(plans)]:
                cpu, wall, statuses = measure(pids, run)
                rows.setdefault(name, []).append((cpu, wall, n, statuses))
        lines = report(rows, args, len(steered_mix))
        print("\n".join(lines))
        if args.out:
            args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    finally:
        for proc in reversed(procs):
            proc.stop()
    return 0


def report(rows: dict, args: argparse.Namespace, steered_requests: int) -> list[str]:  # type: ignore[type-arg]
    def median(xs: list[float]) -> float:
        return sorted(xs)[len(xs) // 2]

    per_k = {name: median([1e6 * cpu / n for cpu, _, n, _ in runs])  # ms per 1,000 requests
             for name, runs in rows.items()}
    rps = {name: median([n / wall for _, wall, n, _ in runs]) for name, runs in rows.items()}
    squid = per_k["squid+squidGuard, every request"]
    load = os.getloadavg()[0]
    out = [f"proxy benchmark: {args.requests} requests over {args.hosts} hosts, "
           f"{args.steered:.0%} with URL entries ({steered_requests} steered requests), "
           f"{args.domains} domains + 2,000 URL entries, {args.rounds} rounds, "
           f"load average {load:.2f}", "",
           "| filter | CPU ms / 1,000 requests (median) | per round | req/s | vs squid+squidGuard "
           "| statuses |",
           "|---|---|---|---|---|---|"]
    for name, runs in rows.items():
        statuses = runs[-1][3]
        rounds = ", ".join(f"{1e6 * cpu / n:,.0f}" for cpu, _, n, _ in runs)
        out.append(f"| {name} | {per_k[name]:,.0f} | {rounds} | {rps[name]:,.0f} | "
                   f"{per_k[name] / squid:.2f}× | {statuses} |")
    ratio = per_k["Roja, DNS steering + proxy (whole filter)"] / squid
    out += ["", f"whole filter: Roja {ratio:.2f}× squid+squidGuard (goal ≤ 0.50×: "
            f"{'met' if ratio <= 0.5 else 'NOT met'})"]
    return out
