"""The daemon's hourly report step: `roja report due`, run by `filterd.app.run_report_due` as a
child process with a real config, a real incident database and a real SMTP server."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from peers.mailbox import smtp_sink

from filterd.app import run_report_due
from reporting.delivery import previous_month
from reporting.report_data import TIRANE

CONFIG = """
[school]
name = "Shkolla Çajupi"
code = "K7"

[state]
dir = "{state}"

[dns]
listen = ["127.0.0.1:0"]

[[lists]]
id = "deny"
path = "{deny}"
format = "domains"
kind = "deny"
category = "gambling"

[report]
qark = "Korçë"
send_day = 1

[report.smtp]
host = "127.0.0.1"
port = {port}
starttls = false
from_addr = "roja@shkolla.example.al"
to = ["zva@example.al"]
timeout = 10

[metrics]
listen = ""
"""


async def test_the_hourly_step_sends_last_month_once_in_a_child_process(tmp_path: Path) -> None:
    (tmp_path / "deny.txt").write_text("bet365.com\n", encoding="utf-8")
    config = tmp_path / "roja.toml"
    period = previous_month(datetime.now(TIRANE))
    with smtp_sink() as sink:
        config.write_text(CONFIG.format(state=tmp_path / "state", deny=tmp_path / "deny.txt",
                                        port=sink.port), encoding="utf-8")
        assert await run_report_due(config) == 0
        assert await run_report_due(config) == 0  # already sent: nothing new
    assert len(sink.messages) == 1
    assert (tmp_path / "state" / "reports" / period / "r1" / f"raport-K7-{period}.pdf").is_file()


async def test_a_broken_config_is_an_exit_status_not_a_crash(tmp_path: Path) -> None:
    config = tmp_path / "roja.toml"
    config.write_text("[report]\nsend_day = 40\n", encoding="utf-8")
    assert await run_report_due(config) == 2
