"""The proxy benchmark's config writers give configs the peers accept: squid parses its
squid.conf (`squid -k parse`), squidGuard compiled the tiny lists into its databases, and
e2guardian (no config-check flag) starts from its copied config and blocks a listed site."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from peers.nsd import require_peer

from bench.dns.measure import free_port
from bench.proxy import peers

DOMAINS = ["x1.blocked.test", "x2.blocked.test"]
URLS = ["h0.bench.test/bad/0"]


def need_root() -> None:
    if os.geteuid() != 0:  # the peers drop privileges to their own users
        if os.environ.get("CI") == "true":
            pytest.fail("the proxy benchmark's peers need root")
        pytest.skip("needs root")


def test_squid_accepts_the_config_and_squidguard_compiled_the_lists(tmp_path: Path) -> None:
    need_root()
    squid = require_peer("squid")
    require_peer("squidGuard")
    os.chmod(tmp_path, 0o755)
    conf = peers.squid_conf(tmp_path, free_port(), DOMAINS, URLS, "127.0.0.5",
                            "http://127.0.0.1/blocked")
    out = subprocess.run([squid, "-k", "parse", "-f", str(conf)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "ERROR" not in out.stderr and "FATAL" not in out.stderr, out.stderr
    db = tmp_path / "squid" / "db" / "bad"
    assert (db / "domains.db").stat().st_size > 0
    assert (db / "urls.db").stat().st_size > 0
    assert (db / "domains.db").owner() == "proxy"


def test_e2guardian_starts_from_the_copied_config_and_blocks_a_listed_site() -> None:
    need_root()
    require_peer("e2guardian")
    # e2guardian drops to its own user: its folder must be reachable (pytest's is 0700)
    with tempfile.TemporaryDirectory(prefix="roja-test-e2g-") as scratch:
        os.chmod(scratch, 0o755)
        check_e2guardian(Path(scratch))


def check_e2guardian(tmp_path: Path) -> None:
    port = free_port()
    proc = peers.start("e2guardian", ["/usr/sbin/e2guardian", "-N", "-c", str(
        peers.e2guardian_conf(tmp_path, port, DOMAINS, URLS))], tmp_path / "e2g.log")
    try:
        peers.wait_port("127.0.0.1", port, proc, 30)
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({"http": f"http://127.0.0.1:{port}"}))
        for _ in range(50):  # the workers may take a moment after the listener
            try:
                page = opener.open("http://x1.blocked.test/", timeout=10).read()
                break
            except OSError:
                time.sleep(0.2)
        assert b"x1.blocked.test" in page and b"Access Denied" in page
        conf = (tmp_path / "e2guardian" / "e2guardian.conf").read_text()
        assert "/etc/e2guardian" not in conf and f"filterports = {port}" in conf
    finally:
        proc.stop()
