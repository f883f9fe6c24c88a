"""The bench's Roja config parses, and lets the proxy reach the bench origin (which is not on
127.0.0.1: the gateway's own address is never a proxy destination, issue 18)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from bench.proxy.ab import OLD_UNKNOWN
from bench.proxy.run import roja_config
from bench.proxy.whole import ORIGIN_IP
from filterd.config import parse_config_text


def test_the_bench_config_allows_the_origin(tmp_path: Path) -> None:
    text = roja_config(tmp_path, 5353, 3128, tmp_path)
    cfg = parse_config_text(text, tmp_path / "roja.toml")
    assert ipaddress.ip_address(ORIGIN_IP) != ipaddress.ip_address("127.0.0.1")
    assert any(ipaddress.ip_address(ORIGIN_IP) in n for n in cfg.policy.addresses.allow_private)
    # what --compare-tree drops for a tree before issue 18 is exactly the new keys
    dropped = [line for line in text.splitlines() if line.startswith(OLD_UNKNOWN)]
    assert len(dropped) == 3
