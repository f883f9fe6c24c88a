"""What `filterd.report_signoff` reads from the console's accounts database (a real SQLite
file written by `filterd.console.accounts`): the directors and who signed which content."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from filterd.console.accounts import DB_NAME, Accounts
from filterd.report_signoff import director_signatures, directors
from reporting.outbox import Bundle

NOW = 1_794_000_000.0


def bundle(sha: str) -> Bundle:
    return Bundle("K7", "2026-10", sha, {})


def test_no_console_database_means_no_directors_and_no_signatures(tmp_path: Path) -> None:
    assert directors(tmp_path) == []
    assert director_signatures(tmp_path, bundle("a" * 64)) == []


def test_directors_and_their_signatures_of_this_content_only(tmp_path: Path) -> None:
    with Accounts(tmp_path) as accounts:
        teacher = accounts.add("mesuesi", "teacher", "fjalekalim-mesuesi-1", NOW)
        zana = accounts.add("zana", "director", "fjalekalim-drejtori-1", NOW)
        accounts.add("arben", "director", "fjalekalim-drejtori-2", NOW)
        accounts.sign("2026-10", "a" * 64, teacher, NOW)
        accounts.sign("2026-10", "a" * 64, zana, NOW + 5)
        accounts.sign("2026-10", "b" * 64, zana, NOW + 9)
    assert directors(tmp_path) == ["arben", "zana"]
    assert director_signatures(tmp_path, bundle("a" * 64)) == [("zana", NOW + 5)]
    assert director_signatures(tmp_path, bundle("c" * 64)) == []


def test_a_database_without_the_tables_reads_as_unknown_directors_and_unsigned(
        tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / DB_NAME).execute("CREATE TABLE other (x)").connection.close()
    assert directors(tmp_path) is None
    assert director_signatures(tmp_path, bundle("a" * 64)) == []
