"""The proxy benchmark's tables: medians over the rounds, ratios against the reference row
of each part (direct, or squid + squidGuard for the whole filter) and the goal of issue 5."""

from __future__ import annotations

import argparse
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.proxy.measure import Sample

GOAL = 0.5


@dataclass
class Results:
    args: argparse.Namespace
    steered_requests: int
    rows: dict[str, dict[str, list[Sample]]] = field(default_factory=dict)
    loads: list[float] = field(default_factory=list)

    def add(self, part: str, name: str, sample: Sample) -> None:
        self.rows.setdefault(part, {}).setdefault(name, []).append(sample)


def median(xs: list[float]) -> float:
    s = sorted(xs)
    return s[len(s) // 2] if s else 0.0


def _bad(runs: list[Sample]) -> str:
    bad = sum(s.bad for s in runs)
    return f"{bad} of {sum(s.n for s in runs)}" if bad else "0"


def report(r: Results) -> list[str]:
    a = r.args
    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    cpu_model = next((line.split(":", 1)[1].strip() for line in cpuinfo
                      if line.startswith("model name")), platform.machine())
    out = [f"proxy benchmark, {time.strftime('%Y-%m-%d %H:%M %Z')}, {cpu_model}, "
           f"{os.cpu_count()} cores; load average (1 min) during the run: "
           + ", ".join(f"{x:.2f}" for x in r.loads),
           f"list: {a.domains:,} blocked domains + 2,000 URL entries; {a.rounds} interleaved "
           "rounds, medians", ""]
    http = r.rows.get("http", {})
    if http:
        out += [f"### Plain HTTP ({a.requests:,} requests, `curl -Z --parallel-max "
                f"{a.concurrency}`, "
                "a host with URL entries, allowed path)", "",
                "| through | requests/s | CPU ms / request | CPU vs squid+squidGuard | "
                "failed |", "|---|---|---|---|---|"]
        ref = median([s.cpu_ms_each for s in http.get("squid 5.7 + squidGuard 1.6", [])])
        for name, runs in http.items():
            cpu = median([s.cpu_ms_each for s in runs])
            out.append(f"| {name} | {median([s.rate for s in runs]):,.0f} | {cpu:.3f} | "
                       f"{cpu / ref if ref else 0:.2f}× | {_bad(runs)} |")
        out.append("")
    tunnel = r.rows.get("tunnel", {})
    if tunnel:
        out += [f"### One {a.mib} MiB HTTPS download through an allowed tunnel (curl)", "",
                "| path | MB/s | vs direct | proxy CPU ms / MB | failed |",
                "|---|---|---|---|---|"]
        ref = median([s.rate for s in tunnel.get("direct", [])])
        for name, runs in tunnel.items():
            rate = median([s.rate for s in runs])
            per_mb = median([1e9 * s.cpu / s.n for s in runs if s.n])
            out.append(f"| {name} | {rate / 1e6:,.0f} | {rate / ref if ref else 0:.2f}× | "
                       f"{per_mb:.2f} | {_bad(runs)} |")
        out.append("")
    tls = r.rows.get("tls", {})
    if tls:
        out += [f"### New TLS connections ({a.connections} per run, one GET each)", "",
                "| path | connections/s | CPU ms / connection | failed |", "|---|---|---|---|"]
        for name, runs in tls.items():
            out.append(f"| {name} | {median([s.rate for s in runs]):,.0f} | "
                       f"{median([s.cpu_ms_each for s in runs]):.2f} | {_bad(runs)} |")
        out.append("")
    out += whole_table(r)
    return out


def whole_table(r: Results) -> list[str]:
    rows = r.rows.get("whole", {})
    if not rows:
        return []
    a = r.args
    per_k = {name: median([1e6 * s.cpu / s.n for s in runs]) for name, runs in rows.items()}
    squid = per_k.get("squid + squidGuard, every request", 0.0)
    out = [f"### Whole filter ({a.requests:,} requests over {a.hosts:,} hosts, "
           f"{a.steered:.0%} with URL entries: {r.steered_requests} steered requests)", "",
           "| filter | CPU ms / 1,000 requests | per round | requests/s | vs squid+squidGuard "
           "| failed |", "|---|---|---|---|---|---|"]
    for name, runs in rows.items():
        rounds = ", ".join(f"{1e6 * s.cpu / s.n:,.0f}" for s in runs)
        out.append(f"| {name} | {per_k[name]:,.0f} | {rounds} | "
                   f"{median([s.rate for s in runs]):,.0f} | "
                   f"{per_k[name] / squid if squid else 0:.2f}× | {_bad(runs)} |")
    roja = per_k.get("Roja, DNS steering + proxy (whole filter)")
    if roja is not None and squid:
        ratio = roja / squid
        out += ["", f"whole filter: Roja {ratio:.2f}× squid+squidGuard (goal ≤ {GOAL:.2f}×: "
                f"{'met' if ratio <= GOAL else 'NOT met'})"]
    return out
