"""Readers for list files: plain domains and hosts files (v1).

A bad line never fails a list: it is counted and reported as a `LineError` naming the file and
line, and reading goes on. Each reader yields canonical host names.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from blocklists.canonical import canonical_host

log = logging.getLogger("roja.lists")

FORMATS = ("domains", "hosts")
_NULL_ADDRESSES = {"0.0.0.0", "127.0.0.1", "::", "::1", "0", "255.255.255.255"}
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "local", "broadcasthost",
                "ip6-localhost", "ip6-loopback", "0.0.0.0"}


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
    """What reading one file found: how many entries and which lines were skipped."""

    source: str
    entries: int = 0
    errors: list[LineError] = field(default_factory=list)
    error_count: int = 0

    def bad_line(self, lineno: int, text: str, why: str, keep: int = 50) -> None:
        self.error_count += 1
        if len(self.errors) < keep:
            err = LineError(self.source, lineno, text, why)
            self.errors.append(err)
            log.warning("list line skipped: %s", err)


def read_list(path: Path, fmt: str, report: ReadReport) -> Iterator[str]:
    """Yield canonical host names from `path` in format `fmt` (one of FORMATS)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown list format {fmt!r}")
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        for lineno, raw in enumerate(handle, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if fmt == "hosts":
                fields = line.split()
                if len(fields) < 2:
                    report.bad_line(lineno, raw.rstrip("\n"),
                                    "hosts line needs an address and a name")
                    continue
                if fields[0] not in _NULL_ADDRESSES and not _looks_like_ip(fields[0]):
                    report.bad_line(lineno, raw.rstrip("\n"), "first field is not an address")
                    continue
                names = fields[1:]
            else:
                names = line.split()
                if len(names) != 1:
                    report.bad_line(lineno, raw.rstrip("\n"), "expected one domain per line")
                    continue
            hosts = []
            for name in names:
                host = canonical_host(name[2:] if name.startswith("*.") else name)
                if host in _LOCAL_NAMES:  # canonical, so `LocalHost.` is skipped too
                    continue
                if host is None or ("." not in host and fmt == "hosts"):
                    report.bad_line(lineno, raw.rstrip("\n"), f"not a valid host name: {name!r}")
                    break
                hosts.append(host)
            else:  # a line counts whole: one bad name skips the line once
                report.entries += len(hosts)
                yield from hosts


def _looks_like_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
