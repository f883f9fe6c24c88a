"""The schools' upload endpoint over real HTTP: receipts, replays, revisions, refusals that store
nothing, and the appliance's real delivery client (`reporting.delivery_https`) against it."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import pytest
from inbox_kit import NOW, PDF, login, report_doc, report_file, running_inbox, upload
from report_bundle import SCHOOL, T0, make_bundle

from reporting.delivery_config import HttpsSettings
from reporting.delivery_https import HttpsChannel
from reporting.inbox.registry import School
from reporting.inbox.submissions import deadline
from reporting.outbox import Outbox


async def test_upload_gives_a_receipt_with_the_content_hash(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        raw = report_file("BR-001", blocked={"gambling": 3})
        r = await upload(c, inbox.tokens["BR-001"], raw)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["server_sha256"] == json.loads(raw)["content_sha256"]
        assert body["receipt"].startswith("RJ-2026-10-BR-001-r1-")
        assert (body["revision"], body["late"]) == (1, False)
        assert inbox.count("submissions") == 1


async def test_same_idempotency_key_returns_the_same_receipt_and_stores_nothing_new(
        tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        raw = report_file("BR-001")
        first = await upload(c, inbox.tokens["BR-001"], raw, key="k-42")
        again = await upload(c, inbox.tokens["BR-001"], raw, key="k-42")
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["receipt"] == first.json()["receipt"]
        assert inbox.count("submissions") == 1
        assert inbox.count("submission_files") == 2
        # the same report under another key (e.g. uploaded again by hand) is no new revision
        other = await upload(c, inbox.tokens["BR-001"], raw, key="k-43")
        assert other.status_code == 200 and other.json()["receipt"] == first.json()["receipt"]
        # the same key for a different report is refused
        changed = report_file("BR-001", blocked={"drugs": 1})
        clash = await upload(c, inbox.tokens["BR-001"], changed, key="k-42")
        assert clash.status_code == 409 and "Idempotency-Key" in clash.json()["error"]
        assert inbox.count("submissions") == 1


async def test_a_changed_report_becomes_a_new_revision_and_the_old_is_kept(
        tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        token = inbox.tokens["BR-001"]
        r1 = await upload(c, token, report_file("BR-001", blocked={"gambling": 3}), key="a")
        inbox.clock[0] = deadline("2026-10", 10) + 60  # the correction arrives late
        r2 = await upload(c, token, report_file("BR-001", blocked={"gambling": 5}), key="b")
        assert (r1.status_code, r2.status_code) == (201, 201)
        assert (r2.json()["revision"], r2.json()["late"]) == (2, True)
        rows = inbox.store.db.execute("SELECT revision, current, blocked_total FROM submissions "
                                      "ORDER BY revision").fetchall()
        assert rows == [(1, 0, 3), (2, 1, 5)]


async def test_school_a_cannot_submit_as_school_b(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        r = await upload(c, inbox.tokens["BR-001"], report_file("VL-001"))
        assert r.status_code == 403
        assert "vetëm raportin e vet" in r.json()["error"]
        assert "only its own report" in r.json()["error"]
        assert inbox.count("submissions") == 0


@pytest.mark.parametrize("header", [None, "Bearer roja_wrong", "Bearer BR-001",
                                    "Basic QlItMDAxOnBhc3M="])
async def test_missing_or_wrong_token_is_401(tmp_path: Path, header: str | None) -> None:
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        extra = {"Authorization": header} if header else {}
        r = await upload(c, None, report_file("BR-001"), extra=extra)
        assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
        assert "token" in r.json()["error"]
        assert inbox.count("submissions") == 0


async def test_a_revoked_token_no_longer_works(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        inbox.store.revoke_tokens("BR-001")
        r = await upload(c, inbox.tokens["BR-001"], report_file("BR-001"))
        assert r.status_code == 401


def _tampered() -> bytes:
    doc = report_doc("BR-001")
    doc["report"]["blocked"]["total"] = 999  # hash no longer matches
    return json.dumps(doc).encode()


def _schema_invalid() -> bytes:
    from reporting.report_json import content_hash
    doc = report_doc("BR-001")
    doc["report"]["header"]["period"] = "2026-13"
    doc["content_sha256"] = content_hash(doc)
    return json.dumps(doc).encode()


def _extra_field() -> bytes:
    from reporting.report_json import content_hash
    doc = report_doc("BR-001")
    doc["report"]["blocked"]["names"] = ["porn.example"]
    doc["content_sha256"] = content_hash(doc)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(("raw", "status", "words"), [
    (b"{not json", 400, "JSON"),
    (b"\xff\xfe\x00", 400, "JSON"),
    (b"[1, 2]", 422, "roja.report/1"),
    (json.dumps({"schema": "other/1"}).encode(), 422, "roja.report/1"),
    (_schema_invalid(), 422, "report.header.period"),
    (_extra_field(), 422, "unexpected field 'names'"),
    (_tampered(), 422, "content_sha256"),
])
async def test_bad_reports_are_refused_with_a_reason_and_nothing_stored(
        tmp_path: Path, raw: bytes, status: int, words: str) -> None:
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        r = await upload(c, inbox.tokens["BR-001"], raw)
        assert r.status_code == status, r.text
        assert words in r.json()["error"]
        assert " / " in r.json()["error"]  # Albanian / English
        assert inbox.count("submissions") == inbox.count("submission_files") == 0


async def test_a_pdf_part_must_be_a_pdf_and_the_json_alone_is_enough(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        token = inbox.tokens["BR-001"]
        r = await upload(c, token, report_file("BR-001"), pdf=b"<html>not a pdf</html>")
        assert r.status_code == 422 and "PDF" in r.json()["error"]
        assert inbox.count("submissions") == 0
        r = await c.post("/api/reports", headers={"Authorization": f"Bearer {token}"},
                         files={"report": ("r.json", report_file("BR-001"))})
        assert r.status_code == 201 and r.json()["revision"] == 1
        again = await upload(c, token, report_file("BR-001"), key=None)  # now with its PDF
        assert again.status_code == 200 and again.json()["receipt"] == r.json()["receipt"]
        assert inbox.count("submissions") == 1 and inbox.count("submission_files") == 2


async def test_wrong_content_type_is_415(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        r = await c.post("/api/reports", content=report_file("BR-001"), headers={
            "Authorization": f"Bearer {inbox.tokens['BR-001']}",
            "Content-Type": "application/json"})
        assert r.status_code == 415 and "multipart/form-data" in r.json()["error"]


async def test_oversized_upload_is_413_and_nothing_stored(tmp_path: Path) -> None:
    async with running_inbox(tmp_path, max_upload_mb=1) as inbox, inbox.client() as c:
        big = PDF + b"0" * (1 << 20)
        r = await upload(c, inbox.tokens["BR-001"], report_file("BR-001"), pdf=big)
        assert r.status_code == 413 and "1 MB" in r.json()["error"]
        assert inbox.count("submissions") == 0
        # still serving afterwards
        ok = await upload(c, inbox.tokens["BR-001"], report_file("BR-001"))
        assert ok.status_code == 201


async def test_the_real_delivery_client_uploads_to_the_real_inbox(tmp_path: Path) -> None:
    """The appliance's outbox + HttpsChannel (what `roja report send` uses) against the inbox."""
    (tmp_path / "school").mkdir()
    bundle = make_bundle(tmp_path / "school")
    async with running_inbox(tmp_path) as inbox:
        inbox.store.put_schools([School(SCHOOL.code, SCHOOL.name, "korce", "Pogradec", "")])
        token = inbox.store.issue_token(SCHOOL.code)
        url = f"{inbox.url}/api/reports"
        channel = HttpsChannel(HttpsSettings(url, token, timeout=10.0))
        import asyncio

        def send_twice() -> list[str]:
            with Outbox(tmp_path / "outbox.sqlite") as box:
                box.enqueue(bundle, [("https", url)], T0)
                [row] = box.run_due(T0, {"https": channel})
                assert row.status == "sent", row.last_error
                # a second sender (crash and retry) sends the same key again
                return [row.receipt, channel.send(row)]
        first, second = await asyncio.to_thread(send_twice)
        assert json.loads(first) == json.loads(second)
        assert json.loads(first)["server_sha256"] == bundle.content_sha256
        assert inbox.count("submissions") == 1
        stored = inbox.store.db.execute("SELECT data FROM submission_files WHERE kind = 'pdf'")
        assert stored.fetchone()[0] == bundle.files["pdf"].read_bytes()
        assert NOW  # the kit's clock: 5 November, on time


