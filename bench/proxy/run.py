"""`python -m bench proxy`: Roja's proxy against squid + squidGuard, e2guardian and plain
mitmdump, with the same 100,000-entry list (98,000 blocked domains + 2,000 URL entries on 2%
of the requested hosts) and one local origin (asyncio on uvloop, HTTP on 127.0.0.1:80 and
HTTPS on 127.0.0.1:443, certificate from a bench CA). All peers run at once, side by side;
the parts are interleaved over `--rounds` rounds and the median is reported.

1. Plain HTTP through each proxy (`curl --parallel`, keep-alive, `--concurrency`
   connections, a host with URL entries, an allowed path): requests/s and CPU ms per
   request; direct to the origin first, to show the origin is not the bottleneck.
2. One large HTTPS download through an allowed TLS tunnel (curl): CONNECT through each
   explicit proxy, and Roja's steering listener passing TLS through by SNI, against direct;
   plain mitmdump and Roja on a URL-listed host decrypt, shown for contrast.
3. New TLS connections (one GET each): CPU ms per connection, intercepted (Roja on a
   URL-listed host, mitmdump) and passed through (Roja by SNI and by CONNECT, squid, e2guardian).
4. The whole filter (`bench.proxy.whole`): a request mix over `--hosts` hosts, 2% with URL
   entries; DNS + proxy CPU per 1,000 requests of Roja (its resolver asked by the client for
   real, then origin or proxy) against squid + squidGuard proxying everything.
   `--compare-tree DIR` runs only Roja's row, for this tree and the checkout in DIR in turn
   (`bench.proxy.ab`), to tell a change from the machine's noise.

CPU = utime + stime of each filter's whole process tree (squid with its squidGuard helpers;
e2guardian; mitmdump; Roja's one process with DNS and proxy); the clients and the origin are
not counted. Every proxy resolves names itself at one dnsmasq on 127.0.0.5:53 (the "ISP's
resolver", not counted for anyone): squid with dns_nameservers, e2guardian and mitmdump through
a private /etc/resolv.conf, Roja through its [dns] upstreams. Needs root (ports 53, 80, 443 on
loopback addresses; mount namespaces), squid, squidguard, e2guardian, dnsmasq
and curl (`./run bench proxy` installs the peers).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.dns.measure import free_port
from bench.proxy import ab, peers, whole
from bench.proxy import measure as m
from bench.proxy.report import Results, report
from bench.proxy.whole import ORIGIN_IP, STEER_IP, ZONE

DNS_IP = "127.0.0.5"


def roja_config(work: Path, dns_port: int, explicit_port: int, lists: Path) -> str:
    return f"""
