"""The inbox under abuse, over real HTTP with real argon2 and SQLite: password guessing from one
address and across many names, a lock-out attempt, requests that would stall the event loop,
and JSON built to crash the parser."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
from inbox_kit import PASSWORDS, form_csrf, running_inbox, try_login, upload

from reporting.inbox.app import start

WRONG = "gabim-gabim-1"


async def test_an_attacker_cannot_lock_a_user_out_from_another_address(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox:
        async with inbox.client("127.0.0.1") as attacker:
            statuses = [(await try_login(attacker, "berat", WRONG)).status_code
                        for _ in range(12)]
            assert statuses[:5] == [401] * 5
            assert set(statuses[5:]) == {429}  # slowed down, answered without hashing
            r = await try_login(attacker, "berat", PASSWORDS["berat"])
            assert r.status_code == 429  # the attacker's own address stays slowed
            assert "provoni përsëri pas" in r.text and "try again in" in r.text
            assert int(r.headers["retry-after"]) >= 1
        async with inbox.client("127.0.0.2") as victim:
            r = await try_login(victim, "berat", PASSWORDS["berat"])
            assert r.status_code == 303, r.text  # the real user, from elsewhere, gets in
        actions = [row[2] for row in inbox.store.audit_rows(50)]
        assert actions.count("login_failed") == 5 and "login_throttled" in actions


async def test_an_address_trying_many_names_is_slowed_down(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox:
        async with inbox.client("127.0.0.3") as attacker:
            for i in range(10):
                r = await try_login(attacker, f"emer{i}", WRONG)
                assert r.status_code == 401, (i, r.status_code)
            r = await try_login(attacker, "vlora", PASSWORDS["vlora"])
            assert r.status_code == 429
            first = int(r.headers["retry-after"])
            inbox.clock[0] += first
            assert (await try_login(attacker, "emer10", WRONG)).status_code == 401
            r = await try_login(attacker, "emer11", WRONG)
            assert r.status_code == 429
            assert int(r.headers["retry-after"]) >= 2 * first  # exponential
        async with inbox.client("127.0.0.4") as other:  # the names themselves are not locked
            assert (await try_login(other, "vlora", PASSWORDS["vlora"])).status_code == 303


async def test_password_hashing_does_not_stall_other_requests(tmp_path: Path) -> None:
    """Three logins hash real argon2 passwords (about 0.1-0.7 s each) while /healthz is asked:
    it must answer before any of them, which it cannot if hashing runs on the event loop."""
    async with running_inbox(tmp_path) as inbox:
        clients = [inbox.client(f"127.0.0.{10 + i}") for i in range(3)]
        done: list[str] = []
        try:
            pages = [await c.get("/hyr") for c in clients]

            async def attempt(i: int) -> None:
                r = await clients[i].post("/hyr", data={
                    "csrf": form_csrf(pages[i].text), "name": "masr", "password": WRONG})
                assert r.status_code == 401
                done.append(f"login{i}")

            tasks = [asyncio.create_task(attempt(i)) for i in range(3)]
            await asyncio.sleep(0.05)
            async with inbox.client() as probe:
                t0 = time.perf_counter()
                assert (await probe.get("/healthz")).status_code == 200
                done.append("healthz")
                took = time.perf_counter() - t0
            await asyncio.gather(*tasks)
        finally:
            for c in clients:
                await c.aclose()
        assert done[0] == "healthz", (done, took)


async def test_deeply_nested_json_is_refused_with_400(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        r = await upload(c, inbox.tokens["BR-001"], b"[" * 100_000 + b"]" * 100_000)
        assert r.status_code == 400, r.text
        assert "thellë" in r.json()["error"] and "nested" in r.json()["error"]
        deep = {"schema": "roja.report/1", "x": {}}
        node = deep["x"]
        for _ in range(200):
            node["x"] = {}
            node = node["x"]
        r = await upload(c, inbox.tokens["BR-001"], json.dumps(deep).encode(), key="k2")
        assert r.status_code == 400 and "nested" in r.json()["error"]
        assert inbox.count("submissions") == 0


async def test_a_huge_report_json_is_refused_with_400(tmp_path: Path) -> None:
    from inbox_kit import report_file
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        big = report_file("BR-001", name="x" * (3 << 20))
        r = await upload(c, inbox.tokens["BR-001"], big)
        assert r.status_code == 400, r.text[:300]
        assert "MB" in r.json()["error"] and "too large" in r.json()["error"]
        assert inbox.count("submissions") == 0


async def test_a_huge_login_form_is_refused_before_it_is_read(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        page = await c.get("/hyr")
        r = await c.post("/hyr", data={"csrf": form_csrf(page.text), "name": "berat",
                                       "password": "p" * (2 << 20)})
        assert r.status_code == 413
        assert "login_failed" not in [row[2] for row in inbox.store.audit_rows()]


async def test_a_restart_does_not_forget_the_login_throttle(tmp_path: Path) -> None:
    """Five wrong passwords, then the inbox restarts (a new server and a new connection to
    the same database): that address is still slowed down for that name."""
    async with running_inbox(tmp_path) as inbox:
        async with inbox.client("127.0.0.1") as attacker:
            statuses = [(await try_login(attacker, "berat", WRONG)).status_code
                        for _ in range(5)]
            assert statuses == [401] * 5
        runner, url = await start(inbox.cfg, None, clock=lambda: inbox.clock[0])
        await inbox.stop()  # the first server goes; the new one has its own Store
        try:
            async with httpx.AsyncClient(base_url=url, timeout=60.0) as again:
                r = await try_login(again, "berat", PASSWORDS["berat"])
                assert r.status_code == 429, r.text
                assert "provoni përsëri pas" in r.text
            async with httpx.AsyncClient(
                    base_url=url, timeout=60.0,
                    transport=httpx.AsyncHTTPTransport(local_address="127.0.0.2")) as victim:
                r = await try_login(victim, "berat", PASSWORDS["berat"])
                assert r.status_code == 303, r.text  # still nobody's lock-out
        finally:
            await runner.cleanup()
