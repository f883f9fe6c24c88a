"""Tests for reporting.delivery_https against a real HTTP inbox on loopback (plain http:// is
accepted only for a loopback host): the upload, retries with backoff, permanent refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from peers.mailbox import free_port, http_inbox
from report_bundle import T0, make_bundle

from reporting.delivery_config import HttpsSettings
from reporting.delivery_https import HttpsChannel
from reporting.outbox import GIVE_UP, Outbox


def channel(url: str) -> HttpsChannel:
    return HttpsChannel(HttpsSettings(url, "tok-K7", timeout=10.0))


def test_upload_carries_token_key_json_pdf_and_csv(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)
    with http_inbox() as inbox, Outbox(tmp_path / "o.sqlite") as box:
        box.enqueue(bundle, [("https", inbox.url)], T0)
        [row] = box.run_due(T0, {"https": channel(inbox.url)})
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, T0)
    assert json.loads(row.receipt) == {"receipt": "R-1", "server_sha256": bundle.content_sha256}
    [upload] = inbox.uploads
    assert upload.headers["Authorization"] == "Bearer tok-K7"
    assert upload.headers["Idempotency-Key"] == bundle.key
    assert upload.parts["report"] == ("raport-K7-2026-10.json",
                                      bundle.files["json"].read_bytes())
    assert upload.parts["pdf"][1].startswith(b"%PDF")
    assert upload.parts["csv"] == ("raport-K7-2026-10.csv", bundle.files["csv"].read_bytes())


def test_500_then_200_is_retried_after_the_backoff(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)
    with http_inbox([500, 503]) as inbox, Outbox(tmp_path / "o.sqlite") as box:
        box.enqueue(bundle, [("https", inbox.url)], T0)
        chan = {"https": channel(inbox.url)}
        [row] = box.run_due(T0, chan)
        assert (row.status, row.next_attempt_at) == ("queued", T0 + 60)
        assert row.last_error.startswith("HTTP 500: gabim 500")
        assert box.run_due(T0 + 59, chan) == []  # not due yet
        [row] = box.run_due(T0 + 60, chan)
        assert (row.status, row.attempts, row.next_attempt_at) == ("queued", 2, T0 + 60 + 300)
        [row] = box.run_due(T0 + 360, chan)
    assert (row.status, row.attempts, row.sent_at, row.last_error) == (
        "sent", 3, T0 + 360, "")
    assert len(inbox.uploads) == 3 and inbox.counted() == 1


@pytest.mark.parametrize(("status", "final"), [(400, True), (401, True), (404, True),
                                               (408, False), (429, False), (502, False)])
def test_4xx_is_permanent_except_408_and_429(tmp_path: Path, status: int, final: bool) -> None:
    bundle = make_bundle(tmp_path)
    with http_inbox([status]) as inbox, Outbox(tmp_path / "o.sqlite") as box:
        box.enqueue(bundle, [("https", inbox.url)], T0)
        [row] = box.run_due(T0, {"https": channel(inbox.url)})
    assert row.status == ("failed_permanent" if final else "queued")
    assert row.last_error == f"HTTP {status}: gabim {status}: raporti nuk u pranua"


def test_gives_up_seven_days_after_queueing(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)
    url = f"http://127.0.0.1:{free_port()}/api/reports"  # nobody listens
    with Outbox(tmp_path / "o.sqlite") as box:
        box.enqueue(bundle, [("https", url)], T0)
        now, delays = T0, []
        while True:
            [row] = box.run_due(now, {"https": channel(url)})
            if row.status != "queued":
                break
            delays.append(row.next_attempt_at - now)
            now = row.next_attempt_at
    assert delays[:7] == [60, 300, 1800, 7200, 43200, 86400, 86400]
    assert row.status == "failed_permanent" and now - T0 >= GIVE_UP
    assert "URLError" in row.last_error


def test_only_https_or_loopback_http() -> None:
    with pytest.raises(ValueError, match="https://"):
        channel("http://inbox.example.al/api/reports")
    assert channel("https://inbox.example.al/api/reports").accepts(
        "https://inbox.example.al/api/reports")
