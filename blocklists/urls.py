"""Canonical URLs and their Safe Browsing lookup expressions, shared by the proxy and the lists.

`canonical_url(url)` follows the Safe Browsing v4 "Canonicalization" rules, so that every
spelling of a URL that a pupil can try (case, dots, IDNA, single or repeated percent-encoding,
`/./`, `/../`, `//`, ports, userinfo, numeric IPv4 forms) gives one `CanonicalUrl`:

1. Cut at the first `#`; strip leading and trailing spaces and controls; drop tab, CR and LF.
2. Percent-unescape the whole URL until nothing changes (so `%2F`, `%3F`, `%40` act as `/`,
   `?`, `@`, exactly as in the reference client); split off the query at the first `?`.
3. Scheme (default `http`, lower-cased; a scheme must be followed by `//`); userinfo and any
   port are dropped. Host: leading, trailing and repeated dots removed, ASCII lower-cased,
   IDNA labels to punycode, IPv4 in any legal form (decimal, octal, hex, 1 to 4 parts) to a
   dotted quad, IPv6 in brackets compressed (IPv4-mapped and 64:ff9b::/96 become IPv4).
4. Path: empty → `/`; `.`/`..` segments resolved and runs of `/` collapsed (a trailing `.` or
   `..` leaves a trailing `/`, as browsers do). The query is kept as it is.
5. Percent-escape (upper-case hex) every byte <= 0x20 or >= 0x7F, `#` and `%`.

Where we differ from the reference on purpose: `\\` counts as `/` before the query (browsers
send it so), numeric hosts that a browser would refuse (`276.2.3`, `1.2.3.256`) stay names
instead of wrapping, a host label that IDNA refuses is kept percent-escaped, and a host left
with a `:`, or a `[` or `]` outside a valid IPv6 literal, is not a URL (None).

`host_suffixes`, `path_prefixes` and `url_candidates` build the lookup expressions of Safe
Browsing (at most 5 hosts × 6 paths); `blocklists.confidential` hashes exactly these.
"""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple

__all__ = [
    "CanonicalUrl",
    "canonical_url",
    "canonical_url_host",
    "canonical_url_string",
    "host_suffixes",
    "is_ip_host",
    "path_prefixes",
    "unescape_fully",
    "url_candidates",
]

MAX_HOSTS = 5
MAX_PATHS = 6

_ESCAPE = re.compile(rb"%([0-9A-Fa-f]{2})")
_HEX_VALUE = {c: int(chr(c), 16) for c in b"0123456789abcdefABCDEF"}
_SCHEME = re.compile(rb"([A-Za-z][A-Za-z0-9+.-]*):")
_PORT_AFTER_COLON = re.compile(rb"[0-9]+(?:/|$)")
_DOTS = re.compile(rb"\.{2,}")
_IDNA_DOTS = re.compile("[\u3002\uff0e\uff61]")
_LDH = re.compile(rb"[a-z0-9_-]+")
_IPV4_LIKE = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}")
_PLAIN_NAME = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_DOTTED_QUAD = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# bytes that are written as %XX in a canonical URL
_MUST_ESCAPE = frozenset(range(0x21)) | frozenset(range(0x7F, 0x100)) | {0x23, 0x25}
_ESCAPED = [f"%{b:02X}" if b in _MUST_ESCAPE else chr(b) for b in range(256)]
_NEEDS_ESCAPE = re.compile(rb"[\x00-\x20\x7f-\xff#%]")


class CanonicalUrl(NamedTuple):
    """A URL in Safe Browsing canonical form. `query` is None without `?`, `""` for a bare `?`."""

    host: str
    path: str
    query: str | None = None
    scheme: str = "http"

    @property
    def text(self) -> str:
        """`host/path?query`: the exact-URL lookup expression (an empty query is dropped)."""
        return self.host + self.path + ("?" + self.query if self.query else "")

    @property
    def url(self) -> str:
        """`scheme://host/path?query`, the form of the published test vectors."""
        query = "" if self.query is None else "?" + self.query
        return f"{self.scheme}://{self.host}{self.path}{query}"

    def candidates(self) -> list[str]:
        """The lookup expressions of this URL: host suffixes × path prefixes (at most 30)."""
        paths = path_prefixes(self.path, self.query)
        return [host + path for host in host_suffixes(self.host) for path in paths]


