"""Test kit for the teacher's console: a real HTTPS server on a loopback port, with the
school CA's certificate, a config with a legal list, a teacher and a director, an incident
database (tests/report_db.py's October 2026 plus today's rows) and block-page requests.

    async with running_console(tmp_path) as console:
        async with console.client() as c:            # trusts the school CA only
            await login(c, "mesuesi")
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import report_db

from filterd.config import RojaConfig, load_config
from filterd.console.accounts import Accounts
from filterd.console.app import start
from filterd.proxy.ca import BASENAME
from filterd.unblock_requests import add_request

TIRANE = ZoneInfo("Europe/Tirane")
NOW = datetime(2026, 11, 5, 10, 0, tzinfo=TIRANE).timestamp()
EVIL = '<script>alert("x")</script>'
PASSWORDS = {"mesuesi": "fjalekalim-mesuesi-1", "drejtori": "fjalekalim-drejtori-1"}
CONFIG = """
[school]
name = "Shkolla {evil}"
code = "TEST-001"
[state]
dir = "state"
[dns]
listen = ["127.0.0.1:9"]
[metrics]
listen = ""
[console]
listen = "127.0.0.1:0"
[[lists]]
id = "hotline-vendore"
path = "lists/hotline.txt"
kind = "legal"
category = "csam"
[[lists]]
id = "bixhoz"
path = "lists/bixhoz.txt"
category = "gambling"
[[groups]]
id = "nxenesit"
name = "Nxënësit"
networks = ["10.0.0.0/8"]
[policy]
default_group = "nxenesit"
"""


@dataclass
class Console:
    url: str
    cfg: RojaConfig
    accounts: Accounts
    requests: dict[str, int]
    clock: list[float] = field(default_factory=lambda: [NOW])

    @property
    def ca_file(self) -> Path:
        return self.cfg.proxy.ca_path(self.cfg.state_dir) / f"{BASENAME}-ca-cert.pem"

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        trust = ssl.create_default_context(cafile=str(self.ca_file))
        return httpx.AsyncClient(base_url=self.url, timeout=60.0, verify=trust, **kwargs)


def write_config(directory: Path, extra: str = "") -> RojaConfig:
    """The kit's config; `extra` is TOML added at the end (more lists, [report] options)."""
    (directory / "lists").mkdir(parents=True, exist_ok=True)
    (directory / "lists" / "hotline.txt").write_text("abuse-legal.example\n")
    (directory / "lists" / "bixhoz.txt").write_text("bet.example\nabuse-legal.example\n")
    path = directory / "roja.toml"
    path.write_text(CONFIG.format(evil=EVIL.replace('"', '\\"')) + extra, encoding="utf-8")
    return load_config(path)


def compile_lists(cfg: RojaConfig) -> None:
    """What the daemon does at start and reload: compile the lists and record what it
    enforces (`enforced.json`), so the Listat page has counts to show."""
    from blocklists.sync import status
    from filterd.list_apply import build_policy, enforced_record, write_enforced

    _policy, compiled = build_policy(cfg)
    try:
        write_enforced(cfg.state_dir, enforced_record(cfg, compiled, status(cfg.state_dir)))
    finally:
        compiled.close()


def seed(cfg: RojaConfig) -> dict[str, int]:
    state = cfg.state_dir
    state.mkdir(parents=True, exist_ok=True)
    db = report_db.sample(state / "incidents.sqlite")
    report_db.incident(db, "05.11.2026 08:00", "gambling", count=3, name=f"bet.example{EVIL}")
    report_db.incident(db, "05.11.2026 08:30", "filter_bypass", count=2, name="dns.google")
    return {
        "gambling": add_request(state, group_id="nxenesit", host="bet.example",
                                category="gambling", list_id="bixhoz",
                                note=f"Për projektin {EVIL}", now=NOW - 600),
        "legal": add_request(state, group_id="nxenesit", host="abuse-legal.example",
                             category="gambling", list_id="bixhoz", now=NOW - 300),
        "confidential": add_request(state, group_id="nxenesit", host="", category="csam",
                                    list_id="hotline", confidential=True, now=NOW - 200),
    }


@asynccontextmanager
async def running_console(tmp_path: Path, extra: str = "") -> AsyncIterator[Console]:
    cfg = write_config(tmp_path, extra)
    async with console_over(cfg, seed(cfg)) as console:
        yield console


@asynccontextmanager
async def console_over(cfg: RojaConfig, requests: dict[str, int] | None = None,
                       real_clock: bool = False) -> AsyncIterator[Console]:
    """The console over `cfg` with the kit's teacher and director, its clock at `NOW`
    (`Console.clock`) or, with `real_clock`, the real time (a running appliance's console);
    `requests` are the unblock requests `seed` made (none when not seeded)."""
    accounts = Accounts(cfg.state_dir)
    accounts.add("mesuesi", "teacher", PASSWORDS["mesuesi"], NOW)
    accounts.add("drejtori", "director", PASSWORDS["drejtori"], NOW)
    clock = [NOW]
    runner, url = await (start(cfg, accounts) if real_clock
                         else start(cfg, accounts, clock=lambda: clock[0]))
    try:
        yield Console(url, cfg, accounts, requests or {}, clock)
    finally:
        await runner.cleanup()
        accounts.close()


def form_csrf(html: str) -> str:
    return html.split('name="csrf" value="', 1)[1].split('"', 1)[0]


async def login(client: httpx.AsyncClient, name: str, password: str | None = None
                ) -> httpx.Response:
    page = await client.get("/hyr")
    return await client.post("/hyr", data={
        "csrf": form_csrf(page.text), "username": name,
        "password": password if password is not None else PASSWORDS[name], "next": "/"})


async def signed_in(client: httpx.AsyncClient, name: str) -> str:
    """Log in and return the session's CSRF token (from the overview page's logout form)."""
    r = await login(client, name)
    assert r.status_code == 303, r.text
    page = await client.get("/pasqyra")
    assert page.status_code == 200, page.text
    return form_csrf(page.text)
