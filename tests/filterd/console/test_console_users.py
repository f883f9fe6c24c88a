"""Llogaritë and Auditimi over real HTTPS: the teacher adds, resets and removes accounts in a
browser (never oneself, never the last teacher, the two passwords must match, at least 10
characters); anyone changes their own password after typing the current one, which ends their
sessions; every change is audited without a password; the audit page shows the chain's
verdict and its head, and names a rewritten entry."""

from __future__ import annotations

from pathlib import Path

from console_kit import EVIL, PASSWORDS, login, running_console, signed_in

from filterd import audit

NEW = "fjalekalim-i-ri-12"


async def test_the_teacher_adds_resets_and_removes_an_account(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        csrf = await signed_in(c, "mesuesi")
        r = await c.post("/llogarite/shto", data={"csrf": csrf, "name": "zv.drejtori",
                                                  "role": "director", "password": NEW,
                                                  "password2": NEW})
        assert r.status_code == 303, r.text
        page = (await c.get(r.headers["location"])).text
        assert "U shtua / added: zv.drejtori" in page and "Drejtor" in page
        async with console.client() as other:
            assert (await login(other, "zv.drejtori", NEW)).status_code == 303
            r = await c.post("/llogarite/zv.drejtori/fjalekalimi", data={
                "csrf": csrf, "password": NEW + "x", "password2": NEW + "x"})
            assert r.status_code == 303
            assert (await other.get("/pasqyra")).status_code == 303  # its session ended
        assert (await c.post("/llogarite/zv.drejtori/hiq", data={"csrf": csrf})
                ).status_code == 303
        assert console.accounts.user("zv.drejtori") is None
        said = [e.what for e in audit.read(console.cfg.state_dir)
                if e.what.startswith("console user")]
        assert said == ["console user add zv.drejtori (director)",
                             "console user reset zv.drejtori", "console user remove zv.drejtori"]
        assert not any(NEW in e for e in said)


async def test_mistakes_are_refused_with_a_reason(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        csrf = await signed_in(c, "mesuesi")
        r = await c.post("/llogarite/shto", data={"csrf": csrf, "name": "x.y", "role": "teacher",
                                                  "password": NEW, "password2": NEW + "!"})
        assert r.status_code == 400 and "nuk përputhen / the two passwords differ" in r.text
        r = await c.post("/llogarite/shto", data={"csrf": csrf, "name": "x.y", "role": "teacher",
                                                  "password": "shkurt", "password2": "shkurt"})
        assert r.status_code == 400 and "të paktën 10" in r.text
        r = await c.post("/llogarite/shto", data={"csrf": csrf, "name": EVIL, "role": "teacher",
                                                  "password": NEW, "password2": NEW})
        assert r.status_code == 400 and EVIL not in r.text and "&lt;script&gt;" in r.text
        r = await c.post("/llogarite/mesuesi/hiq", data={"csrf": csrf})
        assert r.status_code == 409 and "llogarinë tuaj" in r.text
        assert (await c.post("/llogarite/askush/hiq", data={"csrf": csrf})).status_code == 404
        assert console.accounts.user("x.y") is None and console.accounts.user("mesuesi")


async def test_the_last_teacher_stays(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        csrf = await signed_in(c, "mesuesi")
        await c.post("/llogarite/shto", data={"csrf": csrf, "name": "ndihmesi",
                                              "role": "teacher", "password": NEW,
                                              "password2": NEW})
        async with console.client() as helper:
            r = await login(helper, "ndihmesi", NEW)
            assert r.status_code == 303
            page = (await helper.get("/llogarite")).text
            token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            assert (await helper.post("/llogarite/mesuesi/hiq", data={"csrf": token})
                    ).status_code == 303
            r = await helper.post("/llogarite/ndihmesi/hiq", data={"csrf": token})
            assert r.status_code == 409  # oneself; and now also the last teacher
        assert [u.name for u in console.accounts.users() if u.teacher] == ["ndihmesi"]


async def test_the_director_changes_only_their_own_password(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        csrf = await signed_in(c, "drejtori")
        page = await c.get("/llogarite")
        assert page.status_code == 200 and "/llogarite/shto" not in page.text
        for path in ("/llogarite/shto", "/llogarite/mesuesi/hiq",
                     "/llogarite/mesuesi/fjalekalimi"):
            r = await c.post(path, data={"csrf": csrf, "name": "a.b", "role": "teacher",
                                         "password": NEW, "password2": NEW})
            assert r.status_code == 403, path
        r = await c.post("/llogarite/imi", data={"csrf": csrf, "current": "jo-ky-eshte",
                                                 "password": NEW, "password2": NEW})
        assert r.status_code == 403 and "i tanishëm është i gabuar" in r.text
        r = await c.post("/llogarite/imi", data={"csrf": csrf,
                                                 "current": PASSWORDS["drejtori"],
                                                 "password": NEW, "password2": NEW})
        assert r.status_code == 303 and r.headers["location"] == "/hyr"
        assert (await c.get("/pasqyra")).status_code == 303  # signed out
        async with console.client() as again:
            assert (await login(again, "drejtori", NEW)).status_code == 303
        assert audit.read(console.cfg.state_dir)[-2].what == \
            "console user reset drejtori (own password)"


async def test_the_audit_page_shows_the_verdict_and_a_rewrite(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        state = console.cfg.state_dir
        audit.append(state, who="mesuesi", what=f"unblock add {EVIL}", why="projekt")
        await signed_in(c, "drejtori")
        page = (await c.get("/auditimi")).text
        assert "✓ Regjistri i auditimit është i paprekur" in page
        assert EVIL not in page and "unblock add &lt;script&gt;" in page
        head = audit.anchor(state)
        assert head is not None and f"<b>{head.length}</b> hyrje" in page
        only = (await c.get("/auditimi?kush=drejtori")).text
        assert "console login" in only and "unblock add" not in only
        log = state / audit.LOG_NAME
        log.write_text(log.read_text(encoding="utf-8").replace("projekt", "tjetër"),
                       encoding="utf-8")
        page = (await c.get("/auditimi")).text
        assert "✗ Regjistri i auditimit NUK është i paprekur" in page
