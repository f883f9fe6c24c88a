"""Test kit for the `roja` command line: one subcommand run through click's CliRunner, as the
main `roja` group runs it (`ctx.obj` holds the state directory and, when a test gives one, the
config), and `roja serve` as a real process.

    result = invoke(incidents, tmp_path, "list", "--json")
    result = invoke(report, state, "send", "--month", "2026-10", config=ReportConfig(school))
    with roja_serve(config, state) as proc: ...   # running: its pid file is written
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from click.testing import CliRunner, Result

from filterd.config import School
from reporting.delivery_config import ReportSettings


@dataclass(frozen=True)
class ReportConfig:
    """The parts of a `RojaConfig` the report commands read: the school and `[report]`."""

    school: School
    report: ReportSettings = field(default_factory=ReportSettings)


def invoke(command: click.Command, state: Path, *args: str, config: object = None,
           **runner: Any) -> Result:
    """`roja <command> <args>` with `state` as the state directory (`ctx.obj["config"]` only
    when `config` is given); `runner` goes to `CliRunner.invoke` (input, catch_exceptions)."""
    obj: dict[str, object] = {"state_dir": state}
    if config is not None:
        obj["config"] = config

    @click.group()
    @click.pass_context
    def roja(ctx: click.Context) -> None:
        ctx.obj = obj

    roja.add_command(command)
    return CliRunner().invoke(roja, [str(command.name), *args], **runner)


@contextmanager
def roja_serve(config: Path, state: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`roja --config <config> serve` (this checkout's, from the repository's root) until it
    has written `state/roja.pid` (60 s at most); SIGTERM and a wait of 30 s at the end."""
    proc = subprocess.Popen([str(Path(sys.executable).parent / "roja"), "--config", str(config),
                             "serve"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=Path(__file__).resolve().parents[1])
    try:
        deadline = time.monotonic() + 60
        while not (state / "roja.pid").exists():
            assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)
        yield proc
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(30)
