"""What every reader shares: the entry it yields, the report it fills, and line iteration.

A `ListEntry` is one listed thing: a canonical host, optionally a path prefix (a URL-level
entry, which DNS never blocks by itself), whether it allows instead of blocks (adblock `@@`,
RPZ `rpz-passthru.`), the category it carries (UT1 directories; empty: the list's own), and
whether it lists only the subdomains of `host` (an RPZ `*.name` trigger without `name`).
"""

from __future__ import annotations

import ipaddress
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, TextIO

log = logging.getLogger("roja.lists")
MAX_LINE = 4096  # characters: a longer line is rejected without being read whole
MAX_QUOTE = 200  # bytes of a bad line (and of its reason) kept and logged

NULL_ADDRESSES = frozenset({"0.0.0.0", "127.0.0.1", "::", "::1", "0", "255.255.255.255"})
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "local", "broadcasthost",
                         "ip6-localhost", "ip6-loopback", "0.0.0.0"})


class ListEntry(NamedTuple):
    host: str
    path: str = ""
    allow: bool = False
    category: str = ""
    subdomains_only: bool = False
    important: bool = False  # adblock `$important` on a block: other lists' `@@` do not open it


@dataclass(frozen=True)
class LineError:
    source: str
    lineno: int
    text: str
    why: str

    def __str__(self) -> str:
        return f"{self.source}:{self.lineno}: {self.why}: {self.text[:80]!r}"


@dataclass
class ReadReport:
    """What reading one list found: entries, skipped lines, and what was not understood.

    `unsupported` counts rules that are valid in their format but that Roja cannot apply, by
    name (`third-party`, `dnstype`, `cosmetic`, `rpz-ip`, `local-data`, ...); `kinds` counts
    notable entry kinds (`allow`, `nodata`, `url`, `subdomains_only`); `unmapped` names the
    source categories of a UT1 directory that the mapping does not cover (skipped).
    """

    source: str
    entries: int = 0
    errors: list[LineError] = field(default_factory=list)
    error_count: int = 0
    unsupported: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    unmapped: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)  # IPs and networks, canonical text
    allow_addresses: list[str] = field(default_factory=list)  # adblock `@@` address exceptions
    important_addresses: list[str] = field(default_factory=list)  # `||1.2.3.4^$important`

    def bad_line(self, lineno: int, text: str, why: str, keep: int = 50, *,
                 source: str | None = None) -> None:
        """Count a skipped line; keep (and log) the first `keep`, each quoted in at most
        MAX_QUOTE bytes."""
        self.error_count += 1
        if len(self.errors) < keep:
            err = LineError(source or self.source, lineno, clip(text), clip(why))
            self.errors.append(err)
            log.warning("list line skipped: %s", err)

    def address(self, text: str, allow: bool = False, important: bool = False) -> bool:
        """If `text` is an IP address or network, keep it (canonical text) and say so;
        `allow`: an exception (`@@||1.2.3.4^`), kept in `allow_addresses`; `important`: an
        `$important` block, kept in `important_addresses`."""
        found = as_address(text)
        if found is None:
            return False
        kind = "allow address" if allow else "important address" if important else "address"
        {"allow address": self.allow_addresses, "important address": self.important_addresses,
         "address": self.addresses}[kind].append(found)
        self.kinds[kind] += 1
        return True

    def summary(self) -> str:
        """One log line: `12 entries (2 URL), 3 addresses, 2 bad lines skipped,
        unsupported: dnstype 3`."""
        parts = [f"{self.entries} entries" + (f" ({self.kinds['url']} URL)"
                                               if self.kinds["url"] else "")]
        if self.addresses:
            parts.append(f"{len(self.addresses)} addresses")
        if self.error_count:
            parts.append(f"{self.error_count} bad lines skipped")
        if self.unsupported:
            parts.append("unsupported: " + ", ".join(
                f"{name} {n}" for name, n in sorted(self.unsupported.items())))
        if self.unmapped:
            parts.append("unmapped categories: " + ", ".join(self.unmapped))
        return ", ".join(parts)


def clip(text: str, limit: int = MAX_QUOTE) -> str:
    """`text` cut to at most `limit` bytes of UTF-8 (`…` marks a cut)."""
    data = text[:limit + 1].encode()
    if len(text) <= limit and len(data) <= limit:
        return text
    return data[:limit - 3].decode("utf-8", "ignore") + "…"


def too_long(handle: TextIO, start: str) -> bool:
    """After a `readline(MAX_LINE + 1)` that gave `start`: is the line longer than MAX_LINE?
    If so its rest is read and dropped a piece at a time (it is never held whole)."""
    if len(start) <= MAX_LINE or start.endswith(("\n", "\r")):
        return False
    while (part := handle.readline(1 << 16)) and not part.endswith(("\n", "\r")):
        pass
    return True


def long_line(report: ReadReport, lineno: int, start: str, source: str | None = None) -> None:
    report.bad_line(lineno, start, f"rresht më i gjatë se {MAX_LINE} shkronja / line longer "
                    f"than {MAX_LINE} characters", source=source)


def numbered_lines(path: Path, report: ReadReport) -> Iterator[tuple[int, str]]:
    """(line number, line without its newline); bytes that are not UTF-8 become U+FFFD. A line
    longer than MAX_LINE is reported to `report` and skipped."""
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        lineno = 0
        while raw := handle.readline(MAX_LINE + 1):
            lineno += 1
            if too_long(handle, raw):
                long_line(report, lineno, raw, str(path))
                continue
            yield lineno, raw.rstrip("\r\n")


def as_address(text: str) -> str | None:
    """`1.2.3.4`, `2001:DB8::1`, `10.1.2.0/24` (host bits are cleared) → canonical text; else
    None. A list's address entry, never a host name."""
    if not text or not (text[0].isdigit() or ":" in text):
        return None
    try:
        if "/" in text:
            return str(ipaddress.ip_network(text, strict=False))
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def below(host: str, names: frozenset[str]) -> bool:
    """Is `host` one of `names` or a subdomain of one?"""
    labels = host.split(".")
    return any(".".join(labels[i:]) in names for i in range(len(labels)))


def looks_like_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
