"""Issue 22 item 8: a manual incident's free text stays on the gateway. A distinctive
description with a pupil's name in it (and the recorder's name) is stored through the real
`reporting.manual.add`, the month's report is built, mailed to a real SMTP server (aiosmtpd)
and uploaded to the real inbox; neither text appears in the PDF (read by pdftotext), the CSV,
the JSON, the revision folder, the mail as received or anything the inbox stored.

This held before the test was written (the report reads only the counted columns of
`manual_incidents`); the test keeps it so."""

from __future__ import annotations

import asyncio
import json
import subprocess
import unicodedata
from email.message import EmailMessage
from pathlib import Path

from inbox_kit import running_inbox
from peers.mailbox import smtp_sink
from peers.programs import require_peer
from report_bundle import BUILT, SCHOOL, SETTINGS, T0
from report_db import DESCRIPTION, RECORDER, sample

from reporting import manual
from reporting.delivery import ensure_bundle
from reporting.delivery_config import HttpsSettings, SmtpSettings
from reporting.delivery_https import HttpsChannel
from reporting.delivery_smtp import SmtpChannel
from reporting.inbox.registry import School
from reporting.incidents import db_path
from reporting.outbox import Outbox

PUPIL = "Ervisa Kamberaj"
MARK = "Qershizë-Zogu-Lulebore"
TEACHER = "Vjollca Dervishëmadhe"
TO = "zva.korce@example.al"
# Every word, with and without diacritics, in any case (checked case-folded).
WORDS = ("Ervisa", "Kamberaj", MARK, "Qershiz", "Lulebore", "Vjollca", "Dervish",
         *DESCRIPTION.split()[1:3], RECORDER)


def _bare(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def assert_clean(what: str, text: str) -> None:
    for word in WORDS:
        assert _bare(word) not in _bare(text), f"{word!r} is in the {what}"


def pdf_text(pdf: bytes, tmp: Path) -> str:
    path = tmp / "check.pdf"
    path.write_bytes(pdf)
    text = subprocess.run([require_peer("pdftotext"), str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert "Incidente" in text or "incidente" in text  # the text layer was read
    return text


def check_file(what: str, data: bytes, tmp: Path) -> None:
    if data.startswith(b"%PDF"):
        assert_clean(f"{what} (pdftotext)", pdf_text(data, tmp))
    assert_clean(what, data.decode("utf-8", "replace"))  # raw: metadata, CSV, JSON


def check_mail(mail: EmailMessage, tmp: Path) -> int:
    for name, value in mail.items():
        assert_clean(f"mail header {name}", str(value))
    attachments = 0
    for part in mail.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        check_file(f"mail part {part.get_filename() or part.get_content_type()}", payload, tmp)
        attachments += part.get_filename() is not None
    return attachments


async def test_free_text_never_leaves_the_gateway(tmp_path: Path) -> None:
    state = tmp_path / "school"
    state.mkdir()
    path = sample(db_path(state))  # two October cases whose text holds "Arbër Hoxha"
    new_id = manual.add(path, manual.ManualIncident(
        BUILT.date().replace(month=10, day=14), "other", "instagram", "11_14", "female",
        ("alo116",), "open", f"{PUPIL} (8B) u kërcënua në Instagram. {MARK}", TEACHER))
    stored = manual.get(path, new_id)
    assert stored is not None and PUPIL in stored.description and MARK in stored.description

    bundle = ensure_bundle(state, "2026-10", SCHOOL, SETTINGS, BUILT)
    # the case is counted (two sample cases and this one), so the report did read the table
    assert json.loads(bundle.files["json"].read_bytes())["report"]["manual"]["total"] == 3
    files = [p for p in (state / "reports").rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".pdf", ".csv", ".json"}
    for file in files:
        check_file(str(file.relative_to(state)), file.read_bytes(), tmp_path)

    with smtp_sink() as sink:
        def mail() -> None:
            with Outbox(tmp_path / "outbox.sqlite") as box:
                box.enqueue(bundle, [("smtp", TO)], T0)
                [row] = box.run_due(T0, {"smtp": SmtpChannel(SmtpSettings(
                    "127.0.0.1", "roja@shkolla.example.al", (TO,), port=sink.port,
                    starttls=False, timeout=10.0))})
                assert row.status == "sent", row.last_error
        await asyncio.to_thread(mail)
    [received] = sink.messages
    assert check_mail(received, tmp_path) == 3

    async with running_inbox(tmp_path) as inbox:
        inbox.store.put_schools([School(SCHOOL.code, SCHOOL.name, "korce", "Pogradec", "")])
        url = f"{inbox.url}/api/reports"
        channel = HttpsChannel(HttpsSettings(url, inbox.store.issue_token(SCHOOL.code), 10.0))

        def upload() -> None:
            with Outbox(tmp_path / "outbox.sqlite") as box:
                box.enqueue(bundle, [("https", url)], T0)
                [row] = box.run_due(T0, {"https": channel})
                assert row.status == "sent", row.last_error
        await asyncio.to_thread(upload)
        blobs = inbox.store.db.execute("SELECT kind, data FROM submission_files").fetchall()
        assert {str(kind) for kind, _ in blobs} >= {"json", "pdf"}
        for kind, data in blobs:
            check_file(f"inbox {kind}", bytes(data), tmp_path)
        dump = "\n".join(line for line in inbox.store.db.iterdump()
                         if not line.startswith('INSERT INTO "submission_files"'))
        assert SCHOOL.code in dump
        assert_clean("inbox database", dump)
