"""Tests for reporting.delivery_smtp against a real SMTP server (aiosmtpd on loopback): the
message, its attachments and cover text, login, and how refusals are classified."""

from __future__ import annotations

import json
from pathlib import Path

from peers.mailbox import free_port, smtp_sink
from report_bundle import T0, make_bundle

from reporting.delivery_config import SmtpSettings
from reporting.delivery_smtp import SmtpChannel, cover
from reporting.outbox import Outbox

TO = "zva.korce@example.al"


def smtp(port: int, **kw: object) -> SmtpSettings:
    return SmtpSettings("127.0.0.1", "roja@shkolla.example.al", (TO,), port=port,
                        starttls=False, **{"timeout": 10.0, **kw})  # type: ignore[arg-type]


def test_mail_arrives_with_pdf_csv_and_albanian_cover(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)
    with smtp_sink(login=("shkolla", "sekret")) as sink, Outbox(tmp_path / "o.sqlite") as box:
        box.enqueue(bundle, [("smtp", TO)], T0)
        channel = SmtpChannel(smtp(sink.port, username="shkolla", password="sekret"))
        [row] = box.run_due(T0, {"smtp": channel})
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, T0)
    assert sink.envelopes == [("roja@shkolla.example.al", [TO])]
    [msg] = sink.messages
    assert msg["X-Roja-Idempotency-Key"] == bundle.key
    assert msg["Message-ID"] == f"<{bundle.key}@roja.report>"
    assert msg["Subject"].startswith("Raporti mujor i incidenteve / Monthly incident report")
    assert "Shkolla Çajupi" in msg["Subject"] and "tetor 2026" in msg["Subject"]
    body = msg.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert text.index("Bashkëlidhur gjeni raportin mujor") < text.index("Attached is the")
    for expected in ("shkollën Shkolla Çajupi (kodi K7), periudha tetor 2026",
                     "(01.10.2026–31.10.2026)", "Qarku: Korçë; Bashkia: Pogradec",
                     "Mësuesi i TIK-ut: Drita Çela", "Aksese të bllokuara: 12",
                     "Përpjekje për anashkalimin e filtrit: 5", "Blocked requests: 12",
                     bundle.content_sha256):
        assert expected in text, expected
    files: dict[str, bytes] = {}
    for part in msg.iter_attachments():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        files[str(part.get_filename())] = payload
    csv_part = [p for p in msg.iter_attachments() if p.get_content_type() == "text/csv"]
    assert csv_part[0].get_content_charset() == "utf-8"
    assert sorted(files) == ["raport-K7-2026-10.csv", "raport-K7-2026-10.json",
                             "raport-K7-2026-10.pdf"]
    assert files["raport-K7-2026-10.json"] == bundle.files["json"].read_bytes()
    assert files["raport-K7-2026-10.pdf"].startswith(b"%PDF")
    assert files["raport-K7-2026-10.pdf"] == bundle.files["pdf"].read_bytes()
    assert files["raport-K7-2026-10.csv"] == bundle.files["csv"].read_bytes()
    assert files["raport-K7-2026-10.csv"].startswith(b"\xef\xbb\xbf")


def test_wrong_password_is_permanent(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)
    with smtp_sink(login=("shkolla", "sekret")) as sink, Outbox(tmp_path / "o.sqlite") as box:
        box.enqueue(bundle, [("smtp", TO)], T0)
        channel = SmtpChannel(smtp(sink.port, username="shkolla", password="gabim"))
        [row] = box.run_due(T0, {"smtp": channel})
    assert row.status == "failed_permanent" and row.last_error.startswith("SMTP 535")
    assert sink.messages == []