[state]
dir = "{work / 'state'}"
[dns]
listen = ["127.0.0.1:{dns_port}"]
upstreams = ["{DNS_IP}:53"]
[dns.acl]
allow = ["127.0.0.0/8"]
# one benchmark client stands for a whole school's devices: without this, Roja's per-client
# rate limit (300 q/s, burst 600) refuses it after ~720 new names (REFUSED, no address)
rate_limit_qps = 1000000.0
rate_limit_burst = 1000000.0
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
listen = "127.0.0.1:{explicit_port}"
steer_ipv4 = "{STEER_IP}"
steer_http_port = 80
steer_https_port = 443
blockpage_listen = ""
connect_ports = [443]
[policy]
allow_private = ["{ORIGIN_IP}/32"]
"""


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench proxy", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=4000,
                   help="requests per run, plain HTTP and whole filter (4000)")
    p.add_argument("--concurrency", type=int, default=4, help="curl connections (4)")
    p.add_argument("--hosts", type=int, default=1000, help="distinct hosts requested (1000)")
    p.add_argument("--domains", type=int, default=98_000, help="blocked domains (98000)")
    p.add_argument("--steered", type=float, default=0.02, help="share of hosts with URL entries")
    p.add_argument("--mib", type=int, default=256, help="size of the TLS download (256 MiB)")
    p.add_argument("--connections", type=int, default=200, help="new TLS connections (200)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    p.add_argument("--dns-ttl", type=int, default=300,
                   help="TTL of the test names (300); 1 makes every round ask upstream again")
    p.add_argument("--out", type=Path, help="also write the Markdown tables here")
    p.add_argument("--compare-tree", metavar="DIR",
                   help="only the whole-filter Roja row, this tree against the Roja tree in DIR "
                        "(e.g. a git worktree of an older commit), alternating (bench/proxy/ab.py)")
    p.add_argument("--pairs", type=int, default=4,
                   help="with --compare-tree: starts of each tree (4)")
    args = p.parse_args(argv)
    if os.geteuid() != 0:
        print("needs root (ports 53/80/443 on loopback addresses, mount namespaces)")
        return 2
    if args.compare_tree:
        return ab.run(args, roja_config, DNS_IP)
    steered_hosts = max(1, int(args.hosts * args.steered))
    names, blocked, urls, steered = whole.dataset(args.hosts, args.domains, args.steered,
                                                  2000 // steered_hosts)
    mix = whole.request_mix(names, steered, args.requests, 1)
    work = Path(tempfile.mkdtemp(prefix="roja-bench-proxy-"))
    os.chmod(work, 0o755)
    procs: list[peers.Proc] = []
    loads: list[float] = [os.getloadavg()[0]]
    ok = False
    try:
        ca, cert, key = peers.certificates(work, ZONE)
        procs.append(peers.dnsmasq(work, 53, ZONE, ORIGIN_IP, listen=DNS_IP, ttl=args.dns_ttl))
        origin = peers.origin(work, ORIGIN_IP, 80)
        origin_tls = peers.origin(work, ORIGIN_IP, 443, (cert, key))
        procs += [origin, origin_tls]
        lists = work / "lists"
        lists.mkdir()
        (lists / "domains.txt").write_text("\n".join(blocked) + "\n")
        (lists / "urls.txt").write_text("\n".join(urls) + "\n")
        roja_dns, roja_explicit = free_port(), free_port()
        roja = peers.roja(work, roja_config(work, roja_dns, roja_explicit, lists), ca)
        squid_port, e2g_port, mitm_port = free_port(), free_port(), free_port()
        bare_urls = [u.rstrip("/") for u in urls]
        squid = peers.squid(work, squid_port, blocked, bare_urls, DNS_IP,
                            f"http://{ORIGIN_IP}/blocked")
        e2g = peers.e2guardian(work, e2g_port, blocked, bare_urls, DNS_IP)
        mitm = peers.mitmdump(work, mitm_port, DNS_IP, ca)
        procs += [roja, squid, e2g, mitm]
        peers.wait_port(ORIGIN_IP, 80, origin)
        peers.wait_port(ORIGIN_IP, 443, origin_tls)
        peers.wait_port(STEER_IP, 443, roja, 180)
        for port, proc in ((squid_port, squid), (e2g_port, e2g), (mitm_port, mitm)):
            peers.wait_port("127.0.0.1", port, proc)
        time.sleep(2)  # squidGuard children open their databases
        bundle = work / "trust.pem"  # the bench CA, Roja's school CA, mitmdump's CA
        bundle.write_text("".join(f.read_text() for f in (
            ca, work / "state" / "ca" / "mitmproxy-ca-cert.pem",
            work / "mitm" / "mitmproxy-ca-cert.pem")))
        results = Results(args=args, steered_requests=sum(h in steered for h, _ in mix))
        listed, plain = sorted(steered)[0], names[-1]  # a host with URL entries, one without
        plans = plan_all(args, work, bundle, mix, listed, plain, roja_dns, roja_explicit,
                         squid_port, e2g_port, mitm_port,
                         {"roja": [roja.pid], "squid": [squid.pid], "e2g": [e2g.pid],
                          "mitm": [mitm.pid], "origin": [origin.pid, origin_tls.pid]})
        for part, _name, pids, run in plans:  # warm-up: caches, helpers, certificates
            if part != "tunnel":
                m.measured(pids, run)
        for r in range(args.rounds):
            loads.append(os.getloadavg()[0])
            for part, name, pids, run in plans[r % len(plans):] + plans[:r % len(plans)]:
                results.add(part, name, m.measured(pids, run))
        loads.append(os.getloadavg()[0])
        results.loads = loads
        lines = report(results)
        print("\n".join(lines))
        if args.out:
            args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        ok = True
    finally:
        for proc in reversed(procs):
            proc.stop()
        if ok:  # the logs stay for a failed run
            shutil.rmtree(work, ignore_errors=True)
    return 0


def plan_all(args: argparse.Namespace, work: Path, bundle: Path, mix: list[tuple[str, str]],
             listed: str, plain: str, roja_dns: int, roja_explicit: int, squid_port: int,
             e2g_port: int, mitm_port: int, pids: dict[str, list[int]]
             ) -> list[tuple[str, str, list[int], Callable[[], tuple[int, int]]]]:
    """Every measured run as (part, row name, pids to charge, run)."""
    n, c = args.requests, args.concurrency
    url = f"http://{listed}/ok/1"
    def get(name: str, **kw: str) -> Callable[[], tuple[int, int]]:
        return m.many(url, n, c, work / f"curl-{name}.cfg", **kw)
    http_rows = [
        ("direct to the origin (origin's CPU)", "origin",
         get("direct", resolve=f"{listed}:80:{ORIGIN_IP}")),
        ("squid 5.7 + squidGuard 1.6", "squid", get("squid", proxy=f"127.0.0.1:{squid_port}")),
        ("e2guardian 5.3", "e2g", get("e2g", proxy=f"127.0.0.1:{e2g_port}")),
        ("plain mitmdump 12.2.1", "mitm", get("mitm", proxy=f"127.0.0.1:{mitm_port}")),
        ("Roja proxy, explicit", "roja", get("roja-x", proxy=f"127.0.0.1:{roja_explicit}")),
        ("Roja proxy, DNS-steered host", "roja",
         get("roja-s", resolve=f"{listed}:80:{STEER_IP}")),
    ]
    big = f"https://{plain}/big/{args.mib}"
    big_listed = f"https://{listed}/big/{args.mib}"
    tb = str(bundle)
    tunnel_rows = [
        ("direct", "origin", m.download(big, tb, resolve=f"{plain}:443:{ORIGIN_IP}")),
        ("squid + squidGuard, CONNECT", "squid",
         m.download(big, tb, proxy=f"http://127.0.0.1:{squid_port}")),
        ("e2guardian, CONNECT", "e2g", m.download(big, tb, proxy=f"http://127.0.0.1:{e2g_port}")),
        ("Roja, CONNECT (passed through)", "roja",
         m.download(big, tb, proxy=f"http://127.0.0.1:{roja_explicit}")),
        ("Roja, steering by SNI (passed through)", "roja",
         m.download(big, tb, resolve=f"{plain}:443:{STEER_IP}")),
        ("plain mitmdump, CONNECT (decrypts)", "mitm",
         m.download(big, tb, proxy=f"http://127.0.0.1:{mitm_port}")),
        ("Roja, URL-listed host (decrypts)", "roja",
         m.download(big_listed, tb, resolve=f"{listed}:443:{STEER_IP}")),
    ]
    k = args.connections
    tls_rows = [
        ("direct (origin's CPU)", "origin", m.new_tls(k, plain, m.tcp(ORIGIN_IP, 443))),
        ("Roja, URL-listed host, intercepted", "roja", m.new_tls(k, listed, m.tcp(STEER_IP, 443))),
        ("plain mitmdump, CONNECT, intercepted", "mitm",
         m.new_tls(k, plain, m.via_connect(mitm_port, plain))),
        ("Roja, steering by SNI, passed through", "roja",
         m.new_tls(k, plain, m.tcp(STEER_IP, 443))),
        ("Roja, CONNECT, passed through", "roja",
         m.new_tls(k, plain, m.via_connect(roja_explicit, plain))),
        ("squid + squidGuard, CONNECT", "squid",
         m.new_tls(k, plain, m.via_connect(squid_port, plain))),
        ("e2guardian, CONNECT", "e2g", m.new_tls(k, plain, m.via_connect(e2g_port, plain))),
    ]
    whole_rows = [
        ("squid + squidGuard, every request", "squid",
         lambda: whole.via_proxy(squid_port, mix)),
        ("Roja, DNS steering + proxy (whole filter)", "roja",
         lambda: whole.roja_school(roja_dns, mix)),
    ]
    out = []
    for part, rows in (("http", http_rows), ("tunnel", tunnel_rows), ("tls", tls_rows),
                       ("whole", whole_rows)):
        out += [(part, name, pids[who], run) for name, who, run in rows]
    return out
