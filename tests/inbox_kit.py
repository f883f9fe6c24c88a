"""Test kit for the education-office inbox: a real server on a loopback port with schools,
staff and tokens, reports built by the real report code, and helpers to log in and upload.

    async with running_inbox(tmp_path) as inbox:
        async with inbox.client() as c:
            r = await upload(c, inbox.tokens["BR-001"], report_file("BR-001"))
            await login(c, "berat")
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from aiohttp import web

from reporting import report_json
from reporting.inbox import auth
from reporting.inbox.app import start
from reporting.inbox.config import InboxConfig
from reporting.inbox.registry import School
from reporting.inbox.store import DB_FILE, Store, User
from reporting.report_data import collect

TIRANE = ZoneInfo("Europe/Tirane")
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
EVIL = '<script>alert("x")</script>'
SCHOOLS = (
    School("BR-001", 'Shkolla "Naim Frashëri"', "berat", "Berat", "naim@example.al"),
    School("BR-002", '=HYPERLINK("http://evil.example","Gjimnazi Kyçyku")', "berat",
           "+Kuçovë", "kycyku@example.al"),
    School("VL-001", f"Shkolla {EVIL}", "vlore", f"Vlorë {EVIL}", "vlore@example.al"),
    School("TR-001", "Shkolla Sami Frashëri", "tirane", "Tiranë", ""),
)
PASSWORDS = {"berat": "fjalekalim-berat-1", "vlora": "fjalekalim-vlore-1",
             "masr": "fjalekalim-masr-01"}
_HASHES = {name: auth.hash_password(pw) for name, pw in PASSWORDS.items()}
USERS = (User("berat", "office", "berat", "", _HASHES["berat"]),
         User("vlora", "office", "vlore", "", _HASHES["vlora"]),
         User("masr", "ministry", "", "", _HASHES["masr"]))
# 5 November 2026, 10:00: October's reports are due by 10 November.
NOW = datetime(2026, 11, 5, 10, 0, tzinfo=TIRANE).timestamp()


@dataclass(frozen=True)
class _School:
    name: str
    code: str


_EMPTY: dict[str, Any] = {}


def report_doc(code: str, period: str = "2026-10", *, name: str = "Shkolla",
               blocked: dict[str, int] | None = None, circumvention: int = 0,
               manual: dict[str, int] | None = None, referrals: dict[str, int] | None = None,
               selftest: tuple[int, int] = (4, 0)) -> dict[str, Any]:
    """A roja.report/2 document made by the real report code (from an empty incident store),
    with the given counts put in and the content hash recomputed."""
    key = (period,)
    if key not in _EMPTY:
        data = collect(Path("/nonexistent/roja-test.sqlite"), period, _School("x", "x"),
                       "Berat", "Berat", "Mësuesi", datetime(2026, 11, 1, tzinfo=TIRANE))
        _EMPTY[period] = json.loads(json.dumps(report_json.to_document(data)))
    doc = copy.deepcopy(_EMPTY[period])
    r = doc["report"]
    r["header"].update(school_code=code, school_name=name)
    counts = blocked or {}
    r["blocked"]["by_category"] = [{"key": k, "label": k, "count": n} for k, n in counts.items()]
    r["blocked"]["total"] = r["blocked"]["incidents"] = sum(counts.values())
    r["blocked"]["circumvention_total"] = circumvention
    m = manual or {}
    r["manual"]["by_category"] = [{"key": k, "label": k, "count": n} for k, n in m.items()]
    r["manual"]["total"] = sum(m.values())
    r["manual"]["by_referral"] = [{"key": k, "label": k, "count": n}
                                  for k, n in (referrals or {}).items()]
    runs, fail = selftest
    r["filter_status"].update(selftest_runs=runs, selftest_fail=fail, selftest_pass=runs - fail,
                              no_validity_checks=runs == 0)
    doc["content_sha256"] = report_json.content_hash(doc)
    return doc


def report_file(code: str, period: str = "2026-10", **kwargs: Any) -> bytes:
    return json.dumps(report_doc(code, period, **kwargs), ensure_ascii=False,
                      indent=2).encode()


@dataclass
class Inbox:
    url: str
    store: Store
    cfg: InboxConfig
    tokens: dict[str, str]
    clock: list[float] = field(default_factory=lambda: [NOW])
    runner: web.AppRunner | None = None

    async def stop(self) -> None:
        """Stop this server (as a restart would; the test's store stays open)."""
        runner, self.runner = self.runner, None
        if runner is not None:
            await runner.cleanup()

    def client(self, source: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
        """A client; `source` (e.g. "127.0.0.2") is the loopback address it connects from,
        so a test can be several people (or an attacker and a victim) at once."""
        if source is not None:
            kwargs["transport"] = httpx.AsyncHTTPTransport(local_address=source)
        return httpx.AsyncClient(base_url=self.url, timeout=60.0, **kwargs)

    def count(self, table: str) -> int:
        return int(self.store.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


@asynccontextmanager
async def running_inbox(tmp_path: Path, **cfg: Any) -> AsyncIterator[Inbox]:
    config = InboxConfig(host="127.0.0.1", port=0, data_dir=tmp_path / "inbox", **cfg)
    store = Store(config.data_dir / DB_FILE)
    store.put_schools(SCHOOLS)
    for user in USERS:
        store.put_user(user)
    tokens = {s.code: store.issue_token(s.code) for s in SCHOOLS}
    clock = [NOW]
    runner, url = await start(config, store, clock=lambda: clock[0])
    inbox = Inbox(url, store, config, tokens, clock, runner)
    try:
        yield inbox
    finally:
        await inbox.stop()
        store.close()


async def upload(client: httpx.AsyncClient, token: str | None, report: bytes,
                 key: str | None = "key-1", pdf: bytes = PDF,
                 extra: dict[str, str] | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if key is not None:
        headers["Idempotency-Key"] = key
    headers.update(extra or {})
    files = {"report": ("raport.json", report, "application/json"),
             "pdf": ("raport.pdf", pdf, "application/pdf")}
    return await client.post("/api/reports", files=files, headers=headers)


def form_csrf(html: str) -> str:
    return html.split('name="csrf" value="', 1)[1].split('"', 1)[0]


async def try_login(client: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    """One attempt through the login form (303 logged in, 401 wrong, 429 slowed down)."""
    page = await client.get("/hyr")
    return await client.post("/hyr", data={
        "csrf": form_csrf(page.text), "name": name, "password": password, "next": "/"})


async def login(client: httpx.AsyncClient, name: str, password: str | None = None) -> None:
    response = await try_login(client, name, password or PASSWORDS[name])
    assert response.status_code == 303, response.text