async def test_https_delivery_carries_the_csv_and_the_inbox_keeps_all_three(
        tmp_path: Path) -> None:
    """The mail carries PDF, CSV and JSON; the HTTPS upload carries the same three files."""
    (tmp_path / "school").mkdir()
    bundle = make_bundle(tmp_path / "school")
    async with running_inbox(tmp_path) as inbox:
        inbox.store.put_schools([School(SCHOOL.code, SCHOOL.name, "korce", "Pogradec", "")])
        url = f"{inbox.url}/api/reports"
        channel = HttpsChannel(HttpsSettings(url, inbox.store.issue_token(SCHOOL.code),
                                             timeout=10.0))

        def send() -> str:
            with Outbox(tmp_path / "outbox.sqlite") as box:
                box.enqueue(bundle, [("https", url)], T0)
                [row] = box.run_due(T0, {"https": channel})
                return f"{row.status} {row.last_error}"
        assert await asyncio.to_thread(send) == "sent "
        stored = dict(inbox.store.db.execute("SELECT kind, data FROM submission_files"))
    assert sorted(stored) == ["csv", "json", "pdf"]
    assert stored["csv"] == bundle.files["csv"].read_bytes()


V1 = Path(__file__).parent / "data" / "report-v1.json"


async def test_a_report_of_the_previous_version_is_still_accepted(tmp_path: Path) -> None:
    """roja.report/1 (kept from the release before cyberbullying and generated_at)."""
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        r = await upload(c, inbox.tokens["BR-001"], V1.read_bytes())
        assert r.status_code == 201, r.text
        assert r.json()["server_sha256"] == json.loads(V1.read_bytes())["content_sha256"]
        row = inbox.store.db.execute("SELECT blocked_total, manual_total FROM submissions"
                                     ).fetchone()
        assert tuple(row) == (12, 2)


