"""`filterd.app.build_policy` over lists: a list that shrank too much keeps its last-known-good
entries serving, at start as on reload; a UT1 directory is a valid list path."""

from __future__ import annotations

import os
from pathlib import Path

from filterd.app import build_policy
from filterd.config import parse_config_text

CONFIG = """\
[state]
dir = "{state}"

[[lists]]
id = "bixhoz"
path = "bixhoz.txt"
category = "gambling"

[[lists]]
id = "ut1"
path = "{ut1}"
format = "ut1"
mapping = "{ut1}.map"
"""
UT1 = Path(__file__).parents[1] / "blocklists" / "fixtures" / "ut1"


def test_a_shrunk_list_keeps_the_last_good_compile(tmp_path: Path) -> None:
    listed = tmp_path / "bixhoz.txt"
    listed.write_text("".join(f"casino{i}.example\n" for i in range(10)))
    text = CONFIG.format(state=tmp_path / "state", ut1=UT1)
    cfg = parse_config_text(text, tmp_path / "roja.toml")
    policy, compiled = build_policy(cfg)
    compiled.close()
    listed.write_text("casino0.example\n")
    os.utime(listed, ns=(1, 1))
    policy, compiled = build_policy(cfg)  # what a start (or reload) after the shrink does
    group = policy.default_group
    assert policy.decide(group, "casino7.example").list_id == "bixhoz"
    assert policy.decide(group, "pornhub.com").category == "pornography"
    compiled.close()
