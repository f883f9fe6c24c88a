"""UT1-style category directories (the Université Toulouse 1 Capitole blacklists and the
squidGuard layout): `<dir>/<category>/domains` (one domain a line) and `<dir>/<category>/urls`
(host/path a line), plus a mapping from source categories to Roja categories.

The mapping is a small file of `source_category = roja_category` lines (`#` comments; quotes
optional, so a quoted file is also valid TOML), e.g. `adult = "pornography"`. Roja categories
are the filtering ids of reference.md (`ROJA_CATEGORIES`). Source categories that the mapping
does not name are skipped and listed in `report.unmapped`; every entry carries its mapped
category. Other files in a category directory (`usage`, `expressions`) are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from blocklists.formats import plain, urls
from blocklists.formats.common import ListEntry, ReadReport, numbered_lines

ROJA_CATEGORIES = frozenset({
    "discrimination", "drugs", "extremism", "gambling", "malware", "pornography", "piracy",
    "self_harm", "violence", "social_media", "ads_trackers",
})
_MAPPING_LINE = re.compile(r"""\s*([A-Za-z0-9_.-]+)\s*=\s*(["']?)([A-Za-z0-9_]+)\2\s*""")


def read_mapping(path: Path, report: ReadReport) -> dict[str, str]:
    """Parse a mapping file; bad lines are counted in `report` with the mapping's file:line."""
    out: dict[str, str] = {}
    for lineno, raw in numbered_lines(path, report):
        line = raw.split("#", 1)[0]
        if not line.strip():
            continue
        found = _MAPPING_LINE.fullmatch(line)
        if found is None:
            report.bad_line(lineno, raw, "expected `source_category = roja_category`",
                            source=str(path))
        elif found.group(3) not in ROJA_CATEGORIES:
            report.bad_line(lineno, raw, f"{found.group(3)!r} is not a Roja category "
                            f"(accepted: {', '.join(sorted(ROJA_CATEGORIES))})",
                            source=str(path))
        else:
            out[found.group(1)] = found.group(3)
    return out


def read(path: Path, report: ReadReport,
         mapping: Path | Mapping[str, str]) -> Iterator[ListEntry]:
    table = read_mapping(mapping, report) if isinstance(mapping, Path) else dict(mapping)
    for folder in sorted(p for p in path.iterdir() if p.is_dir()):
        category = table.get(folder.name)
        if category is None:
            report.unmapped.append(folder.name)
            continue
        domains = folder / "domains"
        if domains.is_file():
            for host in plain.read(domains, "domains", report):
                yield ListEntry(host, category=category)
        if (folder / "urls").is_file():
            yield from urls.read(folder / "urls", report, category)
