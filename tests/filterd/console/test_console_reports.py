"""Raportet / Reports over real HTTPS, sending to a real inbox (tests/inbox_kit.py): each
month's revisions r1, r2 ... with what changed, the deliveries and receipts of each revision
(the same as `roja report status`), the PDF shown inline, and the school's option that a
director signs a revision before it is sent (console, `roja report send`, `roja report due`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from click.testing import CliRunner
from console_kit import Console, running_console, signed_in
from inbox_kit import Inbox, running_inbox

from filterd import audit
from filterd.cli import main
from filterd.commands import report_status
from reporting.bundles import BundleStore
from reporting.inbox.registry import School

CODE = "TEST-001"


def received(inbox: Inbox) -> list[tuple[int, str]]:
    """(the inbox's revision, content hash) of every report the school sent for October."""
    return [(int(n), str(h)) for n, h in inbox.store.db.execute(
        "SELECT revision, content_sha256 FROM submissions WHERE school_code = ? AND "
        "period = '2026-10' ORDER BY revision", (CODE,))]


@asynccontextmanager
async def console_and_inbox(tmp_path: Path, extra: str = ""
                            ) -> AsyncIterator[tuple[Console, Inbox]]:
    async with running_inbox(tmp_path / "zyra") as inbox:
        inbox.store.put_schools([School(CODE, "Shkolla Test", "berat", "Berat", "")])
        token = inbox.store.issue_token(CODE)
        report = f"""
[report]
qark = "Berat"
municipality = "Berat"
{extra}
[report.https]
url = "{inbox.url}/api/reports"
token = "{token}"
"""
        async with running_console(tmp_path / "shkolla", report) as console:
            yield console, inbox


def revisions(console: Console) -> list[tuple[int, str]]:
    return [(r.number, r.bundle.content_sha256)
            for r in BundleStore(console.cfg.state_dir).revisions(CODE, "2026-10")]


async def add_october_incident(c: object, csrf: str) -> None:
    r = await c.post("/incident-i-ri", data={  # type: ignore[attr-defined]
        "csrf": csrf, "date": "2026-10-20", "category": "sexting", "platform": "instagram",
        "age_band": "11_14", "gender": "unknown", "status": "open", "description": "Rast"})
    assert r.status_code == 303, r.text


async def test_revisions_deliveries_receipts_and_the_pdf_inline(tmp_path: Path) -> None:
    async with console_and_inbox(tmp_path) as (console, inbox), console.client() as c:
        csrf = await signed_in(c, "mesuesi")
        assert (await c.post("/raportet/2026-10/dergo", data={"csrf": csrf})).status_code == 303
        await add_october_incident(c, csrf)  # a late correction: r2
        assert (await c.post("/raportet/2026-10/dergo", data={"csrf": csrf})).status_code == 303
        [(n1, r1), (n2, r2)] = revisions(console)
        assert (n1, n2) == (1, 2)
        assert received(inbox) == [(1, r1), (2, r2)]
        r = await c.get("/raportet")
        page = r.text
        assert "object-src 'self'" in r.headers["content-security-policy"]
        assert "frame-src 'self'" in r.headers["content-security-policy"]
        october = page.split('id="m2026-10"', 1)[1].split('class="card"', 1)[0]
        assert october.index("<h3>r2") < october.index("<h3>r1")
        assert "Incidente nga mësuesit / incidents recorded by teachers: 2 → 3" in october
        rows, _ = report_status.collect(console.cfg.state_dir, CODE, "2026-10")
        assert len(rows) == 2 and all(d.status == "sent" for d in rows)
        for d in rows:  # the inbox's receipt numbers, as `roja report status` shows them
            assert report_status.receipt(d) in october
        status = CliRunner().invoke(main, ["--config", str(tmp_path / "shkolla" / "roja.toml"),
                                           "report", "status", "--month", "2026-10"])
        assert all(report_status.receipt(d) in status.output for d in rows)
        # the newest revision's PDF, inline, with a download link
        assert '<object class="pdf" data="/raportet/2026-10/r2.pdf" type="application/pdf"' \
            in page
        assert 'href="/raportet/2026-10/r2.pdf?shkarko=1" download' in page
        pdf = await c.get("/raportet/2026-10/r2.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["content-disposition"].startswith("inline;")
        assert pdf.headers["x-frame-options"] == "SAMEORIGIN"
        assert "frame-ancestors 'self'" in pdf.headers["content-security-policy"]
        saved = await c.get("/raportet/2026-10/r1.pdf?shkarko=1")
        assert saved.headers["content-disposition"].startswith("attachment;")
        assert saved.content == BundleStore(console.cfg.state_dir).revisions(
            CODE, "2026-10")[0].bundle.files["pdf"].read_bytes()
        older = (await c.get("/raportet?shiko=2026-10&r=1")).text
        assert 'data="/raportet/2026-10/r1.pdf"' in older
        assert (await c.get("/raportet/2026-10/r9.pdf")).status_code == 404
        assert (await c.get("/raportet")).headers["x-frame-options"] == "DENY"


async def test_send_waits_for_the_directors_signature_of_each_revision(tmp_path: Path) -> None:
    async with console_and_inbox(tmp_path, "require_director_signature = true") as (
            console, inbox), console.client() as t, console.client() as d:
        csrf = await signed_in(t, "mesuesi")
        dcsrf = await signed_in(d, "drejtori")
        r = await t.post("/raportet/2026-10/dergo", data={"csrf": csrf})
        assert r.status_code == 409, r.text
        assert "drejtori nuk e ka nënshkruar këtë rishikim" in r.text
        assert received(inbox) == []
        assert audit.read(console.cfg.state_dir)[-1].what == "report send 2026-10: refused"
        # the teacher's own signature is not the director's
        page = (await t.get("/raportet")).text
        assert "Pa nënshkrimin e drejtorit" in page
        r = await t.post("/raportet/2026-10/nenshkruaj", data={"csrf": csrf})
        assert r.status_code == 303
        assert (await t.post("/raportet/2026-10/dergo", data={"csrf": csrf})
                ).status_code == 409
        # the command line refuses too (Albanian first, exit 1), and `due` does not queue
        config = str(tmp_path / "shkolla" / "roja.toml")
        cli = CliRunner().invoke(main, ["--config", config, "report", "send", "--month",
                                        "2026-10"])
        assert cli.exit_code == 1, cli.output
        assert "Gabim / Error: Raporti i 2026-10 (rishikimi r1) nuk u dërgua: drejtori " \
                   "nuk e ka nënshkruar" in cli.output
        assert received(inbox) == []
        # the director reads r1 and signs it: now it goes
        page = (await d.get("/raportet")).text
        assert "Nënshkruaj r1" in page and "Dërgo / Send" not in page
        r = await d.post("/raportet/2026-10/nenshkruaj", data={
            "csrf": dcsrf, "content": form_field(page, "content")})
        assert r.status_code == 303
        assert (await t.post("/raportet/2026-10/dergo", data={"csrf": csrf})
                ).status_code == 303
        [(_, r1)] = revisions(console)
        assert received(inbox) == [(1, r1)]
        # a correction makes r2: it needs its own signature
        await add_october_incident(t, csrf)
        r = await t.post("/raportet/2026-10/dergo", data={"csrf": csrf})
        assert r.status_code == 409 and "(rishikimi r2)" in r.text
        assert received(inbox) == [(1, r1)]
        stale = await d.post("/raportet/2026-10/nenshkruaj", data={
            "csrf": dcsrf, "content": r1})  # signed what they read: r1, not r2
        assert stale.status_code == 409
        r = await d.post("/raportet/2026-10/nenshkruaj", data={"csrf": dcsrf})
        assert r.status_code == 303
        assert (await t.post("/raportet/2026-10/dergo", data={"csrf": csrf})
                ).status_code == 303
        [_, (_, r2)] = revisions(console)
        assert received(inbox) == [(1, r1), (2, r2)]
        # the director may sign, never send
        r = await d.post("/raportet/2026-10/dergo", data={"csrf": dcsrf})
        assert r.status_code == 403


def test_due_builds_but_does_not_queue_an_unsigned_revision(tmp_path: Path) -> None:
    from console_kit import write_config

    from reporting import delivery
    from reporting.outbox import Outbox

    cfg = write_config(tmp_path, """
[report]
require_director_signature = true
[report.https]
url = "http://127.0.0.1:9/api/reports"
token = "t"
""")
    cfg.state_dir.mkdir(parents=True)
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "roja.toml"), "report",
                                       "due"])
    assert "pret nënshkrimin e drejtorit" in result.output, result.output
    with Outbox(delivery.outbox_path(cfg.state_dir)) as outbox:
        assert outbox.deliveries() == []
    check = CliRunner().invoke(main, ["config", "check", str(tmp_path / "roja.toml")])
    assert "konsola nuk ka llogari drejtori" in check.output, check.output
    bad = tmp_path / "bad.toml"
    bad.write_text((tmp_path / "roja.toml").read_text().replace(
        "require_director_signature = true", 'require_director_signature = "po"'))
    check = CliRunner().invoke(main, ["config", "check", str(bad)])
    assert check.exit_code != 0 and "require_director_signature" in check.output


def form_field(page: str, name: str) -> str:
    return page.split(f'name="{name}" value="', 1)[1].split('"', 1)[0]

