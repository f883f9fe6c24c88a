"""`roja selftest` when safe search is not enforced for a group whose configuration says
strict (the daemon runs a config with it off): the safe-search check of that group fails by
name, the others pass, and the failure is the recorded event's detail."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from click.testing import CliRunner
from peers.nsd import NsdServer

from filterd.cli import main
from filterd.testing import free_port, running_appliance, write_lists

CONFIG = """
[state]
dir = "{{state}}"
[dns]
listen = ["127.0.0.1:{port}"]
upstreams = ["{up}"]
[dns.acl]
allow = ["127.0.0.0/8"]
[selftest]
allowed_name = "www.allowed.test"
[[lists]]
id = "bixhoz"
path = "{lists}/bixhoz.txt"
category = "gambling"
[[groups]]
id = "nxenesit"
addresses = ["127.0.0.2"]
safe_search = "{level}"
"""


async def test_safe_search_off_in_the_daemon_fails_the_strict_group(
        tmp_path: Path, upstream_dns: NsdServer) -> None:
    write_lists(tmp_path / "lists", {"bixhoz.txt": "bixhoz.example\n"})
    values = {"port": free_port(), "up": f"{upstream_dns.host}:{upstream_dns.port}",
              "lists": tmp_path / "lists"}
    async with running_appliance(tmp_path, CONFIG.format(level="off", **values)) as app:
        wanted = tmp_path / "wanted.toml"
        wanted.write_text(CONFIG.format(level="strict", **values).replace(
            "{state}", str(app.cfg.state_dir)), encoding="utf-8")
        result = await asyncio.to_thread(CliRunner().invoke, main,
                                         ["--config", str(wanted), "selftest"])
    assert result.exit_code == 1
    failed = [line for line in result.output.splitlines() if line.startswith("✘")]
    assert len(failed) == 1 and failed[0].startswith(
        "✘ [nxenesit] kërkim i sigurt (strict) / safe search: www.google.com"), result.output
    assert "✔ [nxenesit] lista 'bixhoz' (gambling)" in result.output
    with sqlite3.connect(app.cfg.state_dir / "incidents.sqlite") as db:
        kind, detail = db.execute("SELECT kind, detail FROM events WHERE kind LIKE "
                                  "'selftest%' ORDER BY id DESC").fetchone()
    assert kind == "selftest_fail" and "nxenesit: kërkim i sigurt" in detail
