"""Vetëtestimi / Self-test in the console: "run now" asks the running resolver the very
questions `roja selftest` asks (the same code, `filterd.selftest.run`), records the run for
the monthly report and in the audit log, and the page shows every check of the last run and
the recent runs. Only the teacher runs it; the director sees the results."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from console_kit import NOW, console_over, running_console, signed_in
from peers.nsd import NsdServer

from filterd import audit
from filterd.cli import main
from filterd.selftest.run import recent_runs
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
[console]
listen = "127.0.0.1:0"
[[lists]]
id = "rrjete"
path = "{lists}/social.txt"
category = "social_media"
[[groups]]
id = "nxenesit"
addresses = ["127.0.0.2"]
[[groups]]
id = "larg"
networks = ["10.99.0.0/24"]
"""


async def test_run_now_against_a_running_filter_passes_and_is_recorded(
        tmp_path: Path, upstream_dns: NsdServer) -> None:
    write_lists(tmp_path / "lists", {"social.txt": "tiktok.com\n"})
    text = CONFIG.format(port=free_port(), up=f"{upstream_dns.host}:{upstream_dns.port}",
                         lists=tmp_path / "lists")
    async with running_appliance(tmp_path, text) as app, \
            console_over(app.cfg, real_clock=True) as console, console.client() as c:
        csrf = await signed_in(c, "mesuesi")
        before = (await c.get("/vetetestimi")).text
        assert "Ende pa u provuar" in before and "Nis tani / Run now" in before
        r = await c.post("/vetetestimi/nis", data={"csrf": csrf})
        assert r.status_code == 303, r.text
        page = (await c.get(r.headers["location"])).text
    assert "Vetëtestimi u krye" in page
    assert "✔ Në rregull:" in page and "DËSHTOI" not in page, page
    assert "kanarina DoH" in page and "[nxenesit]" not in page  # a table, not CLI lines
    assert "grupi nuk arrihet" in page  # group "larg" has no local address: shown as –
    [(_at, passed, summary)] = recent_runs(app.cfg.state_dir)
    assert passed and summary.split("/")[0] == summary.split("/")[1]
    assert any(e.who == "mesuesi" and e.what.startswith("selftest run (console): ")
               for e in audit.read(app.cfg.state_dir))


async def test_a_run_that_checks_nothing_fails_and_the_director_only_reads(
        tmp_path: Path) -> None:
    """The kit's only group (10.0.0.0/8) has no address on this machine: nothing can be
    checked, which is a failed run (it was once recorded as a pass, 0/0, for the report)."""
    async with running_console(tmp_path) as console:
        async with console.client() as c:
            csrf = await signed_in(c, "mesuesi")
            assert (await c.post("/vetetestimi/nis", data={"csrf": "x"})).status_code == 403
            r = await c.post("/vetetestimi/nis", data={"csrf": csrf})
            assert r.status_code == 303, r.text
            page = (await c.get("/vetetestimi")).text
            assert "✘ Asnjë kontroll nuk u krye" in page and "grupi nuk arrihet" in page, page
        async with console.client() as d:
            csrf = await signed_in(d, "drejtori")
            page = (await d.get("/vetetestimi")).text
            assert "✘ Asnjë kontroll" in page and "Nis tani" not in page
            assert (await d.post("/vetetestimi/nis", data={"csrf": csrf})).status_code == 403
        runs = recent_runs(console.cfg.state_dir)
        at, passed, summary = runs[0]  # the newest (the kit has two from October)
        assert (at, passed, summary) == (NOW, False, "0/0"), runs


async def test_a_cli_run_shows_on_the_page(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        await signed_in(c, "drejtori")
        result = CliRunner().invoke(main, ["--config", str(tmp_path / "roja.toml"),
                                           "selftest"])
        assert result.exit_code == 1, result.output
        page = (await c.get("/vetetestimi")).text
        assert "✘ Asnjë kontroll" in page and "✘ dështoi / failed" in page
