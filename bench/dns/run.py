"""DNS benchmark harness: dnsperf against Roja, dnsmasq and unbound with one blocklist.

Run from the repository root::

    python -m bench dns                        # 1,000,000 blocked domains, 3 x 20 s per system
    python -m bench dns --domains 100000 --duration 10 --out bench/out/dns.md
    python -m bench dns --systems roja,dnsmasq --roja-exe /path/to/roja
    python -m bench dns --mix misses           # every query answered from upstream (TTL 0)
    python -m bench dns --workers 2            # Roja 2 workers vs unbound num-threads: 2
    python -m bench dns --systems roja,roja-base --base-exe /other/tree/roja   # side by side
    python -m bench dns --workers-table        # the issue 21 table and ratios (bench.dns.workers)

Systems: ``dnsmasq``, ``unbound``, ``roja`` and ``roja-base`` (``--base-exe``, another tree),
each optionally ``:N`` for N threads (unbound ``num-threads``) or workers (Roja ``dns.workers``,
SO_REUSEPORT); ``--workers N`` gives unbound and Roja N unless they say otherwise. When any
system runs more than one thread, every server and dnsperf share all cores (``taskset`` over
the process's own affinity), so compare ``q/CPU-s`` and ``qps`` there, not ``busy``.

Steps: generate (or reuse) the data under ``bench/out/dns/``; start NSD for ``bench.test.``;
start each system in turn pinned to ``--server-cpu`` (``taskset -c 1``), timing its load from
spawning the process until it answers NXDOMAIN for a listed name, then warm its cache with a
short unmeasured dnsperf run. Then ``--repeat`` rounds, each running dnsperf (pinned to
``--client-cpu``) for ``--duration`` seconds against every system in turn, so slow drift in the
machine hits all systems alike. Idle servers stay up between their runs; they use no CPU.

Reported per system (medians over the rounds):

* ``q/CPU-s``: answered queries divided by the server's CPU time during the run (utime+stime
  from ``/proc/PID/stat`` over the process tree); ``ratio`` is that relative to dnsmasq;
* ``qps``: answered queries per wall-clock second as dnsperf saw them, and ``busy``: server CPU
  time / run time (below 100% means dnsperf, not the server, was the limit);
* ``RSS``: VmRSS of the process tree, peak while loading (sampled every ~20 ms, including a
  list-compiler child), when ready, and after all runs;
* ``load``: wall seconds from spawning until it blocks, and the CPU seconds the server (with
  exited children) used by then, which is steadier.

Only 127.0.0.1 is ever addressed. A Roja that is missing or fails to start yields a
"not available" row and the peers are still measured.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bench.dns import lists, measure, peers, report

BENCH_DIR = Path(__file__).resolve().parents[1]
SYSTEMS = ("dnsmasq", "unbound", "roja", "roja-base")
DEFAULT_SYSTEMS = "dnsmasq,unbound,roja"
PROGRAMS = ("dnsperf", "taskset", "nsd", "dnsmasq", "unbound")


@dataclass
class Live:
    """A started server and where its results go."""

    row: report.Row
    server: peers.Server
    proc: subprocess.Popen[bytes]


def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench dns", description=__doc__.split("\n")[0])
    p.add_argument("--domains", type=int, default=1_000_000, help="blocked domains (1000000)")
    p.add_argument("--duration", type=float, default=20.0, help="seconds per measured run (20)")
    p.add_argument("--repeat", type=int, default=3, help="measured runs per system (3)")
    p.add_argument("--warmup", type=float, default=3.0, help="unmeasured warm-up seconds (3)")
    p.add_argument("--systems", default=DEFAULT_SYSTEMS,
                   help="comma list of NAME or NAME:N (%(default)s); NAME one of "
                        + ", ".join(SYSTEMS))
    p.add_argument("--workers", type=int, default=1,
                   help="threads/workers for unbound and Roja without their own :N (1)")
    p.add_argument("--base-exe", type=Path, help="roja executable of another tree (roja-base)")
    p.add_argument("--workers-table", action="store_true",
                   help="issue 21: dnsmasq, unbound 1/N threads, Roja 1/N workers on the "
                        "blocked/allowed mix, then dnsmasq, unbound and Roja on --mix misses "
                        "(--miss-domains), all sharing every core; prints the ratios against "
                        "the targets")
    p.add_argument("--miss-domains", type=int, default=100_000,
                   help="list size for the misses part of --workers-table (100000)")
    p.add_argument("--out", type=Path, help="also write a Markdown report to this file")
    p.add_argument("--seed", type=int, default=1, help="data seed (1)")
    p.add_argument("--allowed", type=int, default=1000, help="names in bench.test. (1000)")
    p.add_argument("--queries", type=int, default=200_000, help="dnsperf input lines (200000)")
    p.add_argument("--clients", type=int,
                   help="dnsperf -c (8; 256 when a system runs several threads)")
    p.add_argument("--outstanding", type=int, default=200, help="dnsperf -q (200)")
    p.add_argument("--server-cpu", help="cores for the servers, taskset list (1; all when "
                   "a system runs several threads)")
    p.add_argument("--client-cpu", help="cores for dnsperf, NSD and the harness (0; all when "
                   "a system runs several threads)")
    p.add_argument("--nice", type=int, default=-10, help="niceness of server and dnsperf (-10)")
    p.add_argument("--load-limit", type=float, default=600.0, help="max load seconds (600)")
    p.add_argument("--roja-exe", type=Path, default=peers.ROJA_EXE, help="roja executable")
    p.add_argument("--workdir", type=Path, default=BENCH_DIR / "out" / "dns", help="scratch")
    p.add_argument("--mix", choices=("blocked-allowed", "misses"), default="blocked-allowed",
                   help="half blocked, half cached allowed names (default), or every query a "
                        "new name answered from upstream with TTL 0 (misses)")
    args = p.parse_args(argv)
    return args


def split(name: str) -> tuple[str, int]:
    """``roja:2`` → (``roja``, 2); ``dnsmasq`` → (``dnsmasq``, 1)."""
    kind, _, n = name.partition(":")
    return kind, int(n) if n else 1


def system_names(args: argparse.Namespace) -> list[str] | str:
    """The systems to run, with ``--workers`` applied; an error text when one is unknown."""
    out = []
    for raw in (s.strip() for s in args.systems.split(",")):
        if not raw:
            continue
        kind, _, n = raw.partition(":")
        if kind not in SYSTEMS or (n and not n.isdigit()) or n == "0":
            return f"unknown system {raw!r}; choose from {SYSTEMS}, optionally NAME:N"
        if not n and kind != "dnsmasq" and args.workers > 1:
            n = str(args.workers)
        out.append(f"{kind}:{n}" if n and n != "1" else kind)
    return out


def place(args: argparse.Namespace, names: list[str]) -> None:
    """Fill in ``--server-cpu``/``--client-cpu``: one core each, or all cores shared when a
    system runs several threads (dnsperf then competes with the servers for the cores)."""
    shared = any(split(n)[1] > 1 for n in names)
    every = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
    if args.server_cpu is None:
        args.server_cpu = every if shared else "1"
    if args.client_cpu is None:
        args.client_cpu = every if shared else "0"
    if args.clients is None:
        # SO_REUSEPORT spreads queries by source port: 8 dnsperf sockets split 5/3 or worse
        # between two workers most of the time, starving one (measured with 2 workers:
        # 13,107-13,987 q/CPU-s at -c 8, 17,772-19,582 at -c 256). Many clients, as at an ISP.
        args.clients = 256 if shared else 8


def cpus(text: int | str) -> set[int]:
    """A taskset list (``0``, ``0,1``, ``0-3``) as a set of core numbers."""
    out: set[int] = set()
    for part in str(text).split(","):
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop one process we started: SIGTERM, then SIGKILL after 10 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@contextlib.contextmanager
def _running(
    server: peers.Server, cpu: int | str, log: Path, nice: int = 0
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``server`` pinned to ``cpu`` with output to ``log``; stop it (by PID) on exit."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["nice", "-n", str(nice), "taskset", "-c", str(cpu), *server.argv],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
    finally:
        _stop(proc)


def _log_tail(log: Path, lines: int = 3) -> str:
    try:
        tail = log.read_text(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return ""
    return " | ".join(t.strip() for t in tail)


def _perf(args: argparse.Namespace, port: int, queries: Path, seconds: float) -> measure.PerfResult:
    return measure.dnsperf(
        port,
        queries,
        cpu=args.client_cpu,
        nice=args.nice,
        duration=seconds,
        clients=args.clients,
        outstanding=args.outstanding,
    )


def _load(
    args: argparse.Namespace, live: Live, started: float, data: lists.DataSet, log: Path
) -> None:
    """Time the load, record RSS, check that an allowed name resolves, warm the cache."""
    row, port = live.row, live.server.port
    try:
        row.load_s, row.rss_load_peak_kib = measure.wait_blocking(
            live.proc, port, data.blocked_probe, started, args.load_limit
        )
    except RuntimeError as e:
        tail = _log_tail(log)
        row.reason = f"{e}{': ' + tail if tail else ''}"
        return
    row.load_cpu_s = measure.cpu_seconds(live.proc.pid)
    row.rss_ready_kib = measure.rss_kib(live.proc.pid)
    for _ in range(20):  # the first allowed answer goes upstream; give it a moment
        if measure.query_rcode(port, data.allowed_probe, timeout=0.5) == 0:
            break
    else:
        row.reason = f"no NOERROR answer for the allowed name {data.allowed_probe}"
        return
    try:
        _perf(args, port, _queries(args, data), args.warmup)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        row.reason = f"warm-up failed: {e}"


def _queries(args: argparse.Namespace, data: lists.DataSet) -> Path:
    return data.miss_queries if args.mix == "misses" else data.queries


def _measure_once(args: argparse.Namespace, live: Live, queries: Path) -> None:
    """One measured dnsperf run, with the server's CPU time read from /proc around it."""
    pid, core = live.proc.pid, args.server_cpu
    cpu0, steal0 = measure.cpu_seconds(pid), measure.steal_seconds(cpus(core))
    try:
        perf = _perf(args, live.server.port, queries, args.duration)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        live.row.reason = f"dnsperf failed: {e}"
        return
    cpu1, steal1 = measure.cpu_seconds(pid), measure.steal_seconds(cpus(core))
    live.row.runs.append(report.Run(perf, cpu1 - cpu0, steal1 - steal0))
    if live.proc.poll() is not None:
        live.row.reason = f"exited with status {live.proc.returncode} during the run"


