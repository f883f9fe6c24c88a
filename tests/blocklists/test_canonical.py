"""One canonical spelling per host name, so list entries and queries always compare equal."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blocklists.canonical import canonical_host, suffixes


@pytest.mark.parametrize("name,expected", [
    ("example.com", "example.com"),
    ("WWW.Example.COM", "www.example.com"),
    ("www.example.com.", "www.example.com"),
    (".www.example.com", "www.example.com"),
    ("www..example...com", "www.example.com"),
    ("..www.example.com..", "www.example.com"),
    ("  bet365.com \n", "bet365.com"),
    ("_dmarc.example.com", "_dmarc.example.com"),
    ("a-b.example", "a-b.example"),
    ("1.2.3.4", "1.2.3.4"),
])
def test_spelling_variants_become_one_form(name: str, expected: str) -> None:
    assert canonical_host(name) == expected


@pytest.mark.parametrize("name,expected", [
    ("shqipëri.al", "xn--shqipri-vya.al"),
    ("SHQIPËRI.AL.", "xn--shqipri-vya.al"),
    ("www.shqipëri.al", "www.xn--shqipri-vya.al"),
    ("xn--shqipri-vya.al", "xn--shqipri-vya.al"),
    ("münchen.de", "xn--mnchen-3ya.de"),
])
def test_idna_names_become_punycode(name: str, expected: str) -> None:
    assert canonical_host(name) == expected


def test_unicode_and_punycode_spellings_match() -> None:
    assert canonical_host("Shqipëri.al") == canonical_host("xn--shqipri-vya.AL")


LABEL_63 = "a" * 63


@pytest.mark.parametrize("name", [
    "", ".", "...", " ",
    "a" * 64 + ".com",                       # label over 63
    ".".join([LABEL_63] * 4),                # 255 characters, over 253
    "-start.example", "end-.example",
    "sp ace.example", "slash/path.example", "colon:53.example", "star.*.example",
    "ä" * 70 + ".al",                        # IDNA label too long
])
def test_impossible_names_are_none(name: str) -> None:
    assert canonical_host(name) is None


def test_longest_names_and_labels_are_kept() -> None:
    longest_label = LABEL_63 + ".com"
    assert canonical_host(longest_label) == longest_label
    name_253 = ".".join([LABEL_63] * 3 + ["a" * 61])
    assert len(name_253) == 253
    assert canonical_host(name_253) == name_253
    assert canonical_host(name_253 + ".") == name_253
    assert canonical_host(name_253 + "a") is None


def test_suffixes_walk_the_labels_from_the_name_to_the_tld() -> None:
    assert suffixes("a.b.example.com") == ["a.b.example.com", "b.example.com", "example.com",
                                           "com"]
    assert suffixes("com") == ["com"]


LABEL_CHARS = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              "0123456789-_ëçÇË.")


@given(st.text(LABEL_CHARS, max_size=80) | st.text(max_size=40))
def test_canonical_host_is_idempotent(name: str) -> None:
    host = canonical_host(name)
    if host is not None:
        assert canonical_host(host) == host
        assert host == host.lower() and host.isascii()
        assert not host.startswith(".") and not host.endswith(".") and ".." not in host
        assert len(host) <= 253
        assert all(1 <= len(label) <= 63 for label in host.split("."))


@given(st.lists(st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True),
                min_size=1, max_size=5),
       st.booleans(), st.booleans())
def test_case_and_dots_never_change_the_canonical_form(labels: list[str], upper: bool,
                                                       dotted: bool) -> None:
    name = ".".join(labels)
    variant = name.upper() if upper else name
    if dotted:
        variant = "." + variant.replace(".", "..") + "."
    assert canonical_host(variant) == canonical_host(name) == name
