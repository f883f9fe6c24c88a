"""Policy v2 in the running appliance: two clients (127.0.0.2 and 127.0.0.3, both loopback)
get different answers for the same name; an unblock made while it runs takes effect and
expires by itself; reloads keep the old policy on error and are audited."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import dns.message
import dns.query
import dns.rcode

from filterd import audit, overrides
from filterd.testing import dns_address, running_appliance, write_lists

CONFIG = """
[state]
dir = "{{state}}"
[dns]
listen = ["127.0.0.1:0"]
upstreams = ["{up}"]
upstream_timeout = 0.5
[dns.acl]
allow = ["127.0.0.0/8"]
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
[[groups]]
id = "nxenesit"
addresses = ["127.0.0.2"]
profile = "nxenes"
[[groups]]
id = "stafi"
addresses = ["127.0.0.3"]
profile = "staf"
"""


def ask(addr: tuple[str, int], name: str, source: str) -> dns.message.Message:
    q = dns.message.make_query(name, "A")
    return dns.query.udp(q, addr[0], port=addr[1], timeout=3, source=source)


async def until(check: object, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not await asyncio.to_thread(check):  # type: ignore[arg-type]
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def test_two_clients_differ_and_an_unblock_comes_and_goes(tmp_path: Path,
                                                                 upstream_dns) -> None:
    write_lists(tmp_path / "lists", {"social.txt": "www.allowed.test\n",
                                     "legal.txt": "csam.allowed.test\n"})
    text = CONFIG.format(up=f"{upstream_dns.host}:{upstream_dns.port}", lists=tmp_path / "lists")
    async with running_appliance(tmp_path, text) as app:
        assert app.runtime is not None
        app.runtime.poll = 0.1
        addr = dns_address(app)
        pupil = await asyncio.to_thread(ask, addr, "www.allowed.test", "127.0.0.2")
        staff = await asyncio.to_thread(ask, addr, "www.allowed.test", "127.0.0.3")
        assert pupil.rcode() == dns.rcode.NXDOMAIN
        assert staff.rcode() == dns.rcode.NOERROR and staff.answer
        for source in ("127.0.0.2", "127.0.0.3"):
            legal = await asyncio.to_thread(ask, addr, "csam.allowed.test", source)
            assert legal.rcode() == dns.rcode.NXDOMAIN

        state = tmp_path / "state"
        row = await asyncio.to_thread(
            overrides.add, state, group_id="nxenesit", host="allowed.test", seconds=3,
            by="A. Hoxha", reason="projekt", now=time.time())
        await until(lambda: ask(addr, "www.allowed.test", "127.0.0.2").rcode()
                    == dns.rcode.NOERROR)
        # The legal list under the unblocked domain stays closed.
        legal = await asyncio.to_thread(ask, addr, "csam.allowed.test", "127.0.0.2")
        assert legal.rcode() == dns.rcode.NXDOMAIN
        await until(lambda: ask(addr, "www.allowed.test", "127.0.0.2").rcode()
                    == dns.rcode.NXDOMAIN)
        assert time.time() >= row.expires
        await until(lambda: any(e.what.startswith(f"unblock expired #{row.id}")
                                for e in audit.read(state)))
    whats = [e.what for e in audit.read(state)]
    assert whats[0].startswith("config load") and f"unblock add #{row.id}" in whats[1]
    assert audit.verify(state).ok
    assert not (state / "roja.pid").exists()


async def test_a_bad_reload_keeps_the_old_policy(tmp_path: Path, upstream_dns) -> None:
    write_lists(tmp_path / "lists", {"social.txt": "www.allowed.test\n", "legal.txt": "x.test\n"})
    text = CONFIG.format(up=f"{upstream_dns.host}:{upstream_dns.port}", lists=tmp_path / "lists")
    async with running_appliance(tmp_path, text) as app:
        state = tmp_path / "state"
        assert (state / "roja.pid").read_text().strip().isdigit()
        addr = dns_address(app)
        path = tmp_path / "roja.toml"
        good = path.read_text()
        path.write_text(good + '[[schedules]]\ngroups = ["nxenesit"]\ncategories = ["csam"]\n'
                        'windows = ["00:00-24:00"]\n')
        assert not await app.reload(path)
        status = json.loads((state / "reload.json").read_text())
        assert not status["ok"] and "schedules[0].categories" in status["error"]
        assert ":" in status["error"] and "legal" in status["error"]
        pupil = await asyncio.to_thread(ask, addr, "www.allowed.test", "127.0.0.2")
        assert pupil.rcode() == dns.rcode.NXDOMAIN   # the old policy still serves
        (tmp_path / "lists" / "extra.txt").write_text("a.test\n")
        path.write_text(good.replace('block = ["social_media"]', "block = []")
                        + f'[[lists]]\nid = "extra"\npath = "{tmp_path}/lists/extra.txt"\n')
        assert await app.reload(path)
        pupil = await asyncio.to_thread(ask, addr, "www.allowed.test", "127.0.0.2")
        assert pupil.rcode() == dns.rcode.NOERROR
        assert json.loads((state / "reload.json").read_text())["ok"]
        whats = [e.what for e in audit.read(state)]
        assert any(w.startswith("config reload") for w in whats)
        assert "list added extra (deny, )" in whats