def test_refused_recipient_is_permanent_and_4xx_is_retried(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)
    with Outbox(tmp_path / "o.sqlite") as box:
        box.enqueue(bundle, [("smtp", TO)], T0)
        with smtp_sink(refuse="450 mailbox busy") as sink:
            [row] = box.run_due(T0, {"smtp": SmtpChannel(smtp(sink.port))})
        assert (row.status, row.next_attempt_at) == ("queued", T0 + 60)
        assert "450 mailbox busy" in row.last_error
        with smtp_sink(refuse="550 no such user") as sink:
            [row] = box.run_due(T0 + 60, {"smtp": SmtpChannel(smtp(sink.port))})
        assert row.status == "failed_permanent" and "550 no such user" in row.last_error


def test_no_server_is_retried(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)
    with Outbox(tmp_path / "o.sqlite") as box:
        box.enqueue(bundle, [("smtp", TO)], T0)
        [row] = box.run_due(T0, {"smtp": SmtpChannel(smtp(free_port()))})
    assert row.status == "queued" and "ConnectionRefusedError" in row.last_error


def test_channel_only_sends_to_its_configured_addresses(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)
    with smtp_sink() as sink, Outbox(tmp_path / "o.sqlite") as box:
        box.enqueue(bundle, [("smtp", "old@example.al")], T0)
        assert box.run_due(T0, {"smtp": SmtpChannel(smtp(sink.port))}) == []
        [row] = box.deliveries()
    assert row.status == "queued" and sink.messages == []


def test_a_later_revision_says_so_in_the_subject_and_text(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)
    document = json.loads(bundle.files["json"].read_bytes())
    subject, body = cover(document, 2)
    assert subject.endswith("tetor 2026 — rishikimi 2 / revision 2")
    assert "Ky rishikim zëvendëson raportin e dërguar më parë" in body
    assert "It replaces the report sent before" in body
    assert "rishikimi" not in cover(document)[0]


def test_a_slow_server_after_data_gets_one_copy(tmp_path: Path) -> None:
    """Issue 22: the server takes 3 s to answer the end of DATA, longer than the 1 s command
    timeout. The channel waits the DATA-termination time (here 10 s, RFC 5321: 10 min), so
    the report is sent once, on the first attempt; retries find nothing to do."""
    bundle = make_bundle(tmp_path)
    with smtp_sink(delay=3.0) as sink, Outbox(tmp_path / "o.sqlite") as box:
        box.enqueue(bundle, [("smtp", TO)], T0)
        channel = SmtpChannel(smtp(sink.port, timeout=1.0, data_timeout=10.0))
        for minute in range(0, 60 * 24, 30):  # the service's next runs
            box.run_due(T0 + 60 * minute, {"smtp": channel})
        [row] = box.deliveries()
    assert (row.status, row.attempts, row.uncertain) == ("sent", 1, 0)
    assert len(sink.messages) == 1


def test_an_unknown_outcome_is_retried_once_with_the_same_message_id(tmp_path: Path) -> None:
    """The server keeps the message but never answers within the DATA-termination time: the
    outcome is unknown, so the outbox tries once more (same Message-ID and key), then stops
    and says why, instead of sending a new copy every retry for 7 days."""
    bundle = make_bundle(tmp_path)
    with smtp_sink(delay=3.0) as sink, Outbox(tmp_path / "o.sqlite") as box:
        box.enqueue(bundle, [("smtp", TO)], T0)
        channel = SmtpChannel(smtp(sink.port, timeout=1.0, data_timeout=1.0))
        for minute in range(0, 60 * 24 * 8, 60):  # the service's runs for 8 days
            box.run_due(T0 + 60 * minute, {"smtp": channel})
        [row] = box.deliveries()
    assert (row.status, row.attempts, row.uncertain) == ("failed_permanent", 2, 2)
    assert "outcome unknown 2 times" in row.last_error
    assert row.last_error.startswith("përfundimi i panjohur")
    assert len(sink.messages) == 2 and sink.counted() == 1  # one report for a deduplicating
    assert len({m["Message-ID"] for m in sink.messages}) == 1  # receiver
