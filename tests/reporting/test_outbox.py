"""Tests for reporting.outbox: idempotent enqueue, and kill -9 of a sender in the middle of
sending to a real SMTP server (aiosmtpd) loses nothing and is counted once by the receiver."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from peers.mailbox import http_inbox, smtp_sink
from report_bundle import T0, make_bundle

from reporting.delivery_config import HttpsSettings, SmtpSettings
from reporting.delivery_https import HttpsChannel
from reporting.delivery_smtp import SmtpChannel
from reporting.outbox import Outbox, backoff, idempotency_key

ROOT = Path(__file__).resolve().parents[2]
TO = "zva.korce@example.al"

SENDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from reporting.delivery_config import SmtpSettings
    from reporting.delivery_smtp import SmtpChannel
    from reporting.outbox import Outbox

    db, port, now, to = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    settings = SmtpSettings("127.0.0.1", "roja@shkolla.example.al", (to,), port=port,
                            starttls=False, timeout=60.0)
    with Outbox(db) as outbox:
        outbox.run_due(now, {"smtp": SmtpChannel(settings)})
""")


def smtp(port: int) -> SmtpChannel:
    return SmtpChannel(SmtpSettings("127.0.0.1", "roja@shkolla.example.al", (TO,), port=port,
                                    starttls=False, timeout=10.0))


def test_key_and_backoff() -> None:
    assert idempotency_key("K7", "2026-10", "ab") != idempotency_key("K7", "2026-11", "ab")
    assert len(idempotency_key("K7", "2026-10", "ab")) == 64
    assert [backoff(n) for n in range(1, 9)] == [60, 300, 1800, 7200, 43200, 86400, 86400,
                                                 86400]


def test_enqueue_twice_is_one_delivery(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)
    with http_inbox() as inbox, Outbox(tmp_path / "o.sqlite") as box:
        first = box.enqueue(bundle, [("https", inbox.url), ("smtp", TO)], T0)
        again = box.enqueue(bundle, [("https", inbox.url), ("https", inbox.url)], T0 + 5)
        assert [d.id for d in again] == [d.id for d in first if d.channel == "https"]
        assert len(box.deliveries()) == 2
        chan = {"https": HttpsChannel(HttpsSettings(inbox.url, "t"))}
        [sent] = box.run_due(T0, chan)
        box.enqueue(bundle, [("https", inbox.url)], T0 + 10)  # after sending: still one
        assert box.run_due(T0 + 10**6, chan) == []
        rows = box.deliveries(key=bundle.key, period="2026-10")
    assert sent.status == "sent" and len(inbox.uploads) == 1 and len(rows) == 2
    assert box.path.with_name("o.sqlite.lock").exists()
    assert sqlite3.connect(tmp_path / "o.sqlite").execute(
        "PRAGMA journal_mode").fetchone() == ("wal",)


def test_missing_file_fails_permanently(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)
    bundle.files["pdf"].unlink()
    with smtp_sink() as sink, Outbox(tmp_path / "o.sqlite") as box:
        box.enqueue(bundle, [("smtp", TO)], T0)
        [row] = box.run_due(T0, {"smtp": smtp(sink.port)})
    assert row.status == "failed_permanent" and "file missing" in row.last_error
    assert sink.messages == []


def test_kill_9_mid_send_loses_nothing_and_counts_once(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)
    db = tmp_path / "outbox.sqlite"
    with Outbox(db) as box:
        box.enqueue(bundle, [("smtp", TO)], T0)
    script = tmp_path / "sender.py"
    script.write_text(SENDER)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with smtp_sink(hold_first=True) as sink:
        proc = subprocess.Popen([sys.executable, str(script), str(db), str(sink.port), str(T0), TO],
                                env=env, cwd=ROOT)
        try:
            assert sink.in_data.wait(30), "the sender never reached DATA"
            with Outbox(db) as box:
                [row] = box.deliveries()
                assert (row.status, row.attempts) == ("sending", 1)
                # The sender holds the lock: a second sender does nothing meanwhile.
                assert box.run_due(T0, {"smtp": smtp(sink.port)}) == []
            os.kill(proc.pid, signal.SIGKILL)
            assert proc.wait(30) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        sink.release.set()
        with Outbox(db) as box:
            assert [r.status for r in box.deliveries()] == ["sending"]  # nothing lost
            [row] = box.run_due(T0 + 1, {"smtp": smtp(sink.port)})  # the restart
    assert (row.status, row.attempts, row.sent_at) == ("sent", 2, T0 + 1)
    # The receiver got the message twice, with the same key: it counts one report.
    assert len(sink.messages) == 2
    assert {m["X-Roja-Idempotency-Key"] for m in sink.messages} == {bundle.key}
    assert sink.counted() == 1


V1 = """CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY, idempotency_key TEXT NOT NULL, school_code TEXT NOT NULL,
    period TEXT NOT NULL, channel TEXT NOT NULL CHECK (channel IN ('smtp', 'https')),
    recipient TEXT NOT NULL, files TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'sending', 'sent', 'failed_permanent')),
    attempts INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL,
    next_attempt_at REAL NOT NULL, last_error TEXT NOT NULL DEFAULT '', sent_at REAL,
    receipt TEXT NOT NULL DEFAULT '', UNIQUE (idempotency_key, channel, recipient));
PRAGMA user_version = 1;
INSERT INTO deliveries (idempotency_key, school_code, period, channel, recipient, files, status,
    created_at, next_attempt_at, sent_at, receipt)
    VALUES ('k1', 'K7', '2026-09', 'smtp', 'zva@example.al', '{}', 'sent', 1, 1, 2, 'ok');
INSERT INTO deliveries (idempotency_key, school_code, period, channel, recipient, files,
    created_at, next_attempt_at) VALUES ('k2', 'K7', '2026-10', 'smtp', 'zva@example.al', '{}',
    3, 3);
"""


def test_a_version_1_outbox_keeps_its_rows_and_learns_superseded(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(V1)
    db.close()
    bundle = make_bundle(tmp_path)  # K7 2026-10, another key than k2
    with Outbox(path) as box:
        assert [(d.key, d.status) for d in box.deliveries()] == [("k2", "queued"),
                                                                  ("k1", "sent")]
        box.enqueue(bundle, [("smtp", "zva@example.al")], T0)
        assert box.supersede(bundle, T0) == 1  # k2: same school and period, not sent yet
        statuses = {d.key: d.status for d in box.deliveries()}
    assert statuses == {"k1": "sent", "k2": "superseded", bundle.key: "queued"}
    with Outbox(path) as box:  # opening again migrates nothing
        assert box.conn.execute("PRAGMA user_version").fetchone() == (2,)
        box.conn.execute("UPDATE deliveries SET status = 'superseded' WHERE id = 3")
        box.enqueue(bundle, [("smtp", "zva@example.al")], T0)  # the same content again
        assert {d.key: d.status for d in box.deliveries()}[bundle.key] == "queued"
