"""URL entries on a public suffix (the Public Suffix List: pages.dev, github.io, co.uk...) are
skipped and counted, like those on a bare top-level domain: steering the suffix would send
every site under it to the proxy. A URL entry on one site under it steers only that site."""

from __future__ import annotations

from pathlib import Path

import pytest

from blocklists.compiled import CompiledList
from blocklists.public_suffix import is_public_suffix
from blocklists.store import ListSource, compile_sources


@pytest.mark.parametrize(("host", "public"), [
    ("pages.dev", True), ("github.io", True), ("co.uk", True), ("com", True),
    ("foo.pages.dev", False), ("example.co.uk", False), ("github.com", False),
    ("windows.net", False),   # Microsoft's own domain, not on the list
    ("not-a-tld-xyz", False),
])
def test_is_public_suffix(host: str, public: bool) -> None:
    assert is_public_suffix(host) is public


@pytest.mark.parametrize("fmt,text", [
    ("adblock", "||pages.dev/x$all\n||foo.pages.dev/bad/$all\n||github.io/y$doc\n"),
    ("urls", "https://pages.dev/x\nhttp://foo.pages.dev/bad/\ngithub.io/y\n"),
])
def test_url_entries_on_public_suffixes_are_skipped(tmp_path: Path, fmt: str, text: str) -> None:
    (tmp_path / "list.txt").write_text(text)
    out = tmp_path / "lists.compiled"
    reports = compile_sources([ListSource("bad", tmp_path / "list.txt", fmt, "malware")], out,
                              "fp")
    compiled = CompiledList(out)
    try:
        assert compiled.has_url_entries("foo.pages.dev")
        assert compiled.has_url_entries("www.foo.pages.dev")
        assert not compiled.has_url_entries("bar.pages.dev")
        assert not compiled.has_url_entries("pages.dev")
        assert not compiled.has_url_entries("someone.github.io")
    finally:
        compiled.close()
    assert reports[0].kinds["url on public suffix"] == 2
    assert compiled.meta["summary"]["bad"]["urls"] == 1  # type: ignore[index]
