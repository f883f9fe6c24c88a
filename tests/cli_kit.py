"""Test kit for one `roja` subcommand run through click's CliRunner, as the main `roja` group
runs it: `ctx.obj` holds the state directory and, when a test gives one, the config.

    result = invoke(incidents, tmp_path, "list", "--json")
    result = invoke(report, state, "send", "--month", "2026-10", config=ReportConfig(school))
"""

from __future__ import annotations

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
