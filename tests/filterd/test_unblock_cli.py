"""`roja unblock`, `roja policy explain` and `roja reload` through click's CliRunner (and a
real `roja serve` subprocess for reload), over a real config, lists and state directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_kit import roja_serve
from click.testing import CliRunner, Result

from filterd import audit
from filterd.cli import main
from filterd.testing import free_port
from filterd.unblock_requests import add_request, list_requests

CONFIG = """
[state]
dir = "{state}"
[dns]
listen = ["127.0.0.1:{port}"]
upstreams = ["127.0.0.1:9"]
[metrics]
listen = ""
[[lists]]
id = "rrjete"
path = "social.txt"
category = "social_media"
[[lists]]
id = "linja"
path = "legal.txt"
kind = "legal"
category = "csam"
[[profiles]]
id = "nxenes"
block = ["social_media"]
safe_search = "strict"
[[groups]]
id = "nxenesit"
networks = ["10.0.2.0/24"]
profile = "nxenes"
[[schedules]]
name = "Dreka"
groups = ["nxenesit"]
categories = ["social_media"]
windows = ["12:00-13:00"]
"""


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    (tmp_path / "social.txt").write_text("tiktok.com\n")
    (tmp_path / "legal.txt").write_text("csam.example\n")
    path = tmp_path / "roja.toml"
    path.write_text(CONFIG.format(state=tmp_path / "state", port=free_port()))
    return path


def roja(cfg: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(cfg), *args], catch_exceptions=False)


def test_unblock_add_list_remove_and_audit(cfg: Path) -> None:
    out = roja(cfg, "unblock", "add", "--group", "nxenesit", "--host", "TikTok.com.",
               "--for", "45m", "--by", "A. Hoxha", "--reason", "Projekt në klasë")
    assert out.exit_code == 0, out.output
    assert "Zhbllokimi #1: tiktok.com" in out.output
    listed = roja(cfg, "unblock", "list")
    assert "#1  nxenesit  tiktok.com" in listed.output and "A. Hoxha: Projekt në klasë" in \
        listed.output
    assert roja(cfg, "unblock", "remove", "1", "--by", "A. Hoxha").exit_code == 0
    assert "Asnjë zhbllokim" in roja(cfg, "unblock", "list").output
    assert roja(cfg, "unblock", "remove", "1").exit_code == 1
    state = cfg.parent / "state"
    whats = [e.what for e in audit.read(state)]
    assert whats == ["unblock add #1: group nxenesit, host tiktok.com, 45 min",
                     "unblock remove #1: group nxenesit, host tiktok.com"]
    assert audit.read(state)[0].who == "A. Hoxha" and audit.verify(state).ok


@pytest.mark.parametrize("args,words", [
    (["--host", "www.csam.example"], "legal"),
    (["--host", "bad host!"], "is not a host name"),
    (["--group", "askush", "--host", "x.example"], "no group 'askush'"),
    (["--for", "forever"], "e.g. 45m"),
])
def test_unblock_add_refusals(cfg: Path, args: list[str], words: str) -> None:
    base = {"--group": "nxenesit", "--host": "x.example", "--for": "45m"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [x for kv in base.items() for x in kv]
    out = roja(cfg, "unblock", "add", *flat, "--by", "A", "--reason", "r")
    assert out.exit_code != 0 and words in out.output, out.output
    assert audit.read(cfg.parent / "state") == []


def test_requests_accept_and_refuse(cfg: Path) -> None:
    state = cfg.parent / "state"
    first = add_request(state, group_id="nxenesit", host="tiktok.com", category="social_media",
                        list_id="rrjete", note="për detyrën")
    second = add_request(state, group_id="nxenesit", host="other.example",
                         category="social_media", list_id="rrjete")
    shown = roja(cfg, "unblock", "requests")
    assert f"#{first}" in shown.output and "Rrjete sociale / Social media" in shown.output
    ok = roja(cfg, "unblock", "requests", "accept", str(first), "--for", "1h", "--by", "B")
    assert ok.exit_code == 0 and "zhbllokimi #1" in ok.output
    no = roja(cfg, "unblock", "requests", "refuse", str(second), "--by", "B", "--reason", "jo")
    assert no.exit_code == 0
    assert [r.status for r in list_requests(state, None)] == ["accepted", "refused"]
    assert roja(cfg, "unblock", "requests", "refuse", str(second), "--by", "B").exit_code == 1
    whats = [e.what for e in audit.read(state)]
    assert whats[0].startswith(f"request accepted #{first}")
    assert whats[1].startswith("unblock add #1") and f"(request #{first})" in whats[1]
    assert whats[2].startswith(f"request refused #{second}")


def test_policy_explain_prints_every_step(cfg: Path) -> None:
    out = roja(cfg, "policy", "explain", "--client", "10.0.2.17", "--url",
               "https://www.tiktok.com/x", "--at", "2026-12-01 12:30")
    assert out.exit_code == 0, out.output
    text = out.output
    assert text.index("Grupi: Nxënësit (nxenesit)") < text.index("Group: Nxënësit (nxenesit)")
    assert "2026-12-01 12:30 (e martë / tue)" in text and "në fuqi (12:00-13:00)" in text
    assert "opened by the schedule in force" in text and "Decision: PASSES" in text
    later = roja(cfg, "policy", "explain", "--client", "10.0.2.17", "--host", "tiktok.com",
                 "--at", "2026-12-01 13:00")
    assert "BLLOKOHET" in later.output and "Social media" in later.output
    legal = roja(cfg, "policy", "explain", "--client", "10.9.9.9", "--host", "csam.example")
    assert "Shtresa ligjore" in legal.output and "nothing can open it" in legal.output
    assert roja(cfg, "policy", "explain", "--client", "1.1.1.1").exit_code != 0


def test_reload_checks_the_config_then_signals_the_daemon(cfg: Path) -> None:
    state = cfg.parent / "state"
    assert "not running" in roja(cfg, "reload").output
    with roja_serve(cfg, state) as proc:
        assert int((state / "roja.pid").read_text()) == proc.pid
        good = cfg.read_text()
        out = roja(cfg, "reload", "--by", "A. Hoxha")
        assert out.exit_code == 0 and "reloaded" in out.output, out.output
        cfg.write_text(good + "\n[[profiles]]\nid = \"x\"\nblok = []\n")
        bad = roja(cfg, "reload")
        assert bad.exit_code == 2 and "profiles[1].blok: unknown key" in bad.output
        assert f"{cfg}:" in bad.output
        cfg.write_text(good.replace('path = "social.txt"', 'path = "ut1"\nformat = "ut1"\n'
                                    'mapping = "missing.map"'))
        (cfg.parent / "ut1").mkdir()
        failed = roja(cfg, "reload")
        assert failed.exit_code == 1 and "old policy stays" in failed.output
        assert "missing.map" in failed.output
        whats = [e.what for e in audit.read(state)]
        assert whats[0].startswith("config load") and whats[1].startswith("reload requested")
        assert whats[2].startswith("config reload")
    assert not (state / "roja.pid").exists()