def unescape_fully(data: bytes) -> bytes:
    """Percent-unescape until no `%XX` is left (`%2525` → `%25` → `%`), in linear time.

    Escapes can never overlap, so any order of rewriting gives the same result as the
    reference's repeated passes; one regex pass does the usual case, then a stack finishes
    nested escapes (`%%32%35` → `%25` → `%`) without a pass per level.
    """
    if b"%" not in data:
        return data
    data = _ESCAPE.sub(lambda m: bytes((int(m.group(1), 16),)), data)
    if not _ESCAPE.search(data):
        return data
    out = bytearray()
    hex_value = _HEX_VALUE
    for byte in data:
        out.append(byte)
        while len(out) >= 3 and out[-3] == 0x25 and out[-2] in hex_value and out[-1] in hex_value:
            value = hex_value[out[-2]] << 4 | hex_value[out[-1]]
            del out[-3:]
            out.append(value)
    return bytes(out)


def _escape(data: bytes) -> str:
    if not _NEEDS_ESCAPE.search(data):
        return data.decode("ascii")
    return "".join([_ESCAPED[b] for b in data])


def canonical_url(url: str) -> CanonicalUrl | None:
    """`HTTP://User@WWW.Ex.com.:80/a/./b/../%63?q#f` → (`www.ex.com`, `/a/c`, `q`), or None
    when no host can be found (`/path`, `mailto:x`, `http:///x`, `http://a:b/`)."""
    data = url.encode("utf-8", "surrogatepass").split(b"#", 1)[0]
    data = data.strip(bytes(range(0x21)))
    if b"\t" in data or b"\r" in data or b"\n" in data:
        data = data.replace(b"\t", b"").replace(b"\r", b"").replace(b"\n", b"")
    data = unescape_fully(data)
    before, question, after = data.partition(b"?")
    query = _escape(after) if question else None
    before = before.replace(b"\\", b"/")
    scheme = "http"
    found = _SCHEME.match(before)
    if found and not _PORT_AFTER_COLON.match(before, found.end()):
        scheme = found.group(1).decode("ascii").lower()
        before = before[found.end():]
        if not before.startswith(b"//"):
            return None
    if before.startswith(b"//"):
        before = before[2:]
    authority, slash, path = before.partition(b"/")
    host = _authority_host(authority.rpartition(b"@")[2])
    if host is None:
        return None
    return CanonicalUrl(host, _escape(_normal_path(slash + path)), query, scheme)


def canonical_url_string(url: str) -> str:
    """`canonical_url(url)` as `scheme://host/path?query`; ValueError when it is not a URL."""
    found = canonical_url(url)
    if found is None:
        raise ValueError("not a URL with a host")
    return found.url


def canonical_url_host(host: str) -> str | None:
    """The canonical host of `host` (or of `host:port`) by the URL rules; fast for names that
    are canonical already, such as DNS query names."""
    if _PLAIN_NAME.fullmatch(host) and not _IPV4_LIKE.fullmatch(host):
        return host
    found = canonical_url(host)
    return None if found is None else found.host


def _authority_host(hostport: bytes) -> str | None:
    if hostport.startswith(b"["):
        close = hostport.find(b"]")
        if close == -1:
            return None
        rest = hostport[close + 1:]
        if rest and not (rest[:1] == b":" and (rest == b":" or rest[1:].isdigit())):
            return None
        return _ipv6_host(hostport[1:close])
    name, colon, port = hostport.rpartition(b":")
    if colon:
        if port and not port.isdigit():
            return None
        hostport = name
    if b":" in hostport or b"[" in hostport or b"]" in hostport:
        return None
    return _canonical_host(hostport)


