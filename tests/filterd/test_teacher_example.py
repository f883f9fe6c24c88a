"""The README's teacher example ("pupils: no social media except at lunch, safe search strict;
staff: social media allowed; everyone: hotline list always blocked"), loaded as written."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from filterd.app import build_policy
from filterd.config import parse_config_text
from policy.schedule import TIRANE

README = Path(__file__).resolve().parents[2] / "README.md"


def teacher_example() -> str:
    text = README.read_text(encoding="utf-8")
    found = re.search(r"<!-- teacher-example -->\n```toml\n(.*?)```", text, re.DOTALL)
    assert found, "README.md has the teacher example"
    return found.group(1)


def test_the_teacher_example_does_what_it_says(tmp_path: Path) -> None:
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "linja.txt").write_text("csam.example\n")
    (tmp_path / "lists" / "rrjete-sociale.txt").write_text("tiktok.com\ninstagram.com\n")
    text = f'[state]\ndir = "{tmp_path / "state"}"\n' + teacher_example()
    cfg = parse_config_text(text, tmp_path / "roja.toml")
    policy, compiled = build_policy(cfg)
    try:
        pupil, staff = policy.group_for("10.0.2.17"), policy.group_for("10.0.3.5")
        assert (pupil.id, staff.id) == ("nxenesit", "stafi")
        assert pupil.safe_search == "strict"
        tuesday = datetime(2026, 12, 1, tzinfo=TIRANE)
        lesson, lunch = tuesday.replace(hour=10), tuesday.replace(hour=12, minute=30)
        assert policy.decide(pupil, "www.tiktok.com", lesson).blocked
        assert not policy.decide(pupil, "www.tiktok.com", lunch).blocked
        assert policy.decide(pupil, "www.tiktok.com", tuesday.replace(hour=13)).blocked
        holiday = datetime(2026, 12, 28, 12, 30, tzinfo=TIRANE)  # a Monday in the holidays
        assert policy.decide(pupil, "www.tiktok.com", holiday).blocked
        for t in (lesson, lunch):
            assert not policy.decide(staff, "www.tiktok.com", t).blocked
            for g in (pupil, staff, policy.default_group):
                d = policy.decide(g, "csam.example", t)
                assert d.blocked and d.legal
    finally:
        compiled.close()
