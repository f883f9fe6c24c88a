"""Anchored audit log: a report built by `roja report build` carries the log's length and head
hash; rewriting audit.log and audit.head consistently passes the plain check but not the check
against the saved report."""

from __future__ import annotations

import json
from pathlib import Path

from audit_kit import rewrite
from click.testing import CliRunner, Result

from filterd import audit
from filterd.cli import main


def _config(tmp_path: Path) -> tuple[Path, Path]:
    state = tmp_path / "state"
    cfg = tmp_path / "roja.toml"
    cfg.write_text(f'[state]\ndir = "{state}"\n', encoding="utf-8")
    return cfg, state


def _fill(state: Path, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        audit.append(state, who=f"mësues {i}", what=f"unblock add #{i}", why="arsye")


def roja(cfg: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(cfg), *args])


def build_report(cfg: Path, out: Path) -> Path:
    r = roja(cfg, "report", "build", "--month", "2026-10", "--out", str(out), "--format",
             "json", "--school-code", "K7", "--school-name", "Shkolla", "--date", "02.11.2026")
    assert r.exit_code == 0, r.output
    return out / "raport-K7-2026-10.json"


def test_the_report_carries_the_head(tmp_path: Path) -> None:
    cfg, state = _config(tmp_path)
    _fill(state, 5)
    report = json.loads(build_report(cfg, tmp_path / "out").read_text(encoding="utf-8"))
    head = audit.read(state)[-1]
    assert report["report"]["audit"] == {"length": 5, "head": head.hash}


def test_a_consistent_rewrite_is_caught_by_the_saved_report(tmp_path: Path) -> None:
    cfg, state = _config(tmp_path)
    _fill(state, 5)
    saved = build_report(cfg, tmp_path / "out")
    _fill(state, 2, start=5)  # the log goes on growing after the report: that is fine
    assert roja(cfg, "audit", "verify", "--against-report", str(saved)).exit_code == 0
    rewrite(state, 3, "dikush tjetër")
    plain = roja(cfg, "audit", "verify")
    assert plain.exit_code == 0 and "intact: 7 entries" in plain.output  # undetectable alone
    anchored = roja(cfg, "audit", "verify", "--against-report", str(saved))
    assert anchored.exit_code == 1, anchored.output
    assert "hyrja 5" in anchored.output and "entry 5" in anchored.output
    assert "2026-10" in anchored.output and "rewritten" in anchored.output


def test_a_log_cut_below_the_anchor_and_rebuilt_is_caught(tmp_path: Path) -> None:
    cfg, state = _config(tmp_path)
    _fill(state, 4)
    saved = build_report(cfg, tmp_path / "out")
    for name in (audit.LOG_NAME, audit.HEAD_NAME):
        (state / name).unlink()
    _fill(state, 2, start=10)  # a fresh, consistent, shorter log
    assert roja(cfg, "audit", "verify").exit_code == 0
    r = roja(cfg, "audit", "verify", "--against-report", str(saved))
    assert r.exit_code == 1 and "only 2" in r.output and "4" in r.output


def test_a_report_without_an_anchor_is_refused_by_name(tmp_path: Path) -> None:
    cfg, _state = _config(tmp_path)
    saved = build_report(cfg, tmp_path / "out")  # no log yet: no anchor
    assert "audit" not in json.loads(saved.read_text(encoding="utf-8"))["report"]
    r = roja(cfg, "audit", "verify", "--against-report", str(saved))
    assert r.exit_code == 1 and "ankorim" in r.output and "anchor" in r.output
    assert "Traceback" not in r.output
