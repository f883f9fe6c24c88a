"""URL lists: host and path prefix per line; bad lines counted with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from blocklists.formats.urls import split_url
from blocklists.readers import ListEntry, ReadReport, read_entries

FIXTURE = Path(__file__).parent / "fixtures" / "urls.txt"


def test_url_list_entries_and_bad_lines() -> None:
    report = ReadReport(str(FIXTURE))
    entries = list(read_entries(FIXTURE, "urls", report))
    assert entries == [
        ListEntry("example.com", "/ads/"),
        ListEntry("news.example.org", "/article?id=5"),
        ListEntry("proxy.example", "/browse.php"),
        ListEntry("plain.example", "/"),
    ]
    assert [(e.source, e.lineno) for e in report.errors] == [
        (str(FIXTURE), 6), (str(FIXTURE), 7), (str(FIXTURE), 8), (str(FIXTURE), 9)]
    assert report.errors[0].why == "not an http(s) URL: 'ftp'"


@pytest.mark.parametrize("text,expected", [
    ("HTTP://WWW.Example.com:80/A/b?q=1#frag", ("www.example.com", "/A/b?q=1")),
    ("example.com?x", ("example.com", "/?x")),
    ("shqipëri.al/faqe", ("xn--shqipri-vya.al", "/faqe")),
    ("http://a.example/x/./y/../%7Ez", ("a.example", "/x/~z")),
    ("http://0x7f.1/admin", ("127.0.0.1", "/admin")),
    ("mailto://x@y", "not an http(s) URL: 'mailto'"),
])
def test_split_url(text: str, expected: tuple[str, str] | str) -> None:
    assert split_url(text) == expected
