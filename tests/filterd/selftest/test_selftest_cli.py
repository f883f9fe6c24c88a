"""`roja selftest` against a running appliance (real DNS, NSD upstream): it passes, records a
`selftest_pass` event, and fails naming the check when the daemon does not do what the
configuration says, or when the resolver is down."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner, Result
from peers.nsd import NsdServer

from blocklists.store import selftest_name
from filterd.cli import main
from filterd.testing import free_port, running_appliance, write_lists

CONFIG = """
[state]
dir = "{{state}}"
[dns]
listen = ["127.0.0.1:{port}"]
upstreams = ["{up}"]
upstream_timeout = 0.5
[dns.acl]
allow = ["127.0.0.0/8"]
[selftest]
allowed_name = "www.allowed.test"
timeout = 2
[[lists]]
id = "rrjete"
path = "{lists}/social.txt"
category = "social_media"
[[lists]]
id = "linja"
path = "{lists}/legal.txt"
kind = "legal"
category = "csam"
[[profiles]]
id = "nxenes"
block = ["social_media"]
safe_search = "strict"
[[profiles]]
id = "staf"
block = []
safe_search = "off"
[[groups]]
id = "nxenesit"
addresses = ["127.0.0.2"]
profile = "nxenes"
[[groups]]
id = "stafi"
addresses = ["127.0.0.3"]
profile = "staf"
[[groups]]
id = "larg"
networks = ["10.99.0.0/24"]
"""


def config_text(tmp_path: Path, upstream: NsdServer, port: int) -> str:
    lists = tmp_path / "lists"
    write_lists(lists, {"social.txt": "tiktok.com\n", "legal.txt": "csam.example\n",
                        "extra.txt": "extra.example\n"})
    return CONFIG.format(port=port, up=f"{upstream.host}:{upstream.port}", lists=lists)


async def selftest(config: Path, *args: str) -> Result:
    runner = CliRunner()
    # The CLI asks the appliance running on this event loop: run it in a thread.
    return await asyncio.to_thread(runner.invoke, main, ["--config", str(config), "selftest",
                                                          *args])


def events(state: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(state / "incidents.sqlite") as db:
        return list(db.execute("SELECT kind, detail FROM events WHERE kind LIKE 'selftest%'"))


async def test_selftest_passes_per_group_and_is_recorded(tmp_path: Path,
                                                         upstream_dns: NsdServer) -> None:
    text = config_text(tmp_path, upstream_dns, free_port())
    async with running_appliance(tmp_path, text) as app:
        result = await selftest(app.cfg.path)
        assert result.exit_code == 0, result.output
        out = result.output
        assert f"✔ [nxenesit] lista 'rrjete' (social_media): {selftest_name('rrjete')} " \
               "bllokohet" in out
        assert f"✔ [stafi] lista 'rrjete' (social_media): {selftest_name('rrjete')} " \
               "lejohet" in out                           # staff may use social media
        assert "✔ [stafi] lista 'linja' (csam)" in out    # the legal list, for everyone
        assert "✔ [nxenesit] kërkim i sigurt (strict)" in out
        assert "[stafi] kërkim i sigurt" not in out        # off for staff: nothing to check
        assert "– [larg] grupi nuk arrihet" in out         # no local address in 10.99.0.0/24
        assert "✔ [*] kanarina DoH" in out and "✔ [*] emër i lejuar zgjidhet" in out
        assert "Në rregull / OK" in out
        as_json = await selftest(app.cfg.path, "--json")
        checks = json.loads(as_json.output)
        assert {c["group"] for c in checks} >= {"nxenesit", "stafi", "larg", "default", "*"}
    kinds = events(app.cfg.state_dir)
    assert [k for k, _ in kinds] == ["selftest_pass", "selftest_pass"]
    passed, ran = kinds[0][1].split("/")
    assert passed == ran and int(ran) >= 9


async def test_a_daemon_behind_its_configuration_fails_the_check(
        tmp_path: Path, upstream_dns: NsdServer) -> None:
    text = config_text(tmp_path, upstream_dns, free_port())
    async with running_appliance(tmp_path, text) as app:
        # A list added to the file but never loaded by the daemon (no reload).
        changed = text.replace("{state}", str(app.cfg.state_dir))
        app.cfg.path.write_text(changed.replace("[[profiles]]", f"""[[lists]]
id = "shtese"
path = "{tmp_path}/lists/extra.txt"
category = "gambling"

[[profiles]]""", 1), encoding="utf-8")
        result = await selftest(app.cfg.path)
    assert result.exit_code == 1
    failed = [line for line in result.output.splitlines() if line.startswith("✘")]
    # The default group blocks every category, so the unloaded list shows there.
    assert failed and all(f"lista 'shtese' (gambling): {selftest_name('shtese')} bllokohet"
                          in line for line in failed), result.output
    assert "DËSHTOI / FAILED" in result.output
    kind, detail = events(app.cfg.state_dir)[-1]
    assert kind == "selftest_fail" and "shtese" in detail


async def test_no_resolver_fails_every_check(tmp_path: Path, upstream_dns: NsdServer) -> None:
    port = free_port()
    text = config_text(tmp_path, upstream_dns, port).replace("{state}", str(tmp_path / "s"))
    config = tmp_path / "roja.toml"
    config.write_text(text, encoding="utf-8")
    result = await selftest(config)
    assert result.exit_code == 1 and "pa përgjigje / no answer" in result.output
    assert events(tmp_path / "s")[-1][0] == "selftest_fail"
