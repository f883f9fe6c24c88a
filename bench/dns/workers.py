"""``python -m bench dns --workers-table``: issue 21's whole comparison in one command.

Two parts, every server and dnsperf sharing all cores (``taskset`` over the harness's own
affinity, so dnsperf competes with the servers, as on a real ISP box):

1. the blocked/allowed mix (``--domains``, 1,000,000 by default): dnsmasq, unbound with 1 and N
   threads, Roja with 1 and N workers (N = ``--workers`` or every usable core);
2. ``--mix misses`` (``--miss-domains``, 100,000): dnsmasq, unbound and Roja with one worker.

Then the ratios against the targets: one worker ≥ 0.8× dnsmasq per CPU-second on the mix,
N workers ≥ 0.85·N× one worker in qps (1.7× for two), misses ≥ 0.35× dnsmasq per CPU-second.
With ``--base-exe`` another tree's Roja (``roja-base``) runs in the same rounds, side by side.
"""

from __future__ import annotations

import argparse
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
        miss_one, miss_dnsmasq = _row(misses, roja), _row(misses, "dnsmasq")
        if miss_one and miss_dnsmasq:
            out.append(Ratio(f"{roja} 1 worker / dnsmasq, q/CPU-s, misses",
                             miss_one.per_cpu / miss_dnsmasq.per_cpu, MISSES_TARGET))
    u1, un = _row(mix, "unbound"), _row(mix, f"unbound:{n}")
    if u1 and un:
        out.append(Ratio(f"unbound {n} threads / 1 thread, qps (reference)", un.qps / u1.qps,
                         None))
    many = _row(mix, f"roja:{n}")
    if many and un:
        out.append(Ratio(f"roja {n} workers / unbound {n} threads, qps", many.qps / un.qps,
                         None))
    return out


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
