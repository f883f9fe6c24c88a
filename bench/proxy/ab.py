"""`python -m bench proxy --compare-tree DIR`: the whole-filter Roja row alone, for two trees.

Runs Roja from this tree and from DIR (another checkout, e.g. `git worktree add DIR COMMIT`;
it uses this venv) one at a time against the same dnsmasq, origin, lists and request mix as
the whole-filter part of `python -m bench proxy`, alternating the order pair by pair so that
the machine's drift hits both. Each start is warmed once, then measured for `--rounds` rounds;
with `--dns-ttl 1` there is a pause between rounds so every name is fetched upstream again.
Prints CPU-ms per 1,000 requests per round and the medians, and how many hosts got no
address (a rate-limited or failed DNS answer would make a round cheaper).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.dns.measure import free_port
from bench.proxy import measure as m
from bench.proxy import peers, whole
from bench.proxy.whole import ORIGIN_IP, STEER_IP, ZONE

REPO = Path(__file__).resolve().parents[2]
# Lines of roja_config that a tree before issue 18 rejects (its origin needs no allow_private:
# that tree's proxy connects to any address).
OLD_UNKNOWN = ("connect_ports = ", "[policy]", "allow_private = ")
ConfigFor = Callable[[Path, int, int, Path], str]


def run(args: argparse.Namespace, roja_config: ConfigFor, dns_ip: str) -> int:
    trees = {"this": REPO, "other": Path(args.compare_tree).resolve()}
    if not (trees["other"] / "filterd" / "cli.py").is_file():
        print(f"{trees['other']}: not a Roja tree (no filterd/cli.py)", file=sys.stderr)
        return 2
    steered_hosts = max(1, int(args.hosts * args.steered))
    names, blocked, urls, steered = whole.dataset(args.hosts, args.domains, args.steered,
                                                  2000 // steered_hosts)
    mix = whole.request_mix(names, steered, args.requests, 1)
    no_address = [0]
    work = Path(tempfile.mkdtemp(prefix="roja-bench-ab-"))
    os.chmod(work, 0o755)
    procs: list[peers.Proc] = []
    results: dict[str, list[float]] = {name: [] for name in trees}
    try:
        ca, _cert, _key = peers.certificates(work, ZONE)
        procs.append(peers.dnsmasq(work, 53, ZONE, ORIGIN_IP, listen=dns_ip, ttl=args.dns_ttl))
        origin = peers.origin(work, ORIGIN_IP, 80)
        procs.append(origin)
        lists = work / "lists"
        lists.mkdir()
        (lists / "domains.txt").write_text("\n".join(blocked) + "\n")
        (lists / "urls.txt").write_text("\n".join(urls) + "\n")
        peers.wait_port(ORIGIN_IP, 80, origin)
        for pair in range(args.pairs):
            order = ("this", "other") if pair % 2 == 0 else ("other", "this")
            for tree in order:
                here = work / f"{tree}-{pair}"
                here.mkdir()
                dns_port = free_port()
                config = roja_config(here, dns_port, free_port(), lists)
                if not (trees[tree] / "policy" / "addresses.py").is_file():  # before issue 18
                    config = "\n".join(line for line in config.splitlines()
                                        if not line.startswith(OLD_UNKNOWN)) + "\n"
                (here / "roja.toml").write_text(config)
                # `python -c` puts the working directory first on sys.path: that tree's code
                roja = peers.start("roja", [sys.executable, "-c", peers.ROJA, str(ca), "serve",
                                            "--config", str(here / "roja.toml")],
                                   here / "roja.log", cwd=trees[tree])
                try:
                    peers.wait_port(STEER_IP, 443, roja, 180)
                    whole_run = _whole_run(dns_port, mix, no_address)
                    m.measured([roja.process.pid], whole_run)  # warm-up
                    for _ in range(args.rounds):
                        if args.dns_ttl <= 2:
                            time.sleep(args.dns_ttl + 0.5)
                        no_address[0] = 0
                        s = m.measured([roja.process.pid], whole_run)
                        per_k = s.cpu * 1e6 / s.n
                        results[tree].append(per_k)
                        print(f"pair {pair + 1} {tree:5}: {per_k:5.0f} CPU-ms / 1,000 requests, "
                              f"{s.n / s.wall:,.0f} requests/s, no address {no_address[0]}, "
                              f"failed {s.bad}", flush=True)
                finally:
                    roja.stop()
    finally:
        for proc in reversed(procs):
            proc.stop()
        shutil.rmtree(work, ignore_errors=True)
    this, other = (statistics.median(results[t]) for t in ("this", "other"))
    print(f"\nthis tree ({REPO}): median {this:.0f} "
          f"({min(results['this']):.0f}-{max(results['this']):.0f})")
    print(f"other tree ({trees['other']}): median {other:.0f} "
          f"({min(results['other']):.0f}-{max(results['other']):.0f})")
    print(f"this / other: {this / other:.2f}")
    return 0


def _whole_run(dns_port: int, mix: list[tuple[str, str]],
               no_address: list[int]) -> Callable[[], tuple[int, int]]:
    """The whole-filter client (`whole.roja_school`), counting hosts that got no address."""
    def ask(port: int, name: str, sock: socket.socket) -> str:
        address = whole.resolve(port, name, sock)
        no_address[0] += address == ""
        return address

    return lambda: whole.roja_school(dns_port, mix, ask)
