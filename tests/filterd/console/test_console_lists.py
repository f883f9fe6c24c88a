"""Listat / Lists over real HTTPS: each configured list with its source, kind, counts and
hold-back reason (the facts `roja lists status` prints), escaped; "sync now" is the teacher's
only (CSRF, audited), and a manual sync from the console is enforced by the running daemon."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
from click.testing import CliRunner
from console_kit import EVIL, compile_lists, console_over, running_console, signed_in
from feed_kit import CASES, served_feed

from filterd import audit
from filterd.cli import main
from filterd.config import load_config
from filterd.list_apply import write_enforced
from filterd.list_state import lists_status
from filterd.testing import dns_address, running_appliance

HOSTILE = "<img src=x onerror=alert(1)>"  # a file name may hold anything but "/"
EXTRA = f"""
[[lists]]
id = "reklama"
path = "lists/{HOSTILE}.txt"
format = "adblock"
category = "ads"
"""
ADBLOCK = """||ads.example^
||tracker.example^$third-party
example.com##.banner
/banner/*$image
"""


async def test_the_lists_page_shows_each_list_as_roja_lists_status(tmp_path: Path) -> None:
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / f"{HOSTILE}.txt").write_text(ADBLOCK)
    async with running_console(tmp_path, EXTRA) as console, console.client() as c:
        bixhoz = tmp_path / "lists" / "bixhoz.txt"
        bixhoz.write_text("".join(f"bet{i}.example\n" for i in range(20)))
        compile_lists(load_config(tmp_path / "roja.toml"))
        bixhoz.write_text("bet0.example\n")  # shrank by 95 %: held back
        compile_lists(load_config(tmp_path / "roja.toml"))
        csrf = await signed_in(c, "drejtori")
        r = await c.get("/listat")
        assert r.status_code == 200, r.text
        page = r.text
        assert HOSTILE not in page and EVIL not in page
        assert "lists/&lt;img src=x onerror=alert(1)&gt;.txt" in page
        for shown in ("<b>hotline-vendore</b>", "ligjore / legal", "<b>bixhoz</b>",
                      "bllokon / deny", "<b>reklama</b>", "adblock"):
            assert shown in page, shown
        info = lists_status(console.cfg.state_dir)
        [held] = info["enforced"]["held_back"]
        assert held["list"] == "bixhoz" and held["why"]
        assert f"<b>bixhoz</b>: 20 → 1 hyrje / entries: {held['why']}" in page
        row = page.split("<b>reklama</b>", 1)[1].split("</tr>", 1)[0]
        skipped = info["lists"]["reklama"]["skipped"]
        assert skipped and all(f"{kind} {n}" in row for kind, n in skipped.items()), row
        assert f'class="n">{info["lists"]["reklama"]["domains"]}</td>' in row
        cli = CliRunner().invoke(main, ["--config", str(tmp_path / "roja.toml"), "lists",
                                        "status"])
        assert f"held back: bixhoz: 20 → 1 hyrje / entries: {held['why']}" in cli.output
        assert "Asnjë burim i linjës" in page  # no [feed] here
        assert "Sinkronizo tani" not in page  # the director reads only
        r = await c.post("/listat/sinkronizo", data={"csrf": csrf})
        assert r.status_code == 403 and "Vetëm mësuesi i TIK-ut" in r.text


async def test_a_failed_sync_is_shown_escaped_and_audited(tmp_path: Path) -> None:
    feed = f"""
[feed]
url = "https://127.0.0.1:9/{EVIL.replace('"', '%22')}/"
public_key = "{tmp_path / 'hotline.pub'}"
"""
    (tmp_path / "hotline.pub").write_bytes(b"")
    async with running_console(tmp_path, feed) as console, console.client() as c:
        csrf = await signed_in(c, "mesuesi")
        page = (await c.get("/listat")).text
        assert "Sinkronizo tani / Sync now" in page
        assert (await c.post("/listat/sinkronizo", data={})).status_code == 403  # no CSRF
        r = await c.post("/listat/sinkronizo", data={"csrf": csrf})
        assert r.status_code == 502
        assert "Lista e linjës nuk u sinkronizua" in r.text or "nuk lexohet" in r.text
        assert "<script>" not in r.text and "&lt;script&gt;" in r.text
        last = audit.read(console.cfg.state_dir)[-1]
        assert (last.who, last.what) == ("mesuesi", "lists sync (console): failed")


async def test_the_feeds_expiry_is_shown_as_a_tirana_time(tmp_path: Path) -> None:
    """The enforced serial's expiry reads like every other time of the console (dd.mm.yyyy
    HH:MM in Tirana), not as the feed's raw ISO text."""
    feed = f'[feed]\nurl = "https://127.0.0.1:9/"\npublic_key = "{tmp_path / 'hotline.pub'}"\n'
    (tmp_path / "hotline.pub").write_bytes(b"")
    async with running_console(tmp_path, feed) as console, console.client() as c:
        write_enforced(console.cfg.state_dir, {
            "at": time.time(), "pid": 0, "serial": 7, "created": "2026-11-20T11:30:00Z",
            "expires": "2026-12-04T11:30:00Z", "held_back": [], "lists": {}})
        await signed_in(c, "drejtori")
        page = (await c.get("/listat")).text
        assert "seriali / serial <b>7</b>" in page
        assert "skadon / expires 04.12.2026 12:30" in page  # 11:30 UTC is 12:30 in Tirana
        assert "2026-12-04T11:30:00Z" not in page


async def test_sync_now_is_enforced_by_the_running_filter(tmp_path: Path) -> None:
    (tmp_path / "hotline").mkdir()
    with served_feed(tmp_path / "hotline") as feed:
        feed.publish()
        config = f"""
[state]
dir = "{{state}}"
[dns]
listen = ["127.0.0.1:0"]
upstreams = ["127.0.0.1:9"]
[console]
listen = "127.0.0.1:0"
{feed.config()}interval = 86400
"""
        async with running_appliance(tmp_path, config) as app:
            addr = dns_address(app)
            for _ in range(200):  # the first sync runs at start
                if app.lists.counts.get("hotline"):
                    break
                await asyncio.sleep(0.05)
            async with console_over(app.cfg, real_clock=True) as console, \
                    console.client() as c:
                csrf = await signed_in(c, "mesuesi")
                page = (await c.get("/listat")).text
                assert "seriali / serial <b>1</b>" in page
                feed.publish(CASES + "new-danger.example,dangerous_games,2026-11-03,C-3,"
                             "jo\n")
                r = await c.post("/listat/sinkronizo", data={"csrf": csrf})
                assert r.status_code == 303, r.text
                assert r.headers["location"] == "/listat?u=enforced-2"
                page = (await c.get(r.headers["location"])).text
                assert "Seriali 2 u sinkronizua dhe zbatohet" in page
                assert "seriali / serial <b>2</b>" in page
                answer = await asyncio.to_thread(
                    dns.query.udp, dns.message.make_query("new-danger.example", "A"),
                    addr[0], 3, addr[1])
                assert answer.rcode() == dns.rcode.NXDOMAIN
                last = audit.read(app.cfg.state_dir)[-1]
                assert (last.who, last.what, last.why) == (
                    "mesuesi", "lists sync (console)", "serial 1 → 2")
