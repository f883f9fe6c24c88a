"""The fleet monitor against two real secondaries on 127.0.0.1, Debian's `unbound` and BIND
`named`, both taking Roja's RPZ zone: while both apply the serial Roja serves, `roja rpz fleet`
says so and exits 0; after named is stopped and a new serial is published, unbound follows
(lag 0, the new canary blocked), named is reported down and behind in `/metrics` and in
`roja rpz fleet`, which exits 1 naming it."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from feed_kit import served_feed
from peers.nsd import HOST, NsdServer, free_port, start_nsd
from prometheus_client.parser import text_string_to_metric_families
from rpz_kit import (
    NSD_ZONES,
    Secondary,
    eventually,
    launch,
    primary_serves,
    rcode_and_answer,
)

from blocklists.rpz_fleet import Fleet, Probe
from filterd.rpz_export import fleet_metrics
from filterd.testing import running_appliance
from reporting.report_data import TIRANE

# Names that exist behind the secondaries (rpz_kit.NSD_ZONES): NXDOMAIN there is the policy.
CASES = """url,category,confirmed_at,case_id,confidential
bad.example,hate_speech,2026-11-02,C-1,jo
"""
MORE = CASES + "new.example,grooming,2026-11-03,C-3,jo\n"
ROJA = str(Path(sys.executable).parent / "roja")


@pytest.fixture
def nsd(tmp_path: Path) -> Iterator[NsdServer]:
    server = start_nsd(tmp_path / "nsd", NSD_ZONES)
    try:
        yield server
    finally:
        server.stop()


def roja(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ROJA, "--config", str(config), *args], capture_output=True,
                          text=True, timeout=60, check=False)


def gauges(port: int) -> dict[tuple[str, str], float]:
    """(metric, secondary) → value for the roja_rpz_secondary_* samples of /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        text = reply.read().decode()
    return {(s.name, s.labels.get("secondary", "")): s.value
            for family in text_string_to_metric_families(text) for s in family.samples
            if s.name.startswith("roja_rpz_")}


Entries = dict[str, dict[str, Any]]


async def round_where(state: Path, done: Callable[[Entries, int], bool],
                      what: str) -> Entries:
    """Wait for a monitor round (rpz-fleet.json) whose secondaries (target → entry) and
    serial satisfy `done`."""
    deadline = time.monotonic() + 20
    by: Entries = {}
    while time.monotonic() < deadline:
        path = state / "rpz-fleet.json"
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            by = {s["target"]: s for s in data["secondaries"]}
            if done(by, data["serial"]):
                return by
        await asyncio.sleep(0.2)
    pytest.fail(f"the monitor never saw {what}: {by}")


