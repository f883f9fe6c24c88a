"""End to end: `@@||x^` inside an adblock deny list allows x for the groups the list applies to,
and never opens a legal list."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from blocklists.compiled import CompiledList
from blocklists.store import ListSource, compile_sources
from policy import Group, ListRule, Policy

RULES = {
    "ads": ListRule("ads", "deny", "ads_trackers"),
    "hotline": ListRule("hotline", "legal", "csam"),
    "threat": ListRule("threat", "legal", "malware"),
}
PUPILS = Group("nxenesit", "Nxënësit")
STAFF = Group("stafi", "Stafi", lists=frozenset())  # no deny/allow lists apply


@pytest.fixture
def policy(tmp_path: Path) -> Iterator[Policy]:
    (tmp_path / "ads.txt").write_text("! AdGuard-style\n||adnet.example^\n"
                                      "@@||cdn.adnet.example^\n@@||bad.example^\n")
    (tmp_path / "hotline.txt").write_text("bad.example\n")
    (tmp_path / "threat.rpz").write_text("$ORIGIN rpz.example.\n*.evil.example CNAME .\n"
                                         "ok.evil.example CNAME rpz-passthru.\n")
    out = tmp_path / "lists.compiled"
    compile_sources([ListSource("ads", tmp_path / "ads.txt", "adblock", "ads_trackers"),
                     ListSource("hotline", tmp_path / "hotline.txt", "domains", "csam"),
                     ListSource("threat", tmp_path / "threat.rpz", "rpz", "malware")],
                    out, "fp")
    compiled = CompiledList(out)
    yield Policy((PUPILS, STAFF), PUPILS, RULES, compiled)
    compiled.close()


@pytest.mark.parametrize("group,host,action,list_id", [
    (PUPILS, "x.adnet.example", "block", "ads"),
    (PUPILS, "cdn.adnet.example", "allow", "ads@allow"),
    (PUPILS, "img.cdn.adnet.example", "allow", "ads@allow"),
    (STAFF, "cdn.adnet.example", "pass", ""),         # list `ads` does not apply to staff
    (PUPILS, "bad.example", "block", "hotline"),      # `@@` never opens a legal list
    (PUPILS, "ok.evil.example", "block", "threat"),   # nor does a passthru inside one
    (PUPILS, "evil.example", "pass", ""),             # a lone `*.evil.example`
])
def test_allow_entries_inside_a_deny_list(policy: Policy, group: Group, host: str,
                                          action: str, list_id: str) -> None:
    decision = policy.decide(group, host)
    assert (decision.action, decision.list_id) == (action, list_id)
