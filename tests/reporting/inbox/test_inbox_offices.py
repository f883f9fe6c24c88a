"""Education offices in the inbox over real HTTP: a DRAP user sees its qarqe grouped by qark and
ZVA, a ZVA user only its ZVA, narrowing never widens, the ministry sees all four DRAP; an inbox
database from before DRAP/ZVA (schema v1, qark-only users) is migrated without losing anything."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
from inbox_kit import NOW, PASSWORDS, login, report_file, running_inbox, upload

from reporting.inbox import auth
from reporting.inbox.app import start
from reporting.inbox.config import InboxConfig
from reporting.inbox.registry import School
from reporting.inbox.store import DB_FILE, MIGRATIONS, SCHEMA, Store, User

MORE_SCHOOLS = (
    School("KV-001", "Shkolla Kavaja Një", "tirane", "Kavajë", "kv1@example.al"),
    School("RR-001", "Shkolla Rrogozhina", "tirane", "Rrogozhinë", ""),
    School("DR-001", "Shkolla Durrësi", "durres", "Durrës", ""),
    School("SH-001", "Shkolla Shkodra", "shkoder", "Shkodër", ""),
    School("FQ-001", "Shkolla Dropulli", "gjirokaster", "Dropull", ""),
)
OFFICE_USERS = {"drap.durres": {"drap": "durres"}, "zva.kavaje": {"zva": "kavaje"}}
PASSWORD = "fjalekalim-zyra-01"


def _offices(store: Store) -> None:
    store.put_schools(MORE_SCHOOLS)
    hashed = auth.hash_password(PASSWORD)
    for name, where in OFFICE_USERS.items():
        store.put_user(User(name, "office", "", "", hashed, **where))


def _codes(data: dict) -> set[str]:  # type: ignore[type-arg]
    return {s["code"] for s in data["schools"]}


async def test_a_drap_user_sees_its_qarqe_grouped_by_qark_and_zva(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        _offices(inbox.store)
        assert (await upload(c, inbox.tokens["TR-001"], report_file("TR-001"))).status_code == 201
        await login(c, "drap.durres", PASSWORD)
        page = (await c.get("/muaji/2026-10")).text
        assert "Raportet e muajit tetor 2026 · DRAP Durrës" in page
        table = page.split('id="qarqe"', 1)[1].split("</table>", 1)[0]
        order = ["DRAP Durrës", "Dibër", "Durrës", "ZVA Durrës", "Tiranë", "ZVA Kavajë",
                 "ZVA Rrogozhinë", "ZVA Tiranë"]
        where = [table.index(f">{name}<") for name in order]
        assert where == sorted(where), table
        kavaje = table.split(">ZVA Kavajë<", 1)[1].split("</tr>", 1)[0]
        assert [c.split("<", 1)[0] for c in kavaje.split('class="n')[1:]] == \
            [' wide">1', '">0', '">0', '">1']  # 1 school, missing
        assert "Shkodra" not in page and "Naim" not in page
        data = (await c.get("/api/v1/months/2026-10")).json()
        assert _codes(data) == {"TR-001", "KV-001", "RR-001", "DR-001"}
        assert [q["id"] for q in data["qarqe"]] == ["diber", "durres", "tirane"]
        assert [d["drap"] for d in data["offices"]] == ["durres"]
        tirane = next(q for q in data["offices"][0]["qarqe"] if q["id"] == "tirane")
        assert [(z["id"], z["submitted"], z["missing"]) for z in tirane["zvas"]] == [
            ("kavaje", 0, 1), ("rrogozhine", 0, 1), ("tirane", 1, 0)]
        # narrowing inside the DRAP works; outside it changes nothing
        narrowed = (await c.get("/api/v1/months/2026-10?zva=kavaje")).json()
        assert _codes(narrowed) == {"KV-001"} and narrowed["scope"]["zva"] == "kavaje"
        assert _codes((await c.get("/api/v1/months/2026-10?qark=tirane")).json()) == {
            "TR-001", "KV-001", "RR-001"}
        for query in ("?qark=shkoder", "?drap=lezhe", "?zva=shkoder"):
            assert _codes((await c.get(f"/api/v1/months/2026-10{query}")).json()) == \
                _codes(data), query
        assert (await c.get("/shkolla/SH-001")).status_code == 404
        assert (await c.get("/shkolla/KV-001")).status_code == 200
        csv_text = (await c.get("/eksport/2026-10.csv?zva=kavaje")).content.decode("utf-8-sig")
        header, row = csv_text.splitlines()[:2]
        assert header.endswith(",drap,zva") and row.endswith(",DRAP Durrës,ZVA Kavajë")


async def test_a_zva_user_sees_only_its_zva(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        _offices(inbox.store)
        await login(c, "zva.kavaje", PASSWORD)
        page = (await c.get("/muaji/2026-10")).text
        assert "· ZVA Kavajë</h1>" in page and "Shkolla Kavaja Një" in page
        for query in ("", "?drap=durres", "?qark=tirane", "?zva=tirane"):
            data = (await c.get(f"/api/v1/months/2026-10{query}")).json()
            assert _codes(data) == {"KV-001"}, query
        assert (await c.get("/shkolla/RR-001")).status_code == 404
        assert (await c.get("/shkolla/TR-001")).status_code == 404


async def test_the_ministry_sees_all_four_drap_and_can_narrow_to_each(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        _offices(inbox.store)
        await login(c, "masr")
        page = (await c.get("/muaji/2026-10")).text
        where = [page.index(f'?drap={d}">DRAP {name}</a>') for d, name in (
            ("durres", "Durrës"), ("fier", "Fier"), ("korce", "Korçë"), ("lezhe", "Lezhë"))]
        assert where == sorted(where)
        assert '?zva=kavaje">ZVA Kavajë</a>' in page and '?qark=kukes">Kukës</a>' in page
        data = (await c.get("/api/v1/months/2026-10?drap=fier")).json()
        # Dropull's ZVA is Finiq's (qark Vlorë), both under DRAP Fier
        assert _codes(data) == {"BR-001", "BR-002", "VL-001", "FQ-001"}
        assert inbox.store.school("FQ-001").zva == "finiq"  # type: ignore[union-attr]
        page = (await c.get("/muaji/2026-10?drap=fier")).text
        assert "· DRAP Fier</h1>" in page and "Të gjitha zyrat" in page


def _v1_database(path: Path) -> None:
    """An inbox database as the version before DRAP/ZVA wrote it: one office per qark."""
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE schema_version (version INTEGER)")
    for statement in MIGRATIONS[0]:
        db.execute(statement)
    db.execute("INSERT INTO schema_version VALUES (1)")
    for code, name, qark, municipality in (("BR-101", "Shkolla Kuçova", "berat", "Kuçovë"),
                                           ("BR-102", "Shkolla e Re", "berat", "Fshati X")):
        db.execute("INSERT INTO schools VALUES (?, ?, ?, ?, '', ?, ?)",
                   (code, name, qark, municipality, NOW, NOW))
    db.execute("INSERT INTO users VALUES ('zyra.berat', 'office', 'berat', '', ?, ?)",
               (auth.hash_password(PASSWORDS["berat"]), NOW))
    db.execute("INSERT INTO submissions (school_code, period, revision, current, content_sha256, "
               "file_sha256, idempotency_key, receipt, received_at, late, channel, uploaded_by, "
               "blocked_total, circumvention, manual_total, selftest_runs, selftest_fail, "
               "no_validity_checks, sync_failures, list_age_days) VALUES ('BR-101', '2026-10', "
               "1, 1, 'c', 'f', 'k', 'R-1', ?, 0, 'https', 'BR-101', 42, 3, 1, 4, 0, 0, 0, 2)",
               (NOW,))
    db.close()


async def test_a_v1_database_is_migrated_and_its_qark_user_keeps_working(tmp_path: Path) -> None:
    path = tmp_path / "inbox" / DB_FILE
    _v1_database(path)
    cfg = InboxConfig(host="127.0.0.1", port=0, data_dir=path.parent)
    with Store(path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA.version
        assert [(s.code, s.zva) for s in store.schools()] == [("BR-101", "kucove"),
                                                              ("BR-102", "")]
        user = store.user("zyra.berat")
        assert user is not None and (user.qark, user.drap, user.zva) == ("berat", "", "")
        runner, url = await start(cfg, store, clock=lambda: NOW)
        try:
            async with httpx.AsyncClient(base_url=url, timeout=20.0) as c:
                await login(c, "zyra.berat", PASSWORDS["berat"])
                data = (await c.get("/api/v1/months/2026-10")).json()
                page = (await c.get("/muaji/2026-10")).text
        finally:
            await runner.cleanup()
    by_code = {s["code"]: s for s in data["schools"]}
    assert by_code["BR-101"]["status"] == "submitted" and by_code["BR-101"]["blocked"] == 42
    assert by_code["BR-102"]["status"] == "missing"
    assert "· Qarku Berat</h1>" in page
    for name in ("DRAP Fier", "ZVA Kuçovë", "ZVA e papërcaktuar"):
        assert f">{name}<" in page, name
    with Store(path) as again:  # opening it again changes nothing
        assert again.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA.version
        assert again.school("BR-101").zva == "kucove"  # type: ignore[union-attr]
