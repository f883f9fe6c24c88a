"""The compiler over every format: allow entries, categories, wildcards and URL entries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from blocklists.compiled import CompiledList, Match
from blocklists.store import ListSource, build_active

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CompiledList]:
    result = build_active([
        ListSource("ads", FIXTURES / "adguard_dns.txt", "adblock", "ads_trackers"),
        ListSource("threatfox", FIXTURES / "threatfox.rpz", "rpz", "malware"),
        ListSource("ut1", FIXTURES / "ut1", "ut1", "", FIXTURES / "ut1.map"),
        ListSource("urls", FIXTURES / "urls.txt", "urls", "piracy"),
    ], tmp_path_factory.mktemp("state"))
    assert [r.entries for r in result.reports] == [11, 9, 6, 4]
    yield result.compiled
    result.compiled.close()


@pytest.mark.parametrize("host,matches", [
    ("ads.doubleclick.net", [Match("doubleclick.net", "ads", "ads_trackers")]),
    ("s.youtube.com", [Match("s.youtube.com", "ads@allow", "ads_trackers")]),
    ("safe.cdn.example", [Match("safe.cdn.example", "threatfox@allow", "malware")]),
    ("www.pornhub.com", [Match("pornhub.com", "ut1", "pornography")]),  # the entry's category
    ("bet365.com", [Match("bet365.com", "ut1", "gambling")]),
    ("indeed.com", []),                     # unmapped UT1 category
    ("dropper.example", []),                # a lone `*.dropper.example`: not the name itself
    ("x.dropper.example", [Match("dropper.example", "threatfox", "malware")]),
    ("botnet.example", [Match("botnet.example", "threatfox", "malware")]),
    ("a.botnet.example", [Match("botnet.example", "threatfox", "malware")] * 2),
    ("tumblr.com", []),                     # URL entries never block a name in DNS
    ("example.com", []),
])
def test_lookup(compiled: CompiledList, host: str, matches: list[Match]) -> None:
    assert compiled.lookup(host) == matches


def test_url_entries_are_stored_for_the_proxy(compiled: CompiledList) -> None:
    assert compiled.url_count == 7  # the adblock list's `||example.com/ads/banner.js` too
    assert [compiled.has_url_entries(h) for h in (
        "tumblr.com", "www.tumblr.com", "example.com", "news.example.org", "doubleclick.net",
        "org")] == [True, True, True, True, False, False]
    assert compiled.lookup_url("media.tumblr.com", "/tagged/nsfw/2") == [
        Match("tumblr.com/tagged/nsfw", "ut1", "pornography")]
    assert compiled.lookup_url("tumblr.com", "/tagged/nsfwx") == []  # not at a boundary
    assert compiled.lookup_url("example.com", "/ads/x.js") == [
        Match("example.com/ads/", "urls", "piracy")]
    assert compiled.lookup_url("plain.example", "/anything") == [
        Match("plain.example/", "urls", "piracy")]
    assert compiled.lookup_url("example.com", "/ads/banner.js") == [
        Match("example.com/ads/banner.js", "ads", "ads_trackers"),
        Match("example.com/ads/", "urls", "piracy")]
    assert compiled.counts_by_list() == {"ads": 8, "ads@allow": 2, "ads@important": 1,
                                         "threatfox": 8,
                                         "threatfox@allow": 1, "ut1": 6, "urls": 4}
