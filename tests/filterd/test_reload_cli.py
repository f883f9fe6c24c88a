"""`roja reload` against a real `roja serve` process: a list held back for shrinking keeps its
last-known-good entries while every other list's change is applied, and the teacher is told
exactly which (stdout, `reload.json`, exit status 3)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import pytest
from cli_kit import roja_serve
from click.testing import CliRunner, Result

from filterd.cli import main
from filterd.testing import free_port

CONFIG = """
[state]
dir = "{state}"
[dns]
listen = ["127.0.0.1:{port}"]
upstreams = ["127.0.0.1:9"]
[metrics]
listen = ""
[[lists]]
id = "bixhoz"
path = "bixhoz.txt"
category = "gambling"
"""
LEGAL = """
[[lists]]
id = "ligjore"
path = "legal.txt"
kind = "legal"
category = "csam"
"""
CASINOS = "".join(f"casino{i}.example\n" for i in range(10))


def roja(cfg: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(cfg), *args])


def blocked(port: int, name: str) -> bool:
    query = dns.message.make_query(name, "A")
    return dns.query.udp(query, "127.0.0.1", port=port, timeout=3).rcode() == dns.rcode.NXDOMAIN


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A `roja serve` process over CONFIG (the bixhoz list with 10 names)."""
    (tmp_path / "bixhoz.txt").write_text(CASINOS)
    port = free_port()
    cfg = tmp_path / "roja.toml"
    cfg.write_text(CONFIG.format(state=tmp_path / "state", port=port))
    with roja_serve(cfg, tmp_path / "state"):
        yield cfg, port


def test_a_held_back_list_does_not_freeze_a_new_legal_list(served: tuple[Path, int]) -> None:
    cfg, port = served
    assert blocked(port, "casino7.example")
    (cfg.parent / "bixhoz.txt").write_text("casino0.example\n")  # a truncated download
    (cfg.parent / "legal.txt").write_text("illegal.example\n")
    cfg.write_text(cfg.read_text() + LEGAL)
    out = roja(cfg, "reload")
    assert out.exit_code == 3, out.output
    assert "U ringarkua pjesërisht / partly reloaded" in out.output
    assert "ligjore" in out.output
    assert "bixhoz: 10 → 1" in out.output
    assert blocked(port, "illegal.example")  # the new legal list is enforced
    assert blocked(port, "casino7.example")  # the held-back list keeps its last-known-good
    status = json.loads((cfg.parent / "state" / "reload.json").read_text())
    assert status["ok"] is True
    assert status["applied"] == [{"list": "ligjore", "old": 0, "new": 1}]
    assert [(h["list"], h["old"], h["new"]) for h in status["held_back"]] == [("bixhoz", 10, 1)]
    health = roja(cfg, "status")  # red, naming the list, its counts and why, Albanian first
    assert health.exit_code == 1 and "lists_held_back" in health.output
    assert "E mbajtur / held back: bixhoz: 10 → 1 hyrje / entries: u zvogëlua" in health.output
    (cfg.parent / "bixhoz.txt").write_text(CASINOS + "casino10.example\n")  # repaired
    out = roja(cfg, "reload")
    assert out.exit_code == 0 and "U ringarkua / reloaded" in out.output, out.output
    assert "Zbatohet / applied: bixhoz: 10 → 11 hyrje / entries" in out.output
    assert blocked(port, "casino10.example")
    assert "held back" not in roja(cfg, "status").output


def test_reload_names_every_table_that_needs_a_restart(served: tuple[Path, int]) -> None:
    """Only the policy and the lists swap on a reload; a changed upstream or encrypted-DNS
    setting (read when the resolver starts) or the console's table is named, with the unit
    to restart, instead of a bare "reloaded" while the old setting still runs."""
    cfg, _port = served
    text = cfg.read_text()
    cfg.write_text(text.replace('upstreams = ["127.0.0.1:9"]',
                                'upstreams = ["127.0.0.1:10"]')
                   + '[console]\nlisten = "127.0.0.1:18443"\n')
    result = roja(cfg, "reload")
    assert result.exit_code == 0, result.output
    assert ("Kujdes: ndryshimet në [dns] zbatohen vetëm pas rinisjes: `systemctl restart roja`"
            in result.output)
    assert ("Kujdes: ndryshimet në [console] zbatohen vetëm pas rinisjes: "
            "`systemctl restart roja-console`" in result.output)
    status = json.loads((cfg.parent / "state" / "reload.json").read_text())
    assert status["restart"] == ["dns", "console"]
    again = roja(cfg, "reload")  # the old settings still run: it still says so
    assert again.exit_code == 0 and "`systemctl restart roja-console`" in again.output