def _server_for(
    name: str, args: argparse.Namespace, data: lists.DataSet, workdir: Path, upstream: int
) -> peers.Server:
    port = measure.free_port()
    kind, n = split(name)
    if kind == "dnsmasq":
        return peers.dnsmasq(workdir, data, port, upstream)
    if kind == "unbound":
        return peers.unbound(workdir, data, port, upstream, threads=n)
    server = peers.roja(workdir, data, port, upstream, measure.free_port(), workers=n,
                        name=name)
    config = server.argv[-1]
    exe = str(_exe(args, name))
    # The contract is ``roja serve --config FILE``; the CLI may take --config on the group.
    help_text = subprocess.run(
        [exe, "serve", "--help"], capture_output=True, text=True, timeout=60, check=False
    ).stdout
    if "--config" in help_text:
        return peers.Server(server.name, [exe, "serve", "--config", config], port)
    return peers.Server(server.name, [exe, "--config", config, "serve"], port)


def _exe(args: argparse.Namespace, name: str) -> Path:
    """The roja executable for ``roja`` or ``roja-base`` (``--base-exe``)."""
    if split(name)[0] == "roja-base":
        return Path(args.base_exe) if args.base_exe else Path("/nonexistent/--base-exe")
    return Path(args.roja_exe)


def _wait_upstream(proc: subprocess.Popen[bytes], port: int, name: str) -> str:
    """Wait up to 10 s for NSD to answer ``name``; return an error text or ''."""
    for _ in range(200):
        if proc.poll() is not None:
            return f"exited with status {proc.returncode}"
        if measure.query_rcode(port, name) == 0:
            return ""
        time.sleep(0.05)
    return "no answer within 10 s"


