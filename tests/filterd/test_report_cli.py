"""Tests for `roja report build` (filterd.commands.report) with click's CliRunner over a real
incident database."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import cli_kit
from cli_kit import ReportConfig
from click.testing import Result
from peers.mailbox import http_inbox, smtp_sink
from report_db import sample

from filterd.commands.report import report
from filterd.config import School
from reporting.delivery_config import HttpsSettings, ReportSettings, SmtpSettings


def run(state: Path, config: ReportConfig | None, *args: str) -> Result:
    return invoke(state, config, "build", *args)


def test_build_writes_the_three_files(tmp_path: Path) -> None:
    sample(tmp_path / "incidents.sqlite")
    out = tmp_path / "out"
    result = run(tmp_path, None, "--month", "2026-10", "--out", str(out), "--date",
                 "02.11.2026", "--school-name", "Shkolla Çajupi", "--school-code", "K/7",
                 "--qark", "Korçë", "--teacher", "Drita Çela")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["raport-K_7-2026-10.csv", "raport-K_7-2026-10.json",
                     "raport-K_7-2026-10.pdf"]
    header = json.loads((out / "raport-K_7-2026-10.json").read_text())["report"]["header"]
    assert (header["school_name"], header["qark"], header["municipality"]) == (
        "Shkolla Çajupi", "Korçë", "—")
    assert header["generated"] == "02.11.2026"


@dataclass(frozen=True)
class _ConfigWithGroups:
    school: School
    report: ReportSettings


def test_groups_appear_under_their_configured_names(tmp_path: Path) -> None:
    sample(tmp_path / "incidents.sqlite")
    config = _ConfigWithGroups(School("Shkolla", "K1"), ReportSettings(
        group_names={"nxënësit": "Klasat 6-9 / Grades 6-9"}))
    result = run(tmp_path, config, "--month", "2026-10", "--out", str(tmp_path), "--format",
                 "csv")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "raport-K1-2026-10.csv").read_text(encoding="utf-8-sig")
    assert "Aksesi i bllokuar sipas grupit,nxënësit,Klasat 6-9,11" in text
    assert "Aksesi i bllokuar sipas grupit,mësuesit,Mësuesit,1" in text


def test_school_from_config_and_one_format(tmp_path: Path) -> None:
    result = run(tmp_path, ReportConfig(School("Shkolla e Mesme", "SM1")), "--year", "2025",
                 "--out", str(tmp_path), "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "raport-SM1-2025.json").read_text())
    assert document["report"]["header"]["school_name"] == "Shkolla e Mesme"
    assert len(document["report"]["trends"]) == 12


def test_a_report_without_an_incident_database_says_so(tmp_path: Path) -> None:
    result = run(tmp_path / "s'ka", None, "--month", "2026-10", "--out", str(tmp_path),
                 "--format", "json")
    assert result.exit_code == 0, result.output
    assert f"nuk ka bazë incidentesh {tmp_path}/s'ka/incidents.sqlite" in result.stderr


def test_wrong_options_are_refused(tmp_path: Path) -> None:
    for args in ([], ["--month", "2026-10", "--year", "2026"], ["--month", "2026"],
                 ["--month", "2026-10", "--format", "docx"]):
        result = run(tmp_path, None, *args, "--out", str(tmp_path))
        assert result.exit_code == 2, (args, result.output)


def invoke(state: Path, config: ReportConfig | None, *args: str) -> Result:
    return cli_kit.invoke(report, state, *args, config=config, catch_exceptions=False)


def test_send_and_status(tmp_path: Path) -> None:
    sample(tmp_path / "incidents.sqlite")
    with smtp_sink() as sink, http_inbox() as inbox:
        settings = ReportSettings(
            qark="Korçë", ict_teacher="Drita Çela",
            smtp=SmtpSettings("127.0.0.1", "roja@shkolla.example.al", ("zva@example.al",),
                              port=sink.port, starttls=False, timeout=10.0),
            https=HttpsSettings(inbox.url, "tok-K7", timeout=10.0))
        config = ReportConfig(School("Shkolla Çajupi", "K7"), settings)
        result = invoke(tmp_path, config, "send", "--month", "2026-10")
        assert result.exit_code == 0, result.output
        assert "raport-K7-2026-10.pdf" in result.output
        assert "smtp → zva@example.al: dërguar / sent" in result.output
        assert f"https → {inbox.url}: dërguar / sent" in result.output
        again = invoke(tmp_path, config, "send", "--month", "2026-10")  # nothing new to send
        assert again.exit_code == 0, again.output
    assert len(sink.messages) == 1 and len(inbox.uploads) == 1
    assert sink.messages[0]["Subject"].endswith("tetor 2026")
    document = json.loads((tmp_path / "reports" / "2026-10" / "r1" / "raport-K7-2026-10.json"
                           ).read_text())
    assert document["report"]["header"]["qark"] == "Korçë"
    status = invoke(tmp_path, config, "status")
    assert status.exit_code == 0, status.output
    lines = status.output.splitlines()
    assert lines[0].startswith("Periudha / period  Rishikimi / revision")
    assert lines[3:5] == ["", "Rishikimet / revisions:"] and len(lines) == 6
    for line in lines[1:3]:
        assert line.split()[:2] == ["2026-10", "r1"] and "dërguar / sent" in line
        assert re.search(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", line), line
    assert "R-1" in lines[1] + lines[2]  # the inbox's receipt
    assert lines[5].startswith("2026-10 r1, hartuar / built ")


def test_send_without_recipients_only_builds(tmp_path: Path) -> None:
    result = invoke(tmp_path, ReportConfig(School("S", "K1")), "send", "--month", "2026-09")
    assert result.exit_code == 0, result.output
    assert "No recipients configured" in result.output
    assert (tmp_path / "reports" / "2026-09" / "r1" / "raport-K1-2026-09.csv").is_file()
    status = invoke(tmp_path, None, "status").output
    assert "Nothing sent yet" in status and "2026-09 r1, hartuar / built" in status


def test_send_reports_a_permanent_failure(tmp_path: Path) -> None:
    with http_inbox([400]) as inbox:
        settings = ReportSettings(https=HttpsSettings(inbox.url, "tok", timeout=10.0))
        result = invoke(tmp_path, ReportConfig(School("S", "K1"), settings), "send",
                        "--month", "2026-09")
    assert result.exit_code == 1
    assert "dështoi / failed: HTTP 400: gabim 400" in result.output
    status = invoke(tmp_path, None, "status", "--month", "2026-09").output
    assert "dështoi / failed" in status and "HTTP 400" in status
    assert invoke(tmp_path, None, "send", "--month", "2026").exit_code == 2
