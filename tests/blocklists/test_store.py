"""`build_active`: compile the configured lists once, reuse the compile while nothing changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from blocklists.compiled import Match
from blocklists.store import ACTIVE_NAME, LOCK_NAME, ListSource, build_active


@pytest.fixture
def sources(tmp_path: Path) -> list[ListSource]:
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "bixhoz.txt").write_text("bet365.com\npokerstars.com\nbad line here\n")
    (lists / "porn.hosts").write_text("0.0.0.0 porn.example\n127.0.0.1 localhost\n")
    return [ListSource("bixhoz", lists / "bixhoz.txt", "domains", "gambling"),
            ListSource("porn", lists / "porn.hosts", "hosts", "pornography")]


def test_build_compiles_every_source_and_reports_bad_lines(tmp_path: Path,
                                                           sources: list[ListSource]) -> None:
    state = tmp_path / "state"
    result = build_active(sources, state)
    assert result.reused is False
    assert (state / ACTIVE_NAME).is_file()
    assert result.compiled.lookup("www.bet365.com") == [Match("bet365.com", "bixhoz",
                                                              "gambling")]
    assert result.compiled.lookup("porn.example") == [Match("porn.example", "porn",
                                                            "pornography")]
    assert result.compiled.counts_by_list() == {"bixhoz": 2, "porn": 1}
    assert [(r.entries, r.error_count) for r in result.reports] == [(2, 1), (1, 0)]
    assert result.reports[0].errors[0].lineno == 3
    assert sorted(p.name for p in state.iterdir()) == [ACTIVE_NAME, LOCK_NAME]
    result.compiled.close()


def test_unchanged_sources_reuse_the_compile(tmp_path: Path, sources: list[ListSource]) -> None:
    state = tmp_path / "state"
    first = build_active(sources, state)
    inode = (state / ACTIVE_NAME).stat().st_ino
    first.compiled.close()
    again = build_active(sources, state)
    assert again.reused is True
    assert again.reports == []
    assert (state / ACTIVE_NAME).stat().st_ino == inode  # the file was not rewritten
    assert again.compiled.lookup("pokerstars.com")
    again.compiled.close()


def test_a_changed_source_is_recompiled(tmp_path: Path, sources: list[ListSource]) -> None:
    state = tmp_path / "state"
    old = build_active(sources, state)
    path = sources[0].path
    stat = path.stat()
    path.write_text("bet365.com\nwilliamhill.com\n")
    # A new mtime, set explicitly so the test does not depend on the clock's resolution.
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    new = build_active(sources, state)
    assert new.reused is False
    assert new.compiled.lookup("williamhill.com")
    assert new.compiled.lookup("pokerstars.com") == []
    # The process that still holds the old view keeps its old, complete list.
    assert old.compiled.lookup("pokerstars.com")
    assert old.compiled.lookup("williamhill.com") == []
    old.compiled.close()
    new.compiled.close()


def test_a_changed_list_setting_is_recompiled(tmp_path: Path, sources: list[ListSource]) -> None:
    state = tmp_path / "state"
    build_active(sources, state).compiled.close()
    renamed = [ListSource("lojera-fati", sources[0].path, "domains", "gambling"), sources[1]]
    result = build_active(renamed, state)
    assert result.reused is False
    assert result.compiled.lookup("bet365.com")[0].list_id == "lojera-fati"
    result.compiled.close()


def test_a_damaged_compile_is_rebuilt(tmp_path: Path, sources: list[ListSource]) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / ACTIVE_NAME).write_bytes(b"garbage")
    result = build_active(sources, state)
    assert result.reused is False
    assert result.compiled.lookup("bet365.com")
    result.compiled.close()


def test_a_missing_source_raises_and_keeps_the_last_good_compile(
        tmp_path: Path, sources: list[ListSource]) -> None:
    state = tmp_path / "state"
    build_active(sources, state).compiled.close()
    before = (state / ACTIVE_NAME).read_bytes()
    sources[1].path.unlink()
    with pytest.raises(FileNotFoundError):
        build_active(sources, state)
    assert (state / ACTIVE_NAME).read_bytes() == before


def test_a_failed_compile_leaves_no_partial_file_and_keeps_the_last_good(
        tmp_path: Path, sources: list[ListSource]) -> None:
    state = tmp_path / "state"
    build_active(sources, state).compiled.close()
    before = (state / ACTIVE_NAME).read_bytes()
    sources[1].path.unlink()
    sources[1].path.mkdir()  # unreadable as a list: the compiler child fails
    with pytest.raises(RuntimeError, match="IsADirectoryError"):
        build_active(sources, state)
    assert (state / ACTIVE_NAME).read_bytes() == before
    assert sorted(p.name for p in state.iterdir()) == [ACTIVE_NAME, LOCK_NAME]
