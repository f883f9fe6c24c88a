"""Adblock-style lists (AdGuard DNS filter, EasyList, uBlock's badware list, URLhaus filter).

Each rule means at DNS and proxy level what it means in a browser, as far as a filter that
sees no page can (docs/lists.md has the table, rule by rule):

- `||example.com^` (also `^|`, no `^`) and plain `example.com`: block the name and its
  subdomains; `@@` in front: allow; `||*.example.com^`: only the subdomains;
- options (`$...`, see `blocklists.formats.adblock_options`): `$all`, `$doc`/`$document`,
  `$important`, `$match-case` are taken; `$badfilter` cancels the identical rule without it;
  an important block beats an `@@` exception of the same list on that name or below it (and
  is marked `important`: other lists' `@@` do not open it either, `policy.engine`);
  options that need the page (`$script`, `$third-party`, `$domain=`...) skip the rule;
- `||example.com/path`, `|http://example.com/path`, `example.com/path`: a URL entry for the
  proxy (Safe Browsing canonical form, `blocklists.formats.urls.split_url`); `*` or `^` inside
  the path (not expressible as a prefix) skips the rule;
- an IP address or network (`1.2.3.4`, `||1.2.3.4^`, `0.0.0.0 1.2.3.4`): an address entry
  (`ReadReport.addresses`), never a host name; with `@@` (`@@||1.2.3.4^`,
  `@@*$ipaddress=1.2.3.4`) an address exception (`ReadReport.allow_addresses`);
- hosts-file lines (`0.0.0.0 example.com`): block.

Skipped without a fuss: `!` and `#` comments, `[Adblock Plus 2.0]` headers. Counted in
`report.unsupported` by kind and skipped: cosmetic rules (`##`, `#@#`, `#?#`...), options by
name, regular expressions (`regex`), path patterns without a host (`path-only`), other
wildcards, `|` exact-start host anchors (`anchor`) and ports. Anything else is a bad line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from blocklists.canonical import canonical_host
from blocklists.formats import adblock_options
from blocklists.formats.common import (
    LOCAL_NAMES,
    NULL_ADDRESSES,
    ListEntry,
    ReadReport,
    as_address,
    below,
    looks_like_ip,
    numbered_lines,
)
from blocklists.formats.urls import split_url

_COSMETIC = re.compile(r"#@?[$%?]{0,2}#|\$@?\$")
_REGEX = re.compile(r"/.+/(\$.*)?")
# An unanchored pattern is read as a host (or host/path) only when it looks like one: a dotted
# name or an address; anything else (`-468x60_`, `.php?ad=`) is a substring rule.
_HOSTLIKE = re.compile(r"(\*\.)?[\w-]+(\.[\w-]+)+\.?")
_Found = list[ListEntry] | tuple[str, ...] | str


class _Rule:
    """One rule's result: entries (or unsupported names, or why it is bad), whether it is an
    important block, and its `$badfilter` identity."""

    __slots__ = ("badfilter", "found", "important", "key")

    def __init__(self, found: _Found, important: bool = False, key: str = "",
                 badfilter: bool = False) -> None:
        self.found, self.important, self.key, self.badfilter = found, important, key, badfilter


def read(path: Path, report: ReadReport) -> Iterator[ListEntry]:
    cancelled, important = _prescan(path)
    for lineno, raw in numbered_lines(path, report):
        line = raw.strip()
        if not line or line[0] == "!" or (line[0] == "[" and line[-1] == "]"):
            continue
        if _COSMETIC.search(line):
            report.unsupported["cosmetic"] += 1
            continue
        if line[0] == "#":
            continue
        rule = _rule(line)
        found = rule.found
        if isinstance(found, str):
            report.bad_line(lineno, raw, found)
            continue
        if rule.badfilter:
            report.kinds["badfilter"] += 1
            continue
        if isinstance(found, tuple):
            for name in found:
                report.unsupported[name] += 1
            continue
        if rule.key in cancelled:
            report.kinds["cancelled by badfilter"] += 1
            continue
        for entry in found:
            if entry.path == "" and entry.host == "" and entry.category:  # an address
                report.address(entry.category, allow=entry.allow,
                               important=rule.important and not entry.allow)
                continue
            if entry.allow and not rule.important and important and below(entry.host, important):
                report.kinds["allow beaten by important"] += 1
                continue
            report.entries += 1
            if rule.important and not entry.allow:
                entry = entry._replace(important=True)
                report.kinds["important"] += 1
            if entry.allow:
                report.kinds["allow"] += 1
            if entry.subdomains_only:
                report.kinds["subdomains_only"] += 1
            if entry.path:
                report.kinds["url"] += 1
            yield entry


def _prescan(path: Path) -> tuple[frozenset[str], frozenset[str]]:
    """What `$badfilter` rules cancel (their twins' keys) and the hosts of important blocks:
    a cheap first pass over the lines that mention either."""
    cancelled: set[str] = set()
    important: set[str] = set()
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        for raw in handle:
            if "$" not in raw or ("badfilter" not in raw and "important" not in raw):
                continue
            rule = _rule(raw.strip())
            if rule.badfilter:
                cancelled.add(rule.key)
            elif rule.important and isinstance(rule.found, list):
                important.update(e.host for e in rule.found if not e.allow and not e.path)
    return frozenset(cancelled), frozenset(important)


def _rule(line: str) -> _Rule:
    """The entries of one rule (an address entry is `ListEntry("", category=address)`), or the
    unsupported feature names, or why the line is bad."""
    allow = line.startswith("@@")
    body = line[2:] if allow else line
    if body.startswith("/") and _REGEX.fullmatch(body):
        return _Rule(("regex",))
    pattern, dollar, modifiers = body.rpartition("$") if "$" in body else (body, "", "")
    key = adblock_options.twin_key(allow, pattern, modifiers)
    important = match_case = False
    if dollar and pattern in ("", "*"):
        address = adblock_options.every_request_to(modifiers)
        if address is not None:  # `*$ipaddress=1.2.3.4`, `@@*$ipaddress=1.2.3.4`
            return _Rule([ListEntry("", allow=allow, category=address)],
                         "important" in modifiers.lower(), key)
    if dollar:
        opts = adblock_options.parse(modifiers)
        if isinstance(opts, str):
            return _Rule(opts)
        if opts.badfilter:
            return _Rule([], key=key, badfilter=True)
        if opts.unsupported:
            return _Rule(opts.unsupported, key=key)
        important, match_case = opts.important, opts.match_case
    if pattern.startswith("/"):
        return _Rule(("path-only",), key=key)
    return _Rule(_pattern(pattern, allow, match_case), important, key)


def _pattern(pattern: str, allow: bool, match_case: bool = False) -> _Found:
    fields = pattern.split("#", 1)[0].split() if " " in pattern or "\t" in pattern \
        else [pattern]
    if len(fields) > 1:
        return _hosts_line(fields)
    if not fields or not fields[0]:
        return "empty rule"
    core = fields[0]
    anchored = core.startswith("|")
    if core.startswith("||"):
        core = core[2:]
    elif core.startswith("|"):
        if "://" not in core:
            return ("anchor",)
        core = core[1:]
    core = core.removesuffix("|")
    address = as_address(core.removesuffix("^"))
    if address is not None:  # `1.2.3.4`, `||10.0.0.0/8^`
        return [ListEntry("", allow=allow, category=address)]
    scheme, sep, rest = core.partition("://")
    hostpart, slash, path = (rest if sep else core).partition("/")
    bare = hostpart.removesuffix("^")
    if not (anchored or _HOSTLIKE.fullmatch(bare) or as_address(bare) is not None):
        return ("substring",)  # `-468x60_`, `.php?ad=`: matched anywhere in a URL
    if slash and path.removesuffix("^"):
        found = _url_rule(core.removesuffix("^"), path.removesuffix("^"), allow, match_case)
        return found if anchored or not isinstance(found, str) else ("substring",)
    hostpart = hostpart.removesuffix("^")
    if sep and scheme not in ("http", "https", "*"):
        return ("scheme",)
    if hostpart.endswith("^"):
        return f"not a valid host name: {fields[0]!r}"
    if "^" in hostpart:  # `||host^*banner`: a separator, then anything
        return ("wildcard",)
    if hostpart.endswith((".", "-")) or ("*" in hostpart and not hostpart.startswith("*.")):
        return ("wildcard",)
    address = as_address(hostpart)
    if address is not None:
        return [ListEntry("", allow=allow, category=address)]
    if ":" in hostpart:
        return ("port",)
    subdomains_only = hostpart.startswith("*.")
    if subdomains_only:
        hostpart = hostpart[2:]
    if "*" in hostpart:
        return ("wildcard",)
    host = canonical_host(hostpart)
    if host is None:
        return f"not a valid host name: {fields[0]!r}" if anchored else ("substring",)
    return [ListEntry(host, allow=allow, subdomains_only=subdomains_only)]


def _url_rule(url: str, path: str, allow: bool, match_case: bool) -> _Found:
    """`example.com/a/b` (or with a scheme) as a URL entry, when a path prefix can say it.
    Without `$match-case` the path is lowercased: the proxy also looks up the lowercased
    request path (`CompiledList.lookup_url`), so it matches in any case, as in a browser."""
    if "*" in url or "^" in path:
        return ("wildcard",)
    found = split_url(url)
    if isinstance(found, str):
        return f"not a URL rule: {found}"
    host, canonical = found
    if "." not in host:  # `||cfd/file?a=`: every host of a top-level domain to the proxy
        return ("url-on-top-level-domain",)
    return [ListEntry(host, canonical if match_case else canonical.lower(), allow=allow)]


def _hosts_line(fields: list[str]) -> _Found:
    if fields[0] not in NULL_ADDRESSES and not looks_like_ip(fields[0]):
        return "expected one rule per line"
    out = []
    for name in fields[1:]:
        if name in LOCAL_NAMES:
            continue
        address = as_address(name)
        if address is not None:
            out.append(ListEntry("", category=address))
            continue
        host = canonical_host(name)
        if host is None:
            return f"not a valid host name: {name!r}"
        if host not in LOCAL_NAMES:
            out.append(ListEntry(host))
    return out
