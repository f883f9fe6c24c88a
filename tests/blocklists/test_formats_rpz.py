"""RPZ zone files: QNAME triggers and their actions; everything else counted, never fatal."""

from __future__ import annotations

from pathlib import Path

from blocklists.readers import ListEntry, ReadReport, read_entries

FIXTURE = Path(__file__).parent / "fixtures" / "threatfox.rpz"


def read(path: Path) -> tuple[list[ListEntry], ReadReport]:
    report = ReadReport(str(path))
    return list(read_entries(path, "rpz", report)), report


def test_threat_feed_zone_gives_blocks_allows_and_wildcards() -> None:
    entries, report = read(FIXTURE)
    assert entries == [
        ListEntry("malware-c2.example"),
        ListEntry("phish-login.example"),
        ListEntry("botnet.example"),  # absolute owner name: the origin is stripped
        ListEntry("botnet.example", subdomains_only=True),
        ListEntry("dropper.example", subdomains_only=True),  # a lone `*.name`
        ListEntry("nodata.example"),
        ListEntry("safe.cdn.example", allow=True),
        ListEntry("drop.example"),
        ListEntry("after-bad.example"),  # reading went on past the bad lines
    ]
    assert (report.kinds["nodata"], report.kinds["allow"], report.kinds["drop"]) == (1, 1, 1)


def test_other_triggers_and_actions_are_counted() -> None:
    _, report = read(FIXTURE)
    assert report.unsupported == {"rpz-ip": 1, "rpz-nsdname": 1, "rpz-client-ip": 1,
                                  "local-data": 2, "rpz-tcp-only": 1}


def test_bad_lines_are_counted_with_file_and_line() -> None:
    _, report = read(FIXTURE)
    assert [(e.source, e.lineno, e.why.split(" '")[0].split(" $")[0]) for e in report.errors] == [
        (str(FIXTURE), 32, "owner name"),
        (str(FIXTURE), 33, "not a valid trigger name:"),
        (str(FIXTURE), 34, "a CNAME needs exactly one target"),
        (str(FIXTURE), 35, "unknown record type"),
        (str(FIXTURE), 36, "unknown or malformed directive"),
    ]


def test_origin_from_the_soa_and_an_unclosed_parenthesis(tmp_path: Path) -> None:
    path = tmp_path / "feed.rpz"
    path.write_text("""\
rpz.example. 3600 SOA ns.rpz.example. hostmaster.rpz.example. 1 3600 600 86400 60
rpz.example. NS ns.rpz.example.
ads.example.rpz.example. CNAME .
broken.example TXT ( "never closed"
""" + "filler.example A 192.0.2.1\n" * 30 + "late.example CNAME .\n")
    entries, report = read(path)
    assert [e.host for e in entries] == ["ads.example", "late.example"]
    assert [(e.lineno, e.why) for e in report.errors] == [
        (4, "'(' is not closed within a record")]
