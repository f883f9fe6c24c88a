"""The compiled, memory-mapped list: exact and parent-domain matches, nothing else."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blocklists.compiled import CompiledList, Match, Tag, compile_entries, empty_list

GAMBLING = Tag("bixhoz", "gambling")
SOCIAL = Tag("rrjete-sociale", "social_media")
LEGAL = Tag("hotline", "csam")


@pytest.fixture
def compiled(tmp_path: Path) -> Iterator[CompiledList]:
    out = tmp_path / "lists.compiled"
    count = compile_entries([
        ("bet365.com", GAMBLING),
        ("example.com", GAMBLING),
        ("tiktok.com", SOCIAL),
        ("tiktok.com", LEGAL),
        ("bad.sub.example.org", LEGAL),
        ("bet365.com", GAMBLING),  # a repeat is one entry
    ], out, meta={"fingerprint": "abc"})
    assert count == 5
    view = CompiledList(out)
    yield view
    view.close()


def test_exact_name_matches(compiled: CompiledList) -> None:
    assert compiled.lookup("bet365.com") == [Match("bet365.com", "bixhoz", "gambling")]


def test_subdomains_match_their_listed_parent(compiled: CompiledList) -> None:
    assert compiled.lookup("www.bet365.com") == [Match("bet365.com", "bixhoz", "gambling")]
    assert compiled.lookup("a.b.c.bet365.com") == [Match("bet365.com", "bixhoz", "gambling")]
    assert compiled.lookup("x.bad.sub.example.org") == [
        Match("bad.sub.example.org", "hotline", "csam")]


def test_parents_of_a_listed_name_do_not_match(compiled: CompiledList) -> None:
    assert compiled.lookup("sub.example.org") == []
    assert compiled.lookup("example.org") == []
    assert compiled.lookup("com") == []


@pytest.mark.parametrize("name", ["notexample.com", "example.com.evil.test", "xbet365.com",
                                  "bet365.co", "bet365.com.al", "tiktok.co"])
def test_no_false_suffix_matches(compiled: CompiledList, name: str) -> None:
    assert compiled.lookup(name) == []


def test_one_name_on_several_lists_gives_every_list(compiled: CompiledList) -> None:
    found = compiled.lookup("www.tiktok.com")
    assert sorted((m.entry, m.list_id, m.category) for m in found) == [
        ("tiktok.com", "hotline", "csam"), ("tiktok.com", "rrjete-sociale", "social_media")]


def test_most_specific_entry_comes_first(tmp_path: Path) -> None:
    out = tmp_path / "c"
    compile_entries([("example.com", GAMBLING), ("ads.example.com", SOCIAL)], out)
    view = CompiledList(out)
    assert [m.entry for m in view.lookup("x.ads.example.com")] == ["ads.example.com",
                                                                   "example.com"]
    view.close()


def test_counts_by_list_and_meta(compiled: CompiledList) -> None:
    assert compiled.count == 5
    assert compiled.counts_by_list() == {"bixhoz": 2, "rrjete-sociale": 1, "hotline": 2}
    assert compiled.meta == {"fingerprint": "abc"}


def test_empty_list_matches_nothing(tmp_path: Path) -> None:
    view = empty_list(tmp_path / "empty")
    assert view.count == 0
    assert view.lookup("example.com") == []
    assert view.counts_by_list() == {}
    view.close()


def test_a_file_that_is_not_a_compiled_list_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.write_bytes(b"bet365.com\n")
    with pytest.raises(ValueError, match="not a compiled Roja list"):
        CompiledList(bad)
    (tmp_path / "zero").write_bytes(b"")
    with pytest.raises(ValueError, match="not a compiled Roja list"):
        CompiledList(tmp_path / "zero")


def test_replacing_the_file_keeps_an_open_reader_on_the_old_list(tmp_path: Path) -> None:
    out = tmp_path / "lists.compiled"
    compile_entries([("old.example", GAMBLING)], out)
    old = CompiledList(out)
    compile_entries([("new.example", SOCIAL), ("newer.example", SOCIAL)], out)
    assert not list(tmp_path.glob("*.tmp*")), "the staging file is renamed, not left behind"
    # The old view still sees exactly the old list; a new view sees the new one.
    assert old.lookup("www.old.example") == [Match("old.example", "bixhoz", "gambling")]
    assert old.lookup("new.example") == []
    assert old.counts_by_list() == {"bixhoz": 1}
    new = CompiledList(out)
    assert new.lookup("new.example") == [Match("new.example", "rrjete-sociale", "social_media")]
    assert new.lookup("old.example") == []
    old.close()
    new.close()


LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,12}[a-z0-9])?", fullmatch=True)
NAME = st.lists(LABEL, min_size=2, max_size=4).map(".".join)


@settings(max_examples=40, deadline=None)
@given(listed=st.sets(NAME, min_size=1, max_size=200), others=st.sets(NAME, max_size=200))
def test_every_listed_name_is_found_and_no_other(listed: set[str], others: set[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "lists.compiled"
        compile_entries(((name, GAMBLING) for name in listed), out)
        view = CompiledList(out)
        try:
            for name in listed:
                assert Match(name, "bixhoz", "gambling") in view.lookup(name)
                assert view.lookup("sub." + name)
            for name in others:
                parents = {name.split(".", i)[-1] for i in range(name.count(".") + 1)}
                if parents.isdisjoint(listed):
                    assert view.lookup(name) == [], name
        finally:
            view.close()
