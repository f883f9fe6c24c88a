"""Grupet dhe oraret / Groups and schedules over real HTTPS: the teacher and the director see
the groups, profiles, schedules and holidays of roja.toml; only the teacher changes them, each
change checked like `roja config check` (the key named, Albanian first, the file untouched),
shown as a diff, and only on confirmation written, reloaded into a real `roja serve` (a DNS
query from the group's address gets a new answer) and audited under the teacher's name."""

from __future__ import annotations

import html
from pathlib import Path

import dns.rcode
import httpx
import pytest
from console_groups_kit import answer, console_on, serving, write
from console_kit import EVIL, form_csrf, signed_in

from filterd import audit
from filterd.config import load_config
from filterd.testing import free_port


async def teacher(c: httpx.AsyncClient) -> str:
    return await signed_in(c, "mesuesi")


def files(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("roja.toml"))


async def test_the_page_shows_groups_profiles_schedules_and_holidays(tmp_path: Path) -> None:
    path = write(tmp_path)
    async with console_on(path) as console:
        for who, forms in (("mesuesi", True), ("drejtori", False)):
            async with console.client() as c:
                await signed_in(c, who)
                r = await c.get("/grupet")
                assert r.status_code == 200, r.text
                text = html.unescape(r.text)
                assert "Grupet dhe oraret" in text and 'href="/grupet"' in r.text  # nav
                for shown in ("10.0.0.0/8", "127.0.0.2", "Nxënës (nxenes)", "Stafi (staf)",
                              "Bixhoz dhe lojëra fati / Gambling; Pornografi", "strict",
                              "Dreka", "12:00-13:00", "e hënë, e martë", "2026-12-24..2027-01-06",
                              "hotline", "nuk çaktivizohen"):
                    assert shown in text, shown
                assert EVIL not in r.text and "Mësuesit &lt;script&gt;alert(" in r.text  # escaped
                if not forms:  # the schedule's days: Monday to Friday, no day-name checkboxes
                    assert "e enjte, e premte" in text and "e shtunë" not in text
                assert ('action="/grupet/profili/staf"' in r.text) is forms
                assert ('name="windows"' in r.text) is forms


async def test_signed_out_goes_to_the_login_and_a_director_cannot_change(tmp_path: Path) -> None:
    path = write(tmp_path)
    before = path.read_bytes()
    async with console_on(path) as console:
        async with console.client() as c:
            r = await c.get("/grupet")
            assert r.status_code == 303 and r.headers["location"].startswith("/hyr?next=")
            r = await c.post("/grupet/profili/staf", data={"block": "gambling"})
            assert r.status_code == 303 and r.headers["location"].startswith("/hyr")
        async with console.client() as c:
            csrf = await signed_in(c, "drejtori")
            for action, data in (("/grupet/profili/staf", {"block": ["gambling"]}),
                                 ("/grupet/orari/i-ri", {"windows": "08:00-09:00"}),
                                 ("/grupet/pushimet/-", {"holidays": ""})):
                r = await c.post(action, data={"csrf": csrf, **data})
                assert r.status_code == 403 and "Vetëm mësuesi" in r.text
    assert path.read_bytes() == before


async def test_every_form_and_its_confirmation_want_the_csrf_token(tmp_path: Path) -> None:
    path = write(tmp_path)
    before = path.read_bytes()
    async with console_on(path) as console, console.client() as c:
        csrf = await teacher(c)
        form = {"block": ["gambling", "pornography"], "safe_search": "moderate"}
        review = await c.post("/grupet/profili/staf", data={"csrf": csrf, **form})
        digest = review.text.split('name="confirm" value="', 1)[1].split('"', 1)[0]
        for token in ("", "x" * 32):
            for data in (form, {**form, "confirm": digest}):
                r = await c.post("/grupet/profili/staf", data={"csrf": token, **data})
                assert r.status_code == 403, r.text
    assert path.read_bytes() == before and files(tmp_path) == ["roja.toml"]