def _bench(
    args: argparse.Namespace, names: list[str], data: lists.DataSet, workdir: Path
) -> list[report.Row] | None:
    """Start NSD and the systems, measure, stop everything; None if NSD fails."""
    rows = [report.Row(name) for name in names]
    upstream = peers.nsd(workdir, data, measure.free_port())
    with contextlib.ExitStack() as stack:
        # NSD at dnsperf's priority: in the miss mix it answers every query on the same core
        nsd = stack.enter_context(
            _running(upstream, args.client_cpu, workdir / "nsd.out", args.nice))
        if err := _wait_upstream(nsd, upstream.port, data.allowed_probe):
            print(f"nsd: {err}: {_log_tail(workdir / 'nsd.out')}", file=sys.stderr)
            return None
        live: list[Live] = []
        for row in rows:
            if row.name.startswith("roja") and not os.access(_exe(args, row.name), os.X_OK):
                row.reason = f"{_exe(args, row.name)} not found or not executable"
                print(f"{row.name}: not available ({row.reason})", flush=True)
                continue
            server = _server_for(row.name, args, data, workdir, upstream.port)
            log = workdir / f"{row.name}.out"
            started = time.monotonic()
            one = Live(
                row, server, stack.enter_context(_running(server, args.server_cpu, log, args.nice))
            )
            _load(args, one, started, data, log)
            if row.reason:
                _stop(one.proc)  # never leave a half-started server on the measured core
                print(f"{row.name}: not available ({row.reason})", flush=True)
                continue
            print(
                f"{row.name}: blocking after {row.load_s:.2f} s, "
                f"RSS {row.rss_ready_kib / 1024:,.0f} MiB",
                flush=True,
            )
            live.append(one)
        for i in range(args.repeat):
            for one in live:
                if one.row.reason:
                    continue
                _measure_once(args, one, _queries(args, data))
                if one.row.reason:
                    _stop(one.proc)
                    print(f"{one.row.name}: not available ({one.row.reason})", flush=True)
                    continue
                run = one.row.runs[-1]
                print(
                    f"  round {i + 1}/{args.repeat} {one.row.name}: "
                    f"{run.per_cpu:,.0f} q/CPU-s, {run.perf.qps:,.0f} qps",
                    flush=True,
                )
        for one in live:
            if not one.row.reason:
                one.row.rss_after_kib = measure.rss_kib(one.proc.pid)
    for row in rows:  # the servers have stopped and written what they held
        if row.name.startswith("roja") and not row.reason:
            store = peers.roja_state(workdir, row.name) / "incidents.sqlite"
            row.incidents_counted, row.incidents_dropped = measure.incidents_kept(store)
    return rows


