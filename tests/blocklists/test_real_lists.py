"""The lists filter authors actually publish, as Debian ships them with uBlock Origin
(`webext-ublock-origin-chromium`): uBlock's badware list, the URLhaus filter, EasyList and
EasyPrivacy, compiled together as a gateway would."""

from __future__ import annotations

import pytest
from real_lists_kit import LISTS, require_lists

from blocklists.compiled import CompiledList
from blocklists.store import ListSource, compile_sources


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> CompiledList:
    require_lists()
    out = tmp_path_factory.mktemp("real") / "lists.compiled"
    sources = [ListSource(lid, path, "adblock", "malware") for lid, path in LISTS.items()]
    compile_sources(sources, out, "fp")
    return CompiledList(out)


def summary(compiled: CompiledList, list_id: str) -> dict[str, object]:
    found = compiled.meta["summary"]
    assert isinstance(found, dict)
    item = found[list_id]
    assert isinstance(item, dict)
    return item


def test_badware_blocks_the_sites_it_lists_for_browsing(compiled: CompiledList) -> None:
    s = summary(compiled, "badware")
    assert isinstance(s["domains"], int) and s["domains"] > 2500  # was 54 before `$doc`
    skipped = s["skipped"]
    assert isinstance(skipped, dict) and "document" not in skipped and "all" not in skipped
    # `||bitcoin-pro.example^$doc`-style rules: every name that was listed is now blocked
    host = next(h for h, _, tags in compiled.items()
                if any(t.list_id == "badware" for t in tags))
    assert any(m.list_id == "badware" for m in compiled.lookup("www." + host))


def test_urlhaus_urls_go_to_the_proxy_and_its_addresses_are_not_names(
        compiled: CompiledList) -> None:
    s = summary(compiled, "urlhaus")
    assert isinstance(s["urls"], int) and s["urls"] > 3000
    assert isinstance(s["addresses"], int) and s["addresses"] > 2000
    assert s["skipped"] == {} and s["bad"] == 0
    addresses = compiled.addresses["urlhaus"]
    assert len(addresses) == s["addresses"]
    assert not any(compiled.lookup(a) for a in addresses[:200])  # never a name entry
    host, path, _ = next(compiled.items(urls=True))
    assert compiled.has_url_entries(host)
    assert compiled.lookup_url(host, path)


def test_every_list_says_what_it_skipped_by_kind(compiled: CompiledList) -> None:
    easylist = summary(compiled, "easylist")["skipped"]
    assert isinstance(easylist, dict)
    assert easylist["cosmetic"] > 10000 and easylist["third-party"] > 1000
    assert {"script", "popup", "domain"} <= easylist.keys()
    for lid in LISTS:
        bad = summary(compiled, lid)["bad"]
        assert isinstance(bad, int) and bad <= 2  # real syntax is skipped by kind, not "bad"