@pytest.mark.parametrize(("form", "key", "said", "en"), [
    ({"windows": "25:00-26:00"}, "schedules[0].windows", "nuk është interval", "is not a window"),
    ({"windows": "13:00-12:00"}, "schedules[0].windows", "fillimi duhet para mbarimit",
     "the start must come before the end"),
    ({"categories": "kumar"}, "schedules[0].categories", "«kumar» nuk është kategori",
     "is not a category"),
    ({"categories": "csam"}, "schedules[0].categories", "është ligjore: asgjë nuk e hap",
     "nothing may open it"),
    ({"days": "sht"}, "schedules[0].days", "«sht» nuk është ditë", "is not a day"),
])
async def test_a_wrong_schedule_names_the_key_and_leaves_the_file(
        tmp_path: Path, form: dict[str, str], key: str, said: str, en: str) -> None:
    path = write(tmp_path)
    before = path.read_bytes()
    async with console_on(path) as console, console.client() as c:
        csrf = await teacher(c)
        data = {"csrf": csrf, "name": "Dreka", "groups": "nxenesit", "categories": "social_media",
                "action": "allow", "windows": "12:00-13:00", "days": "mon", **form}
        r = await c.post("/grupet/orari/0", data=data)
        assert r.status_code == 400, r.text
        text = html.unescape(r.text)
        assert f"Gabim te çelësi «{key}»" in text and said in text, text
        assert text.index(said) < text.index(en)  # Albanian first
        assert f'value="{form.get("windows", "12:00-13:00")}"' in text  # what was typed stays
        assert "Traceback" not in text
    assert path.read_bytes() == before and files(tmp_path) == ["roja.toml"]


async def test_a_wrong_holiday_or_profile_category_is_named(tmp_path: Path) -> None:
    path = write(tmp_path)
    before = path.read_bytes()
    async with console_on(path) as console, console.client() as c:
        csrf = await teacher(c)
        r = await c.post("/grupet/pushimet/-", data={"csrf": csrf, "holidays": "2026-13-01"})
        assert r.status_code == 400 and "Gabim te çelësi «policy.holidays»" in r.text
        assert "shkruani VVVV-MM-DD" in r.text
        r = await c.post("/grupet/profili/staf", data={"csrf": csrf, "block": "kumar"})
        assert r.status_code == 400 and "«profiles[1].block»" in html.unescape(r.text)
        r = await c.post("/grupet/grupi/mesuesit", data={"csrf": csrf, "profile": "askush"})
        assert r.status_code == 400 and "«groups[1].profile»" in html.unescape(r.text)
    assert path.read_bytes() == before


async def test_a_change_is_shown_confirmed_written_reloaded_and_audited(tmp_path: Path) -> None:
    port = free_port()
    path = write(tmp_path, port)
    original = path.read_text()
    with serving(path):
        assert answer(port, "bet.example", "127.0.0.2") != dns.rcode.NXDOMAIN  # staff: open
        assert answer(port, "bet.example", "127.0.0.1") == dns.rcode.NXDOMAIN  # pupils
        async with console_on(path) as console, console.client() as c:
            csrf = await teacher(c)
            form = {"block": ["pornography", "gambling"], "safe_search": "moderate"}
            review = await c.post("/grupet/profili/staf", data={"csrf": csrf, **form})
            assert review.status_code == 200, review.text
            shown = html.unescape(review.text)
            assert '-block = ["pornography"]' in shown
            assert '+block = ["gambling", "pornography"]' in shown
            assert "Ruaj dhe zbato" in shown and path.read_text() == original  # not yet
            digest = review.text.split('name="confirm" value="', 1)[1].split('"', 1)[0]
            done = await c.post("/grupet/profili/staf",
                                data={"csrf": csrf, **form, "confirm": digest})
            assert done.status_code == 303 and done.headers["location"] == "/grupet?u=1"
            assert answer(port, "bet.example", "127.0.0.2") == dns.rcode.NXDOMAIN  # applied
            new = path.read_text()
            assert new == original.replace('block = ["pornography"]',
                                           'block = ["gambling", "pornography"]')
            assert "# vetëm pornografia / only pornography" in new  # comments stay
            assert [(tmp_path / name).read_text() for name in files(tmp_path)
                    if name.startswith("roja.toml.bak-")] == [original]  # the backup
            page = await c.get("/grupet?u=1")
            assert "U ruajt dhe u zbatua" in page.text
            why = await c.get("/pse", params={"emri": "bet.example", "grupi": "mesuesit",
                                               "koha": "2026-11-05T10:00"})
            assert "Vendimi: BLLOKOHET" in why.text  # the console reads the new config too
        entries = audit.read(tmp_path / "state")
        change = [e for e in entries if e.what.startswith("config changed (console)")]
        assert len(change) == 1 and change[0].who == "mesuesi"
        assert "profiles[1] (staf)" in change[0].what
        assert '+block = ["gambling", "pornography"]' in change[0].why
        assert any(e.who == "mesuesi" and e.what.startswith("reload requested") for e in entries)


