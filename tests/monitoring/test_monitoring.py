"""monitoring/: the Prometheus alert rules pass `promtool check rules` and their unit tests
(`alerts_test.yml`: each alert fires on a Roja in trouble, not on a healthy one), the Grafana
dashboard is a well-formed dashboard, and every metric either of them names is exported by a
running Roja (a gateway with the hotline feed, serving RPZ to a real unbound it watches)."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import dns.asyncquery
import dns.message
import pytest
from feed_kit import CASES, served_feed
from peers.nsd import HOST, NsdServer, free_port, require_peer
from prometheus_client.parser import text_string_to_metric_families
from rpz_kit import (
    eventually,
    launch,
    nsd_fixture,  # noqa: F401  (the `nsd` fixture)
)

from filterd.testing import dns_address, running_appliance
from reporting.events import record_event

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"
RULES = MONITORING / "prometheus" / "alerts.yml"
DASHBOARD = MONITORING / "grafana" / "roja.json"
METRIC = re.compile(r"\broja_[a-z_]+\b")


def dashboard() -> dict[str, Any]:
    data = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def dashboard_queries() -> list[str]:
    data = dashboard()
    queries = [t["expr"] for p in data["panels"] for t in p.get("targets", ())]
    queries += [v["definition"] for v in data["templating"]["list"] if "definition" in v]
    return queries


def rule_queries() -> list[str]:
    return re.findall(r"^\s*expr: (?:\|\n)?((?:.*\n)+?)(?=\s*(?:for|labels):)",
                      RULES.read_text(encoding="utf-8"), re.M)


def named_metrics() -> set[str]:
    return {m for q in dashboard_queries() + rule_queries() for m in METRIC.findall(q)}


def test_promtool_checks_and_unit_tests_the_rules() -> None:
    promtool = require_peer("promtool")
    check = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True,
                           text=True, timeout=60, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS: 10 rules found" in check.stdout
    test = subprocess.run([promtool, "test", "rules", "alerts_test.yml"], capture_output=True,
                          text=True, timeout=60, check=False, cwd=RULES.parent)
    assert test.returncode == 0, test.stdout + test.stderr


def test_every_alert_speaks_albanian_first() -> None:
    summaries = re.findall(r'summary: "(.*)"', RULES.read_text(encoding="utf-8"))
    assert len(summaries) == 10
    for summary in summaries:
        assert " / " in summary and summary.index(" / ") > 0, summary


def test_the_dashboard_is_well_formed() -> None:
    data = dashboard()
    ids = [p["id"] for p in data["panels"]]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    for p in data["panels"]:
        if p["type"] == "row":
            continue
        assert p["targets"], p["title"]
        assert " / " in p["title"], f"{p['title']}: Albanian / English"
        assert p["datasource"]["uid"] == "${datasource}"
    covered = " ".join(dashboard_queries())
    for wanted in ("roja_dns_queries_total", "roja_dns_answer_seconds_bucket",
                   "roja_dns_cache_hits_total", "roja_dns_upstream_errors_total",
                   "roja_lists_info", "roja_list_serial", "roja_list_age_seconds",
                   "roja_feed_sync_failures_total", "roja_selftest_ok",
                   "roja_incidents_dropped_total", "roja_rpz_secondary_lag_seconds"):
        assert wanted in covered, wanted


def scrape(port: int) -> set[str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        text = reply.read().decode()
    return {s.name for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.mark.peer
async def test_every_metric_named_is_exported_by_a_running_roja(tmp_path: Path,
                                                                nsd: NsdServer) -> None:
    wanted = named_metrics()
    assert len(wanted) >= 20
    primary, secondary, metrics = free_port(), free_port(), free_port()
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
notify = ["{HOST}:{secondary}"]
secondaries = ["{HOST}:{secondary}"]
check_interval = 1
[metrics]
listen = "127.0.0.1:{metrics}"
"""
        async with running_appliance(tmp_path, config) as app:
            record_event(tmp_path / "state" / "incidents.sqlite", "selftest_pass")
            unbound = launch("unbound", tmp_path / "unbound", secondary, primary, nsd.port)
            try:
                async def enforced() -> bool:  # the first sync runs at start, then applies
                    return bool(app.lists.counts.get("hotline"))
                await eventually(enforced, "the first feed sync", unbound)
                host, port = dns_address(app)
                for name in ("hate.example", "allowed.example"):  # a block; an upstream error
                    await dns.asyncquery.udp(dns.message.make_query(name, "A"), host,
                                             port=port, timeout=5)
                missing = wanted
                for _ in range(50):  # until the fleet monitor's first round is in
                    missing = wanted - await asyncio.to_thread(scrape, metrics)
                    if not missing:
                        break
                    await asyncio.sleep(0.2)
                assert not missing, f"named in monitoring/ but not exported: {sorted(missing)}"
            finally:
                unbound.stop()
