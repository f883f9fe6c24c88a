"""`python -m bench inbox --attack`: /healthz and the month dashboard while 4 clients guess
passwords.

The inbox (`reporting.inbox.app.serve`) runs in its own process over a data set of N schools
× M months built by `bench.inbox.run.populate`. A probe in this process, logged in as the
ministry from 127.0.0.2, measures the median latency of `/healthz` and of the ministry's month
dashboard, first with nobody else (idle), then while 4 attacker processes, each from its own
loopback address (127.0.0.20-23), send login attempts as fast as the server answers them: the
login page, then a wrong password for one of 5,000 names (real ones among them), round and
round: so a throttle per name alone never stops it.
Goal: under attack ≤ 2 × idle. The attackers run at `nice 19`: on a real network their CPU is
not the server's, so here they take only what the server and the probe leave.

`--compare DIR` runs the same rounds against the inbox code in DIR (e.g. an export of the old
main: `git archive main | tar -x -C DIR`), alternating old and new, since the machine may be
shared: each round gives both the same conditions.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import httpx

ATTACKERS = 4
NAMES = ["masr", "berat", "vlora", "admin", "zyra.tirane"] + [f"zyra{i}" for i in range(5000)]
SERVE = ("import sys\nfrom pathlib import Path\nfrom reporting.inbox.app import serve\n"
         "from reporting.inbox.config import InboxConfig\n"
         "serve(InboxConfig(host='127.0.0.1', port=0, data_dir=Path(sys.argv[1])),\n"
         "      lambda url: print(url, flush=True))\n")
PROBE = "127.0.0.2"


def build(data_dir: Path, schools: int, months: int) -> int:
    from bench.inbox.run import populate
    from reporting.inbox import auth
    from reporting.inbox.store import DB_FILE, Store, User

    with Store(data_dir / DB_FILE) as store:
        count = populate(store, schools, months, random.Random(8))
        store.put_user(User("masr", "ministry", "", "", auth.hash_password("bench-masr-1")))
    return count


def start_server(source: Path, data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ, PYTHONPATH=str(source))
    proc = subprocess.Popen([sys.executable, "-c", SERVE, str(data_dir)], cwd=source, env=env,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise RuntimeError(f"the inbox from {source} did not start")
    return proc, url


def attacker(url: str, source: str, stop: Event, out: Any) -> None:
    """Guess passwords until `stop`; puts "ready" after the first answer, then the counts."""
    os.nice(19)
    rng = random.Random(source)
    seen: Counter[int] = Counter()
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(base_url=url, timeout=60, transport=transport) as c:
        while not stop.is_set():
            if sum(seen.values()) == 1:
                out.put("ready")
            try:
                page = c.get("/hyr").text
                csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
                r = c.post("/hyr", data={"csrf": csrf, "name": rng.choice(NAMES),
                                         "password": f"guess-{rng.random()}"})
                seen[r.status_code] += 1
            except (httpx.HTTPError, IndexError):
                seen[0] += 1
    out.put(dict(seen))


def probe(client: httpx.Client, dashboard: str, seconds: float) -> dict[str, list[float]]:
    """For `seconds`: /healthz four times, then the dashboard once, round and round (ms)."""
    times: dict[str, list[float]] = {"healthz": [], "dashboard": []}
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        for name, path in (("healthz", "/healthz"),) * 4 + (("dashboard", dashboard),):
            t0 = time.perf_counter()
            client.get(path).raise_for_status()
            times[name].append((time.perf_counter() - t0) * 1000)
    return times


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def one_round(source: Path, data_dir: Path, period: str, seconds: float,
              warmup: float) -> dict[str, Any]:
    proc, url = start_server(source, data_dir)
    ctx = mp.get_context("spawn")
    try:
        with httpx.Client(base_url=url, timeout=120,
                          transport=httpx.HTTPTransport(local_address=PROBE)) as c:
            from bench.inbox.run import login
            login(c, "masr", "bench-masr-1")
            dash = f"/muaji/{period}"
            probe(c, dash, 1.0)
            idle = probe(c, dash, seconds / 2)
            stop, out = ctx.Event(), ctx.Queue()
            procs = [ctx.Process(target=attacker, args=(url, f"127.0.0.{20 + i}", stop, out))
                     for i in range(ATTACKERS)]
            for p in procs:
                p.start()
            for _ in procs:
                assert out.get(timeout=300) == "ready"
            time.sleep(warmup)
            t0 = time.perf_counter()
            attack = probe(c, dash, seconds)
            seconds = time.perf_counter() - t0
            stop.set()
            seen: Counter[int] = Counter()
            for _ in procs:
                seen.update(out.get(timeout=300))
            for p in procs:
                p.join()
    finally:
        proc.terminate()
        proc.wait(30)
    return {"idle": idle, "attack": attack, "answers": dict(seen), "seconds": seconds}


def main(argv: list[str]) -> int:
    import argparse

    from bench.inbox.run import LAST

    ap = argparse.ArgumentParser(prog="python -m bench inbox --attack")
    ap.add_argument("--attack", action="store_true")
    ap.add_argument("--schools", type=int, default=1800)
    ap.add_argument("--months", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=20.0, help="measured seconds under "
                    "attack (idle: half as long)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=0.0, help="seconds of attack before "
                    "measuring (0: from the first guess on)")
    ap.add_argument("--compare", type=Path, help="the old inbox code's directory")
    args = ap.parse_args(argv)
    here = Path(__file__).resolve().parents[2]
    sources = [("new", here)] + ([("old", args.compare.resolve())] if args.compare else [])
    with tempfile.TemporaryDirectory(prefix="roja-bench-attack-") as tmp:
        data = Path(tmp)
        t0 = time.perf_counter()
        reports = build(data, args.schools, args.months)
        print(f"data: {args.schools:,} schools × {args.months} months = {reports:,} reports, "
              f"built in "
              f"{time.perf_counter() - t0:.0f} s; load average {os.getloadavg()[0]:.1f}")
        print("median (p95) in ms, idle → under attack; ratio of the medians")
        ratios: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in sources}
        for r in range(args.rounds):
            order = sources if r % 2 == 0 else sources[::-1]
            for name, source in order:
                res = one_round(source, data, LAST, args.seconds, args.warmup)
                cells, pair = [], []
                for what in ("healthz", "dashboard"):
                    i, a = res["idle"][what], res["attack"][what]
                    ratio = statistics.median(a) / statistics.median(i)
                    pair.append(ratio)
                    cells.append(f"{what} {statistics.median(i):.1f} ({p95(i):.0f}) → "
                                 f"{statistics.median(a):.1f} ({p95(a):.0f}) = {ratio:.2f}×")
                ratios[name].append((pair[0], pair[1]))
                rate = sum(res["answers"].values()) / (res["seconds"] + args.warmup)
                print(f"round {r + 1} {name}: {'; '.join(cells)}; attackers got "
                      f"{res['answers']} (~{rate:.0f}/s); load {os.getloadavg()[0]:.1f}",
                      flush=True)
        for name, values in ratios.items():
            print(f"{name}: median ratio under attack / idle: healthz "
                  f"{statistics.median(v[0] for v in values):.2f}×, dashboard "
                  f"{statistics.median(v[1] for v in values):.2f}× (goal ≤ 2×)")
    return 0
