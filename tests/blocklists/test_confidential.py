"""Confidential (hashed) entries: matching by Safe Browsing expressions, spelling tricks, and a
file that holds digests only, never the cleartext."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from blocklists.confidential import (
    MAGIC,
    CleartextError,
    ConfidentialSet,
    HashMatch,
    digests_from_cleartext,
    entry_expression,
    hash_entry,
    hash_id,
)

CLEARTEXT = [
    "# hotline export",
    "evil.example",
    "",
    "http://files.example/secret/",
    "https://Pics.Example/album/7.jpg?id=3",
    "195.127.0.11",
]
HOTLINE, CSAM = "iwf-al", "csam"


@pytest.fixture
def written(tmp_path: Path) -> Iterator[tuple[ConfidentialSet, Path]]:
    digests = digests_from_cleartext(CLEARTEXT)
    path = tmp_path / "confidential.bin"
    ConfidentialSet([(d, HOTLINE, CSAM) for d in digests], meta={"serial": 7}).write(path)
    view = ConfidentialSet.open(path)
    yield view, path
    view.close()


def ids(matches: list[HashMatch]) -> list[str]:
    return [m.hash_id for m in matches]


HOST_ID = hash_id(hash_entry("evil.example/"))
DIR_ID = hash_id(hash_entry("files.example/secret/"))
PAGE_ID = hash_id(hash_entry("pics.example/album/7.jpg?id=3"))
IP_ID = hash_id(hash_entry("195.127.0.11/"))


def test_expressions_follow_safe_browsing() -> None:
    assert entry_expression("evil.example") == "evil.example/"
    assert entry_expression("HTTP://WWW.Evil.Example.:80/a/./b/../c#x") == "www.evil.example/a/c"
    assert entry_expression("https://pics.example/p?id=%33") == "pics.example/p?id=3"
    assert hash_entry("evil.example") == hash_entry("evil.example/")
    assert hash_entry("evil.example/") == hashlib.sha256(b"evil.example/").digest()


def test_the_file_never_holds_the_cleartext(written: tuple[ConfidentialSet, Path]) -> None:
    _, path = written
    data = path.read_bytes()
    assert data.startswith(MAGIC)
    for needle in [b"evil", b"files.example", b"secret", b"pics", b"album", b"7.jpg",
                   b"195.127", b"example"]:
        assert needle not in data.lower()
    assert hash_entry("evil.example/") in data


def test_host_entry_matches_host_subdomains_and_every_url(
        written: tuple[ConfidentialSet, Path]) -> None:
    view, _ = written
    expected = [HashMatch(HOST_ID, HOTLINE, CSAM)]
    assert view.match_host("evil.example") == expected
    assert view.match_host("www.evil.example") == expected
    assert view.match_host("a.b.c.evil.example") == expected
    assert view.match_url("http://evil.example/") == expected
    assert view.match_url("https://deep.www.evil.example/any/path/x.html?q=1") == expected


def test_host_entry_does_not_match_neighbours(written: tuple[ConfidentialSet, Path]) -> None:
    view, _ = written
    for host in ["example", "notevil.example", "evil.example.al", "evil.exampl", "vil.example"]:
        assert view.match_host(host) == [], host
        assert view.match_url(f"http://{host}/") == [], host


def test_path_entry_matches_the_prefix_and_below_not_siblings(
        written: tuple[ConfidentialSet, Path]) -> None:
    view, _ = written
    expected = [HashMatch(DIR_ID, HOTLINE, CSAM)]
    assert view.match_url("http://files.example/secret/") == expected
    assert view.match_url("http://files.example/secret/a.jpg") == expected
    assert view.match_url("http://files.example/secret/a/b/c.jpg?x=1") == expected
    assert view.match_url("http://cdn.files.example/secret/a.jpg") == expected
    for url in ["http://files.example/", "http://files.example/secrets/", "http://files.example/"
                "public/secret/", "http://files.example/secret", "http://other.example/secret/"]:
        assert view.match_url(url) == [], url
    assert view.match_host("files.example") == []  # a path entry is not a host block


def test_exact_url_entry_matches_only_that_page(written: tuple[ConfidentialSet, Path]) -> None:
    view, _ = written
    expected = [HashMatch(PAGE_ID, HOTLINE, CSAM)]
    assert view.match_url("https://pics.example/album/7.jpg?id=3") == expected
    assert view.match_url("https://pics.example/album/7.jpg?id=4") == []
    assert view.match_url("https://pics.example/album/7.jpg") == []


@pytest.mark.parametrize("url", [
    "HTTP://EVIL.EXAMPLE/",
    "http://Evil.Example./x",
    "http://..evil..example../x",
    "http://%65%76%69%6c.example/",
    "http://%2565vil.example/",
    "http://evil%2Eexample/",
    "http://evil.example:80/",
    "https://evil.example:443/",
    "http://evil.example:8080/",
    "http://user:pw@evil.example/",
    "http://good.example@evil.example/",
    "http://evil\u3002example/",
    "http://\uff45vil.example/",
    "evil.example",
    "http://evil.example/#frag",
    "http://ev\til.exam\nple/",
])
def test_spelling_tricks_still_match_a_host_entry(written: tuple[ConfidentialSet, Path],
                                                  url: str) -> None:
    view, _ = written
    assert ids(view.match_url(url)) == [HOST_ID]


@pytest.mark.parametrize("url", [
    "http://files.example/Secret/",  # paths are case-sensitive: no match
])
def test_paths_keep_their_case(written: tuple[ConfidentialSet, Path], url: str) -> None:
    view, _ = written
    assert view.match_url(url) == []


@pytest.mark.parametrize("url", [
    "http://files.example/%73ecret/x",
    "http://files.example/%2573ecret/x",
    "http://files.example//secret//x",
    "http://files.example/public/../secret/x",
    "http://files.example/./secret/./x",
    "http://files.example/a/%2e%2e/secret/x",
    "http://files.example%2Fsecret%2Fx",
    "http://files.example\\secret\\x",
    "http://FILES.example:80/secret/x",
])
def test_spelling_tricks_still_match_a_path_entry(written: tuple[ConfidentialSet, Path],
                                                  url: str) -> None:
    view, _ = written
    assert ids(view.match_url(url)) == [DIR_ID]


@pytest.mark.parametrize("url", ["http://3279880203/x", "http://0xc3.0x7f.0.0xb/", "http://0303.0177"
                                 ".0.013/", "http://195.127.11/", "http://[::ffff:195.127.0.11]/"])
def test_ip_forms_match_an_ip_entry(written: tuple[ConfidentialSet, Path], url: str) -> None:
    view, _ = written
    assert ids(view.match_url(url)) == [IP_ID]
    assert view.match_url("http://195.127.0.12/") == []


def test_one_digest_on_several_lists_gives_every_tag(tmp_path: Path) -> None:
    digest = hash_entry("evil.example/")
    path = tmp_path / "c.bin"
    ConfidentialSet([(digest, "iwf", "csam"), (digest, "al", "csam"), (digest, "iwf", "csam"),
                     (hash_entry("x.example/"), "al", "csam")]).write(path)
    view = ConfidentialSet.open(path)
    assert len(view) == 3
    assert sorted(view.match_host("evil.example")) == [
        HashMatch(digest.hex()[:12], "al", "csam"), HashMatch(digest.hex()[:12], "iwf", "csam")]
    view.close()


def test_an_in_memory_set_matches_like_a_written_one(tmp_path: Path) -> None:
    triples = [(hash_entry(f"h{i}.example/"), "l", "csam") for i in range(2000)]
    built = ConfidentialSet(triples)
    built.write(tmp_path / "c.bin")
    opened = ConfidentialSet.open(tmp_path / "c.bin")
    for i in (0, 1, 999, 1999):
        assert built.match_host(f"www.h{i}.example") == opened.match_host(f"h{i}.example") != []
    assert opened.match_host("h2000.example") == built.match_host("h2000.example") == []
    assert opened.count == built.count == 2000
    opened.close()


def test_empty_set(tmp_path: Path) -> None:
    ConfidentialSet().write(tmp_path / "c.bin")
    view = ConfidentialSet.open(tmp_path / "c.bin")
    assert len(view) == 0 and view.match_url("http://evil.example/") == []
    view.close()


def test_write_replaces_atomically(tmp_path: Path) -> None:
    path = tmp_path / "c.bin"
    ConfidentialSet([(hash_entry("a.example/"), "l", "c")]).write(path)
    old = ConfidentialSet.open(path)
    ConfidentialSet([(hash_entry("b.example/"), "l", "c")]).write(path)
    assert old.match_host("a.example") != []  # the old mapping stays valid
    new = ConfidentialSet.open(path)
    assert new.match_host("a.example") == [] and new.match_host("b.example") != []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.bin"]
    old.close()
    new.close()


@pytest.mark.parametrize("damage", [
    lambda b: b"NOTROJA!" + b[8:],
    lambda b: b[:-1],
    lambda b: b[:20],
    lambda b: b + b"\0\0",
])
def test_damaged_files_are_refused(tmp_path: Path, damage: Callable[[bytes], bytes]) -> None:
    path = tmp_path / "c.bin"
    ConfidentialSet([(hash_entry("a.example/"), "l", "c")]).write(path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError):
        ConfidentialSet.open(path)


def test_bad_digests_are_refused() -> None:
    with pytest.raises(ValueError):
        ConfidentialSet([(b"short", "l", "c")])


def test_bad_cleartext_names_lines_but_never_the_text() -> None:
    lines = ["evil.example", "mailto:secret-one@example", "http:///no-host-secret",
             "# comment", "http://bad_host!.example/secret-two", "ftp://files.example/secret"]
    with pytest.raises(CleartextError) as caught:
        digests_from_cleartext(lines)
    assert [n for n, _ in caught.value.errors] == [2, 3, 5, 6]
    message = str(caught.value)
    assert "line 2" in message and "line 6" in message
    for secret in ["secret", "example", "bad_host"]:
        assert secret not in message


def test_cleartext_digests_match_the_matcher() -> None:
    digests = digests_from_cleartext(["Evil.Example.", "http://files.example/a/../secret/"])
    assert digests == [hash_entry("evil.example/"), hash_entry("files.example/secret/")]
