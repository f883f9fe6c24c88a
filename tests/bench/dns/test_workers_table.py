"""`python -m bench dns`: system names with thread counts, core placement, and the issue 21
ratios the workers table prints (pure parts; the whole run is `--workers-table`)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
from dataclasses import replace
from pathlib import Path

from bench.dns import report
from bench.dns.measure import PerfResult
from bench.dns.run import cpus, place, system_names
from bench.dns.workers import ratios


def args(systems: str, workers: int = 1) -> argparse.Namespace:
    return argparse.Namespace(systems=systems, workers=workers, server_cpu=None,
                              client_cpu=None, clients=None)


def test_names_take_a_thread_count_and_workers_fills_it_in() -> None:
    assert system_names(args("dnsmasq,unbound:2,roja")) == ["dnsmasq", "unbound:2", "roja"]
    assert system_names(args("dnsmasq,unbound,roja,roja:1", workers=2)) == [
        "dnsmasq", "unbound:2", "roja:2", "roja"]
    assert "unknown system" in str(system_names(args("bind")))
    assert "unknown system" in str(system_names(args("roja:0")))


def test_several_threads_share_every_core_with_dnsperf() -> None:
    every = cpus(",".join(str(c) for c in os.sched_getaffinity(0)))
    one = args("dnsmasq,roja")
    place(one, ["dnsmasq", "roja"])
    assert (one.server_cpu, one.client_cpu, one.clients) == ("1", "0", 8)
    two = args("roja:2")
    place(two, ["roja:2"])
    assert cpus(two.server_cpu) == cpus(two.client_cpu) == every
    assert two.clients == 256  # enough source ports for SO_REUSEPORT to spread evenly
    assert cpus("0-2,5") == {0, 1, 2, 5}


def row(name: str, per_cpu: float, qps: float) -> report.Row:
    perf = PerfResult(sent=int(qps), completed=int(qps), lost=0, qps=qps, run_time=1.0,
                      rcodes={}, raw="")
    return report.Row(name, runs=[report.Run(perf, qps / per_cpu, 0.0)])


def test_ratios_against_the_targets() -> None:
    mix = [row("dnsmasq", 20_000, 20_000), row("roja", 16_000, 15_000),
           row("roja:2", 15_000, 27_000), row("unbound", 90_000, 60_000),
           row("unbound:2", 90_000, 110_000)]
    misses = [row("dnsmasq", 18_000, 18_000), row("roja", 6_000, 6_000)]
    lines = [r.line() for r in ratios(mix, misses, 2)]
    assert lines[0] == ("roja 1 worker / dnsmasq, q/CPU-s, blocked/allowed: 0.800× "
                        "(target ≥ 0.80×) met / arritur")
    assert lines[1] == ("roja 2 workers / 1 worker, qps: 1.800× (target ≥ 1.70×) "
                        "met / arritur")
    assert lines[3] == ("roja 1 worker / dnsmasq, q/CPU-s, misses: 0.333× (target ≥ 0.35×) "
                        "NOT met / pa arritur")
    assert "unbound 2 threads / 1 thread, qps (reference): 1.833×" in lines


def test_what_the_cores_allow_when_dnsperf_shares_them() -> None:
    """Two workers at one worker's q/CPU-s, with dnsperf spending 14 µs per query on the same
    cores: at most C / (1/e + d) qps. A worker exactly at the per-core target (0.8 × dnsmasq's
    20,000 = 16,000 q/CPU-s) can then reach at most 2 / (1 + 0.224) = 1.63× on two cores."""
    cores = min(2, len(os.sched_getaffinity(0)))
    many = row("roja:2", 15_000, 27_000)
    many.runs[0] = report.Run(replace(many.runs[0].perf, cpu_s=27_000 * 14e-6), 1.8, 0.0)
    mix = [row("dnsmasq", 20_000, 20_000), row("roja", 16_000, 15_000), many]
    lines = [r.line() for r in ratios(mix, [], 2)]
    most = cores / (1 / 16_000 + 14e-6)
    assert (f"roja 2 workers / 1 worker, qps, the most these cores allow at one worker's "
            f"16,000 q/CPU-s (dnsperf 14.0 µs/query): {min(2, most / 15_000):.3f}×") in lines
    assert f"roja 2 workers, qps / that most: {27_000 / most:.3f}×" in lines
    assert (f"the most 2 workers / 1 worker, qps, can be on {cores} cores shared with dnsperf "
            f"(14.0 µs/query) for a worker exactly at the per-core target (16,000 q/CPU-s): "
            f"{cores / (1 + 14e-6 * 16_000):.3f}×") in lines


def test_incidents_roja_dropped_are_read_from_its_store_and_noted(tmp_path: Path) -> None:
    """The benchmark says when Roja's writer could not keep up: the blocked answers its store
    counts, and those its queue's bound dropped (its `incidents_dropped` events)."""
    from bench.dns.measure import incidents_kept

    store = tmp_path / "incidents.sqlite"
    assert incidents_kept(store) == (0, 0)
    with contextlib.closing(sqlite3.connect(store)) as db, db:
        db.execute("CREATE TABLE incidents (count INTEGER)")
        db.execute("CREATE TABLE events (at REAL, kind TEXT, detail TEXT)")
        db.executemany("INSERT INTO incidents VALUES (?)", [(3,), (1,)])
        db.executemany("INSERT INTO events VALUES (0, ?, ?)",
                       [("incidents_dropped", "2"), ("incidents_dropped", "10"), ("stop", "")])
    assert incidents_kept(store) == (4, 12)
    kept = row("roja", 16_000, 15_000)
    kept.incidents_counted, kept.incidents_dropped = 4, 12
    assert "incidents dropped 75% (writer queue full)" in kept.notes()
    assert "incidents dropped" not in row("roja", 16_000, 15_000).notes()