async def test_a_schedule_is_added_and_removed_and_the_holidays_changed(tmp_path: Path) -> None:
    port = free_port()
    path = write(tmp_path, port)
    with serving(path):
        async with console_on(path) as console, console.client() as c:
            csrf = await teacher(c)

            async def confirmed(action: str, data: dict[str, object]) -> None:
                review = await c.post(action, data={"csrf": csrf, **data})
                assert review.status_code == 200, review.text
                digest = review.text.split('name="confirm" value="', 1)[1].split('"', 1)[0]
                done = await c.post(action, data={"csrf": csrf, **data, "confirm": digest})
                assert done.status_code == 303, done.text

            await confirmed("/grupet/orari/i-ri", {
                "name": "Mbrëmja", "groups": ["mesuesit"], "categories": ["gambling"],
                "action": "block", "windows": "00:00-24:00", "days": list(
                    ("mon", "tue", "wed", "thu", "fri", "sat", "sun")), "on_holidays": "1"})
            assert answer(port, "bet.example", "127.0.0.2") == dns.rcode.NXDOMAIN
            assert 'name = "Mbrëmja"' in path.read_text()
            await confirmed("/grupet/orari/1", {"fshij": "1"})
            assert "Mbrëmja" not in path.read_text()
            assert answer(port, "bet.example", "127.0.0.2") != dns.rcode.NXDOMAIN
            await confirmed("/grupet/pushimet/-", {"holidays": "2026-12-24..2027-01-06\n"
                                                                "2027-03-14"})
            assert 'holidays = ["2026-12-24..2027-01-06", "2027-03-14"]' in path.read_text()
    assert load_config(path).policy.schedules[0].name == "Dreka"


async def test_a_reload_that_fails_puts_the_old_file_back(tmp_path: Path) -> None:
    path = write(tmp_path)  # no `roja serve`: nothing answers the reload
    original = path.read_text()
    async with console_on(path) as console, console.client() as c:
        csrf = await teacher(c)
        form = {"profile": "", "safe_search": "strict", "ip_literals": "block"}
        review = await c.post("/grupet/grupi/mesuesit", data={"csrf": csrf, **form})
        assert '+safe_search = "strict"' in html.unescape(review.text)
        assert "Mësuesit &lt;script&gt;" in review.text and EVIL not in review.text  # context
        digest = review.text.split('name="confirm" value="', 1)[1].split('"', 1)[0]
        r = await c.post("/grupet/grupi/mesuesit", data={"csrf": csrf, **form, "confirm": digest})
        assert r.status_code == 503
        assert "Ndryshimi nuk u zbatua; konfigurimi i mëparshëm u rikthye" in r.text
        assert "Shërbimi nuk punon" in r.text
    assert path.read_text() == original
    assert any(e.what.startswith("config change not applied, restored")
               for e in audit.read(tmp_path / "state"))


async def test_a_confirmation_for_a_file_that_changed_meanwhile_shows_the_new_diff(
        tmp_path: Path) -> None:
    path = write(tmp_path)
    async with console_on(path) as console, console.client() as c:
        csrf = await teacher(c)
        form = {"holidays": "2027-03-14"}
        review = await c.post("/grupet/pushimet/-", data={"csrf": csrf, **form})
        digest = review.text.split('name="confirm" value="', 1)[1].split('"', 1)[0]
        path.write_text(path.read_text().replace("Stafi", "Stafi i ri"))  # by hand, meanwhile
        changed = path.read_text()
        r = await c.post("/grupet/pushimet/-", data={"csrf": csrf, **form, "confirm": digest})
        assert r.status_code == 200 and "Skedari ndryshoi ndërkohë" in r.text
        assert form_csrf(r.text) == csrf
    assert path.read_text() == changed


async def test_a_file_that_cannot_be_written_is_said_and_nothing_changes(tmp_path: Path) -> None:
    path = write(tmp_path)
    original = path.read_text()
    async with console_on(path) as console, console.client() as c:
        csrf = await teacher(c)
        form = {"holidays": "2027-03-14"}
        review = await c.post("/grupet/pushimet/-", data={"csrf": csrf, **form})
        digest = review.text.split('name="confirm" value="', 1)[1].split('"', 1)[0]
        (tmp_path / "roja.toml.new").mkdir()  # the temporary file's place is taken
        r = await c.post("/grupet/pushimet/-", data={"csrf": csrf, **form, "confirm": digest})
        assert r.status_code == 503 and "nuk u shkrua, asgjë nuk ndryshoi" in r.text, r.text
    assert path.read_text() == original
