"""Who may do what, over real HTTPS with the school CA: no session → the login page, the
director changes nothing but a signature, no CSRF token → 403, wrong passwords throttle,
the cookies are Secure, and an idle session ends."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest
from console_kit import login, running_console, signed_in

from filterd import audit
from filterd.console.app import SESSION_COOKIE, start

PAGES = ["/pasqyra", "/kerkesat", "/incidentet", "/incidentet.csv", "/incident-i-ri",
         "/raportet", "/raportet/2026-10.pdf", "/pse", "/vetetestimi", "/rastet",
         "/rastet/1", "/llogarite", "/auditimi", "/grupet", "/listat",
         "/raportet/2026-10/r1.pdf"]
ACTIONS = ["/kerkesat/1/prano", "/kerkesat/1/refuzo", "/zhbllokime/1/hiq", "/incident-i-ri",
           "/raportet/2026-10/harto", "/raportet/2026-10/dergo",
           "/raportet/2026-10/nenshkruaj", "/vetetestimi/nis", "/dil", "/rastet/1",
           "/llogarite/shto", "/llogarite/imi", "/llogarite/drejtori/fjalekalimi",
           "/llogarite/drejtori/hiq", "/zhbllokime/shto", "/grupet/pushimet/te-gjitha",
           "/listat/sinkronizo"]
TEACHER_ONLY = ["/kerkesat/1/prano", "/kerkesat/1/refuzo", "/zhbllokime/1/hiq",
                "/incident-i-ri", "/raportet/2026-10/harto", "/raportet/2026-10/dergo",
                "/vetetestimi/nis", "/rastet/1", "/llogarite/shto",
                "/llogarite/mesuesi/fjalekalimi", "/llogarite/mesuesi/hiq",
                "/zhbllokime/shto", "/grupet/pushimet/te-gjitha",
                "/listat/sinkronizo"]


async def test_without_a_session_everything_leads_to_the_login(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        assert console.url.startswith("https://127.0.0.1:")
        for path in PAGES:
            r = await c.get(path)
            assert r.status_code == 303 and r.headers["location"].startswith("/hyr?next="), path
        for path in ACTIONS:
            r = await c.post(path, data={"csrf": "x", "reason": "r", "minutes": "45"})
            assert r.status_code == 303 and r.headers["location"].startswith("/hyr"), path
        page = await c.get("/hyr")
        assert 'name="username"' in page.text and 'name="password"' in page.text
        assert "Hyrja në konsolë" in page.text


async def test_login_sets_a_secure_cookie_and_audits(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        r = await login(c, "mesuesi")
        assert r.status_code == 303
        cookie = next(v for v in r.headers.get_list("set-cookie")
                      if v.startswith(SESSION_COOKIE + "="))
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert "max-age" in r.headers["strict-transport-security"]
        assert "default-src 'none'" in r.headers["content-security-policy"]
        entries = audit.read(console.cfg.state_dir)
        assert entries[-1].who == "mesuesi" and entries[-1].what == "console login"


async def test_wrong_passwords_throttle_the_name(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        for _ in range(5):
            r = await login(c, "mesuesi", "gabim-gabim-gabim")
            assert r.status_code == 401 and "i gabuar" in r.text
        r = await login(c, "mesuesi")  # the right password, but throttled for 15 minutes
        assert r.status_code == 401
        console.clock[0] += 901
        assert (await login(c, "mesuesi")).status_code == 303


async def test_login_form_without_its_token_is_refused(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        r = await c.post("/hyr", data={"username": "mesuesi", "password": "fjalekalim-mesuesi-1"})
        assert r.status_code == 403


@pytest.mark.parametrize("path", TEACHER_ONLY)
async def test_the_director_changes_nothing(tmp_path: Path, path: str) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        csrf = await signed_in(c, "drejtori")
        before = len(audit.read(console.cfg.state_dir))
        r = await c.post(path, data={"csrf": csrf, "reason": "r", "minutes": "45",
                                     "date": "2026-11-04", "category": "sexting",
                                     "platform": "instagram", "age_band": "unknown",
                                     "gender": "unknown", "status": "open"})
        assert r.status_code == 403, r.text
        assert "Vetëm mësuesi i TIK-ut" in r.text
        assert len(audit.read(console.cfg.state_dir)) == before


async def test_the_director_reads_and_signs(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console:
        async with console.client() as t:
            csrf = await signed_in(t, "mesuesi")
            assert (await t.post("/raportet/2026-10/harto", data={"csrf": csrf})
                    ).status_code == 303
        async with console.client() as c:
            csrf = await signed_in(c, "drejtori")
            for path in ("/pasqyra", "/kerkesat", "/incidentet", "/raportet"):
                r = await c.get(path)
                assert r.status_code == 200, path
                assert "Prano / Accept" not in r.text and "Harto / Build" not in r.text
            assert "/incident-i-ri" not in (await c.get("/pasqyra")).text
            r = await c.post("/raportet/2026-10/nenshkruaj", data={"csrf": csrf})
            assert r.status_code == 303
            page = await c.get("/raportet")
            assert "Nënshkruar nga / signed by: drejtori (drejtori / director" in page.text
            assert audit.read(console.cfg.state_dir)[-1].what == "report signed 2026-10"


@pytest.mark.parametrize("path", ACTIONS)
async def test_actions_without_the_csrf_token_are_refused(tmp_path: Path, path: str) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        csrf = await signed_in(c, "mesuesi")
        before = len(audit.read(console.cfg.state_dir))
        for data in ({}, {"csrf": csrf[:-2] + "xx"}):
            r = await c.post(path, data={**data, "reason": "r", "minutes": "45"})
            assert r.status_code == 403, (path, r.status_code)
        assert len(audit.read(console.cfg.state_dir)) == before


async def test_an_idle_session_ends(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        await signed_in(c, "mesuesi")
        console.clock[0] += 29 * 60
        assert (await c.get("/pasqyra")).status_code == 200
        console.clock[0] += 31 * 60
        r = await c.get("/pasqyra")
        assert r.status_code == 303 and r.headers["location"].startswith("/hyr")


async def test_logout_ends_the_session(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        csrf = await signed_in(c, "mesuesi")
        assert (await c.post("/dil", data={"csrf": csrf})).status_code == 303
        assert (await c.get("/pasqyra")).status_code == 303


def test_guessing_from_one_address_does_not_lock_the_teacher_out_elsewhere(tmp_path: Path) -> None:
    # issue 22's rule for the inbox holds for the console too: throttled per address and per
    # account from that address, never per account alone
    from filterd.console.accounts import ADDRESS_FAILURES, Accounts

    with Accounts(tmp_path) as accounts:
        accounts.add("mesuesi", "teacher", "fjalekalim-mesuesi-1", 0.0)
        for i in range(ADDRESS_FAILURES * 3):
            assert accounts.login("mesuesi", f"gabim-{i}", 1.0 + i, "10.0.0.66") is None
        assert accounts.login("mesuesi", "fjalekalim-mesuesi-1", 50.0, "10.0.0.66") is None
        teacher = accounts.login("mesuesi", "fjalekalim-mesuesi-1", 50.0, "10.0.0.5")
        assert teacher is not None and teacher.name == "mesuesi"
        for i in range(ADDRESS_FAILURES):  # many names from one address: the address waits
            accounts.login(f"emer-{i}", "gabim", 60.0 + i, "10.0.0.77")
        assert accounts.login("mesuesi", "fjalekalim-mesuesi-1", 80.0, "10.0.0.77") is None


async def test_a_restart_does_not_forget_the_login_throttle(tmp_path: Path) -> None:
    """The counts are rows of console.sqlite: a new server with a new connection to it
    still refuses the name from that address."""
    async with running_console(tmp_path) as console:
        async with console.client() as c:
            for _ in range(5):
                assert (await login(c, "mesuesi", "gabim-gabim-gabim")).status_code == 401
        runner, url = await start(console.cfg, None, clock=lambda: console.clock[0])
        try:
            trust = ssl.create_default_context(cafile=str(console.ca_file))
            async with httpx.AsyncClient(base_url=url, timeout=60.0, verify=trust) as again:
                assert (await login(again, "mesuesi")).status_code == 401  # still throttled
                console.clock[0] += 901
                assert (await login(again, "mesuesi")).status_code == 303
        finally:
            await runner.cleanup()
