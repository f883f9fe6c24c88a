"""URL lists: one URL (`http://example.com/ads/`) or host and path (`example.com/ads/`) a line.

Each line becomes a URL-level entry: the canonical host and a path prefix, canonicalised by the
Safe Browsing rules of `blocklists.urls` (percent-escapes, `/./`, `/../`, `//`, IDNA, numeric
IPv4 forms; query kept, fragment, userinfo and port dropped; `/` when the line has no path).
URL entries are never DNS blocks: the compiler stores them for the proxy and marks their hosts
for steering. `#` starts a comment line. Only `http` and `https` URLs are read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from blocklists.canonical import canonical_host
from blocklists.formats.common import ListEntry, ReadReport, numbered_lines
from blocklists.urls import canonical_url, is_ip_host


def split_url(text: str) -> tuple[str, str] | str:
    """`HTTP://User@WWW.Example.com:80/a/./b?q#f` → (`www.example.com`, `/a/b?q`), or why not.

    Safe Browsing canonical form (`blocklists.urls.canonical_url`); the host must also be a
    valid DNS name (or an IP address), since DNS steering looks it up by name."""
    found = canonical_url(text)
    if found is None:
        return "not a URL with a host"
    if found.scheme not in ("http", "https"):
        return f"not an http(s) URL: {found.scheme!r}"
    if not is_ip_host(found.host) and canonical_host(found.host) != found.host:
        return f"not a valid host name: {found.host!r}"
    return found.host, found.path + ("?" + found.query if found.query else "")


def read(path: Path, report: ReadReport, category: str = "") -> Iterator[ListEntry]:
    for lineno, raw in numbered_lines(path, report):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if len(line.split()) != 1:
            report.bad_line(lineno, raw, "expected one URL per line", source=str(path))
            continue
        found = split_url(line)
        if isinstance(found, str):
            report.bad_line(lineno, raw, found, source=str(path))
            continue
        report.entries += 1
        report.kinds["url"] += 1
        yield ListEntry(found[0], found[1], category=category)
