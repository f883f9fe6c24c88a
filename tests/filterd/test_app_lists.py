"""`filterd.app.build_policy` over lists: a list that shrank too much keeps its last-known-good
entries serving, at start as on reload; a UT1 directory is a valid list path."""

from __future__ import annotations

import os
from pathlib import Path

from sync_kit import served_feed

from blocklists.store import held_back_in
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


def test_a_damaged_feed_file_keeps_the_hotline_and_its_hashes_enforced(tmp_path: Path) -> None:
    with served_feed(tmp_path) as fd:
        fd.publish("url,category,confirmed_at,case_id,confidential\n"
                   "hate.example,hate_speech,2026-11-02,C-1,jo\n"
                   "secret-abuse.example,csam,2026-11-02,C-2,po\n")
        fd.sync()
    text = (f'[state]\ndir = "{fd.state}"\n[feed]\nurl = "{fd.url}"\n'
            f'public_key = "{fd.pub}"\nfeed_id = "isigurt-al"\n')
    cfg = parse_config_text(text, tmp_path / "roja.toml")
    policy, compiled = build_policy(cfg)
    group = policy.default_group
    assert policy.decide(group, "hate.example").blocked
    assert policy.decide(group, "secret-abuse.example").blocked
    compiled.close()
    current = fd.state / "feed" / "current.json"
    current.write_bytes(current.read_bytes()[:50])  # a disk error, a half-written copy
    policy, compiled = build_policy(cfg)  # what a start (or reload) then does
    group = policy.default_group
    assert policy.decide(group, "hate.example").blocked
    assert policy.decide(group, "secret-abuse.example").blocked
    assert [h.list_id for h in held_back_in(compiled.meta)] == ["hotline"]
    compiled.close()
