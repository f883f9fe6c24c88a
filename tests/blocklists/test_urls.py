"""Safe Browsing URL canonicalisation: the published test vectors, the lookup expressions, and
property tests (idempotence; every spelling of a host gives one canonical host)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blocklists.canonical import canonical_host
from blocklists.urls import (
    CanonicalUrl,
    canonical_url,
    canonical_url_string,
    host_suffixes,
    path_prefixes,
    unescape_fully,
    url_candidates,
)

# The complete list of the Safe Browsing v4 "URLs and Hashing" page, in its order. One input
# differs in spelling only: the page's `http://\x01\x80.com/` is a byte string, and a Python
# str cannot hold the lone byte 0x80, so it is written `%80` (the same byte once unescaped).
PUBLISHED = [
    ("http://host/%25%32%35", "http://host/%25"),
    ("http://host/%25%32%35%25%32%35", "http://host/%25%25"),
    ("http://host/%2525252525252525", "http://host/%25"),
    ("http://host/asdf%25%32%35asd", "http://host/asdf%25asd"),
    ("http://host/%%%25%32%35asd%%", "http://host/%25%25%25asd%25%25"),
    ("http://www.google.com/", "http://www.google.com/"),
    ("http://%31%36%38%2e%31%38%38%2e%39%39%2e%32%36/%2E%73%65%63%75%72%65/%77%77%77%2E%65%62"
     "%61%79%2E%63%6F%6D/", "http://168.188.99.26/.secure/www.ebay.com/"),
    ("http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xpl"
     "mvalidateinfoswqpcmlx=hgplmcx/",
     "http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xpl"
     "mvalidateinfoswqpcmlx=hgplmcx/"),
    ("http://host%23.com/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22%252833%252944"
     "_55%252B", "http://host%23.com/~a!b@c%23d$e%25f^00&11*22(33)44_55+"),
    ("http://3279880203/blah", "http://195.127.0.11/blah"),
    ("http://www.google.com/blah/..", "http://www.google.com/"),
    ("www.google.com/", "http://www.google.com/"),
    ("www.google.com", "http://www.google.com/"),
    ("http://www.evil.com/blah#frag", "http://www.evil.com/blah"),
    ("http://www.GOOgle.com/", "http://www.google.com/"),
    ("http://www.google.com.../", "http://www.google.com/"),
    ("http://www.google.com/foo\tbar\rbaz\n2", "http://www.google.com/foobarbaz2"),
    ("http://www.google.com/q?", "http://www.google.com/q?"),
    ("http://www.google.com/q?r?", "http://www.google.com/q?r?"),
    ("http://www.google.com/q?r?s", "http://www.google.com/q?r?s"),
    ("http://evil.com/foo#bar#baz", "http://evil.com/foo"),
    ("http://evil.com/foo;", "http://evil.com/foo;"),
    ("http://evil.com/foo?bar;", "http://evil.com/foo?bar;"),
    ("http://\x01%80.com/", "http://%01%80.com/"),
    ("http://notrailingslash.com", "http://notrailingslash.com/"),
    ("http://www.gotaport.com:1234/", "http://www.gotaport.com/"),
    ("  http://www.google.com/  ", "http://www.google.com/"),
    ("http:// leadingspace.com/", "http://%20leadingspace.com/"),
    ("http://%20leadingspace.com/", "http://%20leadingspace.com/"),
    ("%20leadingspace.com/", "http://%20leadingspace.com/"),
    ("https://www.securesite.com/", "https://www.securesite.com/"),
    ("http://host.com/ab%23cd", "http://host.com/ab%23cd"),
    ("http://host.com//twoslashes?more//slashes", "http://host.com/twoslashes?more//slashes"),
]

# More vectors from the reference Go client (google/safebrowsing urls_test.go) and Firefox's
# url-classifier tests, where they agree with the published rules.
REFERENCE_CLIENTS = [
    ("http://www.\u00fcmlat.com/", "http://www.xn--mlat-zra.com/"),
    ("http%3A%2F%2Fwackyurl.com:80/", "http://wackyurl.com/"),
    ("http://W!eird<>Ho$^.com/", "http://w!eird<>ho$^.com/"),
    ("http://i.have.way.too.many.dots.com/", "http://i.have.way.too.many.dots.com/"),
    ("ftp://ftp.myfiles.com/", "ftp://ftp.myfiles.com/"),
    ("http://some%1bhost.com/%1b", "http://some%1Bhost.com/%1B"),  # we write hex upper-case
    ("http://[2001:470:1:18::114]/", "http://[2001:470:1:18::114]/"),
    ("http://google.com.:8080/foo.html", "http://google.com/foo.html"),
    ("http://google...com/foo.html", "http://google.com/foo.html"),
    ("http://..google.com/foo.html", "http://google.com/foo.html"),
    ("http://0x12.0x43.0x44.0x01", "http://18.67.68.1/"),
    ("http://192.168.0.1:80/index.html", "http://192.168.0.1/index.html"),
    ("http://a.com/foo/.././bar/./../foo.html", "http://a.com/foo.html"),
    ("http://a.com//a//b///c////", "http://a.com/a/b/c/"),
    ("http://host.com/path?query%3Awith%3Acolons", "http://host.com/path?query:with:colons"),
    ("https://wiki.mozilla.org/index.php?title=MozillaWiki%3AHelp&action=history",
     "https://wiki.mozilla.org/index.php?title=MozillaWiki:Help&action=history"),
]

# Spelling tricks a pupil may try, and where we go past the reference on purpose.
TRICKS = [
    ("HTTP://User:Secret@WWW.Evil.Example.:80/a/./b/../c", "http://www.evil.example/a/c"),
    ("https://evil.example:443/", "https://evil.example/"),
    ("http://evil.example%2Fdir%2Fpage", "http://evil.example/dir/page"),
    ("http://evil.example/dir%252Fpage", "http://evil.example/dir/page"),
    ("http://evil.example/a/%2e%2E/b", "http://evil.example/b"),
    ("http://evil.example\\dir\\page", "http://evil.example/dir/page"),  # browsers: `\` is `/`
    ("http://evil.example/a/b/.", "http://evil.example/a/b/"),
    ("http://evil.example/a/b/..", "http://evil.example/a/"),
    ("http://evil.example/../../a", "http://evil.example/a"),
    ("http://shqip\u00ebri.al/", "http://xn--shqipri-vya.al/"),
    ("http://SHQIP%C3%8BRI.AL/", "http://xn--shqipri-vya.al/"),
    ("http://evil\u3002example/", "http://evil.example/"),
    ("http://\uff45vil.example/", "http://evil.example/"),
    ("http://0xC3.0177.0.11/", "http://195.127.0.11/"),
    ("http://0303.0x7f.11/", "http://195.127.0.11/"),
    ("http://195.8323083/", "http://195.127.0.11/"),
    ("http://0xc37f000b/", "http://195.127.0.11/"),
    ("http://030337600013/", "http://195.127.0.11/"),
    ("http://[::ffff:195.127.0.11]/", "http://195.127.0.11/"),
    ("http://[64:ff9b::c37f:b]/", "http://195.127.0.11/"),
    ("http://[2001:0DB8:0000::0001]:8080/", "http://[2001:db8::1]/"),
    ("http://276.2.3/", "http://276.2.3/"),  # reference wraps to 20.2.0.3; browsers refuse it
    ("http://1.2.3.256/", "http://1.2.3.256/"),
    ("http://09.1.1.1/", "http://09.1.1.1/"),  # not octal, so a name
    ("http://\x01\x80.com/", "http://%01%C2%80.com/"),  # U+0080 as text is UTF-8 C2 80
    ("http://a\u2024b.example/", "http://a%E2%80%A4b.example/"),  # IDNA would make a dot
    ("//evil.example/x", "http://evil.example/x"),
    ("evil.example:8080", "http://evil.example/"),
]

NOT_URLS = ["", ":", "/blah", "#ref", "/blah#ref", "?query#ref", "/blah?query#ref", "/blah;param",
            "http://#ref", "http:///blah#ref", "http://?query#ref", "http:///blah?query#ref",
            "http:///blah;param", "http:///blah;param?query#ref", "mailto:bryner@google.com",
            "http:evil.example/", "http://a:b/", "http://a:80:90/", "http://[::1/", "http://[zz]/",
            "http://[1.2.3.4]/", "http://[fe80::1%25eth0]/", "http://...//", "http://%2e/"]


@pytest.mark.parametrize("url,expected", PUBLISHED + REFERENCE_CLIENTS + TRICKS)
def test_canonical_url_string(url: str, expected: str) -> None:
    assert canonical_url_string(url) == expected


@pytest.mark.parametrize("url", NOT_URLS)
def test_no_host_is_not_a_url(url: str) -> None:
    assert canonical_url(url) is None
    assert url_candidates(url) == []
    with pytest.raises(ValueError):
        canonical_url_string(url)


def test_canonical_url_parts_and_text() -> None:
    found = canonical_url("https://WWW.Evil.Example/a/../b?x=%31#frag")
    assert found == CanonicalUrl("www.evil.example", "/b", "x=1", "https")
    assert found.text == "www.evil.example/b?x=1"
    bare = canonical_url("http://evil.example/q?")
    assert bare == CanonicalUrl("evil.example", "/q", "")
    assert bare.text == "evil.example/q" and bare.url == "http://evil.example/q?"
    assert canonical_url("http://evil.example/q") == CanonicalUrl("evil.example", "/q", None)


@pytest.mark.parametrize("ip,expected", [
    ("255.0.0.1", "255.0.0.1"), ("12.0x12.01234", "12.18.2.156"), ("012.034.01.055", "10.28.1.45"),
    ("0x12.0x43.0x44.0x01", "18.67.68.1"), ("167838211", "10.1.2.3"),
    ("3279880203", "195.127.0.11"), ("4294967295", "255.255.255.255"),
    ("123.123.0.0.1", "123.123.0.0.1"), ("1.2.3.00x0", "1.2.3.00x0"), ("4294967296", "4294967296"),
    ("0x", "0.0.0.0"), ("0x00000000000000000001", "0.0.0.1"),
])
def test_ipv4_forms(ip: str, expected: str) -> None:
    assert canonical_url_string(f"http://{ip}/") == f"http://{expected}/"


# The examples of the "Suffix/Prefix Expressions" section (order is ours: most specific first).
@pytest.mark.parametrize("url,expected", [
    ("http://a.b.c/1/2.html?param=1", ["a.b.c/1/2.html?param=1", "a.b.c/1/2.html", "a.b.c/",
                                       "a.b.c/1/", "b.c/1/2.html?param=1", "b.c/1/2.html", "b.c/",
                                       "b.c/1/"]),
    ("http://a.b.c.d.e.f.g/1.html", ["a.b.c.d.e.f.g/1.html", "a.b.c.d.e.f.g/", "c.d.e.f.g/1.html",
                                     "c.d.e.f.g/", "d.e.f.g/1.html", "d.e.f.g/", "e.f.g/1.html",
                                     "e.f.g/", "f.g/1.html", "f.g/"]),
    ("http://1.2.3.4/1/", ["1.2.3.4/1/", "1.2.3.4/"]),
    ("http://a.b/?", ["a.b/"]),
    ("http://b/", ["b/"]),
    ("http://[2001:470:1:18::114]/a/b", ["[2001:470:1:18::114]/a/b", "[2001:470:1:18::114]/",
                                         "[2001:470:1:18::114]/a/"]),
    ("http://a.b.c/1/2/3/4/5/", ["a.b.c/1/2/3/4/5/", "a.b.c/", "a.b.c/1/", "a.b.c/1/2/",
                                 "a.b.c/1/2/3/", "b.c/1/2/3/4/5/", "b.c/", "b.c/1/", "b.c/1/2/",
                                 "b.c/1/2/3/"]),
])
def test_url_candidates(url: str, expected: list[str]) -> None:
    assert url_candidates(url) == expected


@pytest.mark.parametrize("host,expected", [
    ("www.google.com", ["www.google.com", "google.com"]),
    ("a.b.c.com", ["a.b.c.com", "b.c.com", "c.com"]),
    ("a.b.c.d.e.f.kita.tokyo.jp", ["a.b.c.d.e.f.kita.tokyo.jp", "e.f.kita.tokyo.jp",
                                   "f.kita.tokyo.jp", "kita.tokyo.jp", "tokyo.jp"]),
    ("com", ["com"]),
    ("195.127.0.11", ["195.127.0.11"]),
    ("[::1]", ["[::1]"]),
])
def test_host_suffixes(host: str, expected: list[str]) -> None:
    assert host_suffixes(host) == expected


@pytest.mark.parametrize("path,query,expected", [
    ("/", None, ["/"]),
    ("/", "a=1", ["/?a=1", "/"]),
    ("/a/b/c.html", None, ["/a/b/c.html", "/", "/a/", "/a/b/"]),
    ("/a/b/c/d/e.html", "123", ["/a/b/c/d/e.html?123", "/a/b/c/d/e.html", "/", "/a/", "/a/b/",
                                "/a/b/c/"]),
    ("/a/", "", ["/a/", "/"]),
])
def test_path_prefixes(path: str, query: str | None, expected: list[str]) -> None:
    assert path_prefixes(path, query) == expected


def test_candidates_are_bounded() -> None:
    url = "http://" + ".".join("abcdefghij") + "/" + "/".join("123456789") + "?q=1"
    found = url_candidates(url)
    assert len(found) == 30 and len(set(found)) == 30


def test_hosts_agree_with_the_dns_canonicaliser() -> None:
    for name in ["WWW.Example.COM.", "..a...b..", "Shqip\u00ebri.AL", "xn--shqipri-vya.al",
                 "_dmarc.example.com", "m\u00fcnchen.de"]:
        found = canonical_url(name)
        assert found is not None and found.host == canonical_host(name)


def _unescape_by_passes(data: bytes) -> bytes:
    """The reference: one left-to-right pass after another until nothing changes."""
    while True:
        out, i = bytearray(), 0
        while i < len(data):
            chunk = data[i:i + 3]
            if len(chunk) == 3 and chunk[0] == 0x25 and all(
                    c in b"0123456789abcdefABCDEF" for c in chunk[1:]):
                out.append(int(chunk[1:], 16))
                i += 3
            else:
                out.append(data[i])
                i += 1
        if out == data:
            return data
        data = bytes(out)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"%", b"2", b"5", b"3", b"%25", b"%32", b"%35", b"a", b"F",
                                 b"%2", b"x", b"41", b"%4"]), max_size=25).map(b"".join))
def test_fast_unescape_matches_repeated_passes(data: bytes) -> None:
    assert unescape_fully(data) == _unescape_by_passes(data)


def test_deep_escapes_unescape_in_linear_time() -> None:
    assert unescape_fully(b"%" + b"25" * 20000 + b"41") == b"A"


TRICKY = ["a", "B", ".", "..", "/", "//", "\\", "?", "#", "%", "%25", "%2e", "%2E", "%2f", "%3F",
          "%23", "%00", "%41", "%C3%BC", "%FF", ":", ":80", "@", " ", "\t", "\u00fc", "\u3002",
          "\uff0e", "\u2024", "\uff05", "0x", "1", "0", "9", "[", "]", "::", "xn--", "-", "~",
          "\x7f", "\U0001f600", "\ud800"]


def _url_text() -> st.SearchStrategy[str]:
    piece = st.sampled_from(TRICKY) | st.text(max_size=3)
    part = st.lists(piece, max_size=8).map("".join)
    prefix = st.sampled_from(["", "http://", "HTTPS://", "ftp://", "//", "http:\\\\", "x:"])
    return st.tuples(prefix, part, st.sampled_from(["", "/", "?", "#"]), part).map("".join)


@settings(max_examples=400, deadline=None)
@given(_url_text())
def test_canonicalisation_is_idempotent(url: str) -> None:
    found = canonical_url(url)
    if found is None:
        return
    again = canonical_url(found.url)
    assert again == found
    assert canonical_url_string(found.url) == found.url


_LABEL = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)


def _spellings(host: str, draw: st.DrawFn) -> str:
    out = []
    for char in host:
        how = draw(st.sampled_from(["plain", "upper", "escape", "escape2", "escape-lower"]))
        if how == "upper":
            out.append(char.upper())
        elif how == "escape":
            out.append(f"%{ord(char):02X}")
        elif how == "escape2":
            out.append(f"%25{ord(char):02X}")
        elif how == "escape-lower":
            out.append(f"%{ord(char):02x}")
        else:
            out.append(char)
        if char == "." and draw(st.booleans()):
            out.append("." * draw(st.integers(1, 3)))
    lead = "." * draw(st.integers(0, 2))
    tail = "." * draw(st.integers(0, 2))
    return lead + "".join(out) + tail


@st.composite
def _host_and_spelling(draw: st.DrawFn) -> tuple[str, str]:
    labels = draw(st.lists(_LABEL, min_size=2, max_size=5))
    labels[-1] = "al" if labels[-1].isdigit() else labels[-1]  # not an IPv4 form
    host = ".".join(labels)
    return host, _spellings(host, draw)


@settings(max_examples=300, deadline=None)
@given(_host_and_spelling(), st.sampled_from(["", "user@", "u:p@"]),
       st.sampled_from(["", ":", ":80", ":443"]), st.sampled_from(["http://", "HTTP://", ""]))
def test_every_spelling_of_a_host_is_one_host(spelled: tuple[str, str], userinfo: str, port: str,
                                              scheme: str) -> None:
    host, spelling = spelled
    if not scheme and (":" in userinfo or port == ":"):
        scheme = "http://"  # without a scheme, `u:` or `host:` is one (as in the reference)
    found = canonical_url(f"{scheme}{userinfo}{spelling}{port}/x")
    assert found is not None and found.host == host


@st.composite
def _ip_forms(draw: st.DrawFn) -> tuple[str, str]:
    number = draw(st.integers(0, 2**32 - 1))
    octets = list(ipaddress.IPv4Address(number).packed)
    parts = draw(st.sampled_from([1, 2, 3, 4]))
    values = [*octets[:parts - 1], int.from_bytes(bytes(octets[parts - 1:]), "big")]
    formats: list[Callable[[int], str]] = [
        str, hex, lambda v: "0" + oct(v)[2:], lambda v: hex(v).upper().replace("X", "x")]
    spelled = ".".join(draw(st.sampled_from(formats))(v) for v in values)
    return str(ipaddress.IPv4Address(number)), spelled


@settings(max_examples=300, deadline=None)
@given(_ip_forms())
def test_every_ipv4_form_is_the_dotted_quad(ip: tuple[str, str]) -> None:
    expected, spelled = ip
    found = canonical_url(f"http://{spelled}/")
    assert found is not None and found.host == expected
    assert host_suffixes(found.host) == [expected]
