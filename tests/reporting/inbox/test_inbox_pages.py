"""The staff pages and exports over real HTTP: month counts per qark, missing schools, totals,
self-tests, HTML escaping of everything a school sent, the CSV (BOM, formula-safe) and JSON
exports, the manual upload form, and a school's history with its files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from inbox_kit import EVIL, PDF, form_csrf, login, report_file, running_inbox, upload


async def _reports(inbox) -> None:  # type: ignore[no-untyped-def]
    async with inbox.client() as c:
        for code, kwargs in (
                ("BR-001", {"blocked": {"gambling": 4, "pornography": 6}, "circumvention": 2,
                            "manual": {"stalking_threats": 1}, "referrals": {"alo116": 1},
                            "selftest": (4, 1)}),
                ("VL-001", {"name": EVIL, "blocked": {EVIL: 3, "=cmd|' /C calc'!A0": 1},
                            "selftest": (0, 0)})):
            r = await upload(c, inbox.tokens[code], report_file(code, **kwargs))
            assert r.status_code == 201, r.text


async def test_ministry_month_page_counts_and_escapes(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox:
        await _reports(inbox)
        async with inbox.client() as c:
            await login(c, "masr")
            page = (await c.get("/muaji/2026-10")).text
    assert "<script>" not in page and "&lt;script&gt;" in page
    for qark in ("Berat", "Dibër", "Durrës", "Gjirokastër", "Korçë", "Kukës", "Lezhë",
                 "Shkodër", "Tiranë", "Vlorë"):
        assert qark in page
    # Berat: 2 schools, 1 submitted, 0 late, 1 missing
    berat = page.split('?qark=berat">Berat</a>', 1)[1].split("</tr>", 1)[0]
    assert [cell.split(">")[-1] for cell in berat.split("</td>")[1:5]] == ["2", "1", "0", "1"]
    assert "Pornografi" in page and "Bixhoz dhe lojëra fati" in page  # labels, not ids
    assert "Filtri dështoi" in page and "1 nga 4 dështoi" in page  # the verb agrees with 1
    assert "Gjithsej 14 kërkesa të bllokuara · 2 përpjekje anashkalimi" in page
    assert "Përndjekje / kërcënim / shantazh" in page
    assert "tetor 2026" in page and "Afati i dorëzimit: 10.11.2026" in page


async def test_office_page_lists_missing_schools_with_contacts(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox:
        await _reports(inbox)
        async with inbox.client() as c:
            await login(c, "berat")
            page = (await c.get("/muaji/2026-10")).text
            empty = (await c.get("/muaji/2026-09")).text
    missing = page.split('id="missing"', 1)[1].split("</table>", 1)[0]
    assert "BR-002" in missing and "mailto:kycyku@example.al" in missing
    assert "BR-001" not in missing
    assert "Gjimnazi Kyçyku" in missing and "&#34;" in missing  # the formula name, escaped
    assert "Nuk ka të dhëna" in empty  # self-test card of a month without reports


async def test_vlore_page_escapes_school_fields(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox:
        await _reports(inbox)
        async with inbox.client() as c:
            await login(c, "vlora")
            pages = [(await c.get(p)).text for p in ("/muaji/2026-10", "/shkolla/VL-001",
                                                     "/ngarko")]
    for page in pages:
        assert "<script>" not in page, page
        assert "&lt;script&gt;" in page


async def test_csv_export_has_bom_and_neutralises_formulas(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox:
        await _reports(inbox)
        async with inbox.client() as c:
            await login(c, "masr")
            r = await c.get("/eksport/2026-10.csv")
        audit = [(row[1], row[2]) for row in inbox.store.audit_rows()]
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["periudha", "kodi", "shkolla"]
    cells = [cell for row in rows for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert "'=HYPERLINK(\"http://evil.example\",\"Gjimnazi Kyçyku\")" in cells
    assert "'+Kuçovë" in cells and "'=cmd|' /C calc'!A0" in cells
    by_code = {row[1]: row for row in rows[1:] if len(row) > 6}
    assert by_code["BR-001"][6] == "Dorëzuar" and by_code["BR-002"][6] == "Mungon"
    assert ("masr", "export_csv") in audit


async def test_json_api_matches_the_page(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox:
        await _reports(inbox)
        async with inbox.client() as c:
            await login(c, "masr")
            data = (await c.get("/api/v1/months/2026-10")).json()
            narrowed = (await c.get("/api/v1/months/2026-10?qark=Berat")).json()
            bad = await c.get("/api/v1/months/2026-13")
    assert len(data["qarqe"]) == 12
    berat = next(q for q in data["qarqe"] if q["id"] == "berat")
    assert (berat["schools"], berat["submitted"], berat["late"], berat["missing"]) == (2, 1, 0, 1)
    assert {c["key"]: c["count"] for c in data["blocked_by_category"]}["pornography"] == 6
    assert data["circumvention_total"] == 2
    assert data["trend"][-1] == {"period": "2026-10", "submitted": 2, "blocked": 14,
                                 "circumvention": 2, "manual": 1, "selftest_failed_schools": 1}
    assert [q["id"] for q in narrowed["qarqe"]] == ["berat"]
    assert bad.status_code == 404 and "error" in bad.json()


async def test_manual_upload_form_stores_json_pdf_and_csv(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox:
        async with inbox.client() as c:
            await login(c, "berat")
            page = await c.get("/ngarko")
            files = {"report": ("raport-BR-002-2026-10.json", report_file("BR-002")),
                     "pdf": ("raport.pdf", PDF), "csv": ("raport.csv", "\ufeffa,b\r\n".encode())}
            r = await c.post("/ngarko", data={"csrf": form_csrf(page.text), "school": "BR-002"},
                             files=files)
            assert r.status_code == 201 and "Raporti u mor" in r.text
            bad = await c.post("/ngarko", data={"csrf": form_csrf(page.text),
                                                "school": "BR-001"}, files=files)
            assert bad.status_code == 403 and "Raporti nuk u pranua" in bad.text
            history = (await c.get("/shkolla/BR-002")).text
            sid = inbox.store.db.execute("SELECT id FROM submissions").fetchone()[0]
            got = await c.get(f"/skedar/{sid}/csv")
        assert f"/skedar/{sid}/pdf" in history and "ngarkuar nga berat" in history
        assert got.content == "\ufeffa,b\r\n".encode()
        row = inbox.store.db.execute("SELECT channel, uploaded_by FROM submissions").fetchone()
        assert row == ("manual", "berat") and inbox.count("submissions") == 1


async def test_late_report_shows_as_late(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox:
        inbox.clock[0] += 10 * 86400  # 15 November
        async with inbox.client() as c:
            r = await upload(c, inbox.tokens["TR-001"], report_file("TR-001"))
            assert r.json()["late"] is True
            await login(c, "masr")
            data = (await c.get("/api/v1/months/2026-10?qark=tirane")).json()
            page = (await c.get("/muaji/2026-10?qark=tirane")).text
        assert data["qarqe"][0]["late"] == 1
        assert json.dumps(data["schools"][0]["status"]) == '"late"'
        assert "Me vonesë" in page
