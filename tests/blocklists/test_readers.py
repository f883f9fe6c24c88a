"""Reading list files: bad lines are counted and reported with file and line, never fatal."""

from __future__ import annotations

from pathlib import Path

import pytest

from blocklists.readers import LineError, ReadReport, read_list


def read(path: Path, fmt: str) -> tuple[list[str], ReadReport]:
    report = ReadReport(str(path))
    return list(read_list(path, fmt, report)), report


def test_domains_format_skips_bad_lines_and_keeps_reading(tmp_path: Path) -> None:
    path = tmp_path / "bixhoz.txt"
    path.write_text("""\
# Bixhoz / gambling
Bet365.COM.
*.pokerstars.com   # every subdomain (the list matches subdomains anyway)

two names.example
-bad-.example
localhost
casino.shqipëri.al
""", encoding="utf-8")
    hosts, report = read(path, "domains")
    assert hosts == ["bet365.com", "pokerstars.com", "casino.xn--shqipri-vya.al"]
    assert report.entries == 3
    assert report.error_count == 2
    assert report.errors == [
        LineError(str(path), 5, "two names.example", "expected one domain per line"),
        LineError(str(path), 6, "-bad-.example", "not a valid host name: '-bad-.example'"),
    ]
    assert str(report.errors[0]).startswith(f"{path}:5: expected one domain per line")


def test_hosts_format_reads_every_name_and_skips_local_entries(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_text("""\
# StevenBlack-style hosts file
127.0.0.1 localhost
127.0.0.1 localhost.localdomain
::1 ip6-localhost ip6-loopback
0.0.0.0 0.0.0.0
255.255.255.255 broadcasthost
0.0.0.0 LocalHost.
0.0.0.0 ads.example tracker.example   # two names on one line
127.0.0.1 porn.example
10.1.2.3 lan-block.example
0.0.0.0
notanaddress bad.example
0.0.0.0 good.example -broken-.example
0.0.0.0 singlelabel
0.0.0.0\tTAB.Example
""", encoding="utf-8")
    hosts, report = read(path, "hosts")
    assert hosts == ["ads.example", "tracker.example", "porn.example", "lan-block.example",
                     "tab.example"]
    assert report.entries == 5
    assert [(e.lineno, e.why) for e in report.errors] == [
        (11, "hosts line needs an address and a name"),
        (12, "first field is not an address"),
        (13, "not a valid host name: '-broken-.example'"),
        (14, "not a valid host name: 'singlelabel'"),
    ]
    assert all(e.source == str(path) for e in report.errors)
    assert "good.example" not in hosts  # a line with one bad name is skipped whole, once


def test_error_count_goes_on_past_the_kept_errors(tmp_path: Path) -> None:
    path = tmp_path / "noisy.txt"
    path.write_text("bad name\n" * 120 + "ok.example\n", encoding="utf-8")
    hosts, report = read(path, "domains")
    assert hosts == ["ok.example"]
    assert report.error_count == 120
    assert len(report.errors) == 50  # the rest is counted, not kept
    assert report.errors[-1].lineno == 50


def test_bytes_that_are_not_utf8_spoil_only_their_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"before.example\nsh\xebnim.example\nafter.example\n")
    hosts, report = read(path, "domains")
    assert hosts == ["before.example", "after.example"]
    assert [e.lineno for e in report.errors] == [2]


def test_empty_and_comment_only_files_have_no_entries(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("# nothing yet\n\n   \n", encoding="utf-8")
    hosts, report = read(path, "domains")
    assert hosts == [] and report.entries == 0 and report.error_count == 0


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("a.example\n")
    with pytest.raises(ValueError, match="unknown list format 'squid'"):
        read(path, "squid")


@pytest.mark.parametrize("fmt,text", [
    ("domains", "a.example\n1.2.3.4\n10.0.0.0/8\n2001:db8::1\nb.example\n"),
    ("hosts", "0.0.0.0 a.example\n0.0.0.0 1.2.3.4\n0.0.0.0 10.0.0.0/8\n"
              "0.0.0.0 2001:db8::1\n0.0.0.0 b.example\n"),
])
def test_addresses_in_plain_lists_are_addresses_not_names(tmp_path: Path, fmt: str,
                                                          text: str) -> None:
    path = tmp_path / "list.txt"
    path.write_text(text)
    report = ReadReport(str(path))
    assert list(read_list(path, fmt, report)) == ["a.example", "b.example"]
    assert report.addresses == ["1.2.3.4", "10.0.0.0/8", "2001:db8::1"]
    assert report.error_count == 0
