"""Issue 22 item 2: periods and revisions. `roja report send` refuses a period that has not
ended (`build --draft` previews it, never stored or queued); a change after a revision was sent
becomes r2, which `send` delivers to the real inbox over HTTP, where it shows as revision 2;
`build`, `send` and the daemon's step use one bundle store; `report status` lists revisions,
what changed and the receipts."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path

import cli_kit
from cli_kit import ReportConfig
from click.testing import Result
from inbox_kit import running_inbox
from report_db import manual, sample

from filterd.commands.report import report
from filterd.config import School
from reporting.delivery import outbox_path, tick
from reporting.delivery_config import HttpsSettings, ReportSettings
from reporting.inbox import submissions
from reporting.outbox import Outbox
from reporting.report_data import TIRANE

SCHOOL = School("Shkolla Naim Frashëri", "BR-001")


def invoke(state: Path, config: ReportConfig, *args: str) -> Result:
    return cli_kit.invoke(report, state, *args, config=config, catch_exceptions=False)


def this_month() -> str:
    return datetime.now(TIRANE).strftime("%Y-%m")


def next_month() -> str:
    now = datetime.now(TIRANE)
    return f"{now.year + 1}-01" if now.month == 12 else f"{now.year}-{now.month + 1:02d}"


def test_a_period_that_has_not_ended_is_refused_and_only_previewed(tmp_path: Path) -> None:
    state = tmp_path / "state"
    settings = ReportSettings(https=HttpsSettings("http://127.0.0.1:9/api/reports", "t", 5.0))
    config = ReportConfig(SCHOOL, settings)
    for period in (this_month(), next_month()):
        result = invoke(state, config, "send", "--month", period)
        assert result.exit_code == 1, result.output
        assert (f"Raporti i periudhës {period} nuk dërgohet: periudha nuk ka mbaruar"
                in result.output)
        assert f"the report for {period} cannot be sent: the period has not ended" \
            in result.output
        assert "roja report build --draft --month" in result.output
        assert "Traceback" not in result.output
    refused = invoke(state, config, "build", "--month", this_month(), "--out", str(tmp_path))
    assert refused.exit_code == 1 and "nuk hartohet" in refused.output
    draft = invoke(state, config, "build", "--draft", "--month", this_month(), "--out",
                   str(tmp_path / "draft"))
    assert draft.exit_code == 0, draft.output
    assert "Paraparje: nuk ruhet dhe nuk dërgohet" in draft.output
    assert len(list((tmp_path / "draft").iterdir())) == 3
    assert not (state / "reports").exists()  # nothing stored ...
    assert not outbox_path(state).exists()  # ... nothing queued
    # the 1st of next month, the daemon's step builds the month afresh: it never reuses a
    # bundle made while the month was running
    assert tick(state, SCHOOL, ReportSettings(), datetime.now(TIRANE)) == []


async def test_a_change_after_sending_is_sent_as_revision_2(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    sample(state / "incidents.sqlite")
    async with running_inbox(tmp_path) as inbox:
        settings = ReportSettings(qark="Berat", https=HttpsSettings(
            f"{inbox.url}/api/reports", inbox.tokens["BR-001"], 10.0))
        config = ReportConfig(SCHOOL, settings)

        async def send() -> Result:
            return await asyncio.to_thread(invoke, state, config, "send", "--month", "2026-10")

        first = await send()
        assert first.exit_code == 0, first.output
        assert "Rishikimi r1 i 2026-10: i ri" in first.output
        same = await send()  # nothing changed: nothing new is made or sent
        assert same.exit_code == 0, same.output
        assert "i pandryshuar / revision r1 of 2026-10: unchanged" in same.output
        assert "nothing new to send" in same.output
        manual(state / "incidents.sqlite", "2026-10-28", "sexting")  # recorded late
        second = await send()
        assert second.exit_code == 0, second.output
        assert "Rishikimi r2 i 2026-10: i ri" in second.output
        assert "Incidente nga mësuesit / incidents recorded by teachers: 2 → 3" in second.output
        assert "raport-BR-001-2026-10-r2.pdf" in second.output
        history = submissions.history(inbox.store, "BR-001")
        assert [(s.revision, s.current, s.manual_total) for s in history] == [
            (2, True, 3), (1, False, 2)]
        status = await asyncio.to_thread(invoke, state, config, "status")
    assert status.exit_code == 0, status.output
    out = status.output
    rows = [line for line in out.splitlines() if line.startswith("2026-10  ")]
    assert [row.split()[1] for row in rows] == ["r2", "r1"]
    assert all("dërguar / sent" in row for row in rows)
    assert history[0].receipt in rows[0] and history[1].receipt in rows[1]
    assert ("2026-10 r2, hartuar / built" in out
            and "Incidente nga mësuesit / incidents recorded by teachers: 2 → 3" in out)


def test_build_send_and_the_daemon_use_one_bundle(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    sample(state / "incidents.sqlite")
    config = ReportConfig(SCHOOL, ReportSettings(qark="Berat"))
    built = invoke(state, config, "build", "--month", "2026-10", "--out", str(tmp_path / "out"))
    assert built.exit_code == 0, built.output
    document = json.loads((tmp_path / "out" / "raport-BR-001-2026-10.json").read_bytes())
    settings = ReportSettings(qark="Berat", send_day=1, https=HttpsSettings(
        "http://127.0.0.1:9/api/reports", "t", 1.0))
    tick(state, SCHOOL, settings, datetime(2026, 11, 2, 8, 0, tzinfo=TIRANE))
    with Outbox(outbox_path(state)) as box:
        [row] = box.deliveries()
    assert row.files["json"].read_bytes() == (
        tmp_path / "out" / "raport-BR-001-2026-10.json").read_bytes()
    assert json.loads(row.files["json"].read_bytes())["content_sha256"] == \
        document["content_sha256"]
    sent = invoke(state, config, "send", "--month", "2026-10")
    assert "i pandryshuar / revision r1 of 2026-10: unchanged" in sent.output
