"""Compiled-list benchmark (issue 4): Roja's compiled list at millions of domains.

Run from the repository root::

    python -m bench lists                          # 5,000,000 domains against 10,000
    python -m bench lists --domains 1000000 --duration 5 --out bench/out/lists-1m.md
    python -m bench lists --real                   # the real filter lists (bench.lists.real)

With the generated list of ``bench.dns.lists`` (``--domains`` names, cached under
``bench/out/dns/`` and shared with ``python -m bench dns``) it measures, in one run:

a. **compile**: ``blocklists.store.build_active`` on a fresh state dir, in a child process
   (``bench.lists.compile``) pinned to ``--server-cpu``: wall and CPU seconds of the call,
   including the compiler process it spawns, and the peak RSS of that process tree (its own
   ``VmHWM`` and the compiler's ``ru_maxrss``, not ``wait4``'s, which includes ours);
b. **startup**: ``roja serve`` with that compile already present (it must reuse it: the harness
   checks the file was not rewritten), from spawning until it answers NXDOMAIN for a listed
   name; RSS when ready and after a ``--duration`` dnsperf run of blocked names;
c. **peers**: dnsmasq (``address=/d/``) and unbound (``local-zone: "d." always_nxdomain``) with
   the same list: load time and RSS the same way, and one dnsperf run of the same names;
d. **lookups**: three more Roja instances with ``answer_cache_size = 0``, so that every
   blocked query goes through the compiled list, each with a fresh state dir: one with the first
   ``--small`` names of the list (10,000) and two with the big compile (hard links to it).
   ``--repeat`` interleaved rounds of dnsperf runs of blocked names only (4/5 listed names, 1/5
   subdomains of listed names), each instance first in turn: the small instance with names of
   its list, one big instance with names drawn from the whole big list, the other with the
   small instance's file (those names are listed in both), and a second small instance with the
   small file as a control for the noise between processes. The ratio of answered queries per
   server CPU-second, big against small, is the figure the issue bounds (within 10%). Beside
   it, the cost of ``CompiledList.lookup`` alone for the same names, in-process
   (``bench.lists.probe``).

Targets (issue 4, "Compiled store"): RSS <= 150 MB, startup <= 3 s, compile <= 60 s at
5,000,000 domains; lookups within 10% of a 10,000-entry list. Only 127.0.0.1 is addressed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bench.dns import lists, measure, peers, report
from bench.dns.run import Live, _log_tail, _measure_once, _perf, _running, _stop, _wait_upstream

BENCH_DIR = Path(__file__).resolve().parents[1]
REPO = BENCH_DIR.parent
PROGRAMS = ("dnsperf", "taskset", "nsd", "dnsmasq", "unbound")
PEERS = ("dnsmasq", "unbound")
NO_ANSWER_CACHE = "answer_cache_size = 0\n"

RSS_TARGET_MB = 150.0
STARTUP_TARGET_S = 3.0
COMPILE_TARGET_S = 60.0
LOOKUP_TARGET = 0.90

CAVEATS = (
    "The compile has just written the list, so Roja starts with it in the page cache; from a"
    " cold disk it would read only the pages that lookups touch (the file is memory-mapped, not"
    " loaded).",
    "Roja's RSS includes the touched pages of the memory-mapped list: file-backed, shared by"
    " every worker and the proxy, and reclaimable; 'RSS after' follows random lookups across"
    " the whole list.",
    "Lookup throughput is measured with answer_cache_size = 0 so that every blocked query"
    " consults the compiled list; with the default answer cache, repeated names are answered"
    " without touching the list. Each blocked query also writes an incident, which is a large"
    " share of its cost in both instances. 'lookup alone' is CompiledList.lookup in a plain"
    " Python loop over the same names (best of 3 passes, no DNS, no incidents): the list's own"
    " share of a query's cost.",
    "Startup is measured with the compile present and current (the normal restart); a first"
    " start or a list change adds the compile time, in a child process while the old list"
    " keeps serving on reload.",
    "Peers: one dnsperf run each with the same blocked names, for context; their load time is"
    " from spawning to the first NXDOMAIN for a listed name, as in bench/dns.",
    "One core per server (taskset), dnsperf on the other; loopback only; a shared 2-core VM, so"
    " expect +-10-15% noise between runs (runs are interleaved, medians shown).",
)


@dataclass
class Compile:
    """One timed ``build_active`` in a child process."""

    wall_s: float = 0.0  # the build_active call
    cpu_s: float = 0.0  # the same, CPU of the process and its waited-for compiler child
    proc_wall_s: float = 0.0  # the whole child process, interpreter start-up included
    proc_cpu_s: float = 0.0
    peak_kib: int = 0  # peak RSS of the compile: its VmHWM or its compiler child's ru_maxrss
    entries: int = 0
    file_bytes: int = 0
    reused: bool = False
    reason: str = ""


def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench lists", description=__doc__.split("\n")[0])
    p.add_argument("--domains", type=int, default=5_000_000, help="big list size (5000000)")
    p.add_argument("--small", type=int, default=10_000, help="small list size (10000)")
    p.add_argument("--queries", type=int, default=200_000, help="blocked query lines (200000)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per dnsperf run (10)")
    p.add_argument("--repeat", type=int, default=5, help="interleaved lookup rounds (5)")
    p.add_argument("--warmup", type=float, default=5.0, help="unmeasured warm-up seconds (5)")
    p.add_argument("--peers", default=",".join(PEERS), help="comma list, '' for none (%(default)s)")
    p.add_argument("--out", type=Path, help="also write a Markdown report to this file")
    p.add_argument("--seed", type=int, default=1, help="data seed (1)")
    p.add_argument("--allowed", type=int, default=1000, help="names in bench.test. (1000)")
    p.add_argument("--dns-queries", type=int, default=200_000,
                   help="mixed query lines of the shared bench/dns data set (200000)")
    p.add_argument("--clients", type=int, default=8, help="dnsperf -c (8)")
    p.add_argument("--outstanding", type=int, default=200, help="dnsperf -q (200)")
    p.add_argument("--server-cpu", type=int, default=1, help="core for servers, compile (1)")
    p.add_argument("--client-cpu", type=int, default=0, help="core for dnsperf, NSD, us (0)")
    p.add_argument("--nice", type=int, default=-10, help="niceness of servers and dnsperf (-10)")
    p.add_argument("--load-limit", type=float, default=900.0, help="max load seconds (900)")
    p.add_argument("--workdir", type=Path, default=BENCH_DIR / "out" / "dns", help="scratch")
    return p.parse_args(argv)


def blocked_queries(data: lists.DataSet, n: int, seed: int) -> Path:
    """A dnsperf file of ``n`` blocked names of ``data``'s list (cached in its directory):
    4/5 listed names, 1/5 random subdomains of listed names, shuffled; distinct listed names
    as far as the list allows."""
    path = data.dir / f"blocked-q{n}-s{seed}.txt"
    if path.exists():
        return path
    blocked = data.domains.read_text().split()
    rng = random.Random(seed + 2)
    n_sub = n // 5
    sample = rng.sample(blocked, min(n, len(blocked)))
    while len(sample) < n:
        sample.append(rng.choice(blocked))
    del blocked
    names = [f"{name}." for name in sample[: n - n_sub]]
    names += [f"{lists._label(rng, 1, 6)}.{name}." for name in sample[n - n_sub :]]
    rng.shuffle(names)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(f"{name} A\n" for name in names))
    tmp.replace(path)
    return path


def compile_lists(args: argparse.Namespace, config: Path, log: Path) -> Compile:
    """Run ``bench.lists.compile`` for ``config`` pinned to the server core; wait4 for it."""
    argv = ["nice", "-n", str(args.nice), "taskset", "-c", str(args.server_cpu),
            sys.executable, "-m", "bench.lists.compile", str(config)]
    result = Compile()
    started = time.monotonic()
    with log.open("wb") as err, tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=REPO)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        result.proc_wall_s = time.monotonic() - started
        result.proc_cpu_s = usage.ru_utime + usage.ru_stime
        out.seek(0)
        text = out.read().decode(errors="replace").strip()
    if proc.returncode != 0 or not text:
        tail = _log_tail(log)
        result.reason = f"compile exited with status {proc.returncode}: {tail}"
        return result
    got = json.loads(text.splitlines()[-1])
    result.wall_s, result.cpu_s = got["wall_s"], got["cpu_s"]
    result.entries, result.reused = got["entries"], got["reused"]
    result.file_bytes = got["file_bytes"]
    result.peak_kib = int(got["peak_kib"])  # not usage.ru_maxrss: it holds this process's peak
    return result


def raw_lookup(args: argparse.Namespace, compiled: Path, queries: Path) -> tuple[float, float]:
    """(µs per ``CompiledList.lookup``, share of names matched) for a query file's names, in a
    child pinned to the server core; (0, 0) if it failed."""
    argv = ["nice", "-n", str(args.nice), "taskset", "-c", str(args.server_cpu),
            sys.executable, "-m", "bench.lists.probe", str(compiled), str(queries)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False,
                          cwd=REPO)
    if done.returncode != 0:
        print(f"lookup probe failed: {done.stderr.strip()[-300:]}", file=sys.stderr)
        return 0.0, 0.0
    got = json.loads(done.stdout.strip().splitlines()[-1])
    return float(got["us_per_lookup"]), float(got["hit_share"])


@dataclass
class Memory:
    """Where a process tree's RSS is, in KiB: private (anonymous) memory, file-backed pages, and
    of those the pages of the memory-mapped compiled list."""

    rss: int = 0
    anon: int = 0
    file: int = 0
    list: int = 0


def memory(pid: int, marker: str = "lists.compiled") -> Memory:
    """RSS of ``pid`` and its descendants, split by kind (``/proc/PID/status``, ``smaps``)."""
    m = Memory()
    for p in measure.process_tree(pid):
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in ("VmRSS", "RssAnon", "RssFile"):
                    kib = int(value.split()[0])
                    if key == "VmRSS":
                        m.rss += kib
                    elif key == "RssAnon":
                        m.anon += kib
                    else:
                        m.file += kib
            in_list = False
            for line in Path(f"/proc/{p}/smaps").read_text().splitlines():
                fields = line.split()
                if fields and "-" in fields[0] and not fields[0].endswith(":"):
                    in_list = marker in line  # a mapping's first line names its file
                elif in_list and fields and fields[0] == "Rss:":
                    m.list += int(fields[1])
    return m


def _file_id(path: Path) -> tuple[int, int] | None:
    with contextlib.suppress(OSError):
        st = path.stat()
        return st.st_ino, st.st_mtime_ns
    return None


def _start(
    stack: contextlib.ExitStack, args: argparse.Namespace, name: str, server: peers.Server,
    probe: str, run_dir: Path, mem: dict[str, dict[str, Memory]],
) -> Live:
    """Start ``server`` pinned to the server core and time it until it blocks ``probe``."""
    row = report.Row(name)
    log = run_dir / f"{name.replace(' ', '-')}.out"
    started = time.monotonic()
    proc = stack.enter_context(_running(server, args.server_cpu, log, args.nice))
    live = Live(row, server, proc)
    try:
        row.load_s, row.rss_load_peak_kib = measure.wait_blocking(
            proc, server.port, probe, started, args.load_limit)
    except RuntimeError as e:
        tail = _log_tail(log)
        row.reason = f"{e}{': ' + tail if tail else ''}"
        _stop(proc)
        print(f"{name}: not available ({row.reason})", flush=True)
        return live
    row.load_cpu_s = measure.cpu_seconds(proc.pid)
    row.rss_ready_kib = measure.rss_kib(proc.pid)
    mem.setdefault(name, {})["ready"] = memory(proc.pid)
    print(f"{name}: blocking after {row.load_s:.2f} s ({row.load_cpu_s:.2f} CPU-s), "
          f"RSS {row.rss_ready_kib / 1024:,.0f} MiB", flush=True)
    return live


def _one_run(args: argparse.Namespace, live: Live, queries: Path,
             mem: dict[str, dict[str, Memory]]) -> None:
    """One measured dnsperf run; RSS afterwards; a line of progress."""
    if live.row.reason:
        return
    _measure_once(args, live, queries)
    if live.row.reason:
        _stop(live.proc)
        print(f"{live.row.name}: not available ({live.row.reason})", flush=True)
        return
    live.row.rss_after_kib = measure.rss_kib(live.proc.pid)
    mem.setdefault(live.row.name, {})["after"] = memory(live.proc.pid)
    run = live.row.runs[-1]
    print(f"  {live.row.name}: {run.per_cpu:,.0f} q/CPU-s, {run.perf.qps:,.0f} qps, "
          f"RSS {live.row.rss_after_kib / 1024:,.0f} MiB", flush=True)


@dataclass
class Results:
    big: Compile
    small: Compile
    roja: report.Row  # default config, the big list
    recompiled: bool  # roja serve rewrote the compile instead of reusing it
    peers: list[report.Row]
    lookup_small: report.Row  # small list, its own names
    lookup_big: report.Row  # big list, names from the whole list
    lookup_big_same: report.Row  # big list, the small list's query file
    lookup_control: report.Row  # small list again, another process: the noise between processes
    raw: dict[str, tuple[float, float]]  # row name -> (µs per in-process lookup, hit share)
    memory: dict[str, dict[str, Memory]]  # row name -> "ready"/"after" -> RSS split


def _bench(args: argparse.Namespace, data: lists.DataSet, small: lists.DataSet,
           q_big: Path, q_small: Path, run_dir: Path) -> Results | None:
    upstream = peers.nsd(run_dir, data, measure.free_port())
    big_state = run_dir / "state-big"

    def roja(sub: str, ds: lists.DataSet, state: Path, extra: str = "") -> peers.Server:
        return peers.roja(run_dir / sub, ds, measure.free_port(), upstream.port,
                          measure.free_port(), state=state, dns_extra=extra)

    roja_default = roja("roja-big", data, big_state)
    # (d) runs each instance on a state dir of its own (its own incident database), the big
    # ones with a hard link to the big compile (the same file, so the same page-cache pages).
    d_states = [run_dir / f"state-d{i}" for i in range(4)]
    roja_small = roja("roja-small-nocache", small, d_states[0], NO_ANSWER_CACHE)
    roja_big = roja("roja-big-nocache", data, d_states[1], NO_ANSWER_CACHE)
    roja_big_same = roja("roja-big-nocache-same", data, d_states[2], NO_ANSWER_CACHE)
    roja_control = roja("roja-small-nocache-control", small, d_states[3], NO_ANSWER_CACHE)
    config = Path(roja_default.argv[-1])

    print(f"(a) compiling {data.n_domains:,} domains into a fresh {big_state} ...", flush=True)
    big = compile_lists(args, config, run_dir / "compile-big.out")
    if big.reason:
        print(big.reason, file=sys.stderr)
        return None
    print(f"    {big.wall_s:.1f} s wall, {big.cpu_s:.1f} CPU-s, peak RSS "
          f"{big.peak_kib / 1024:,.0f} MiB, {big.entries:,} entries, "
          f"{big.file_bytes / 2**20:,.0f} MiB file", flush=True)
    small_c = compile_lists(args, Path(roja_small.argv[-1]), run_dir / "compile-small.out")
    if small_c.reason:
        print(small_c.reason, file=sys.stderr)
        return None
    print(f"    small list: {small_c.wall_s:.2f} s, {small_c.entries:,} entries", flush=True)
    for state in d_states[1:3]:
        os.link(big_state / "lists.compiled", state / "lists.compiled")
    os.link(d_states[0] / "lists.compiled", d_states[3] / "lists.compiled")

    active = big_state / "lists.compiled"
    mem: dict[str, dict[str, Memory]] = {}
    small_name, big_name = f"roja {small.n_domains:,}", f"roja {data.n_domains:,}"
    raw = {
        small_name: raw_lookup(args, d_states[0] / "lists.compiled", q_small),
        big_name: raw_lookup(args, active, q_big),
        f"{big_name} (small file)": raw_lookup(args, active, q_small),
    }
    print("    in-process lookup: " + ", ".join(
        f"{name} {us:.2f} µs ({100 * hit:.0f}% hits)" for name, (us, hit) in raw.items()),
        flush=True)
    with contextlib.ExitStack() as stack:
        nsd = stack.enter_context(_running(upstream, args.client_cpu, run_dir / "nsd.out"))
        if err := _wait_upstream(nsd, upstream.port, data.allowed_probe):
            print(f"nsd: {err}: {_log_tail(run_dir / 'nsd.out')}", file=sys.stderr)
            return None

        print("(b) Roja startup with the compile present", flush=True)
        before = _file_id(active)
        with contextlib.ExitStack() as one:
            live = _start(one, args, "roja", roja_default, data.blocked_probe, run_dir, mem)
            recompiled = _file_id(active) != before
            _one_run(args, live, q_big, mem)
        roja_row = live.row

        print("(c) peers with the same list", flush=True)
        peer_rows = []
        for name in [p.strip() for p in args.peers.split(",") if p.strip()]:
            make = peers.dnsmasq if name == "dnsmasq" else peers.unbound
            server = make(run_dir, data, measure.free_port(), upstream.port)
            with contextlib.ExitStack() as one:
                live = _start(one, args, name, server, data.blocked_probe, run_dir, mem)
                _one_run(args, live, q_big, mem)
            peer_rows.append(live.row)

        print("(d) lookups: big list against small list, answer cache off", flush=True)
        small_live = _start(stack, args, small_name, roja_small, small.blocked_probe, run_dir,
                            mem)
        big_live = _start(stack, args, big_name, roja_big, data.blocked_probe, run_dir, mem)
        big_same = _start(stack, args, f"{big_name} (small file)", roja_big_same,
                          data.blocked_probe, run_dir, mem)
        control = _start(stack, args, f"{small_name} (second instance)", roja_control,
                         small.blocked_probe, run_dir, mem)
        runs = [(small_live, q_small), (big_live, q_big), (big_same, q_small),
                (control, q_small)]
        for live, queries in runs:
            if not live.row.reason:
                with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                    _perf(args, live.server.port, queries, args.warmup)
        for i in range(args.repeat):
            print(f"  round {i + 1}/{args.repeat}", flush=True)
            for live, queries in runs[i % 4:] + runs[: i % 4]:  # each goes first in turn
                _one_run(args, live, queries, mem)
    return Results(big, small_c, roja_row, recompiled, peer_rows, small_live.row,
                   big_live.row, big_same.row, control.row, raw, mem)


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def _mb(kib: int) -> float:
    return kib * 1024 / 1e6


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if a and b else "-"


def targets_table(r: Results, n: int, n_small: int) -> list[list[str]]:
    """Rows: what, measured, target, met."""
    rows = [["what", "measured", "target", "met"]]
    c = r.big
    rows.append([f"compile {n:,} domains", f"{c.wall_s:.1f} s wall, {c.cpu_s:.1f} CPU-s "
                 f"(peak RSS {_mib(c.peak_kib)})", f"<= {COMPILE_TARGET_S:.0f} s",
                 _yes(c.wall_s <= COMPILE_TARGET_S and c.cpu_s <= COMPILE_TARGET_S)])
    roja = r.roja
    if roja.reason:
        rows.append(["Roja startup", f"not available ({roja.reason})", "", "NO"])
    else:
        note = "; RECOMPILED at startup" if r.recompiled else ""
        rows.append(["Roja startup load", f"{roja.load_s:.2f} s ({roja.load_cpu_s:.2f} CPU-s)"
                     + note, f"<= {STARTUP_TARGET_S:.0f} s",
                     _yes(roja.load_s <= STARTUP_TARGET_S and not r.recompiled)])
        for label, kib in (("Roja RSS after load", roja.rss_ready_kib),
                           ("Roja RSS after dnsperf", roja.rss_after_kib)):
            rows.append([label, f"{_mib(kib)} ({_mb(kib):,.0f} MB)",
                         f"<= {RSS_TARGET_MB:.0f} MB", _yes(0 < _mb(kib) <= RSS_TARGET_MB)])
    base = r.lookup_small.per_cpu
    for row, what in ((r.lookup_big, "names across the big list"),
                      (r.lookup_big_same, "the small list's names")):
        ok = bool(base and row.per_cpu and row.per_cpu / base >= LOOKUP_TARGET)
        rows.append([f"lookups {n:,} vs {n_small:,} ({what})",
                     f"{_ratio(row.per_cpu, base)} ({row.per_cpu:,.0f} vs {base:,.0f} q/CPU-s)",
                     f">= {LOOKUP_TARGET:.2f}×", _yes(ok)])
    ctl = r.lookup_control.per_cpu
    rows.append([f"noise control: a second {n_small:,} instance", f"{_ratio(ctl, base)} "
                 f"({ctl:,.0f} vs {base:,.0f} q/CPU-s)", "(1.00×)", "-"])
    return rows


def systems_table(r: Results) -> list[list[str]]:
    head = ["system", "load", "RSS load peak", "RSS ready", "RSS after", "blocked q/CPU-s",
            "NXDOMAIN", "RSS after vs Roja", "load vs Roja"]
    rows = [head]
    roja = r.roja
    for row in [roja, *r.peers]:
        if row.reason or not row.runs:
            rows.append([f"{row.name}: not available ({row.reason or 'no runs'})"]
                        + [""] * (len(head) - 1))
            continue
        rows.append([
            row.name,
            f"{row.load_s:.2f} s ({row.load_cpu_s:.1f} CPU-s)",
            _mib(row.rss_load_peak_kib),
            _mib(row.rss_ready_kib),
            _mib(row.rss_after_kib),
            f"{row.per_cpu:,.0f}",
            f"{100 * row.nxdomain:.1f}%",
            _ratio(row.rss_after_kib, roja.rss_after_kib) if not roja.reason else "-",
            _ratio(row.load_s, roja.load_s) if not roja.reason else "-",
        ])
    return rows


def lookup_table(r: Results) -> list[list[str]]:
    head = ["instance", "q/CPU-s", "(min-max)", "vs small", "qps", "busy", "RSS after",
            "NXDOMAIN", "lookup alone", "notes"]
    rows = [head]
    base = r.lookup_small.per_cpu
    for row in (r.lookup_small, r.lookup_big, r.lookup_big_same, r.lookup_control):
        if row.reason or not row.runs:
            rows.append([f"{row.name}: not available ({row.reason or 'no runs'})"]
                        + [""] * (len(head) - 1))
            continue
        lo, hi = min(x.per_cpu for x in row.runs), max(x.per_cpu for x in row.runs)
        rows.append([row.name, f"{row.per_cpu:,.0f}", f"{lo:,.0f}-{hi:,.0f}",
                     _ratio(row.per_cpu, base), f"{row.qps:,.0f}", f"{100 * row.busy:.0f}%",
                     _mib(row.rss_after_kib), f"{100 * row.nxdomain:.1f}%",
                     f"{r.raw[row.name][0]:.2f} µs" if r.raw.get(row.name, (0.0,))[0] else "-",
                     row.notes()])
    return rows


def memory_table(r: Results) -> list[list[str]]:
    rows = [["Roja instance", "when", "RSS", "anon (private)", "file-backed", "of which the list"]]
    for name, when in (("roja", "ready"), ("roja", "after"),
                       (r.lookup_small.name, "after"), (r.lookup_big.name, "after"),
                       (r.lookup_big_same.name, "after")):
        m = r.memory.get(name, {}).get(when)
        if m is None:
            continue
        label = "default config" if name == "roja" else f"{name}, answer cache off"
        rows.append([label, "after load" if when == "ready" else "after dnsperf",
                     _mib(m.rss), _mib(m.anon), _mib(m.file), _mib(m.list)])
    return rows


def render(rows: list[list[str]], *, markdown: bool) -> str:
    if markdown:
        out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        out += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in rows[1:]]
        return "\n".join(out)
    full = [row for row in rows if row[1]]
    widths = [max(len(row[i]) for row in full) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        if row is not rows[0] and not row[1]:
            out.append(row[0])
        else:
            out.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(out)


def main(argv: list[str]) -> int:
    """Run the benchmark; return a process exit status."""
    if "--real" in argv:  # the real filter lists: bench.lists.real
        from bench.lists import real

        return real.main(argv)
    args = _parse(argv)
    if missing := [
        p for p in PROGRAMS if not shutil.which(p) and not Path("/usr/sbin", p).exists()
    ]:
        print(f"missing programs: {', '.join(missing)}", file=sys.stderr)
        return 2
    if unknown := {p.strip() for p in args.peers.split(",") if p.strip()} - set(PEERS):
        print(f"unknown peers {sorted(unknown)}; choose from {PEERS}", file=sys.stderr)
        return 2
    if not os.access(peers.ROJA_EXE, os.X_OK):
        print(f"{peers.ROJA_EXE} not found or not executable", file=sys.stderr)
        return 2
    args.workdir = args.workdir.resolve()
    os.sched_setaffinity(0, {args.client_cpu})  # keep the harness off the server's core
    run_dir = args.workdir / f"lists-run-{os.getpid()}"
    run_dir.mkdir(parents=True, exist_ok=True)

    t0 = time.monotonic()
    data = lists.build(args.workdir, args.domains, args.seed, args.allowed, args.dns_queries)
    small = lists.build(args.workdir, args.small, args.seed, args.allowed, args.dns_queries)
    q_big = blocked_queries(data, args.queries, args.seed)
    q_small = blocked_queries(small, args.queries, args.seed)
    print(f"data: {data.dir}, {small.dir} ({time.monotonic() - t0:.1f} s)", flush=True)

    results = _bench(args, data, small, q_big, q_small, run_dir)
    if results is None:
        return 1
    n, n_small = data.n_domains, small.n_domains
    tables = [
        ("Targets", targets_table(results, n, n_small)),
        (f"Load and memory with {n:,} domains", systems_table(results)),
        ("Lookups (blocked names only, answer cache off)", lookup_table(results)),
        ("Where Roja's RSS is", memory_table(results)),
    ]
    cmd = shlex.join(["python", "-m", "bench", "lists", *argv])
    setup = (
        f"{n:,} and {n_small:,} generated domains (seed {args.seed}); compile file "
        f"{results.big.file_bytes / 2**20:,.0f} MiB ({results.big.entries:,} entries), compiler "
        f"process {results.big.proc_wall_s:.1f} s wall / {results.big.proc_cpu_s:.1f} CPU-s with "
        f"interpreter start-up; {args.queries:,}-line files of blocked names; dnsperf -c "
        f"{args.clients} -q {args.outstanding} -l {args.duration:g}; {args.repeat} interleaved "
        f"lookup rounds after a {args.warmup:g} s warm-up; servers and compile on core "
        f"{args.server_cpu}, dnsperf on core {args.client_cpu}, nice {args.nice}"
    )
    versions = report.versions(peers.ROJA_EXE)
    print()
    for title, rows in tables:
        print(f"{title}\n{render(rows, markdown=False)}\n")
    print(f"command: {cmd}\nsetup: {setup}\nmachine: {report.machine()}")
    print(f"versions: {'; '.join(versions)}\ncaveats:")
    print("".join(f"  - {c}\n" for c in CAVEATS), end="")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        body = "\n\n".join(f"{title}\n\n{render(rows, markdown=True)}" for title, rows in tables)
        args.out.write_text(
            f"Compiled-list benchmark, {date.today().isoformat()}\n\n{body}\n\n"
            f"- Command: `{cmd}`\n- Setup: {setup}\n- Machine: {report.machine()}\n"
            f"- Versions: {'; '.join(versions)}\n"
            + "".join(f"- Caveat: {c}\n" for c in CAVEATS)
        )
        print(f"wrote {args.out}")
    return 0
