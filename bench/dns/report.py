"""Results of the DNS benchmark and their presentation (plain table and Markdown).

A :class:`Row` per system holds its load time, memory and the measured dnsperf runs; the table
shows medians over the runs and the spread of the main number, ``q/CPU-s``.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import statistics
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.dns import measure

MIX_CAVEAT = (
    "Mix: 50% blocked (4/5 listed names, 1/5 subdomains of listed names) and 50% allowed names"
    " from a 1000-name zone, cached after the warm-up; cache misses and upstream latency are not"
    " measured (`--mix misses` measures them). A queries only, no EDNS.")
MISSES_CAVEAT = (
    "Mix `misses`: every query a distinct name under miss.test., which NSD answers from a"
    " wildcard with TTL 0, so each is forwarded upstream by every system (a cache that keeps"
    " nothing); the upstream's CPU (NSD) is not counted. A queries only, no EDNS.")
CAVEATS = (
    "Each server is pinned to one core (taskset) and dnsperf to the other; multi-threaded modes"
    " (unbound num-threads, Roja SO_REUSEPORT workers) are not exercised.",
    "Loopback only: no NIC, interrupt or network latency costs; absolute qps are upper bounds.",
    "qps is capped by the single dnsperf core when a server is not saturated (busy < 100%);"
    " q/CPU-s compares efficiency independently of that cap.",
    MIX_CAVEAT,
    "Roja counts every blocked query in its incident store and keeps metrics (when its"
    " writer cannot keep up, the queue's bound drops incidents, counted: 'notes' says how many);"
    " dnsmasq and unbound log nothing here. RSS counts only the touched pages of a"
    " memory-mapped list, so compare 'RSS after' (after the runs touched listed names at"
    " random).",
    "A small VM (2 cores) that may be shared with other work: runs are interleaved across"
    " systems and the median is shown with the min-max of q/CPU-s; hypervisor steal on the"
    " server core is noted when above 1%.",
)
HEAD = (
    "system",
    "q/CPU-s",
    "(min-max)",
    "ratio",
    "qps",
    "busy",
    "RSS load peak",
    "RSS ready",
    "RSS after",
    "load",
    "NXDOMAIN",
    "notes",
)


@dataclass(frozen=True)
class Run:
    """One measured dnsperf run against one server."""

    perf: measure.PerfResult
    cpu_s: float  # server CPU time (process tree) during the run
    steal_s: float  # hypervisor steal on the server's core during the run

    @property
    def per_cpu(self) -> float:
        return self.perf.completed / self.cpu_s if self.cpu_s > 0 else 0.0


@dataclass
class Row:
    """One system's results; ``reason`` is set when it could not be measured."""

    name: str
    reason: str = ""
    load_s: float = 0.0
    load_cpu_s: float = 0.0
    rss_load_peak_kib: int = 0
    rss_ready_kib: int = 0
    rss_after_kib: int = 0
    runs: list[Run] = field(default_factory=list)
    incidents_counted: int = 0  # Roja: blocked answers its incident store counts
    incidents_dropped: int = 0  # Roja: blocked answers dropped, its writer's queue full

    @property
    def per_cpu(self) -> float:
        """Median answered queries per server CPU-second over the runs."""
        return _median([r.per_cpu for r in self.runs])

    @property
    def qps(self) -> float:
        return _median([r.perf.qps for r in self.runs])

    @property
    def client_cpu_per_query(self) -> float:
        """Median CPU seconds dnsperf spent per answered query (its own cost, which competes
        with the server's when they share cores)."""
        return _median([r.perf.cpu_s / r.perf.completed for r in self.runs
                        if r.perf.completed])

    @property
    def busy(self) -> float:
        return _median([r.cpu_s / max(r.perf.run_time, 1e-9) for r in self.runs])

    @property
    def nxdomain(self) -> float:
        done = sum(r.perf.completed for r in self.runs)
        return sum(r.perf.rcodes.get("NXDOMAIN", 0) for r in self.runs) / max(done, 1)

    def notes(self) -> str:
        """Anything that makes the numbers less trustworthy: odd rcodes, losses, steal."""
        out: list[str] = []
        rcodes: dict[str, int] = {}
        for r in self.runs:
            for k, v in r.perf.rcodes.items():
                rcodes[k] = rcodes.get(k, 0) + v
        if other := {k: v for k, v in rcodes.items() if k not in ("NOERROR", "NXDOMAIN")}:
            out.append(f"unexpected rcodes {other}")
        lost, sent = sum(r.perf.lost for r in self.runs), sum(r.perf.sent for r in self.runs)
        if lost:
            out.append(f"lost {lost}/{sent:,}")
        steal, wall = sum(r.steal_s for r in self.runs), sum(r.perf.run_time for r in self.runs)
        if wall and steal / wall > 0.01:
            out.append(f"steal {100 * steal / wall:.0f}%")
        if self.incidents_dropped:
            share = self.incidents_dropped / (self.incidents_dropped + self.incidents_counted)
            out.append(f"incidents dropped {100 * share:.0f}% (writer queue full)")
        return "; ".join(out)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _cells(row: Row, base: float) -> list[str]:
    if row.reason or not row.runs:
        return [f"{row.name}: not available ({row.reason or 'no runs'})"] + [""] * (len(HEAD) - 1)
    lo, hi = min(r.per_cpu for r in row.runs), max(r.per_cpu for r in row.runs)
    return [
        row.name,
        f"{row.per_cpu:,.0f}",
        f"{lo:,.0f}-{hi:,.0f}",
        f"{row.per_cpu / base:.2f}×" if base else "-",
        f"{row.qps:,.0f}",
        f"{100 * row.busy:.0f}%",
        f"{row.rss_load_peak_kib / 1024:,.0f} MiB",
        f"{row.rss_ready_kib / 1024:,.0f} MiB",
        f"{row.rss_after_kib / 1024:,.0f} MiB",
        f"{row.load_s:.1f} s ({row.load_cpu_s:.1f} CPU-s)",
        f"{100 * row.nxdomain:.1f}%",
        row.notes(),
    ]


