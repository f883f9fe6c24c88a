"""`python -m bench reporting`: incident ingest rate and report build time at 1,000,000 incidents.

1. Ingest: `IncidentWriter.submit` of N incidents (distinct names, one client per 50 names,
   so most are new rows) in bursts of 1,000 with the event loop free between bursts, until the
   last one is committed: incidents per second, wall and process CPU. Goal ≥ 20,000/s.
2. Report: a real database with M incident rows spread over one month (written directly with
   executemany, the writer's schema), 500 manual incidents and a month of events; then
   `collect` + JSON + CSV + PDF for that month, timed. Goal ≤ 30 s at 1,000,000 rows.
No peer is named by the issue; the numbers are compared with the goals.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from reporting import report_csv, report_json, report_pdf
from reporting.config import IncidentSettings
from reporting.incidents import Incident, IncidentWriter
from reporting.manual import ManualIncident, add, connect
from reporting.report_data import collect

TIRANE = ZoneInfo("Europe/Tirane")
CATEGORIES = ["pornography", "gambling", "social_media", "malware", "violence", "drugs",
              "ads_trackers", "csam", "hate_speech"]
GROUPS = ["nxenesit-9vjecare", "nxenesit-gjimnaz", "mesuesit", "mysafir"]


async def ingest(n: int, work: Path) -> tuple[float, float]:
    settings = IncidentSettings()
    writer = IncidentWriter(work / "ingest.sqlite", b"k" * 32, settings)
    await writer.start()
    base = time.time()
    t0, c0 = time.perf_counter(), time.process_time()
    for start in range(0, n, 1000):
        for i in range(start, min(n, start + 1000)):
            writer.submit(Incident(base + i / 1000, f"10.0.{i // 12800 % 256}.{i // 50 % 256}",
                                   GROUPS[i % 4], f"n{i}.example{i % 97}.com",
                                   CATEGORIES[i % 9], "bench", "blocked", "dns", "bench"))
        # Back-pressure like a real burst: the writer exposes its queue length, not an event.
        while writer.queued > settings.queue_size // 2:  # noqa: ASYNC110
            await asyncio.sleep(0.001)
        await asyncio.sleep(0)
    await writer.stop()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert writer.dropped == 0, f"{writer.dropped} dropped"
    return n / wall, n / cpu


def build_db(path: Path, rows: int, month_start: datetime, month_end: datetime) -> None:
    db = connect(path)  # creates the real schema (v2)
    rng = random.Random(7)
    lo, hi = month_start.timestamp(), month_end.timestamp()
    batch = []
    for i in range(rows):
        at = rng.uniform(lo, hi)
        batch.append((at, at + rng.uniform(0, 30), rng.randint(1, 5), f"{rng.getrandbits(64):016x}",
                      GROUPS[i % 4], f"n{i}.example.com", CATEGORIES[rng.randrange(9)], "bench",
                      "blocked" if i % 50 else "circumvention", "dns" if i % 50 else "bypass",
                      "bench"))
        if len(batch) == 50_000:
            db.executemany("INSERT INTO incidents (first_at, last_at, count, client, grp, name, "
                           "category, list_id, action, source, reason) "
                           "VALUES (?,?,?,?,?,?,?,?,?,?,?)", batch)
            batch.clear()
    if batch:
        db.executemany("INSERT INTO incidents (first_at, last_at, count, client, grp, name, "
                       "category, list_id, action, source, reason) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                       batch)
    for day in range(1, 29):
        at = datetime(month_start.year, month_start.month, day, 3, tzinfo=TIRANE).timestamp()
        db.execute("INSERT INTO events (at, kind, detail) VALUES (?, 'sync_ok', ?)",
                   (at, f"serial {day}"))
    db.close()
    for i in range(500):
        add(path, ManualIncident(
            occurred_on=month_start.date().replace(day=1 + i % 28),
            category=["hate_speech", "sexting", "grooming", "dangerous_games"][i % 4],
            platform=["instagram", "tiktok", "whatsapp", "game"][i % 4],
            age_band=["11_14", "15_18"][i % 2], gender=["female", "male"][i % 2],
            referrals=("alo116",), status="open", description="bench"))


def report(rows: int, work: Path) -> tuple[float, dict[str, float]]:
    start = datetime(2026, 10, 1, tzinfo=TIRANE)
    end = datetime(2026, 10, 31, 23, 59, tzinfo=TIRANE)
    path = work / "report.sqlite"
    build_db(path, rows, start, end)
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    data = collect(path, "2026-10", _School(), "Tiranë", "Tiranë", "Bench",
                   datetime(2026, 11, 1, 9, tzinfo=TIRANE))
    times["collect"] = time.perf_counter() - t0
    for name, render in (("json", report_json.render), ("csv", report_csv.render),
                         ("pdf", report_pdf.render)):
        t = time.perf_counter()
        render(data)
        times[name] = time.perf_counter() - t
    return time.perf_counter() - t0, times


class _School:
    name = "Shkolla Bench"
    code = "BENCH-1"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench reporting")
    ap.add_argument("--ingest", type=int, default=200_000)
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="roja-bench-") as tmp:
        work = Path(tmp)
        wall_rate, cpu_rate = asyncio.run(ingest(args.ingest, work))
        total, parts = report(args.rows, work)
    print(f"{'measure':<34}{'value':>14}  goal")
    print(f"{'ingest, incidents/s (wall)':<34}{wall_rate:>14,.0f}  ≥ 20,000 "
          f"({wall_rate / 20000:.2f}×)")
    print(f"{'ingest, incidents per CPU-second':<34}{cpu_rate:>14,.0f}")
    print(f"{'report build, s at ' + format(args.rows, ',') + ' rows':<34}{total:>14.2f}  ≤ 30 "
          f"({total / 30:.2f}× of the budget)")
    for name, seconds in parts.items():
        print(f"{'  ' + name:<34}{seconds:>14.2f}")
    return 0
