"""`roja reload` with a running `roja serve` (subprocess) whose proxy is on: a reload that
changes `[proxy]` succeeds for the lists and tells the teacher, Albanian first, that the
proxy's own settings need `systemctl restart roja`; a reload without such a change does not."""

from __future__ import annotations

import json
from pathlib import Path

from cli_kit import roja_serve
from click.testing import CliRunner

from filterd.cli import main
from filterd.testing import free_port

CONFIG = """
[state]
dir = "{state}"
[dns]
listen = ["127.0.0.1:{dns}"]
upstreams = ["127.0.0.1:9"]
[metrics]
listen = ""
[proxy]
enabled = true
mode = "explicit"
listen = "127.0.0.1:{proxy}"
blockpage_listen = "127.0.0.1:{page}"
school_contact = "Dhoma 12"
[[lists]]
id = "lojra"
path = "{lists}"
category = "gambling"
"""


def test_reload_names_proxy_changes_that_need_a_restart(tmp_path: Path) -> None:
    lists = tmp_path / "lojra.txt"
    lists.write_text("lojra.test\n", encoding="utf-8")
    state = tmp_path / "state"
    cfg = tmp_path / "roja.toml"
    good = CONFIG.format(state=state, dns=free_port(), proxy=free_port(), page=free_port(),
                         lists=lists)
    cfg.write_text(good, encoding="utf-8")
    with roja_serve(cfg, state):
        same = CliRunner().invoke(main, ["--config", str(cfg), "reload"])
        assert same.exit_code == 0 and "U ringarkua / reloaded" in same.output, same.output
        assert "restart" not in same.output
        cfg.write_text(good.replace("Dhoma 12", "Dhoma 14"), encoding="utf-8")
        changed = CliRunner().invoke(main, ["--config", str(cfg), "reload"])
        assert changed.exit_code == 0, changed.output
        lines = changed.output.splitlines()
        assert lines[0] == "U ringarkua / reloaded"
        assert lines[1].startswith("Kujdes: ndryshimet në [proxy] zbatohen vetëm pas rinisjes: "
                                   "`systemctl restart roja`")
        assert "/ note: [proxy] changes apply only after a restart" in lines[1]
        assert json.loads((state / "reload.json").read_text())["restart"] == ["proxy"]