def table(rows: list[Row], *, markdown: bool) -> str:
    """The results as an aligned plain-text table or a Markdown table."""
    base = next((r.per_cpu for r in rows if r.name == "dnsmasq" and r.runs), 0.0)
    body = [_cells(r, base) for r in rows]
    if markdown:
        lines = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
        lines += ["| " + " | ".join(c.replace("|", "/") for c in b) + " |" for b in body]
        return "\n".join(lines)
    measured = [b for b in body if b[1]]
    widths = [max([len(HEAD[i])] + [len(b[i]) for b in measured]) for i in range(len(HEAD))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(HEAD, widths, strict=True)).rstrip()]
    for b in body:
        cells = zip(b, widths, strict=True)
        lines.append("  ".join(c.ljust(w) for c, w in cells).rstrip() if b[1] else b[0])
    return "\n".join(lines)


def machine() -> str:
    """CPU model, core count and kernel."""
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores, Linux {platform.release()}"


def _first_line(argv: list[str], startswith: str = "") -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    for line in (out.stdout + out.stderr).splitlines():
        if line.strip() and line.startswith(startswith):
            return line.strip()
    return "?"


def versions(roja_exe: Path | None) -> list[str]:
    """Versions of the programs involved (Roja's only when given)."""
    out = [
        "dnsperf " + _first_line(["dnsperf", "-h"], "Version").split()[-1],
        _first_line(["dnsmasq", "--version"]).split("  ")[0],
        "unbound " + _first_line(["unbound", "-V"], "Version").split()[-1],
        _first_line(["nsd", "-v"], "NSD"),
    ]
    if roja_exe is not None:
        out.append(roja_version())
    return out


def roja_version() -> str:
    """Roja's package version and the repository's commit (``git describe --dirty``)."""
    try:
        version = importlib.metadata.version("roja")
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    repo = Path(__file__).resolve().parents[2]
    commit = _first_line(["git", "-C", str(repo), "describe", "--always", "--dirty"])
    return f"roja {version} (git {commit})"


SHARED_CAVEAT = (
    "Servers and dnsperf share every core (a system runs several threads): dnsperf's own CPU"
    " competes with the server's, so qps is what is left for the server; q/CPU-s counts only"
    " the server's CPU. 'busy' above 100% means more than one core.")


def caveats(mix: str, shared: bool = False) -> tuple[str, ...]:
    """The caveats printed with a run of `mix` (`blocked-allowed` or `misses`); `shared`:
    servers and dnsperf on the same cores instead of one each."""
    out = list(CAVEATS)
    if mix == "misses":
        out = [MISSES_CAVEAT if c == MIX_CAVEAT else c for c in out]
    if shared:
        out[0] = SHARED_CAVEAT
    return tuple(out)
