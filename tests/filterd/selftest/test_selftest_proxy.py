"""`roja selftest` through the running proxy (steering mode, the proxy test rig: real resolver,
mitmproxy, NSD): a URL list's reserved URL is refused with 403 and another path on the same
host is let through; a URL list the daemon did not load, or the proxy switched off, fails by
name; the reserved names never become incidents."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from click.testing import CliRunner, Result
from proxy_kit import rig

from blocklists.store import selftest_name
from filterd.cli import main

ALLOWED = '\n[selftest]\nallowed_name = "origin.roja-proxy.test"\ntimeout = 3\n'


async def selftest(config: Path) -> Result:
    runner = CliRunner()
    return await asyncio.to_thread(runner.invoke, main, ["--config", str(config), "selftest"])


def selftest_config(daemon_config: Path, tmp_path: Path, extra: str = "",
                    replace: tuple[str, str] = ("", "")) -> Path:
    text = daemon_config.read_text(encoding="utf-8")
    if replace[0]:
        text = text.replace(*replace)
    path = tmp_path / "selftest.toml"
    path.write_text(text + extra + ALLOWED, encoding="utf-8")
    return path


async def test_url_lists_are_checked_through_the_proxy(tmp_path: Path) -> None:
    name = selftest_name("urls")
    async with rig(tmp_path) as r:
        result = await selftest(selftest_config(r.app.cfg.path, tmp_path))
        state = r.state
    out = result.output
    assert result.exit_code == 0, out
    assert f"✔ [nxenesit] DNS e dërgon {name} te proxy-ja" in out
    assert f"✔ [nxenesit] proxy: lista 'urls' (pornography): http://{name}/roja-selftest/" \
           "bllokuar bllokohet" in out
    assert f"✔ [nxenesit] proxy: lista 'urls' (pornography): http://{name}/roja-selftest-" \
           "lejuar lejohet" in out
    assert "✔ [nxenesit] lista 'bixhoz' (gambling)" in out      # DNS lists as before
    assert f"lista 'urls' (pornography): {name} " not in out    # no DNS check for a URL list
    with sqlite3.connect(state / "incidents.sqlite") as db:
        names = [n for (n,) in db.execute("SELECT name FROM incidents")]
    assert not [n for n in names if "selftest.roja.test" in n]


async def test_a_url_list_the_daemon_does_not_enforce_fails_by_name(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        (tmp_path / "lists" / "urls2.txt").write_text("tjeter.example/faqe/\n", encoding="utf-8")
        added = selftest_config(r.app.cfg.path, tmp_path, extra=f"""
[[lists]]
id = "urls2"
path = "{tmp_path}/lists/urls2.txt"
format = "urls"
category = "gambling"
""")
        result = await selftest(added)
        off = await selftest(selftest_config(r.app.cfg.path, tmp_path,
                                             replace=("enabled = true", "enabled = false")))
    assert result.exit_code == 1
    failed = [line for line in result.output.splitlines() if line.startswith("✘")]
    name = selftest_name("urls2")
    assert any(f"DNS e dërgon {name} te proxy-ja" in line for line in failed), result.output
    assert any(f"http://{name}/roja-selftest/bllokuar bllokohet" in line for line in failed)
    assert all("urls2" in line for line in failed), result.output
    assert off.exit_code == 1
    assert "✘ [nxenesit] lista URL 'urls' (pornography) — proxy-ja është e fikur" in off.output