@pytest.mark.peer
async def test_fleet_follows_unbound_and_reports_a_stopped_named(tmp_path: Path,
                                                                 nsd: NsdServer) -> None:
    primary, u_port, n_port, metrics = free_port(), free_port(), free_port(), free_port()
    u, n = f"{HOST}:{u_port}", f"{HOST}:{n_port}"
    with served_feed(tmp_path) as feed:
        feed.publish(CASES)
        config = f"""
[state]
dir = "{{state}}"
[dns]
listen = ["127.0.0.1:0"]
upstreams = ["127.0.0.1:9"]
{feed.config()}interval = 86400
[rpz]
listen = "127.0.0.1:{primary}"
allow = ["127.0.0.1/32"]
notify = ["{u}", "{n}"]
secondaries = ["{u}", "{n}"]
check_interval = 1
max_lag = 2
[metrics]
listen = "127.0.0.1:{metrics}"
[isp]
name = "Rrjeti Provë"
nipt = "K12345678B"
contact = "noc@rrjeti.example"
signatory = "Arta Dervishi"
"""
        async with running_appliance(tmp_path, config):
            state, path = tmp_path / "state", tmp_path / "roja.toml"
            secondaries: list[Secondary] = []
            await primary_serves(primary)
            try:
                for kind, port in (("unbound", u_port), ("named", n_port)):
                    secondaries.append(launch(kind, tmp_path / kind, port, primary, nsd.port,
                                              tsig=False))
                for s in secondaries:
                    async def blocks(port: int = s.port) -> bool:
                        return (await rcode_and_answer(port, "bad.example"))[0] == "NXDOMAIN"
                    await eventually(blocks, "the first transfer", s)
                by = await round_where(state, lambda by, serial: all(
                    s["up"] and s["serial"] == serial and s["canary"] for s in by.values()),
                    "both current")
                assert by[u]["lag"] == by[n]["lag"] == 0
                fine = await asyncio.to_thread(roja, path, "rpz", "fleet")
                assert fine.returncode == 0, fine.stdout + fine.stderr
                assert f"✓ {u}: serial 1, kanarina bllokohet / canary blocked" in fine.stdout
                assert f"✓ {n}: serial 1" in fine.stdout

                assert (await rcode_and_answer(u_port, "new.example"))[0] == "NOERROR"
                secondaries[1].stop()  # named goes away; then a new serial is published
                feed.publish(MORE)
                sync = await asyncio.to_thread(roja, path, "lists", "sync")
                assert sync.returncode == 0, sync.stdout + sync.stderr
                by = await round_where(state, lambda by, _: by[u]["serial"] == 2 and not
                                       by[n]["up"] and by[n]["behind"] and by[n]["lag"] > 2,
                                       "unbound at 2, named down and behind past max_lag")
                assert by[u]["canary"] and not by[u]["behind"] and by[u]["lag"] == 0
                assert by[n]["serial"] == 1 and by[n]["lag"] > 2
                assert (await rcode_and_answer(u_port, "new.example"))[0] == "NXDOMAIN"

                seen = await asyncio.to_thread(gauges, metrics)
                assert seen[("roja_rpz_serial", "")] == 2
                assert seen[("roja_rpz_secondary_up", u)] == 1
                assert seen[("roja_rpz_secondary_up", n)] == 0
                assert seen[("roja_rpz_secondary_serial", u)] == 2
                assert seen[("roja_rpz_secondary_serial", n)] == 1
                assert seen[("roja_rpz_secondary_canary", u)] == 1
                assert seen[("roja_rpz_secondary_lag_seconds", u)] == 0
                assert seen[("roja_rpz_secondary_lag_seconds", n)] > 2

                await history_reaches_the_report(state, path, u, n)

                bad = await asyncio.to_thread(roja, path, "rpz", "fleet")
                assert bad.returncode == 1, bad.stdout + bad.stderr
                assert f"✗ {n}: nuk përgjigjet / not answering" in bad.stdout
                assert f"✓ {u}: serial 2" in bad.stdout
                assert "Traceback" not in bad.stderr
                assert bad.stderr.index("sekondarë poshtë ose prapa") < bad.stderr.index(
                    "secondaries down or behind")
                assert n in bad.stderr
            finally:
                for s in secondaries:
                    s.stop()


async def history_reaches_the_report(state: Path, config: Path, u: str, n: str) -> None:
    """The monitor's history (`rpz_reached` events): unbound has serials 1 and 2, the stopped
    named only 1; `roja isp report` turns it into times, and "no data" for named's 2."""
    with sqlite3.connect(state / "incidents.sqlite") as db:
        rows = db.execute("SELECT kind, detail FROM events WHERE kind LIKE 'rpz_%'").fetchall()
    reached = sorted(detail for kind, detail in rows if kind == "rpz_reached")
    assert reached == sorted([f"serial 1 secondary {u}", f"serial 1 secondary {n}",
                              f"serial 2 secondary {u}"]), rows
    assert {d for k, d in rows if k == "rpz_published"} == {"serial 1", "serial 2"}
    year = str(datetime.now(TIRANE).year)
    done = await asyncio.to_thread(roja, config, "isp", "report", "--year", year, "--out",
                                   str(state.parent / "isp"), "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(next((state.parent / "isp").glob("*.json")).read_bytes())["report"]
    serials = {s["serial"]: s for s in report["propagation"]["serials"]}
    assert serials["1"]["all_seconds"] is not None
    two = {r["secondary"]: r["seconds"] for r in serials["2"]["reach"]}
    assert two[n] is None and isinstance(two[u], int) and two[u] < 20
    assert serials["2"]["all_seconds"] is None


def test_a_secondary_not_checked_yet_is_neither_up_nor_down() -> None:
    a, b = ("127.0.0.61", 53), ("127.0.0.62", 53)
    fleet = Fleet((a, b), max_lag=300)
    fleet.publish(7, at=100)
    fleet.record(Probe(a, True, 7, True), at=110)
    samples = {(s.name, s.labels["secondary"]): s.value
               for family in fleet_metrics(fleet, 120) for s in family.samples}
    assert samples == {("roja_rpz_secondary_up", "127.0.0.61:53"): 1,
                       ("roja_rpz_secondary_serial", "127.0.0.61:53"): 7,
                       ("roja_rpz_secondary_canary", "127.0.0.61:53"): 1,
                       ("roja_rpz_secondary_lag_seconds", "127.0.0.61:53"): 0}
