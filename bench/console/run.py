"""`python -m bench console`: how long each page of the teacher's console takes with a large
incident store.

The store holds N blocked-access incidents (default 1,000,000) spread over the last 30 days
up to now, and M manual incidents (default 2,000), written as `bench reporting` writes them
(`build_db`: the real schema, executemany); 20 pending unblock requests and 5 unblocks in
force. The console (`filterd.console.app.start`) serves HTTPS on a loopback port in its own
thread and event loop; a client that trusts only the school CA logs in as the teacher and
asks each page R times (after one warm-up request): median and p95 in ms.
Goal: every page ≤ 150 ms at the median, the overview ≤ 100 ms. The DNS address in the
config has no resolver behind it (the overview's health probe is answered "refused" at once).
"""

from __future__ import annotations

import argparse
import ssl
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from bench.reporting.run import build_db
from bench.serve import serve_in_thread
from filterd import overrides
from filterd.config import RojaConfig, load_config
from filterd.console.accounts import Accounts
from filterd.console.app import start
from filterd.proxy.ca import BASENAME
from filterd.unblock_requests import add_request
from reporting.manual import ManualIncident, add

TIRANE = ZoneInfo("Europe/Tirane")
PASSWORD = "bench-mesuesi-1"
CONFIG = """
[school]
name = "Shkolla Bench"
code = "BENCH-1"
[state]
dir = "state"
[dns]
listen = ["127.0.0.1:9"]
[metrics]
listen = ""
[console]
listen = "127.0.0.1:0"
[[lists]]
id = "hotline"
path = "lists/hotline.txt"
kind = "legal"
category = "csam"
[[lists]]
id = "bixhoz"
path = "lists/bixhoz.txt"
category = "gambling"
[[groups]]
id = "nxenesit-9vjecare"
name = "Nxënësit 9-vjeçare"
networks = ["10.1.0.0/16"]
[[groups]]
id = "nxenesit-gjimnaz"
name = "Nxënësit gjimnaz"
networks = ["10.2.0.0/16"]
[[groups]]
id = "mesuesit"
name = "Mësuesit"
networks = ["10.3.0.0/16"]
[[groups]]
id = "mysafir"
name = "Mysafirët"
networks = ["10.4.0.0/16"]
[policy]
default_group = "mysafir"
"""


def populate(directory: Path, incidents: int, manual: int) -> RojaConfig:
    (directory / "lists").mkdir(parents=True)
    (directory / "lists" / "hotline.txt").write_text("abuse-legal.example\n")
    (directory / "lists" / "bixhoz.txt").write_text(
        "".join(f"bet{i}.example\n" for i in range(1000)))
    (directory / "roja.toml").write_text(CONFIG, encoding="utf-8")
    cfg = load_config(directory / "roja.toml")
    state = cfg.state_dir
    state.mkdir(parents=True)
    now = datetime.now(TIRANE)
    db = state / "incidents.sqlite"
    build_db(db, incidents, now - timedelta(days=30), now)  # and 500 manual incidents
    for i in range(max(0, manual - 500)):
        add(db, ManualIncident(
            occurred_on=(now - timedelta(days=i % 30)).date(),
            category=["hate_speech", "sexting", "grooming", "dangerous_games"][i % 4],
            platform=["instagram", "tiktok", "whatsapp", "game"][i % 4],
            age_band=["11_14", "15_18"][i % 2], gender=["female", "male"][i % 2],
            referrals=("alo116",), status="open", description="bench"))
    at = now.timestamp()
    for i in range(20):
        add_request(state, group_id="nxenesit-gjimnaz", host=f"bet{i}.example",
                    category="gambling", list_id="bixhoz", note="projekt", now=at - i)
    for i in range(5):
        overrides.add(state, group_id="mesuesit", host=f"bet{100 + i}.example", seconds=3600,
                      by="mesuesi", reason="bench", now=at)
    with Accounts(state) as accounts:
        accounts.add("mesuesi", "teacher", PASSWORD, at)
    return cfg


def login(client: httpx.Client) -> None:
    page = client.get("/hyr").text
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    r = client.post("/hyr", data={"csrf": csrf, "username": "mesuesi", "password": PASSWORD,
                                  "next": "/"})
    assert r.status_code == 303, r.text


def timed(client: httpx.Client, path: str, n: int) -> list[float]:
    client.get(path).raise_for_status()  # warm-up
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        client.get(path).raise_for_status()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench console")
    ap.add_argument("--incidents", type=int, default=1_000_000)
    ap.add_argument("--manual", type=int, default=2_000)
    ap.add_argument("--requests", type=int, default=30)
    args = ap.parse_args(argv)
    today = datetime.now(TIRANE)
    month = f"{today:%Y-%m}"
    pages: dict[str, tuple[str, str]] = {
        "Pasqyra / overview": ("/pasqyra", "≤ 100 ms"),
        "Kërkesat / requests": ("/kerkesat", "≤ 150 ms"),
        "Incidentet (default filter)": ("/incidentet", "≤ 150 ms"),
        "Incidentet, 30 days, one group": (
            f"/incidentet?nga={today - timedelta(days=30):%Y-%m-%d}&deri={today:%Y-%m-%d}"
            "&grupi=mesuesit", "≤ 150 ms"),
        "Incidentet CSV (default filter)": ("/incidentet.csv", "≤ 150 ms"),
        "Incident i ri / new incident": ("/incident-i-ri", "≤ 150 ms"),
        "Rastet / cases (newest 100 a page)": ("/rastet", "≤ 150 ms"),
        "Raportet / reports": ("/raportet", "≤ 150 ms"),
        "Listat / lists": ("/listat", "≤ 150 ms"),
        "Pse u bllokua? / why blocked": (
            "/pse?emri=bet7.example&grupi=nxenesit-gjimnaz", "≤ 150 ms"),
        "Grupet dhe oraret / groups": ("/grupet", "≤ 150 ms"),
        "Vetëtestimi / self-test": ("/vetetestimi", "≤ 150 ms"),
        "Llogaritë / accounts": ("/llogarite", "≤ 150 ms"),
        "Auditimi / audit log": ("/auditimi", "≤ 150 ms"),
    }
    with tempfile.TemporaryDirectory(prefix="roja-bench-console-") as tmp:
        t0 = time.perf_counter()
        cfg = populate(Path(tmp), args.incidents, args.manual)
        built = time.perf_counter() - t0
        size = (cfg.state_dir / "incidents.sqlite").stat().st_size
        url = serve_in_thread(lambda: start(cfg))
        ca = cfg.proxy.ca_path(cfg.state_dir) / f"{BASENAME}-ca-cert.pem"
        results: dict[str, list[float]] = {}
        with httpx.Client(base_url=url, timeout=120,
                          verify=ssl.create_default_context(cafile=str(ca))) as client:
            login(client)
            for name, (path, _goal) in pages.items():
                results[name] = timed(client, path, args.requests)
    print(f"data: {args.incidents:,} incidents over 30 days + {args.manual:,} manual "
          f"(built in {built:.0f} s, database {size / 1e6:.0f} MB); month {month}; "
          f"{args.requests} requests per page")
    print(f"{'page':<34}{'median ms':>10}{'p95 ms':>10}  goal")
    for name, values in results.items():
        goal = pages[name][1]
        median = statistics.median(values)
        ok = "✔" if median <= float(goal.split()[1]) else "✘"
        print(f"{name:<34}{median:>10.1f}{p95(values):>10.1f}  {goal} {ok}")
    return 0
