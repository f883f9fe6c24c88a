"""Rastet / Cases over real HTTPS: the teacher finds a recorded incident and follows it to its
close (status, referrals, description masked like a new one, every change audited without its
text); the director sees the list but neither the description nor the form; what a user typed
comes back escaped."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from console_kit import EVIL, NOW, running_console, signed_in

from filterd import audit
from reporting import manual
from reporting.incidents import db_path


def seed_case(state: Path, description: str = "Mesazhe kërcënuese në grup") -> int:
    return manual.add(db_path(state), manual.ManualIncident(
        date(2026, 11, 3), "cyberbullying", "whatsapp", "11_14", "female", ("parents",),
        "open", description, "mesuesi"), NOW - 3600)


async def test_the_teacher_follows_a_case_to_its_close(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        state = console.cfg.state_dir
        number = seed_case(state)
        csrf = await signed_in(c, "mesuesi")
        listed = (await c.get("/rastet")).text
        assert f'href="/rastet/{number}"' in listed and "Bullizëm" in listed
        assert "Mesazhe kërcënuese" not in listed  # the free text stays on the case page
        form = (await c.get(f"/rastet/{number}")).text
        assert "Mesazhe kërcënuese në grup</textarea>" in form
        assert 'value="parents" checked' in form
        r = await c.post(f"/rastet/{number}", data={
            "csrf": csrf, "status": "resolved", "category": "cyberbullying",
            "referrals": ["parents", "alo116"],
            "description": "U fol me prindërit, tel 069 123 4567"})
        assert r.status_code == 200 and "numër telefoni" in r.text, r.text[:300]
        stored = manual.get(db_path(state), number)
        assert stored is not None and stored.status == "resolved"
        assert stored.referrals == ("alo116", "parents")  # in the vocabulary's order
        assert "069" not in stored.description and manual.HIDDEN in stored.description
        last = audit.read(state)[-1]
        assert last.who == "mesuesi"
        assert last.what == (f"manual incident update #{number}: description, referrals, "
                             "status open→resolved")
        assert "069" not in last.what and "prindërit" not in last.what
        resolved = (await c.get("/rastet?statusi=resolved")).text
        assert f'href="/rastet/{number}"' in resolved and "E zgjidhur / Resolved" in resolved
        assert f'href="/rastet/{number}"' not in (await c.get("/rastet?statusi=open")).text


async def test_nothing_changed_is_not_an_audit_entry(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        number = seed_case(console.cfg.state_dir)
        csrf = await signed_in(c, "mesuesi")
        before = len(audit.read(console.cfg.state_dir))
        r = await c.post(f"/rastet/{number}", data={
            "csrf": csrf, "status": "open", "category": "cyberbullying",
            "referrals": ["parents"], "description": "Mesazhe kërcënuese në grup"})
        assert r.status_code == 303 and r.headers["location"] == "/rastet"
        assert len(audit.read(console.cfg.state_dir)) == before


async def test_bad_values_are_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        number = seed_case(console.cfg.state_dir)
        csrf = await signed_in(c, "mesuesi")
        r = await c.post(f"/rastet/{number}", data={
            "csrf": csrf, "status": "closed-forever", "category": "cyberbullying"})
        assert r.status_code == 400 and "nuk njihet / is not known" in r.text
        stored = manual.get(db_path(console.cfg.state_dir), number)
        assert stored is not None and stored.status == "open"
        assert (await c.get("/rastet/999")).status_code == 404
        assert (await c.get("/rastet/abc")).status_code == 404
        assert (await c.get("/rastet?statusi=x")).status_code == 400


async def test_the_director_sees_the_list_only(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        number = seed_case(console.cfg.state_dir)
        await signed_in(c, "drejtori")
        listed = await c.get("/rastet")
        assert listed.status_code == 200 and "Bullizëm" in listed.text
        assert f'href="/rastet/{number}"' not in listed.text
        assert (await c.get(f"/rastet/{number}")).status_code == 403


async def test_typed_text_comes_back_escaped(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        number = seed_case(console.cfg.state_dir, f"Teksti {EVIL}")
        await signed_in(c, "mesuesi")
        page = (await c.get(f"/rastet/{number}")).text
        assert EVIL not in page and "&lt;script&gt;" in page


async def test_many_cases_come_a_hundred_a_page(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        before = len(manual.list_(db_path(console.cfg.state_dir)))  # the kit's own cases
        for i in range(130 - before):
            seed_case(console.cfg.state_dir, f"rasti {i}")
        await signed_in(c, "drejtori")
        first = (await c.get("/rastet")).text
        assert "130 raste / cases · faqja / page 1 nga / of 2" in first
        assert first.count("<tr>") == 101 and '<td data-label="Nr.">130</td>' in first
        second = (await c.get("/rastet?faqja=2")).text
        assert second.count("<tr>") == 31 and '<td data-label="Nr.">1</td>' in second
        assert "faqja=1" in second and (await c.get("/rastet?faqja=x")).status_code == 200
