"""Readers for list files, one entry point for every format.

`read_entries(path, fmt, report, mapping)` yields `ListEntry` values (host, path prefix, allow,
category, subdomains-only) for the compiler; `read_list(path, fmt, report)` yields only the
hosts of plain block entries, for callers that want names. Formats (`FORMATS`):

- `domains`: one domain per line, `#` comments; `*.name` is read as `name`.
- `hosts`: `0.0.0.0 name [name...]` lines; local names (`localhost`...) skipped.
- `adblock`: AdGuard/uBlock DNS syntax (`||d^`, `@@||d^`), see `blocklists.formats.adblock`.
- `rpz`: an RPZ zone file with QNAME triggers, see `blocklists.formats.rpz`.
- `ut1`: a UT1-style category directory plus a category mapping, see `blocklists.formats.ut1`.
- `urls`: one URL or host/path per line, see `blocklists.formats.urls`.
- `addresses`: one IP address or network per line, see `blocklists.formats.addresses`.
- `feed`: the synced hotline feed's `current.json`, see `blocklists.formats.feed`.

A bad line never fails a list: it is counted and reported as a `LineError` naming the file and
line, and reading goes on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from blocklists.formats import adblock, addresses, feed, plain, rpz, urls, ut1
from blocklists.formats.common import LineError, ListEntry, ReadReport

__all__ = ["FORMATS", "LineError", "ListEntry", "ReadReport", "read_entries", "read_list"]

FORMATS = ("domains", "hosts", "adblock", "rpz", "ut1", "urls", "addresses", "feed")


def read_entries(path: Path, fmt: str, report: ReadReport,
                 mapping: Path | Mapping[str, str] | None = None) -> Iterator[ListEntry]:
    """Yield the entries of `path` in format `fmt`; `mapping` is for `ut1` only (its file, or
    source category → Roja category)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown list format {fmt!r}")
    if fmt == "ut1":
        if mapping is None:
            raise ValueError("a ut1 list needs a category mapping")
        yield from ut1.read(path, report, mapping)
    elif fmt == "adblock":
        yield from adblock.read(path, report)
    elif fmt == "rpz":
        yield from rpz.read(path, report)
    elif fmt == "urls":
        yield from urls.read(path, report)
    elif fmt == "addresses":
        yield from addresses.read(path, report)
    elif fmt == "feed":
        yield from feed.read(path, report)
    else:
        for host in plain.read(path, fmt, report):
            yield ListEntry(host)


def read_list(path: Path, fmt: str, report: ReadReport,
              mapping: Path | Mapping[str, str] | None = None) -> Iterator[str]:
    """Yield canonical host names of the plain block entries of `path` (every format)."""
    for entry in read_entries(path, fmt, report, mapping):
        if not (entry.path or entry.allow or entry.subdomains_only):
            yield entry.host
