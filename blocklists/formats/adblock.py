"""Adblock-style DNS filter lists (AdGuard DNS filter, uBlock/ABP host rules).

Understood, each as a DNS entry for the name and its subdomains:

- `||example.com^` (also `||example.com^|`, `||example.com`): block;
- `@@||example.com^`: allow (the compiler tags it `<list>@allow`);
- `||*.example.com^`: block only the subdomains of `example.com`;
- `example.com` and hosts-file lines (`0.0.0.0 example.com`): block;
- `$important` is accepted and read as a plain block (an `@@` rule still opens it).

Skipped without a fuss: `!` and `#` comments, `[Adblock Plus 2.0]` headers. Counted in
`report.unsupported` and skipped: rules with any other modifier (per name: `third-party`,
`dnstype`, `client`, `denyallow`, `badfilter`, ...), cosmetic rules (`##`, `#@#`, `#?#`...),
path and URL rules (`||example.com/ads`), regular expressions (`/ads[0-9]+/`), other wildcards
and `|` start anchors (exact-name rules, which Roja's subdomain matching cannot express).
Anything else is a bad line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from blocklists.canonical import canonical_host
from blocklists.formats.common import (
    LOCAL_NAMES,
    NULL_ADDRESSES,
    ListEntry,
    ReadReport,
    looks_like_ip,
    numbered_lines,
)

SUPPORTED_MODIFIERS = frozenset({"important"})
_COSMETIC = re.compile(r"#@?[$%?]{0,2}#|\$@?\$")
_REGEX = re.compile(r"/.+/(\$.*)?")


def read(path: Path, report: ReadReport) -> Iterator[ListEntry]:
    for lineno, raw in numbered_lines(path, report):
        line = raw.strip()
        if not line or line[0] == "!" or (line[0] == "[" and line[-1] == "]"):
            continue
        if _COSMETIC.search(line):
            report.unsupported["cosmetic"] += 1
            continue
        if line[0] == "#":
            continue
        found = _rule(line)
        if isinstance(found, str):
            report.bad_line(lineno, raw, found)
            continue
        if isinstance(found, tuple):
            for name in found:
                report.unsupported[name] += 1
            continue
        for entry in found:
            report.entries += 1
            if entry.allow:
                report.kinds["allow"] += 1
            if entry.subdomains_only:
                report.kinds["subdomains_only"] += 1
            yield entry


def _rule(line: str) -> list[ListEntry] | tuple[str, ...] | str:
    """The entries of one rule, or the unsupported feature names, or why the line is bad."""
    allow = line.startswith("@@")
    body = line[2:] if allow else line
    if body.startswith("/"):
        return ("regex",) if _REGEX.fullmatch(body) else ("path",)
    rule, dollar, modifiers = body.partition("$")
    if dollar:
        names = [m.split("=", 1)[0].strip().lstrip("~") for m in modifiers.split(",")]
        if not all(names):
            return "empty modifier after '$'"
        unsupported = tuple(n for n in names if n not in SUPPORTED_MODIFIERS)
        if unsupported:
            return unsupported
    fields = rule.split("#", 1)[0].split()
    if len(fields) > 1:
        return _hosts_line(fields)
    if not fields:
        return "empty rule"
    core = fields[0]
    if core.startswith("||"):
        core = core[2:]
    elif core.startswith("|"):
        return ("path",) if "://" in core else ("anchor",)
    if core.endswith("^|"):
        core = core[:-2]
    elif core.endswith("^"):
        core = core[:-1]
    if "/" in core or ":" in core:
        return ("path",)
    subdomains_only = core.startswith("*.")
    if subdomains_only:
        core = core[2:]
    if "*" in core:
        return ("wildcard",)
    host = canonical_host(core)
    if host is None:
        return f"not a valid host name: {fields[0]!r}"
    return [ListEntry(host, allow=allow, subdomains_only=subdomains_only)]


def _hosts_line(fields: list[str]) -> list[ListEntry] | str:
    if fields[0] not in NULL_ADDRESSES and not looks_like_ip(fields[0]):
        return "expected one rule per line"
    out = []
    for name in fields[1:]:
        host = canonical_host(name)
        if host is None:
            return f"not a valid host name: {name!r}"
        if host not in LOCAL_NAMES:
            out.append(ListEntry(host))
    return out
