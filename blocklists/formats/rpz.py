"""RPZ zone files (Response Policy Zones, as published by threat-intelligence feeds).

Understood QNAME triggers, each relative to the zone's origin (`$ORIGIN`, or the owner of the
first SOA record when there is no `$ORIGIN`), which is stripped:

| record                         | entry                                             |
|--------------------------------|---------------------------------------------------|
| `bad.example CNAME .`          | block (RPZ: NXDOMAIN)                             |
| `bad.example CNAME *.`         | block (RPZ: NODATA), counted as `nodata`          |
| `bad.example CNAME rpz-drop.`  | block, counted as `drop`                          |
| `ok.example CNAME rpz-passthru.` | allow (the compiler tags it `<list>@allow`)     |
| `*.bad.example CNAME .`        | block the subdomains of `bad.example` only        |

Roja's matching covers subdomains, so `name` alone already blocks `*.name` too; a lone
`*.name` is kept as a subdomains-only entry (`ListEntry.subdomains_only`), which the compiler
stores as its own tag, so `name` itself stays open as in RPZ.

Counted in `report.unsupported` and skipped: `rpz-ip`, `rpz-nsdname`, `rpz-nsip` and
`rpz-client-ip` triggers, local-data actions (`A`, `TXT`, a CNAME to a walled garden: counted
as `local-data`), `rpz-tcp-only.`, a wildcard for the whole zone, and `$INCLUDE`/`$GENERATE`.
The SOA and NS records of the apex are zone structure and skipped silently. The parser works
line by line (joining parenthesised records), so a bad line is counted with its line number and
reading goes on; dnspython's zone parser stops at the first error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from blocklists.canonical import canonical_host
from blocklists.formats.common import ListEntry, ReadReport, numbered_lines

_CLASSES = frozenset({"IN", "CH", "HS", "CS"})
_TTL = re.compile(r"(?:\d+[smhdwSMHDW]?)+")
_TYPES = frozenset({
    "A", "AAAA", "CAA", "CNAME", "DNAME", "DNSKEY", "DS", "HINFO", "HTTPS", "LOC", "MX",
    "NAPTR", "NS", "NSEC", "NSEC3", "PTR", "RRSIG", "SOA", "SPF", "SRV", "SSHFP", "SVCB",
    "TLSA", "TXT", "URI",
})
_GENERIC_TYPE = re.compile(r"TYPE\d{1,5}")
_OTHER_TRIGGERS = frozenset({"rpz-ip", "rpz-nsdname", "rpz-nsip", "rpz-client-ip"})
_MAX_TOKENS = 64  # a parenthesised record longer than this lost its ')': resynchronise
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|;.*|[()]|[^\s;()"]+')
# CNAME target → (allow, kind counted in report.kinds) or None for unsupported actions.
_ACTIONS: dict[str, tuple[bool, str]] = {
    ".": (False, "nxdomain"), "*.": (False, "nodata"), "rpz-drop.": (False, "drop"),
    "rpz-passthru.": (True, "allow"),
}


def read(path: Path, report: ReadReport) -> Iterator[ListEntry]:
    origin = ""  # absolute, lower case, with its trailing dot; "" while unknown
    owner = ""
    for lineno, raw, indented, tokens in _records(path, report):
        if tokens[0].startswith("$"):
            directive = tokens[0].upper()
            if directive == "$ORIGIN" and len(tokens) == 2:
                origin = _absolute(tokens[1], origin)
            elif directive == "$TTL" and len(tokens) == 2 and _TTL.fullmatch(tokens[1]):
                pass
            elif directive in ("$INCLUDE", "$GENERATE"):
                report.unsupported[directive] += 1
            else:
                report.bad_line(lineno, raw, f"unknown or malformed directive {tokens[0]}")
            continue
        if not indented:
            owner = _absolute(tokens[0], origin)
            tokens = tokens[1:]
        elif not owner:
            report.bad_line(lineno, raw, "record without an owner name")
            continue
        for _ in range(2):  # [ttl] [class] in either order
            if tokens and (tokens[0].upper() in _CLASSES or _TTL.fullmatch(tokens[0])):
                tokens = tokens[1:]
        if not tokens:
            report.bad_line(lineno, raw, "record without a type")
            continue
        rtype, rdata = tokens[0].upper(), tokens[1:]
        if rtype not in _TYPES and not _GENERIC_TYPE.fullmatch(rtype):
            report.bad_line(lineno, raw, f"unknown record type {tokens[0]!r}")
            continue
        if rtype == "SOA" and not origin and owner.endswith("."):
            origin = owner
        if owner == origin and rtype in ("SOA", "NS"):
            continue
        entry = _entry(owner, origin, rtype, rdata, report)
        if isinstance(entry, str):
            report.bad_line(lineno, raw, entry)
        elif entry is not None:
            report.entries += 1
            yield entry


def _entry(owner: str, origin: str, rtype: str, rdata: list[str],
           report: ReadReport) -> ListEntry | str | None:
    """The entry of one record, None when unsupported (and counted), or why it is bad."""
    if not origin:
        name = owner.rstrip(".")
    elif owner.endswith("." + origin):
        name = owner[:-len(origin) - 1]
    else:
        return f"owner name {owner!r} is outside the zone {origin!r}"
    if name.rsplit(".", 1)[-1] in _OTHER_TRIGGERS:
        report.unsupported[name.rsplit(".", 1)[-1]] += 1
        return None
    if rtype != "CNAME":
        report.unsupported["local-data"] += 1
        return None
    if len(rdata) != 1:
        return "a CNAME needs exactly one target"
    action = _ACTIONS.get(rdata[0].lower())
    if action is None:
        report.unsupported["rpz-tcp-only" if rdata[0].lower() == "rpz-tcp-only."
                           else "local-data"] += 1
        return None
    allow, kind = action
    subdomains_only = name.startswith("*.")
    if name == "*":
        report.unsupported["zone-wide wildcard"] += 1
        return None
    host = canonical_host(name[2:] if subdomains_only else name)
    if host is None:
        return f"not a valid trigger name: {name!r}"
    report.kinds[kind] += 1
    if subdomains_only:
        report.kinds["subdomains_only"] += 1
    return ListEntry(host, allow=allow, subdomains_only=subdomains_only)


def _absolute(name: str, origin: str) -> str:
    name = name.lower()
    if name == "@":
        return origin
    if name.endswith("."):
        return name
    return f"{name}.{origin}" if origin else name + "."


def _records(path: Path, report: ReadReport) -> Iterator[tuple[int, str, bool, list[str]]]:
    """(first line number, first line, owner omitted, tokens) per record; `( ... )` joined."""
    depth = 0
    start, first, indented, tokens = 0, "", False, []
    for lineno, raw in numbered_lines(path, report):
        if '"' in raw:
            found = []
            for tok in _TOKENS.findall(raw):
                if tok.startswith(";"):
                    break
                found.append(tok)
            opened = found.count("(") - found.count(")")
            words = [t for t in found if t not in ("(", ")")]
        else:
            body = raw.split(";", 1)[0]
            opened = body.count("(") - body.count(")")
            words = body.replace("(", " ").replace(")", " ").split()
        if depth == 0:
            if not words:
                continue
            start, first, indented, tokens = lineno, raw, raw[:1] in (" ", "\t"), words
        else:
            tokens.extend(words)
        depth += opened
        if depth > 0 and len(tokens) > _MAX_TOKENS:
            report.bad_line(start, first, "'(' is not closed within a record")
            depth = 0
        elif depth < 0:
            report.bad_line(lineno, raw, "unbalanced ')'")
            depth = 0
        elif depth == 0:
            yield start, first, indented, tokens
    if depth > 0:
        report.bad_line(start, first, "'(' is never closed")
