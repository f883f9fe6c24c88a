"""`update.plan/apply` on a teacher's roja.toml: old → new, and nothing written when the edit
cannot be made exactly or the result would not be a valid config."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from filterd.install import InstallError, Layout, update
from filterd.install.configfile import Answers, render

NOW = datetime(2026, 12, 7, 9, 30, 0)


def layout_with(tmp_path: Path, text: str) -> Layout:
    layout = Layout(tmp_path)
    layout.etc.mkdir(parents=True)
    layout.config.write_text(text, encoding="utf-8")
    layout.config.chmod(0o640)
    return layout


def first_config() -> str:
    return render(Answers("eth0", "AL-1", ("a@example.al",), "Shkolla", ("10.0.2.15",)))


def test_plan_lists_old_and_new_and_apply_keeps_a_backup_each_time(tmp_path: Path) -> None:
    layout = layout_with(tmp_path, first_config())
    data = update.current(layout)
    plan = update.plan(layout, data, update.wanted(
        data, lan_interface="eth1", school_code=None, school_name=None,
        recipients=("b@example.al",), addresses=("192.168.50.1", "fd00::1")))
    assert [str(c) for c in plan.changes] == [
        '[firewall] lan_interface: "eth0" → "eth1"',
        '[dns] listen: ["127.0.0.1:53", "[::1]:53", "10.0.2.15:53"] → '
        '["127.0.0.1:53", "[::1]:53", "192.168.50.1:53", "[fd00::1]:53"]',
        '[report.smtp] to: ["a@example.al"] → ["b@example.al"]',
        f"{layout.etc / 'lan.env'} ROJA_LAN_INTERFACE: (mungon / absent) → eth1"]
    old = layout.config.read_text(encoding="utf-8")
    first = update.apply(layout, plan, NOW)
    assert first == layout.etc / "roja.toml.bak-20261207-093000"
    assert first.read_text(encoding="utf-8") == old
    again = update.apply(layout, plan, NOW)  # same second: a second backup, none overwritten
    assert again == layout.etc / "roja.toml.bak-20261207-093000.1"
    assert first.read_text(encoding="utf-8") == old
    assert update.current(layout)["firewall"]["lan_interface"] == "eth1"


def test_a_key_written_as_an_inline_table_is_left_for_the_teacher(tmp_path: Path) -> None:
    text = render(Answers("eth0", "AL-1", (), "Shkolla", ())).replace(
        'send_day = 1\n', 'send_day = 1\nsmtp = { host = "localhost", from_addr = '
        '"roja@x.al", to = ["a@example.al"] }\n')
    layout = layout_with(tmp_path, text)
    data = update.current(layout)
    assert data["report"]["smtp"]["to"] == ["a@example.al"]
    plan = update.plan(layout, data, update.wanted(
        data, lan_interface=None, school_code=None, school_name=None,
        recipients=("b@example.al",), addresses=None))
    with pytest.raises(InstallError) as caught:
        update.apply(layout, plan, NOW)
    assert "set them by hand" in str(caught.value)
    assert '[report.smtp] to = ["b@example.al"]' in str(caught.value)
    assert layout.config.read_text(encoding="utf-8") == text
    assert not list(layout.etc.glob("*.bak-*"))


def test_a_result_that_is_not_a_valid_config_is_not_written(tmp_path: Path) -> None:
    layout = layout_with(tmp_path, first_config())
    plan = update.Plan({("firewall", "lan_interface"): "eth1; reboot"}, "eth1", ())
    with pytest.raises(InstallError) as caught:
        update.apply(layout, plan, NOW)
    assert "lan_interface" in str(caught.value) and "not be valid" in str(caught.value)
    assert layout.config.read_text(encoding="utf-8") == first_config()