async def test_cyberbullying_shows_on_the_month_page(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        raw = report_file("BR-001", manual={"cyberbullying": 2, "sexting": 1})
        assert json.loads(raw)["schema"] == "roja.report/2"
        assert (await upload(c, inbox.tokens["BR-001"], raw)).status_code == 201
        await login(c, "masr")
        page = (await c.get("/muaji/2026-10")).text
        csv_text = (await c.get("/eksport/2026-10.csv")).text
    assert "Bullizëm online" in page and "cyberbullying" in csv_text


async def test_an_upload_waiting_for_the_database_does_not_stop_other_requests(
        tmp_path: Path) -> None:
    """The upload endpoint's SQLite work runs on the database threads: while another writer
    holds the inbox database for 3 s, `/healthz` keeps answering at once and the upload is
    stored when the lock goes."""
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        holder = sqlite3.connect(inbox.store.path, isolation_level=None,
                                 check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("INSERT INTO audit (at, actor, action) VALUES (0, 'holder', 'lock')")
        started = time.monotonic()
        sending = asyncio.create_task(upload(c, inbox.tokens["BR-001"], report_file("BR-001")))
        await asyncio.sleep(0.3)  # the upload is waiting for the lock now
        slowest = 0.0
        while time.monotonic() - started < 2.5:
            t = time.monotonic()
            assert (await c.get("/healthz", timeout=5.0)).status_code == 200
            slowest = max(slowest, time.monotonic() - t)
            await asyncio.sleep(0.1)
        await asyncio.to_thread(holder.execute, "COMMIT")
        holder.close()
        response = await sending
        assert response.status_code == 201, response.text
        assert slowest < 0.5, f"/healthz took {slowest:.2f} s while the upload waited"
        assert inbox.count("submissions") == 1
