"""Roja's reading of real adblock rules against a real adblock engine (`adblockparser`).

For every rule Roja takes from uBlock's badware list and the URLhaus filter, the URL the rule
names must be blocked by both: Roja (DNS entry for a host rule, proxy URL entry for a URL rule,
after the proxy's Safe Browsing canonicalisation) and adblockparser (as a `document` request).
A path the list does not name, on a host with URL entries, must be blocked by neither. The
oracle gets each rule with its options replaced by `$document`: Roja takes only rules that
apply to the page (`$doc`, `$all`, none), and adblockparser does not know `$all` or `$doc`.

The one documented disagreement: a URL rule on a public suffix (`||pages.dev/x`, docs/lists.md)
is dropped by Roja (it would steer every site under the suffix to the proxy), so Roja must not
block those URLs while the engine does.
"""

from __future__ import annotations

import pytest
from adblockparser import AdblockRules
from real_lists_kit import LISTS, require_lists

from blocklists.compiled import CompiledList
from blocklists.formats.adblock import _COSMETIC, _rule
from blocklists.public_suffix import is_public_suffix
from blocklists.store import ListSource, compile_sources
from blocklists.urls import canonical_url

QUERIES = 400  # URLs asked per list (every n-th taken rule; the oracle holds all of them)


def taken_rules(list_id: str) -> list[tuple[str, str, bool]]:
    """(rule pattern, the URL it names, is a URL rule) for each block rule Roja takes."""
    out = []
    for raw in LISTS[list_id].read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line[0] in "!#[" or _COSMETIC.search(line):
            continue
        found = _rule(line).found
        if not (isinstance(found, list) and found and found[0].host and not found[0].allow):
            continue
        pattern = line.rpartition("$")[0] if "$" in line else line
        url = pattern.lstrip("|").removesuffix("|").removesuffix("^")
        url = url if "://" in url else "http://" + url
        out.append((pattern, url if found[0].path else url.rstrip("/") + "/",
                    bool(found[0].path)))
    return out


@pytest.mark.parametrize("list_id", ["urlhaus", "badware"])
def test_roja_and_adblockparser_block_the_same_urls(list_id: str, tmp_path_factory:
                                                     pytest.TempPathFactory) -> None:
    require_lists()
    out = tmp_path_factory.mktemp(list_id) / "lists.compiled"
    compile_sources([ListSource(list_id, LISTS[list_id], "adblock", "malware")], out, "fp")
    compiled = CompiledList(out)
    rules = taken_rules(list_id)
    assert len(rules) > 3000
    oracle = AdblockRules([pattern + "$document" for pattern, _, _ in rules], use_re2=False)
    step = max(1, len(rules) // QUERIES)
    disagree, unlisted, on_suffix = [], [], []
    for _, url, is_url in rules:
        found = canonical_url(url)
        assert found is not None, url
        if is_url and is_public_suffix(found.host):  # the documented disagreement
            path = found.path + ("?" + found.query if found.query else "")
            assert not compiled.lookup_url(found.host, path), url
            assert oracle.should_block(url, {"document": True}), url
            on_suffix.append(url)
    assert list_id != "badware" or len(on_suffix) > 20  # pages.dev, r2.dev, vercel.app...
    for _, url, is_url in rules[::step]:
        found = canonical_url(url)
        assert found is not None, url
        if url in on_suffix:
            continue
        path = found.path + ("?" + found.query if found.query else "")
        roja = bool(compiled.lookup_url(found.host, path) if is_url
                    else compiled.lookup(found.host))
        if roja != oracle.should_block(url, {"document": True}) or not roja:
            disagree.append(url)
        if is_url:
            other = f"http://{found.host}/roja-unlisted-path/"
            if (compiled.lookup_url(found.host, "/roja-unlisted-path/")
                    or oracle.should_block(other, {"document": True})):
                unlisted.append(other)
    assert disagree == [] and unlisted == []
