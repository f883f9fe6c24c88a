"""Policy benchmark: Roja's resolver with 6 groups, profiles, schedules and a 1M-entry list,
against the same resolver with the single default group (policy v1 form), same query file.

Run from the repository root (a quiet machine: load < 1.5, no other benchmark or test run)::

    python -m bench policy                        # 1,000,000 listed domains, 3 x 20 s each
    python -m bench policy --domains 100000 --duration 5 --repeat 2

Both servers are `roja serve` from this tree, sharing one compiled list (one state dir),
started in turn on `--server-cpu` and measured in interleaved rounds by dnsperf (bench/dns's
harness: NSD upstream, q/CPU-s from /proc). dnsperf's address 127.0.0.1 falls in one of the
six groups, whose profile blocks the list's category and which has schedules of its own; the
other five groups (networks, addresses, a MAC) and their schedules are there to be looked past.
`ratio` = groups q/CPU-s / single q/CPU-s; the issue's goal is >= 0.90.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
import time
from datetime import date
from pathlib import Path

from bench.dns import lists, measure, peers, report
from bench.dns.run import Live, _load, _measure_once, _running, _stop, _wait_upstream

BENCH_DIR = Path(__file__).resolve().parents[1]
GROUPS = """
[[profiles]]
id = "nxenes"
block = ["malware", "pornography", "gambling", "social_media", "violence"]
safe_search = "strict"
[[profiles]]
id = "gjimnaz"
block = ["malware", "pornography", "gambling"]
safe_search = "moderate"
[[profiles]]
id = "staf"
block = ["malware", "pornography"]
safe_search = "off"
[[groups]]
id = "cikli-ulet"
networks = ["10.0.1.0/24", "127.0.0.0/8"]
profile = "nxenes"
[[groups]]
id = "gjimnaz"
networks = ["10.0.2.0/24"]
profile = "gjimnaz"
[[groups]]
id = "mesues"
networks = ["10.0.3.0/24"]
addresses = ["10.0.9.17"]
profile = "staf"
[[groups]]
id = "lab"
networks = ["10.0.4.0/25"]
macs = ["02:00:00:00:00:01"]
profile = "nxenes"
[[groups]]
id = "mysafir"
networks = ["10.0.5.0/24"]
profile = "gjimnaz"
[[groups]]
id = "admin"
networks = ["10.0.6.0/24"]
profile = "staf"
[[schedules]]
groups = ["cikli-ulet", "lab"]
categories = ["social_media"]
windows = ["12:00-13:00", "15:00-24:00"]
[[schedules]]
groups = ["gjimnaz", "mysafir"]
categories = ["social_media", "gambling"]
windows = ["12:00-13:00"]
[[schedules]]
groups = ["mesues", "admin"]
categories = ["pornography"]
action = "block"
windows = ["00:00-24:00"]
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
[policy]
default_group = "mysafir"
holidays = ["2026-12-24..2027-01-06"]
"""


def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench policy", description=__doc__.split("\n")[0])
    p.add_argument("--domains", type=int, default=1_000_000)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--allowed", type=int, default=1000)
    p.add_argument("--queries", type=int, default=200_000)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--outstanding", type=int, default=200)
    p.add_argument("--server-cpu", type=int, default=1)
    p.add_argument("--client-cpu", type=int, default=0)
    p.add_argument("--nice", type=int, default=-10)
    p.add_argument("--load-limit", type=float, default=600.0)
    p.add_argument("--out", type=Path, help="also write a Markdown report here")
    p.add_argument("--workdir", type=Path, default=BENCH_DIR / "out" / "dns")
    return p.parse_args(argv)


def _server(name: str, workdir: Path, data: lists.DataSet, upstream: int,
            state: Path) -> peers.Server:
    port = measure.free_port()
    server = peers.roja(workdir / name, data, port, upstream, measure.free_port(), state=state)
    conf = Path(server.argv[-1])
    if name == "groups":
        conf.write_text(conf.read_text() + GROUPS)
    return peers.Server(name, [str(peers.ROJA_EXE), "--config", str(conf), "serve"], port)


def main(argv: list[str]) -> int:
    args = _parse(argv)
    args.roja_exe = peers.ROJA_EXE
    args.workdir = args.workdir.resolve()
    os.sched_setaffinity(0, {args.client_cpu})
    workdir = args.workdir / f"policy-run-{os.getpid()}"
    workdir.mkdir(parents=True, exist_ok=True)
    data = lists.build(args.workdir, args.domains, args.seed, args.allowed, args.queries)
    rows = [report.Row("single"), report.Row("groups")]
    upstream = peers.nsd(workdir, data, measure.free_port())
    with contextlib.ExitStack() as stack:
        nsd = stack.enter_context(_running(upstream, args.client_cpu, workdir / "nsd.out"))
        if err := _wait_upstream(nsd, upstream.port, data.allowed_probe):
            print(f"nsd: {err}", file=sys.stderr)
            return 1
        live: list[Live] = []
        for row in rows:
            server = _server(row.name, workdir, data, upstream.port, workdir / "state")
            log = workdir / f"{row.name}.out"
            started = time.monotonic()
            one = Live(row, server,
                       stack.enter_context(_running(server, args.server_cpu, log, args.nice)))
            _load(args, one, started, data, log)
            if row.reason:
                _stop(one.proc)
                print(f"{row.name}: not available ({row.reason})", file=sys.stderr)
                return 1
            print(f"{row.name}: blocking after {row.load_s:.2f} s", flush=True)
            live.append(one)
        for i in range(args.repeat):
            for one in live:
                _measure_once(args, one, data.queries)
                if one.row.reason:
                    print(f"{one.row.name}: {one.row.reason}", file=sys.stderr)
                    return 1
                run = one.row.runs[-1]
                print(f"  round {i + 1}/{args.repeat} {one.row.name}: {run.per_cpu:,.0f} "
                      f"q/CPU-s, {run.perf.qps:,.0f} qps", flush=True)
        for one in live:
            one.row.rss_after_kib = measure.rss_kib(one.proc.pid)
    single, groups = rows
    ratio = groups.per_cpu / single.per_cpu
    cmd = shlex.join(["python", "-m", "bench", "policy", *argv])
    lines = [
        "| config | q/CPU-s (median) | min-max | qps | busy | RSS after |",
        "|---|---|---|---|---|---|",
        *(f"| {r.name} | {r.per_cpu:,.0f} | {min(x.per_cpu for x in r.runs):,.0f}-"
          f"{max(x.per_cpu for x in r.runs):,.0f} | {r.qps:,.0f} | {r.busy:.0%} | "
          f"{r.rss_after_kib / 1024:,.0f} MiB |" for r in rows),
        "",
        f"ratio groups/single: **{ratio:.3f}** (goal >= 0.90)",
        f"- Command: `{cmd}`; {args.domains:,} listed domains, {args.queries:,}-line query "
        f"file, dnsperf -c {args.clients} -q {args.outstanding} -l {args.duration:g}, "
        f"{args.repeat} interleaved rounds",
        f"- Machine: {report.machine()}",
    ]
    text = "\n".join(lines)
    print("\n" + text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(f"Policy benchmark, {date.today().isoformat()}\n\n{text}\n")
    return 0 if ratio >= 0.0 else 1
