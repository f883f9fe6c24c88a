"""Adblock DNS lists (AdGuard DNS filter style): blocks, `@@` allows, modifiers and garbage."""

from __future__ import annotations

from pathlib import Path

import pytest

from blocklists.readers import ListEntry, ReadReport, read_entries, read_list

FIXTURE = Path(__file__).parent / "fixtures" / "adguard_dns.txt"


def read(path: Path) -> tuple[list[ListEntry], ReadReport]:
    report = ReadReport(str(path))
    return list(read_entries(path, "adblock", report)), report


def test_adguard_style_list_gives_blocks_allows_and_wildcards() -> None:
    entries, report = read(FIXTURE)
    assert [e.host for e in entries if not (e.allow or e.subdomains_only or e.path)] == [
        "0024ad98dd.com", "ads.example-adnet.com", "doubleclick.net", "tracker.example.org",
        "adservice.google.com", "plain-ads.example", "hosts-style.example"]
    assert [e.host for e in entries if e.allow] == ["s.youtube.com", "cdn.jsdelivr.net"]
    assert [e.host for e in entries if e.subdomains_only] == ["adnet-wild.example"]
    assert [(e.host, e.path) for e in entries if e.path] == [("example.com", "/ads/banner.js")]
    assert report.entries == 11 and report.kinds["allow"] == 2 and report.kinds["url"] == 1
    # read_list keeps only the plain blocks, for callers that want names
    assert len(list(read_list(FIXTURE, "adblock", ReadReport(str(FIXTURE))))) == 7


def test_unsupported_modifiers_and_rules_are_counted_by_name() -> None:
    _, report = read(FIXTURE)
    assert report.unsupported == {"third-party": 1, "dnstype": 2, "client": 1, "cosmetic": 3,
                                  "regex": 1}
    assert "unsupported: client 1, cosmetic 3, dnstype 2" in report.summary()


def test_bad_lines_are_counted_with_file_and_line() -> None:
    _, report = read(FIXTURE)
    assert [(e.source, e.lineno, e.text) for e in report.errors] == [
        (str(FIXTURE), 39, "||bad_host^^"),
        (str(FIXTURE), 40, "||exa mple.com^"),
        (str(FIXTURE), 41, "||-bad-.example^"),
        (str(FIXTURE), 42, "||ads.example.net^$"),
        (str(FIXTURE), 43, "<html><body>404 Not Found</body></html>"),
    ]
    assert report.error_count == 5


@pytest.mark.parametrize("line,entry,unsupported", [
    ("||A.Example^", ListEntry("a.example"), None),
    ("@@||a.example^|", ListEntry("a.example", allow=True), None),
    ("||a.example^$important", ListEntry("a.example", important=True), None),
    ("||*.a.example^", ListEntry("a.example", subdomains_only=True), None),
    ("||a.example^$~third-party", None, "third-party"),
    ("@@||a.example^$badfilter", None, None),
    ("||a*.example^", None, "wildcard"),
    ("|a.example^", None, "anchor"),
    ("|https://a.example/x", ListEntry("a.example", "/x"), None),
    ("a.example#?#div:has(> .ad)", None, "cosmetic"),
])
def test_single_rules(tmp_path: Path, line: str, entry: ListEntry | None,
                      unsupported: str | None) -> None:
    path = tmp_path / "one.txt"
    path.write_text(line + "\n")
    entries, report = read(path)
    assert entries == ([entry] if entry else [])
    assert report.unsupported == ({unsupported: 1} if unsupported else {})
    assert report.error_count == 0
