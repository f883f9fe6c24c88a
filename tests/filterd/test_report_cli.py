"""Tests for `roja report build` (filterd.commands.report) with click's CliRunner over a real
incident database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import click
from click.testing import CliRunner, Result
from report_db import sample

from filterd.commands.report import report
from filterd.config import School


@dataclass(frozen=True)
class _Config:
    school: School


def run(state: Path, config: _Config | None, *args: str) -> Result:
    @click.group()
    @click.pass_context
    def cli(ctx: click.Context) -> None:
        ctx.obj = {"state_dir": state, "config": config}

    cli.add_command(report)
    return CliRunner().invoke(cli, ["report", "build", *args], catch_exceptions=False)


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


def test_school_from_config_and_one_format(tmp_path: Path) -> None:
    result = run(tmp_path, _Config(School("Shkolla e Mesme", "SM1")), "--year", "2026",
                 "--out", str(tmp_path), "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "raport-SM1-2026.json").read_text())
    assert document["report"]["header"]["school_name"] == "Shkolla e Mesme"
    assert len(document["report"]["trends"]) == 12


def test_wrong_options_are_refused(tmp_path: Path) -> None:
    for args in ([], ["--month", "2026-10", "--year", "2026"], ["--month", "2026"],
                 ["--month", "2026-10", "--format", "docx"]):
        result = run(tmp_path, None, *args, "--out", str(tmp_path))
        assert result.exit_code == 2, (args, result.output)
