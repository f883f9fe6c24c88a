"""`python -m bench inbox`: the month dashboard and the upload endpoint at national scale.

1,800 schools in the 12 qarqe (150 each) and 24 months of reports (about 90 % of the schools
report each month, some late, some with a second revision) are written through the inbox's own
`submissions.accept`. The inbox then runs on a loopback port (its own thread and event loop)
and a client measures over real HTTP:
- the month dashboard of the ministry (all 1,800 schools) and of one office (150 schools):
  median and p95 of N requests, goal ≤ 300 ms;
- uploads of new report revisions (JSON + a 60 KB PDF, token, Idempotency-Key), goal ≤ 50 ms
  at the median.
No peer is named by the issue; the numbers are compared with the goals.
`--attack` measures /healthz and the dashboard while 4 clients guess passwords instead
(bench.inbox.attack).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import random
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from bench.serve import serve_in_thread
from reporting import report_json
from reporting.inbox import auth, submissions
from reporting.inbox.app import start
from reporting.inbox.config import InboxConfig
from reporting.inbox.dashboard import shift
from reporting.inbox.qarqe import QARQE
from reporting.inbox.registry import School
from reporting.inbox.store import DB_FILE, Store, User
from reporting.report_data import collect

TIRANE = ZoneInfo("Europe/Tirane")
LAST = "2026-10"
BLOCK = ("pornography", "gambling", "social_media", "violence", "drugs", "malware")
MANUAL = ("stalking_threats", "account_theft", "dangerous_games", "sexting")


class _School:
    name, code = "x", "x"


def template(period: str) -> dict[str, Any]:
    data = collect(Path("/nonexistent/bench.sqlite"), period, _School(), "", "", "",
                   datetime(2026, 11, 1, tzinfo=TIRANE))
    doc: dict[str, Any] = json.loads(json.dumps(report_json.to_document(data)))
    return doc


def document(base: dict[str, Any], code: str, rng: random.Random) -> dict[str, Any]:
    doc = copy.deepcopy(base)
    r = doc["report"]
    r["header"]["school_code"] = code
    blocked = {k: rng.randint(0, 400) for k in BLOCK}
    r["blocked"]["by_category"] = [{"key": k, "label": k, "count": n} for k, n in blocked.items()]
    r["blocked"]["total"] = r["blocked"]["incidents"] = sum(blocked.values())
    r["blocked"]["circumvention_total"] = rng.randint(0, 30)
    manual = {k: rng.randint(0, 2) for k in MANUAL}
    r["manual"]["by_category"] = [{"key": k, "label": k, "count": n} for k, n in manual.items()]
    r["manual"]["total"] = sum(manual.values())
    runs = rng.randint(0, 30)
    fail = rng.randint(0, 2) if runs and rng.random() < 0.1 else 0
    r["filter_status"].update(selftest_runs=runs, selftest_fail=fail, selftest_pass=runs - fail,
                              no_validity_checks=runs == 0)
    doc["content_sha256"] = report_json.content_hash(doc)
    return doc


def populate(store: Store, schools: int, months: int, rng: random.Random) -> int:
    per_qark = schools // len(QARQE)
    store.put_schools([School(f"{q[:2].upper()}-{i:03d}", f"Shkolla {q} {i}", q, q.title(),
                              f"s{i}.{q}@example.al")
                       for q in QARQE for i in range(per_qark)])
    codes = [s.code for s in store.schools()]
    count = 0
    for m in range(months):
        period = shift(LAST, -(months - 1) - 0 + m)
        base = template(period)
        due = submissions.deadline(period, 10)
        for code in codes:
            if rng.random() > 0.9:
                continue
            doc = document(base, code, rng)
            raw = json.dumps(doc).encode()
            incoming = submissions.Incoming(
                code, period, doc, doc["content_sha256"], hashlib.sha256(raw).hexdigest(),
                f"k-{code}-{period}", "https", "token",
                {"json": ("r.json", raw), "pdf": ("r.pdf", b"%PDF-1.4 bench\n")})
            late = rng.random() < 0.07
            submissions.accept(store, incoming, 10, due + (3600 if late else -86400 * 5))
            count += 1
    return count


def login(client: httpx.Client, name: str, password: str) -> None:
    page = client.get("/hyr").text
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    r = client.post("/hyr", data={"csrf": csrf, "name": name, "password": password})
    assert r.status_code == 303, r.text


def timed(fn: Any, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def main(argv: list[str]) -> int:
    if "--attack" in argv:
        from bench.inbox import attack
        return attack.main(argv)
    ap = argparse.ArgumentParser(prog="python -m bench inbox")
    ap.add_argument("--schools", type=int, default=1800)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--uploads", type=int, default=200)
    args = ap.parse_args(argv)
    rng = random.Random(8)
    with tempfile.TemporaryDirectory(prefix="roja-bench-inbox-") as tmp:
        cfg = InboxConfig(port=0, data_dir=Path(tmp))
        t0 = time.perf_counter()
        with Store(cfg.data_dir / DB_FILE) as store:
            stored = populate(store, args.schools, args.months, rng)
            store.put_user(User("masr", "ministry", "", "", auth.hash_password("bench-masr-1")))
            store.put_user(User("berat", "office", "berat", "",
                                auth.hash_password("bench-berat-1")))
            codes = [s.code for s in store.schools()]
            tokens = {c: store.issue_token(c) for c in rng.sample(codes, args.uploads)}
        built = time.perf_counter() - t0
        size = (cfg.data_dir / DB_FILE).stat().st_size
        url = serve_in_thread(lambda: start(cfg), wait=30)
        results: dict[str, list[float]] = {}
        with httpx.Client(base_url=url, timeout=60) as masr, \
                httpx.Client(base_url=url, timeout=60) as berat:
            login(masr, "masr", "bench-masr-1")
            login(berat, "berat", "bench-berat-1")
            for c in (masr, berat):
                assert c.get(f"/muaji/{LAST}").status_code == 200  # warm up
            results[f"dashboard, ministry ({args.schools:,})"] = timed(
                lambda: masr.get(f"/muaji/{LAST}").raise_for_status(), args.requests)
            results[f"dashboard, office ({args.schools // 12:,})"] = timed(
                lambda: berat.get(f"/muaji/{LAST}").raise_for_status(), args.requests)
            base = template(LAST)
            pdf = b"%PDF-1.4\n" + rng.randbytes(60_000)
            uploads = []
            for code, token in tokens.items():
                raw = json.dumps(document(base, code, rng)).encode()
                uploads.append((token, raw, f"bench-{code}"))
            with httpx.Client(base_url=url, timeout=60) as school:
                def one(item: tuple[str, bytes, str]) -> None:
                    r = school.post("/api/reports", files={
                        "report": ("r.json", item[1], "application/json"),
                        "pdf": ("r.pdf", pdf, "application/pdf")},
                        headers={"Authorization": f"Bearer {item[0]}",
                                 "Idempotency-Key": item[2]})
                    assert r.status_code == 201, r.text
                it = iter(uploads)
                results["upload accepted (new revision)"] = timed(lambda: one(next(it)),
                                                                  len(uploads))
    print(f"data: {args.schools:,} schools × {args.months} months = {stored:,} reports "
          f"(built in {built:.1f} s, database {size / 1e6:.0f} MB)")
    print(f"{'measure':<36}{'median ms':>10}{'p95 ms':>10}  goal")
    goals = {"upload accepted (new revision)": "median ≤ 50 ms"}
    for name, values in results.items():
        print(f"{name:<36}{statistics.median(values):>10.1f}{p95(values):>10.1f}  "
              f"{goals.get(name, '≤ 300 ms')}")
    return 0
