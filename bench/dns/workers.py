"""``python -m bench dns --workers-table``: issue 21's whole comparison in one command.

Two parts, every server and dnsperf sharing all cores (``taskset`` over the harness's own
affinity, so dnsperf competes with the servers, as on a real ISP box):

1. the blocked/allowed mix (``--domains``, 1,000,000 by default): dnsmasq, unbound with 1 and N
   threads, Roja with 1 and N workers (N = ``--workers`` or every usable core);
2. ``--mix misses`` (``--miss-domains``, 100,000): dnsmasq, unbound and Roja with one worker.

Then the ratios against the targets: one worker ≥ 0.8× dnsmasq per CPU-second on the mix,
N workers ≥ 0.85·N× one worker in qps (1.7× for two), misses ≥ 0.35× dnsmasq per CPU-second.
With ``--base-exe`` another tree's Roja (``roja-base``) runs in the same rounds, side by side.

And what the cores allow. dnsperf's own CPU per query ``d`` is measured (its rusage); N workers
that keep one worker's efficiency ``e`` (q/CPU-s) on C cores shared with dnsperf answer at most
``C / (1/e + d)`` qps, so their ratio to one worker (``busy₁ · e`` qps, busy₁ ≥ 1 core when it
is saturated) is at most ``C / (busy₁ · (1 + d·e))``. For a worker exactly at the per-core
target (``e`` = 0.8 × dnsmasq, busy₁ = 1) that is ``C / (1 + 0.8·d·e_dnsmasq)``: the scaling
target is out of reach whenever this is below it, whatever the server.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from bench.dns import report
from bench.dns.run import Result, split

PER_CORE_TARGET = 0.8  # one worker / dnsmasq, q/CPU-s, blocked/allowed mix
SCALING_TARGET = 0.85  # N workers / one worker, qps, per extra core (1.7× for two)
MISSES_TARGET = 0.35  # one worker / dnsmasq, q/CPU-s, misses


@dataclass(frozen=True)
class Ratio:
    """One line of the summary: what is compared, the value and its target."""

    what: str
    value: float
    target: float | None

    def line(self) -> str:
        if self.target is None:
            return f"{self.what}: {self.value:.3f}×"
        verdict = "met / arritur" if self.value >= self.target else "NOT met / pa arritur"
        return f"{self.what}: {self.value:.3f}× (target ≥ {self.target:.2f}×) {verdict}"


def _row(rows: list[report.Row], name: str) -> report.Row | None:
    return next((r for r in rows if r.name == name and r.runs and not r.reason), None)


def ratios(mix: list[report.Row], misses: list[report.Row], n: int) -> list[Ratio]:
    """The summary lines that can be computed from what was measured."""
    out: list[Ratio] = []
    dnsmasq = _row(mix, "dnsmasq")
    for roja in ("roja", "roja-base"):
        one, many = _row(mix, roja), _row(mix, f"{roja}:{n}")
        if one and dnsmasq:
            out.append(Ratio(f"{roja} 1 worker / dnsmasq, q/CPU-s, blocked/allowed",
                             one.per_cpu / dnsmasq.per_cpu, PER_CORE_TARGET))
        if one and many:
            out.append(Ratio(f"{roja} {n} workers / 1 worker, qps", many.qps / one.qps,
                             SCALING_TARGET * n))
            out.append(Ratio(f"{roja} {n} workers / 1 worker, q/CPU-s",
                             many.per_cpu / one.per_cpu, None))
            out += _cores_bound(roja, n, one, many)
        miss_one, miss_dnsmasq = _row(misses, roja), _row(misses, "dnsmasq")
        if miss_one and miss_dnsmasq:
            out.append(Ratio(f"{roja} 1 worker / dnsmasq, q/CPU-s, misses",
                             miss_one.per_cpu / miss_dnsmasq.per_cpu, MISSES_TARGET))
    many = _row(mix, f"roja:{n}")
    if dnsmasq and many and many.client_cpu_per_query:
        d, cores = many.client_cpu_per_query, _shared_cores(n)
        e = PER_CORE_TARGET * dnsmasq.per_cpu
        out.append(Ratio(f"the most {n} workers / 1 worker, qps, can be on {cores} cores shared "
                         f"with dnsperf ({1e6 * d:.1f} µs/query) for a worker exactly at the "
                         f"per-core target ({e:,.0f} q/CPU-s)", cores / (1 + d * e), None))
    u1, un = _row(mix, "unbound"), _row(mix, f"unbound:{n}")
    if u1 and un:
        out.append(Ratio(f"unbound {n} threads / 1 thread, qps (reference)", un.qps / u1.qps,
                         None))
    if many and un:
        out.append(Ratio(f"roja {n} workers / unbound {n} threads, qps", many.qps / un.qps,
                         None))
    return out


def _shared_cores(n: int) -> int:
    """The cores `n` workers and dnsperf share (every usable one, at most `n`)."""
    return min(n, len(os.sched_getaffinity(0)))


def _cores_bound(roja: str, n: int, one: report.Row, many: report.Row) -> list[Ratio]:
    """The most `n` workers could answer against one, at one worker's q/CPU-s, on the cores
    they share with dnsperf, and how near the measured `n` workers came to it."""
    d, e = many.client_cpu_per_query, one.per_cpu
    if not d or not e or not one.qps:
        return []
    cores = _shared_cores(n)
    most = cores / (1 / e + d)  # qps when servers and dnsperf fill every core
    return [Ratio(f"{roja} {n} workers / 1 worker, qps, the most these cores allow at one "
                  f"worker's {e:,.0f} q/CPU-s (dnsperf {1e6 * d:.1f} µs/query)",
                  min(n, most / one.qps), None),
            Ratio(f"{roja} {n} workers, qps / that most", many.qps / most, None)]


def run(args: argparse.Namespace, names: list[str], argv: list[str],
        measure_mix: Callable[[argparse.Namespace, list[str], list[str]], Result | None]) -> int:
    """Measure both parts and print (and with ``--out`` write) the tables and the ratios."""
    n = max(split(name)[1] for name in names)
    args.mix = "blocked-allowed"
    print(f"== 1/2: blocked/allowed mix, {args.domains:,} domains ==", flush=True)
    mix = measure_mix(args, names, argv)
    if mix is None:
        return 1
    misses_args = argparse.Namespace(**vars(args))
    misses_args.mix, misses_args.domains = "misses", args.miss_domains
    miss_names = [name for name in names if split(name)[1] == 1]
    print(f"\n== 2/2: --mix misses, {args.miss_domains:,} domains ==", flush=True)
    misses = measure_mix(misses_args, miss_names, argv)
    if misses is None:
        return 1
    lines = [r.line() for r in ratios(mix.rows, misses.rows, n)]
    print("\nratios (issue 21 targets):")
    print("".join(f"  {line}\n" for line in lines), end="")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            f"DNS workers table, {date.today().isoformat()}\n\n"
            f"Blocked/allowed mix, {args.domains:,} domains:\n\n{mix.markdown}\n"
            f"Misses, {args.miss_domains:,} domains:\n\n{misses.markdown}\n"
            "Ratios (issue 21 targets):\n\n" + "".join(f"- {line}\n" for line in lines))
        print(f"wrote {args.out}")
    return 0
