"""Canonical form of host names, so that every list entry and every query compare equal.

Rules (a subset of the Safe Browsing host rules, the part DNS needs): lower-case, leading,
trailing and repeated dots removed, IDNA labels to punycode, at most 253 characters and 63 per
label. Returns None for something that cannot be a host name.
"""

from __future__ import annotations

import re

LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
#: A host that is already canonical (except for the 253-character limit).
ASCII_HOST = re.compile(rf"{LABEL}(?:\.{LABEL})*")
_DOTS = re.compile(r"\.{2,}")


def canonical_host(name: str) -> str | None:
    """`WWW.Example.COM.` → `www.example.com`; `shqipëri.al` → `xn--shqipri-vya.al`."""
    if len(name) <= 253 and ASCII_HOST.fullmatch(name):  # already canonical: most list lines
        return name
    host = name.strip().lower()
    if ".." in host:
        host = _DOTS.sub(".", host)
    host = host.strip(".")
    if not host:
        return None
    if not host.isascii():
        try:
            host = ".".join(
                label.encode("idna").decode("ascii") if not label.isascii() else label
                for label in host.split(".")
            )
        except UnicodeError:
            return None
    if len(host) > 253 or not ASCII_HOST.fullmatch(host):
        return None
    return host


def suffixes(host: str) -> list[str]:
    """`a.b.example.com` → [`a.b.example.com`, `b.example.com`, `example.com`, `com`]."""
    out = [host]
    start = host.find(".")
    while start != -1:
        out.append(host[start + 1:])
        start = host.find(".", start + 1)
    return out
