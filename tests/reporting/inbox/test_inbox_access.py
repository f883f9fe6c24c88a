"""Who sees what in the inbox, over real HTTP: login, cookies, CSRF, one-time links, throttling,
and the boundaries between offices (Berat cannot see Vlorë's schools, files, exports or API)."""

from __future__ import annotations

from pathlib import Path

import pytest
from inbox_kit import PASSWORDS, form_csrf, login, report_file, running_inbox, upload

from reporting.inbox import auth


async def _with_vlore_report(inbox) -> int:  # type: ignore[no-untyped-def]
    async with inbox.client() as c:
        r = await upload(c, inbox.tokens["VL-001"], report_file("VL-001"))
        assert r.status_code == 201
    return int(inbox.store.db.execute("SELECT id FROM submissions").fetchone()[0])


@pytest.mark.parametrize("path", ["/muaji/2026-10", "/shkolla/BR-001", "/skedar/1/pdf",
                                  "/eksport/2026-10.csv", "/ngarko"])
async def test_anonymous_sees_nothing(tmp_path: Path, path: str) -> None:
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        await _with_vlore_report(inbox)
        r = await c.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/hyr?next=")
        r = await c.get("/api/v1/months/2026-10")
        assert r.status_code == 401 and "error" in r.json()


async def test_login_sets_a_strict_httponly_cookie_and_logs_it(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        page = await c.get("/hyr")
        r = await c.post("/hyr", data={"csrf": form_csrf(page.text), "name": "berat",
                                       "password": PASSWORDS["berat"], "next": "/muaji/2026-10"})
        assert r.status_code == 303 and r.headers["location"] == "/muaji/2026-10"
        cookie = next(v for v in r.headers.get_list("set-cookie")
                      if v.startswith(auth.SESSION_COOKIE + "="))
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert "Secure" not in cookie  # plain HTTP on loopback; Secure with TLS (test_inbox_tls)
        assert (await c.get("/muaji/2026-10")).status_code == 200
        actions = [row[2] for row in inbox.store.audit_rows()]
        assert "login" in actions


async def test_wrong_password_and_throttling(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        for _ in range(5):
            page = await c.get("/hyr")
            r = await c.post("/hyr", data={"csrf": form_csrf(page.text), "name": "berat",
                                           "password": "gabim-gabim-1"})
            assert r.status_code == 401 and "gabuar" in r.text
        page = await c.get("/hyr")
        r = await c.post("/hyr", data={"csrf": form_csrf(page.text), "name": "berat",
                                       "password": PASSWORDS["berat"]})
        assert r.status_code == 429  # right password, but too many failures just now
        inbox.clock[0] += int(r.headers["retry-after"])
        await login(c, "berat")


async def test_login_without_csrf_is_403(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        await c.get("/hyr")
        r = await c.post("/hyr", data={"name": "berat", "password": PASSWORDS["berat"]})
        assert r.status_code == 403
        r = await c.post("/hyr", data={"csrf": "guess", "name": "berat",
                                       "password": PASSWORDS["berat"]})
        assert r.status_code == 403


async def test_forms_without_the_session_csrf_token_are_403(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        await login(c, "berat")
        r = await c.post("/dil", data={})
        assert r.status_code == 403 and "CSRF" in r.text
        r = await c.post("/ngarko", data={"school": "BR-001"},
                         files={"report": ("r.json", report_file("BR-001"))})
        assert r.status_code == 403
        assert inbox.count("submissions") == 0
        page = await c.get("/ngarko")
        r = await c.post("/dil", data={"csrf": form_csrf(page.text)})
        assert r.status_code == 303
        assert (await c.get("/muaji/2026-10")).status_code == 303  # logged out


async def test_berat_office_cannot_see_vlore(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        sid = await _with_vlore_report(inbox)
        await login(c, "berat")
        page = await c.get("/muaji/2026-10")
        assert page.status_code == 200
        assert "Naim Frashëri" in page.text
        assert "VL-001" not in page.text and "Vlorë" not in page.text
        for path in ("/shkolla/VL-001", f"/skedar/{sid}/pdf", f"/skedar/{sid}/json"):
            r = await c.get(path)
            assert r.status_code == 404, path
        # ?qark= does not widen an office's view
        r = await c.get("/muaji/2026-10?qark=vlore")
        assert "VL-001" not in r.text
        csv_text = (await c.get("/eksport/2026-10.csv?qark=vlore")).content.decode("utf-8-sig")
        assert "VL-001" not in csv_text and "BR-001" in csv_text
        data = (await c.get("/api/v1/months/2026-10?qark=vlore")).json()
        assert {s["code"] for s in data["schools"]} == {"BR-001", "BR-002"}
        assert [q["id"] for q in data["qarqe"]] == ["berat"]
        # nor can it upload by hand for a Vlorë school
        page = await c.get("/ngarko")
        r = await c.post("/ngarko", data={"csrf": form_csrf(page.text), "school": "VL-001"},
                         files={"report": ("r.json", report_file("VL-001")),
                                "pdf": ("r.pdf", b"%PDF-1.4\n")})
        assert r.status_code == 404
        assert inbox.count("submissions") == 1


async def test_vlore_office_and_ministry_see_the_vlore_report(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox:
        sid = await _with_vlore_report(inbox)
        for name in ("vlora", "masr"):
            async with inbox.client() as c:
                await login(c, name)
                r = await c.get(f"/skedar/{sid}/pdf")
                assert r.status_code == 200 and r.content.startswith(b"%PDF")
                assert r.headers["content-disposition"].startswith("attachment;")
                data = (await c.get("/api/v1/months/2026-10")).json()
                codes = {s["code"] for s in data["schools"]}
                assert "VL-001" in codes
                assert ("BR-001" in codes) == (name == "masr")
        actions = [(row[1], row[2]) for row in inbox.store.audit_rows()]
        assert ("vlora", "download") in actions and ("masr", "export_json") in actions


async def test_one_time_login_link(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox:
        link = auth.new_link(inbox.store, "berat", inbox.clock[0])
        async with inbox.client() as c:
            r = await c.get(f"/hyr/lidhje/{link}?next=/muaji/2026-10")
            assert r.status_code == 303 and r.headers["location"] == "/muaji/2026-10"
            assert (await c.get("/muaji/2026-10")).status_code == 200
        async with inbox.client() as c:
            r = await c.get(f"/hyr/lidhje/{link}")  # used already
            assert r.status_code == 403 and "përdorur" in r.text
        late = auth.new_link(inbox.store, "berat", inbox.clock[0])
        inbox.clock[0] += auth.LINK_MINUTES * 60 + 1
        async with inbox.client() as c:
            assert (await c.get(f"/hyr/lidhje/{late}")).status_code == 403
        async with inbox.client() as c:  # an outside `next` is ignored
            fresh = auth.new_link(inbox.store, "berat", inbox.clock[0])
            r = await c.get(f"/hyr/lidhje/{fresh}?next=//evil.example/")
            assert r.headers["location"] == "/"


async def test_pages_carry_security_headers(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        r = await c.get("/hyr")
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["x-content-type-options"] == "nosniff"
