"""UT1-style category directories: categories mapped to Roja's, unmapped ones skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from blocklists.readers import ListEntry, ReadReport, read_entries

FIXTURES = Path(__file__).parent / "fixtures"
UT1, MAPPING = FIXTURES / "ut1", FIXTURES / "ut1.map"


def test_entries_carry_their_mapped_category() -> None:
    report = ReadReport(str(UT1))
    entries = list(read_entries(UT1, "ut1", report, MAPPING))
    assert entries == [
        ListEntry("pornhub.com", category="pornography"),
        ListEntry("xvideos.com", category="pornography"),
        ListEntry("tumblr.com", "/tagged/nsfw", category="pornography"),
        ListEntry("www.reddit.com", "/r/nsfw/", category="pornography"),
        ListEntry("bet365.com", category="gambling"),
        ListEntry("pokerstars.com", category="gambling"),
    ]
    assert report.unmapped == ["jobsearch"]
    assert report.kinds["url"] == 2


def test_bad_lines_name_the_file_they_are_in() -> None:
    report = ReadReport(str(UT1))
    list(read_entries(UT1, "ut1", report, MAPPING))
    assert [(Path(e.source).relative_to(FIXTURES), e.lineno) for e in report.errors] == [
        (Path("ut1.map"), 5),  # 'phishing' is not a Roja category
        (Path("ut1.map"), 6),
        (Path("ut1/adult/domains"), 3),
    ]
    assert "is not a Roja category" in report.errors[0].why


def test_a_mapping_can_be_given_as_a_table() -> None:
    report = ReadReport(str(UT1))
    entries = list(read_entries(UT1, "ut1", report, {"jobsearch": "social_media"}))
    assert entries == [ListEntry("indeed.com", category="social_media")]
    assert report.unmapped == ["adult", "gambling"]


def test_a_ut1_list_needs_a_mapping() -> None:
    with pytest.raises(ValueError, match="mapping"):
        list(read_entries(UT1, "ut1", ReadReport(str(UT1))))
