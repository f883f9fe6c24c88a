"""Pse u bllokua? / Why was it blocked?: the console explains a name or URL for a group or a
client address at a time, with the very steps `roja policy explain` prints (the same code,
`filterd.policy_explain`), Albanian first; wrong input is named, never a traceback."""

from __future__ import annotations

import html
from pathlib import Path

from click.testing import CliRunner
from console_kit import EVIL, NOW, running_console, signed_in

from filterd import overrides
from filterd.cli import main


def steps(page: str) -> list[str]:
    """The Albanian sentences of the explanation, in order."""
    body = page.split('<ol class="steps">', 1)[1].split("</ol>", 1)[0]
    return [html.unescape(part.split("</span>", 1)[0])
            for part in body.split("<span>")[1:]]


async def test_a_blocked_name_for_a_group_says_which_list_and_why(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        await signed_in(c, "drejtori")  # read-only: the director may ask too
        r = await c.get("/pse", params={"emri": "www.bet.example", "grupi": "nxenesit",
                                        "koha": "2026-11-05T10:00"})
        assert r.status_code == 200, r.text
        found = steps(r.text)
        assert found[0].startswith("Grupi: Nxënësit (nxenesit)")
        assert "Koha (Europe/Tirane): 2026-11-05 10:00 (e enjte / thu)" in found  # sq first
        assert "Time (Europe/Tirane): 2026-11-05 10:00 (thu)" in r.text
        assert found[-1].startswith("Vendimi: BLLOKOHET"), found
        assert any("bixhoz" in s for s in found), found
        assert "Decision: BLOCKED" in r.text  # English second


async def test_the_page_shows_the_steps_roja_policy_explain_prints(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        await signed_in(c, "mesuesi")
        overrides.add(console.cfg.state_dir, group_id="nxenesit", host="bet.example",
                      seconds=3600, by="mesuesi", reason="Projekt", now=NOW - 60)
        for target, legal in (("bet.example", False), ("abuse-legal.example", True)):
            r = await c.get("/pse", params={"emri": target, "klienti": "10.0.3.17",
                                            "koha": "2026-11-05T10:00"})
            cli = CliRunner().invoke(main, [
                "--config", str(tmp_path / "roja.toml"), "policy", "explain", "--client",
                "10.0.3.17", "--host", target, "--at", "2026-11-05 10:00"])
            assert cli.exit_code == 0, cli.output
            printed = [line.split(". ", 1)[1] for line in cli.output.splitlines()
                       if line[:3].strip().rstrip(".").isdigit()]
            assert steps(r.text) == printed
            if legal:  # the legal layer: nothing opens it, not even the unblock of bet.example
                assert any("asgjë nuk e hap" in s for s in printed)
                assert printed[-1].startswith("Vendimi: BLLOKOHET")
            else:
                assert any(s.startswith("Zhbllokim #1 për bet.example") for s in printed)
                assert printed[-1].startswith("Vendimi: LEJOHET")


async def test_a_url_is_explained_path_and_all(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        await signed_in(c, "mesuesi")
        r = await c.get("/pse", params={"emri": "bet.example/lojra?x=1", "grupi": "nxenesit"})
        assert r.status_code == 200
        assert "http://bet.example/lojra?x=1" in html.unescape(r.text)
        assert steps(r.text)[-1].startswith("Vendimi: BLLOKOHET")


async def test_wrong_input_is_named_and_escaped(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        await signed_in(c, "mesuesi")
        for params, said in (
                ({"emri": EVIL, "grupi": "nxenesit"}, "nuk është emër faqeje as URL"),
                ({"emri": "bet.example", "klienti": "10.0.0.999"}, "nuk është adresë IP"),
                ({"emri": "bet.example", "grupi": "askush"}, "Zgjidhni grupin"),
                ({"emri": "bet.example", "grupi": "nxenesit", "koha": "nesër"},
                 "koha duhet VVVV-MM-DD")):
            r = await c.get("/pse", params=params)
            assert r.status_code == 400 and said in r.text, r.text
            assert EVIL not in r.text and "Traceback" not in r.text
        empty = await c.get("/pse")  # the form, nothing asked yet
        assert empty.status_code == 200 and 'class="steps"' not in empty.text


async def test_the_lists_not_loading_is_said(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        await signed_in(c, "mesuesi")
        (tmp_path / "lists" / "bixhoz.txt").unlink()
        r = await c.get("/pse", params={"emri": "bet.example", "grupi": "nxenesit"})
        assert r.status_code == 503 and "Listat nuk u ngarkuan" in r.text, r.text


async def test_signed_out_goes_to_the_login(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        r = await c.get("/pse", params={"emri": "bet.example"})
        assert r.status_code == 303 and r.headers["location"].startswith("/hyr?next=")
