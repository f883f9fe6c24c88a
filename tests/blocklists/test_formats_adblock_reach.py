"""Adblock rules mean at DNS and proxy level what they mean in a browser (docs/lists.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from blocklists.compiled import CompiledList
from blocklists.readers import ListEntry, ReadReport, read_entries
from blocklists.store import ListSource, compile_sources

Taken = list[ListEntry]


def read(tmp_path: Path, text: str) -> tuple[Taken, ReadReport]:
    path = tmp_path / "list.txt"
    path.write_text(text)
    report = ReadReport(str(path))
    return list(read_entries(path, "adblock", report)), report


@pytest.mark.parametrize("line,taken,skipped", [
    # a whole site, for browsing and everything else: a DNS block
    ("||bad.example^$doc", [ListEntry("bad.example")], None),
    ("||bad.example^$document", [ListEntry("bad.example")], None),
    ("||bad.example^$all", [ListEntry("bad.example")], None),
    ("||bad.example^$doc,popup", [ListEntry("bad.example")], None),
    ("||bad.example^$important,match-case", [ListEntry("bad.example", important=True)], None),
    ("@@||good.example^$doc", [ListEntry("good.example", allow=True)], None),
    # only some requests of a page, or only from some pages: a network filter cannot tell
    ("||bad.example^$script", [], "script"),
    ("||bad.example^$popup", [], "popup"),
    ("||bad.example^$3p", [], "third-party"),
    ("||bad.example^$all,domain=~fine.example", [], "domain"),
    ("||bad.example^$doc,to=~edu", [], "to"),
    ("||bad.example^$~doc", [], "document"),
    ("example.com##.ad", [], "cosmetic"),
    ("-468x60_", [], "substring"),
    ("/banner/ads.js", [], "path-only"),
    ("||bad*.example^$doc", [], "wildcard"),
    ("||coinhive.$all", [], "wildcard"),
    # URL rules: entries for the proxy, under the Safe Browsing canonical form
    ("||Evil.Example/Payload/./x.sh^$all", [ListEntry("evil.example", "/payload/x.sh")], None),
    ("||evil.example/Payload$all,match-case", [ListEntry("evil.example", "/Payload")], None),
    ("||cfd/file?ajk=$doc", [], "url-on-top-level-domain"),
    (".de/d8323ll?t=$doc", [], "substring"),
    ("|http://evil.example:80/a%2fb|", [ListEntry("evil.example", "/a/b")], None),
    ("evil.example/dl/", [ListEntry("evil.example", "/dl/")], None),
    ("||evil.example/a/*/b$all", [], "wildcard"),
    # addresses are never names
    ("1.2.3.4", [], None),
    ("||1.2.3.4^$all", [], None),
])
def test_rule_reach(tmp_path: Path, line: str, taken: Taken, skipped: str | None) -> None:
    entries, report = read(tmp_path, line + "\n")
    assert entries == taken
    assert report.unsupported == ({skipped: 1} if skipped else {})
    assert report.error_count == 0


def test_addresses_are_kept_apart_from_names(tmp_path: Path) -> None:
    entries, report = read(tmp_path, "1.2.3.4\n||5.6.7.8^$all\n0.0.0.0 10.1.2.3\n"
                                     "2001:DB8::1\n10.9.0.0/16\nname.example\n")
    assert entries == [ListEntry("name.example")]
    assert report.addresses == ["1.2.3.4", "5.6.7.8", "10.1.2.3", "2001:db8::1",
                                "10.9.0.0/16"]
    assert "5 addresses" in report.summary()


@pytest.mark.parametrize("line,address,skipped", [
    # every request to an address (uBlock Origin's `$ipaddress=`): an address entry
    ("*$ipaddress=93.184.215.14", "93.184.215.14", None),
    ("$ipaddress=2001:DB8::7,important", "2001:db8::7", None),
    ("*$all,ipaddress=198.51.100.0/24", "198.51.100.0/24", None),
    # a host and an address together, a type, a regex or `lan`: a network filter cannot say
    ("||bad.example^$ipaddress=93.184.215.14", None, "ipaddress"),
    ("*$script,ipaddress=93.184.215.14", None, "ipaddress"),
    ("*$ipaddress=lan", None, "ipaddress"),
    ("*$ipaddress=/^192\\.168\\./", None, "ipaddress"),
])
def test_ipaddress_option(tmp_path: Path, line: str, address: str | None,
                          skipped: str | None) -> None:
    entries, report = read(tmp_path, line + "\n")
    assert entries == []
    important = "important" in line  # an important block is kept apart (`<list>@important`)
    assert (report.important_addresses if important else report.addresses) == (
        [address] if address else [])
    assert skipped is None or report.unsupported[skipped] == 1, report.unsupported
    assert report.error_count == 0


def test_address_exceptions_are_kept_apart(tmp_path: Path) -> None:
    entries, report = read(tmp_path, "@@*$ipaddress=93.184.215.14\n@@||5.6.7.8^\n"
                                     "@@10.0.0.0/8\n1.2.3.4\n")
    assert entries == []
    assert report.addresses == ["1.2.3.4"]
    assert report.allow_addresses == ["93.184.215.14", "5.6.7.8", "10.0.0.0/8"]
    assert report.kinds["allow address"] == 3 and not report.unsupported


def test_badfilter_cancels_its_twin_wherever_it_stands(tmp_path: Path) -> None:
    entries, report = read(tmp_path, "||a.example^$doc\n||b.example^\n||c.example^$all\n"
                                     "||a.example^$document,badfilter\n"
                                     "||b.example^$badfilter\n")
    assert entries == [ListEntry("c.example")]
    assert report.kinds["badfilter"] == 2 and report.kinds["cancelled by badfilter"] == 2


def test_badfilter_needs_the_same_options(tmp_path: Path) -> None:
    entries, _ = read(tmp_path, "||a.example^$doc\n||a.example^$script,badfilter\n")
    assert entries == [ListEntry("a.example")]


def test_important_block_beats_an_exception_of_the_same_list(tmp_path: Path) -> None:
    entries, report = read(tmp_path, "@@||x.bad.example^\n@@||other.example^\n"
                                     "||bad.example^$important\n"
                                     "@@||ok.bad.example^$important\n")
    assert entries == [ListEntry("other.example", allow=True),
                       ListEntry("bad.example", important=True),
                       ListEntry("ok.bad.example", allow=True)]
    assert report.kinds["allow beaten by important"] == 1


def test_url_rules_match_any_case_unless_match_case(tmp_path: Path) -> None:
    listed = tmp_path / "urlhaus.txt"
    # URLhaus lowercases its URLs; the real payload URL has capitals
    listed.write_text("||files.example/dl/ab12cd/setup.exe^$all\n"
                      "||files.example/Exact$all,match-case\n")
    compile_sources([ListSource("u", listed, "adblock", "malware")], tmp_path / "c", "fp")
    compiled = CompiledList(tmp_path / "c")
    assert compiled.lookup_url("files.example", "/dl/AB12cd/Setup.exe")
    assert compiled.lookup_url("files.example", "/Exact")
    assert not compiled.lookup_url("files.example", "/EXACT")
