"""The watch's bookkeeping without a capture: frames in, rate-limited pseudonymous incidents in
the real SQLite store, counters per kind."""

from __future__ import annotations

import time
from pathlib import Path

from bypass_kit import bypass_packets, frame, ordinary_packets
from prometheus_client import CollectorRegistry

from filterd.bypasswatch.watch import BypassWatch, RateLimit, local_addresses
from filterd.config import RojaConfig, parse_config_text
from reporting.incidents import IncidentStore, db_path
from reporting.pseudonym import TiraneYear, pseudonym, yearly_keys

CONFIG = """
[state]
dir = "{state}"

[metrics]
listen = ""

[[groups]]
id = "nxenes"
name = "Nxënësit"
networks = ["10.78.0.0/16"]
"""


def config(tmp_path: Path) -> RojaConfig:
    text = CONFIG.replace("{state}", str(tmp_path / "state"))
    return parse_config_text(text, tmp_path / "roja.toml")


def test_rate_limit_admits_one_per_client_and_kind_per_interval() -> None:
    limit = RateLimit(60.0, capacity=2)
    assert limit.admit("a", "dot", 0.0)
    assert not limit.admit("a", "dot", 30.0)
    assert limit.admit("a", "doh", 30.0)
    assert limit.admit("b", "dot", 30.0)
    assert limit.admit("a", "dot", 61.0)
    assert limit.folded == 1
    assert len(limit._last) == 2  # bounded


def test_local_addresses_include_loopback() -> None:
    found = {str(a) for a in local_addresses()}
    assert "127.0.0.1" in found


async def test_detections_become_pseudonymous_rate_limited_incidents(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    registry = CollectorRegistry()
    watch = BypassWatch(cfg, "unused0", interval=60.0, registry=registry)
    await watch.writer.start()
    now = time.time()
    client = "10.78.3.17"
    packets = bypass_packets(client)
    for kind_packets in packets.values():
        for p in kind_packets:
            watch.handle_frame(frame(p), now)
    for _ in range(5):  # a pupil retrying the outside resolver: one incident
        watch.handle_frame(frame(packets["outside_dns"][0]), now + 1)
    for p in ordinary_packets(client, "127.0.0.1"):
        assert watch.handle_frame(frame(p), now) is None
    await watch.writer.stop()

    with IncidentStore(db_path(cfg.state_dir)) as store:
        rows = store.list_since(0)
    assert sorted(r.name.split()[0] for r in rows) == sorted(packets)  # one per kind
    expected = pseudonym(yearly_keys(cfg.state_dir)(TiraneYear()(now)), client)
    for r in rows:
        assert (r.source, r.category, r.action, r.group) == (
            "bypass", "filter_bypass", "detected", "nxenes")
        assert r.client == expected and client not in r.reason
    assert registry.get_sample_value("roja_bypass_detected_total",
                                     {"kind": "outside_dns"}) == 7
    assert registry.get_sample_value("roja_bypass_detected_total", {"kind": "doh"}) == 3