@dataclass
class Result:
    """One measured mix: its rows and the text printed and written for it."""

    rows: list[report.Row]
    plain: str
    markdown: str


def measure_mix(args: argparse.Namespace, names: list[str], argv: list[str]) -> Result | None:
    """Build the data, run every system on ``args.mix``, print the table; None if NSD fails."""
    workdir = args.workdir / f"run-{os.getpid()}-{args.mix}-{args.domains}"
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    data = lists.build(args.workdir, args.domains, args.seed, args.allowed, args.queries)
    print(f"data: {data.dir} ({time.monotonic() - t0:.1f} s)", flush=True)
    rows = _bench(args, names, data, workdir)
    if rows is None:
        return None
    exes = [_exe(args, n) for n in names if n.startswith("roja")]
    versions = report.versions(next((e for e in exes if os.access(e, os.X_OK)), None))
    if args.base_exe and any(n.startswith("roja-base") for n in names):
        versions.append(f"roja-base: {args.base_exe}")
    cmd = shlex.join(["python", "-m", "bench", "dns", *argv])
    shared = bool(cpus(args.server_cpu) & cpus(args.client_cpu))
    setup = (
        f"mix {args.mix}; {args.domains:,} blocked domains, {args.allowed} allowed names, "
        f"{args.queries:,}-line query file; dnsperf -c {args.clients} -q {args.outstanding} "
        f"-l {args.duration:g}, {args.repeat} interleaved runs per system after a "
        f"{args.warmup:g} s warm-up; servers on cores {args.server_cpu}, dnsperf on cores "
        f"{args.client_cpu}, both at nice {args.nice}"
    )
    caveats = report.caveats(args.mix, shared=shared)
    plain = (f"{report.table(rows, markdown=False)}\n\n"
             f"command: {cmd}\nsetup: {setup}\nmachine: {report.machine()}\n"
             f"versions: {'; '.join(versions)}\ncaveats:\n"
             + "".join(f"  - {c}\n" for c in caveats))
    markdown = (f"{report.table(rows, markdown=True)}\n\n"
                f"- Command: `{cmd}`\n- Setup: {setup}\n- Machine: {report.machine()}\n"
                f"- Versions: {'; '.join(versions)}\n"
                + "".join(f"- Caveat: {c}\n" for c in caveats))
    print()
    print(plain, end="")
    return Result(rows, plain, markdown)


def prepare(argv: list[str]) -> tuple[argparse.Namespace, list[str]] | int:
    """Parse, check the programs and systems, place the processes; an exit status on error."""
    args = _parse(argv)
    if missing := [
        p for p in PROGRAMS if not shutil.which(p) and not Path("/usr/sbin", p).exists()
    ]:
        print(f"missing programs: {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.workers_table:
        n = args.workers if args.workers > 1 else len(os.sched_getaffinity(0))
        args.systems = f"dnsmasq,unbound,unbound:{n},roja,roja:{n}"
        if args.base_exe:
            args.systems += f",roja-base,roja-base:{n}"
        args.workers = 1
    names = system_names(args)
    if isinstance(names, str):
        print(names, file=sys.stderr)
        return 2
    place(args, names)
    args.workdir = args.workdir.resolve()  # servers chdir (unbound) and need absolute paths
    os.sched_setaffinity(0, cpus(args.client_cpu))  # keep the harness off the server's core
    return args, names


def main(argv: list[str]) -> int:
    """Run the benchmark; return a process exit status."""
    ready = prepare(argv)
    if isinstance(ready, int):
        return ready
    args, names = ready
    if args.workers_table:
        from bench.dns import workers

        return workers.run(args, names, argv, measure_mix)
    result = measure_mix(args, names, argv)
    if result is None:
        return 1
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(f"DNS benchmark, {date.today().isoformat()}\n\n{result.markdown}")
        print(f"wrote {args.out}")
    return 0
