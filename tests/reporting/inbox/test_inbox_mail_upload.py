"""Issue 22 item 3: an e-mailed report can be uploaded at the office. The mail (real aiosmtpd)
carries the JSON with the PDF and CSV and names its content hash; the inbox's upload form takes
the JSON alone or the three files, and the report is one and the same revision whether it came
by HTTPS or was uploaded from the mail."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from inbox_kit import form_csrf, login, running_inbox
from peers.mailbox import smtp_sink
from report_bundle import BUILT, SETTINGS
from report_db import sample

from filterd.config import School
from reporting.delivery import ensure_bundle
from reporting.delivery_config import HttpsSettings, SmtpSettings
from reporting.delivery_https import HttpsChannel
from reporting.delivery_smtp import SmtpChannel
from reporting.inbox import submissions
from reporting.incidents import db_path
from reporting.outbox import Outbox

TO = "zva.berat@example.al"


def attachments(message: object) -> dict[str, tuple[str, bytes]]:
    out = {}
    for part in message.iter_attachments():  # type: ignore[attr-defined]
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        out[part.get_filename().rsplit(".", 1)[-1]] = (part.get_filename(), payload)
    return out


async def test_the_mailed_json_uploads_as_the_same_revision_as_https(tmp_path: Path) -> None:
    sample(db_path(tmp_path))
    bundle = ensure_bundle(tmp_path, "2026-10", School("Shkolla Naim Frashëri", "BR-001"),
                           SETTINGS, BUILT)
    with smtp_sink() as sink, Outbox(tmp_path / "outbox.sqlite") as box:
        box.enqueue(bundle, [("smtp", TO)], BUILT.timestamp())
        [row] = box.run_due(BUILT.timestamp(), {"smtp": SmtpChannel(SmtpSettings(
            "127.0.0.1", "roja@shkolla.example.al", (TO,), port=sink.port, starttls=False,
            timeout=10.0))})
    assert row.status == "sent"
    [mail] = sink.messages
    files = attachments(mail)
    assert sorted(files) == ["csv", "json", "pdf"]
    assert files["json"] == ("raport-BR-001-2026-10.json", bundle.files["json"].read_bytes())
    body = mail.get_body(("plain",))
    assert body is not None and bundle.content_sha256 in body.get_content()
    assert "JSON" in body.get_content()

    async with running_inbox(tmp_path) as inbox:
        async with inbox.client() as c:
            await login(c, "berat")
            csrf = form_csrf((await c.get("/ngarko")).text)
            alone = await c.post("/ngarko", data={"csrf": csrf, "school": "BR-001"},
                                 files={"report": files["json"]})
            assert alone.status_code == 201, alone.text
            assert "Raporti u mor, rishikimi 1" in alone.text
            assert submissions.history(inbox.store, "BR-001")[0].files == ("json",)
            three = await c.post("/ngarko", data={"csrf": csrf, "school": "BR-001"},
                                 files={"report": files["json"], "pdf": files["pdf"],
                                        "csv": files["csv"]})
            assert three.status_code == 200 and "marrë më parë" in three.text
        https = HttpsChannel(HttpsSettings(f"{inbox.url}/api/reports",
                                           inbox.tokens["BR-001"], 10.0))

        def upload() -> list[object]:
            with Outbox(tmp_path / "outbox.sqlite") as box:
                box.enqueue(bundle, [("https", https.settings.url)], BUILT.timestamp())
                return list(box.run_due(BUILT.timestamp(), {"https": https}))

        [sent] = await asyncio.to_thread(upload)
        history = submissions.history(inbox.store, "BR-001")
    assert [(s.revision, s.channel) for s in history] == [(1, "manual")]  # one report
    assert history[0].files == ("json", "pdf", "csv")  # the later uploads completed it
    assert json.loads(sent.receipt)["receipt"] == history[0].receipt  # type: ignore[attr-defined]
