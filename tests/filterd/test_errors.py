"""filterd.errors and the one place in filterd.cli that applies it: what a command did not
catch becomes an Albanian-first message naming the file, database or address, exit 1."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from filterd.cli import LazyGroup
from filterd.errors import RojaError, describe, unexpected


def test_an_os_error_names_its_file_albanian_first(tmp_path: Path) -> None:
    try:
        (tmp_path / "s'ka" / "audit.log").read_text()
    except OSError as exc:
        text = describe(exc)
    assert text == f"{tmp_path}/s'ka/audit.log: nuk ekziston / No such file or directory"


def test_a_note_names_what_the_error_lost() -> None:
    exc = OSError(errno.EADDRINUSE, "Address already in use")
    exc.add_note("127.0.0.1:53 (TCP)")
    assert describe(exc) == ("127.0.0.1:53 (TCP): adresa është e zënë nga një program tjetër / "
                             "Address already in use")
    db = sqlite3.DatabaseError("file is not a database")
    db.add_note("/var/lib/roja/outbox.sqlite")
    assert describe(db) == ("/var/lib/roja/outbox.sqlite: baza e të dhënave / database: file is "
                            "not a database")


def test_a_database_without_a_note_names_the_state_directory() -> None:
    error = unexpected(sqlite3.OperationalError("disk I/O error"), "roja unblock list",
                       Path("/var/lib/roja"))
    assert "(dosja e gjendjes / state directory /var/lib/roja)" in error.format_message()


def _group() -> click.Group:
    @click.command("boom")
    @click.argument("kind")
    def boom(kind: str) -> None:
        if kind == "file":
            open("/proc/roja-test/none", encoding="utf-8")  # noqa: SIM115
        if kind == "roja":
            raise RojaError("Lista nuk u ngarkua", "the list did not load", "lista 'x'")
        raise KeyError(kind)

    return LazyGroup(name="roja", commands=[boom])


@pytest.mark.parametrize(("kind", "expected"), [
    ("file", "Gabim / Error: `roja boom` nuk u krye / did not complete\n"
             "  /proc/roja-test/none: nuk ekziston / No such file or directory\n"),
    ("roja", "Gabim / Error: Lista nuk u ngarkua / the list did not load\n  lista 'x'\n"),
    ("bug", "Gabim / Error: Gabim i papritur në `roja boom` (defekt në Roja) / unexpected error "
            "(a bug in Roja; ROJA_TRACEBACK=1 shows where)\n  KeyError: 'bug'\n"),
])
def test_the_group_turns_what_escaped_into_one_message(kind: str, expected: str) -> None:
    result = CliRunner().invoke(_group(), ["boom", kind])
    assert (result.exit_code, result.stderr) == (1, expected)
    assert result.stdout == ""


def test_usage_errors_get_an_albanian_headline() -> None:
    result = CliRunner().invoke(_group(), ["boom"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Gabim në përdorim / usage error: Missing argument 'KIND'.",
        "Përdorimi / usage: roja boom [OPTIONS] KIND",
        "Ndihmë / help: roja boom --help"]


def test_a_group_alone_still_shows_its_help() -> None:
    result = CliRunner().invoke(LazyGroup(name="roja", commands=[click.Group("report")]),
                                ["report"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Usage: roja report [OPTIONS] COMMAND [ARGS]...")


def test_roja_traceback_lets_a_bug_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROJA_TRACEBACK", "1")
    result = CliRunner().invoke(_group(), ["boom", "bug"])
    assert isinstance(result.exception, KeyError)
