"""`roja ... --help` listings: every command's one-line help is whole, in both languages.

click cuts a command's short help to fit its listing (`roja --help`, `roja lists --help`...) and
ends it in `...`; a cut there used to drop the English half. Each listed line must fit a
76-column terminal whole, and `roja incident` / `roja incidents` must say which is which.
"""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from filterd.cli import main

# Longest short help accepted (full stop included): the widest listing (`bypass-watch`, 12
# characters, plus click's 6 columns of spacing) then fits a 76-column terminal (click formats
# at width - 2).
LIMIT = 51


def tree(cmd: click.Command = main, path: tuple[str, ...] = ("roja",)) -> Iterator[
        tuple[tuple[str, ...], click.Command]]:
    yield path, cmd
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd, info_name=path[-1])
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            assert sub is not None, name
            yield from tree(sub, (*path, name))


COMMANDS = [(" ".join(path), cmd) for path, cmd in tree() if len(path) > 1]
GROUPS = [path for path, cmd in tree() if isinstance(cmd, click.Group)]


@pytest.mark.parametrize(("name", "cmd"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_short_help_is_albanian_then_english_and_short(name: str, cmd: click.Command) -> None:
    text = cmd.get_short_help_str(10**6)
    assert " / " in text, f"{name}: {text!r} has no English half"
    assert len(text) <= LIMIT, f"{name}: {text!r} is {len(text)} characters (at most {LIMIT})"


@pytest.mark.parametrize("path", GROUPS, ids=[" ".join(p) for p in GROUPS])
def test_no_listing_is_cut(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path[1:], "--help"], terminal_width=76)
    assert result.exit_code == 0, result.output
    listing = result.output.split("Commands:", 1)[1]
    assert "..." not in listing, listing


def test_incident_and_incidents_are_told_apart() -> None:
    listing = CliRunner().invoke(main, ["--help"], terminal_width=76).output
    lines = {line.split()[0]: line for line in listing.splitlines()
             if line.startswith("  incident")}
    assert "filtri" in lines["incidents"] and "blocked" in lines["incidents"]
    assert "mësues" in lines["incident"] and "teacher" in lines["incident"]
    for name, other in (("incident", "incidents"), ("incidents", "incident")):
        full = CliRunner().invoke(main, [name, "--help"]).output
        assert f"roja {other}" in full, f"roja {name} --help does not point to roja {other}"
