"""Measuring helpers: free ports, /proc CPU and memory, readiness probe, dnsperf runs.

CPU time and RSS are summed over the server process and its descendants (``/proc/PID/stat``
already sums a process's threads), so a server that forks workers is measured whole.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import socket
import sqlite3
import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path

import dnslib

from dns_resolver.testing import free_port as free_port  # re-exported for the harnesses

CLK_TCK = os.sysconf("SC_CLK_TCK")
RCODE_NXDOMAIN = 3




def _stat_fields(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2 :].split()  # fields from 3 (state) on; comm may hold spaces


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if int(_stat_fields(int(entry.name))[1]) == pid:
                    kids.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return kids


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its live descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(_children(p))
    return out


def cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and its descendants, in seconds, including exited children.

    Per process: utime + stime + cutime + cstime (stat(5) fields 14-17); the last two hold
    children that have exited and been waited for (e.g. a list compiler run as a subprocess),
    which are no longer in the tree, so nothing is counted twice.
    """
    ticks = 0
    for p in process_tree(pid):
        try:
            f = _stat_fields(p)
        except OSError:
            continue
        ticks += sum(int(x) for x in f[11:15])
    return ticks / CLK_TCK


def rss_kib(pid: int) -> int:
    """VmRSS of ``pid`` and its descendants, in KiB."""
    total = 0
    for p in process_tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def query_rcode(port: int, name: str, timeout: float = 0.25) -> int | None:
    """Send one A query over UDP to 127.0.0.1:``port``; return its rcode, None if no answer."""
    q = dnslib.DNSRecord.question(name, "A")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.connect(("127.0.0.1", port))
            s.send(q.pack())
            while True:
                reply = dnslib.DNSRecord.parse(s.recv(4096))
                if reply.header.id == q.header.id:
                    return int(reply.header.rcode)
        except (TimeoutError, ConnectionRefusedError, dnslib.DNSError):
            return None


def wait_blocking(
    proc: subprocess.Popen[bytes], port: int, name: str, started: float, limit: float
) -> tuple[float, int]:
    """Poll until the server answers NXDOMAIN for the blocked ``name``.

    Returns the seconds since ``started`` (``time.monotonic()`` just before the process was
    spawned) and the peak RSS of the process tree seen while polling, in KiB (sampled every
    ~20 ms, so a short spike can be missed). Raises RuntimeError if the process exits or
    ``limit`` seconds pass first.
    """
    peak = 0
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with status {proc.returncode} before answering")
        peak = max(peak, rss_kib(proc.pid))
        if query_rcode(port, name) == RCODE_NXDOMAIN:
            return time.monotonic() - started, peak
        if time.monotonic() - started > limit:
            raise RuntimeError(f"no NXDOMAIN for a blocked name within {limit:.0f} s")
        time.sleep(0.02)


@dataclass(frozen=True)
class PerfResult:
    """The numbers we use from one dnsperf run."""

    sent: int
    completed: int
    lost: int
    qps: float
    run_time: float
    rcodes: dict[str, int]
    raw: str
    cpu_s: float = 0.0  # dnsperf's own CPU time (user + system)


def parse_dnsperf(text: str) -> PerfResult:
    """Parse dnsperf's final statistics block."""

    def num(label: str) -> float:
        m = re.search(rf"{label}:\s+([0-9.]+)", text)
        if not m:
            raise ValueError(f"dnsperf output has no {label!r}:\n{text}")
        return float(m.group(1))

    rcodes: dict[str, int] = {}
    m = re.search(r"Response codes:\s+(.*)", text)
    if m:
        for code, count in re.findall(r"([A-Z]+) (\d+)", m.group(1)):
            rcodes[code] = int(count)
    return PerfResult(
        sent=int(num("Queries sent")),
        completed=int(num("Queries completed")),
        lost=int(num("Queries lost")),
        qps=num("Queries per second"),
        run_time=num(r"Run time \(s\)"),
        rcodes=rcodes,
        raw=text,
    )


def dnsperf(
    port: int,
    queries: Path,
    *,
    cpu: int,
    nice: int = 0,
    duration: float | None = None,
    max_runs: int | None = None,
    clients: int = 8,
    outstanding: int = 200,
) -> PerfResult:
    """Run dnsperf on ``cpu`` at niceness ``nice`` against 127.0.0.1:``port``, time-bounded."""
    argv = [
        "nice",
        "-n",
        str(nice),
        "taskset",
        "-c",
        str(cpu),
        "dnsperf",
        "-s",
        "127.0.0.1",
        "-p",
        str(port),
        "-d",
        str(queries),
        "-c",
        str(clients),
        "-q",
        str(outstanding),
        "-t",
        "2",
    ]
    if duration is not None:
        argv += ["-l", f"{duration:g}"]
    if max_runs is not None:
        argv += ["-n", str(max_runs)]
    limit = (duration or 120) + 60
    # dnsperf's CPU: the only child that ends during the run (nice and taskset exec it), so the
    # growth of the terminated children's rusage is its own
    before = _children_cpu()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=limit, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"dnsperf failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return replace(parse_dnsperf(done.stdout), cpu_s=_children_cpu() - before)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def incidents_kept(store: Path) -> tuple[int, int]:
    """(blocked answers counted in Roja's incident store, blocked answers it dropped because its
    writer's queue was full, as recorded in its `incidents_dropped` events), read after the
    server stopped (a stop writes what it held)."""
    if not store.is_file():
        return 0, 0
    with contextlib.closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as db:
        counted = db.execute("SELECT COALESCE(SUM(count), 0) FROM incidents").fetchone()[0]
        dropped = db.execute("SELECT COALESCE(SUM(CAST(detail AS INTEGER)), 0) FROM events "
                             "WHERE kind = 'incidents_dropped'").fetchone()[0]
    return int(counted), int(dropped)


def steal_seconds(cores: set[int]) -> float:
    """Time stolen from ``cores`` by the hypervisor so far (``/proc/stat`` steal column)."""
    names = {f"cpu{c}" for c in cores}
    total = 0
    for line in Path("/proc/stat").read_text().splitlines():
        f = line.split()
        if f[0] in names:
            total += int(f[8])
    return total / CLK_TCK