def _ipv6_host(inner: bytes) -> str | None:
    try:
        address = ipaddress.IPv6Address(inner.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
    if address.scope_id is not None:
        return None
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    if address in _NAT64:
        return str(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return f"[{address.compressed}]"


def _canonical_host(raw: bytes) -> str | None:
    """Host rules of Safe Browsing on the unescaped bytes; the result is escaped text."""
    if not raw.isascii():
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raw = _IDNA_DOTS.sub(".", text).encode("utf-8")
    if b".." in raw:
        raw = _DOTS.sub(b".", raw)
    raw = raw.strip(b".").lower()
    if not raw:
        return None
    if raw.isascii():
        host = _escape(raw)
    else:
        host = ".".join([_escape(label) if label.isascii() else _idna_label(label)
                         for label in raw.split(b".")])
    return _ipv4(host) or host


def _idna_label(label: bytes) -> str:
    """A non-ASCII label as punycode, or percent-escaped when IDNA refuses it (or when its
    mapping would leave something other than a plain label, e.g. U+2024 → `.`)."""
    try:
        ascii_label = label.decode("utf-8").encode("idna")
    except UnicodeError:
        return _escape(label)
    if not _LDH.fullmatch(ascii_label):
        return _escape(label)
    return ascii_label.decode("ascii")


def _ipv4(host: str) -> str | None:
    """`3279880203`, `0xc3.0177.0.11`, `195.127.11` → `195.127.0.11`; None for a name, or for
    numbers a browser would refuse (a part over 255 before the last, a last part too big)."""
    if not _IPV4_LIKE.fullmatch(host):
        return None
    values = []
    for part in host.split("."):
        if part.startswith("0x"):
            digits, base = part[2:].lstrip("0") or "0", 16
        elif len(part) > 1 and part.startswith("0"):
            digits, base = part.lstrip("0") or "0", 8
            if "8" in digits or "9" in digits:
                return None
        else:
            digits, base = part, 10
        if len(digits) > 11:
            return None
        values.append(int(digits, base))
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        return None
    number = last
    for i, v in enumerate(head):
        number += v << (8 * (3 - i))
    return str(ipaddress.IPv4Address(number))


def _normal_path(path: bytes) -> bytes:
    """`/a/./b/../c//d` → `/a/c/d`; `` → `/`; a trailing `.`, `..` or `/` keeps a trailing `/`."""
    segments: list[bytes] = []
    parts = path.split(b"/")
    for part in parts:
        if part == b"..":
            if segments:
                segments.pop()
        elif part not in (b"", b"."):
            segments.append(part)
    out = b"/" + b"/".join(segments)
    if segments and parts[-1] in (b"", b".", b".."):
        out += b"/"
    return out


def host_suffixes(host: str) -> list[str]:
    """The hosts to look up for a canonical host: itself, then the last 5, 4, 3 and 2 labels
    (never the top-level label alone); an IP address only itself.

    `a.b.c.d.e.f.g` → [`a.b.c.d.e.f.g`, `c.d.e.f.g`, `d.e.f.g`, `e.f.g`, `f.g`]. So an entry
    of more than 5 labels matches only that exact host, not its subdomains (as in Safe
    Browsing).
    """
    if is_ip_host(host):
        return [host]
    labels = host.split(".")
    n = len(labels)
    return [host] + [".".join(labels[n - k:]) for k in range(min(MAX_HOSTS, n - 1), 1, -1)]


def is_ip_host(host: str) -> bool:
    """True for a canonical IP host: a dotted quad or a bracketed IPv6 address."""
    return host.startswith("[") or _DOTTED_QUAD.fullmatch(host) is not None


def path_prefixes(path: str, query: str | None = None) -> list[str]:
    """The paths to look up for a canonical path: the exact path with its query, without it,
    then `/` and up to 3 more directory prefixes (at most 6 in all).

    `/1/2.html?param=1` → [`/1/2.html?param=1`, `/1/2.html`, `/`, `/1/`].
    """
    out = [path + "?" + query] if query else []
    out.append(path)
    components = [c for c in path.split("/") if c]
    prefix = "/"
    for i in range(min(len(components), MAX_PATHS - 2)):
        if prefix not in out:
            out.append(prefix)
        prefix += components[i] + "/"
    return out


def url_candidates(url: str) -> list[str]:
    """Every lookup expression of `url` (`host/path`), most specific first; [] if not a URL.

    `http://a.b.c/1/2.html?param=1` → `a.b.c/1/2.html?param=1`, `a.b.c/1/2.html`, `a.b.c/`,
    `a.b.c/1/`, `b.c/1/2.html?param=1`, `b.c/1/2.html`, `b.c/`, `b.c/1/`.
    """
    found = canonical_url(url)
    return [] if found is None else found.candidates()
