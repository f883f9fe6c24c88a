"""`Policy.decide_url` and `Policy.needs_proxy`: URL-level entries, as the proxy asks them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from blocklists.compiled import CompiledList, Tag, compile_entries
from blocklists.confidential import ConfidentialSet, entry_expression, hash_entry
from policy import Group, ListRule, Policy

RULES = {
    "hotline": ListRule("hotline", "legal", "csam"),
    "urls": ListRule("urls", "deny", "pornography"),
    "lejuar": ListRule("lejuar", "allow", ""),
    "social": ListRule("social", "deny", "social_media"),
}
EVERYONE = Group("all", "All")


@pytest.fixture
def policy(tmp_path: Path) -> Iterator[Policy]:
    out = tmp_path / "active.lst"
    compile_entries(
        [("tiktok.com", Tag("social", "social_media"))], out,
        urls=[("tumblr.com", "/tagged/nsfw", Tag("urls", "pornography")),
              ("tumblr.com", "/tagged/nsfw/ok", Tag("lejuar", "")),
              ("forum.example", "/thread/9", Tag("hotline", "csam")),
              ("forum.example", "/thread/", Tag("lejuar", ""))])
    compiled = CompiledList(out)
    secret = ConfidentialSet([(hash_entry(entry_expression("hidden.example/dir/")),
                               "hotline", "csam")])
    yield Policy((EVERYONE,), EVERYONE, RULES, compiled, confidential=secret)
    compiled.close()


@pytest.mark.parametrize("url,action,entry", [
    ("http://tumblr.com/tagged/nsfw", "block", "tumblr.com/tagged/nsfw"),
    ("https://www.TUMBLR.com/tagged/%6esfw/page/2", "block", "tumblr.com/tagged/nsfw"),
    ("http://tumblr.com/tagged/./nsfw?x=1", "block", "tumblr.com/tagged/nsfw"),
    ("http://tumblr.com/tagged/nsfwx", "pass", ""),
    ("http://tumblr.com/dashboard", "pass", ""),
    ("http://tumblr.com/tagged/nsfw/ok", "allow", "tumblr.com/tagged/nsfw/ok"),
    ("http://forum.example/thread/9", "block", "forum.example/thread/9"),  # legal beats allow
    ("http://forum.example/thread/8", "allow", "forum.example/thread/"),
    ("https://tiktok.com/@x", "block", "tiktok.com"),       # a blocked host blocks every URL
])
def test_decide_url(policy: Policy, url: str, action: str, entry: str) -> None:
    d = policy.decide_url(EVERYONE, url)
    assert (d.action, d.entry) == (action, entry)


def test_confidential_url_entries_match_by_hash_only(policy: Policy) -> None:
    d = policy.decide_url(EVERYONE, "http://www.hidden.example/dir/a/b.jpg")
    assert d.blocked and d.confidential and d.legal
    assert d.entry.startswith("sha256:") and "hidden" not in d.reason + d.entry
    assert not policy.decide_url(EVERYONE, "http://hidden.example/other").blocked


def test_needs_proxy_only_for_hosts_with_url_entries(policy: Policy) -> None:
    assert policy.needs_proxy("tumblr.com") and policy.needs_proxy("media.tumblr.com")
    assert not policy.needs_proxy("tiktok.com")
    assert not policy.needs_proxy("example.org")


def test_unparseable_url_passes(policy: Policy) -> None:
    assert policy.decide_url(EVERYONE, "http://").action == "pass"
