"""Reader for the synced hotline feed (`state_dir/feed/current.json`, see `blocklists.sync`).

Yields the non-confidential entries with their own hotline category: `host` entries block the
host, `host/path` entries are URL-level; an address or network (`203.0.113.9`,
`198.51.100.0/24`) is an address entry (`ReadReport.addresses`), never a host or a URL.
Confidential entries (`sha256` only) are not list entries at all: they go to the hashed set
(`blocklists.confidential`), never through here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from blocklists.canonical import canonical_host
from blocklists.formats.common import ListEntry, ReadReport


def read(path: Path, report: ReadReport) -> Iterator[ListEntry]:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["entries"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        report.bad_line(1, "", f"not a synced feed file ({type(exc).__name__})")
        return
    for lineno, entry in enumerate(entries, 1):
        value = entry.get("value") if isinstance(entry, dict) else None
        if not isinstance(value, str):
            continue  # confidential: hashed elsewhere
        if report.address(value):
            continue
        host_text, slash, rest = value.partition("/")
        host = canonical_host(host_text)
        if host is None:
            report.bad_line(lineno, value, "not a valid host")
            continue
        report.entries += 1
        yield ListEntry(host, "/" + rest if slash else "", category=str(entry.get("category", "")))


def confidential_digests(path: Path) -> list[tuple[bytes, str]]:
    """(digest, category) of the confidential entries of a synced feed file; ValueError when
    the file is damaged (the caller keeps the last-known-good set)."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["entries"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a synced feed file ({type(exc).__name__})") from None
    out = []
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("sha256"), str):
            try:
                out.append((bytes.fromhex(entry["sha256"]), str(entry.get("category", "csam"))))
            except ValueError:
                continue
    return out
