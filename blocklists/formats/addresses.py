"""Address lists: one IP address or network a line (`192.0.2.7`, `10.0.0.0/8`,
`2001:db8::/32`), `#` comments (also after an entry). Host bits of a network are cleared
(`10.1.2.3/8` is `10.0.0.0/8`). Each line is an address entry (`ReadReport.addresses`), which
the resolver checks DNS answers against and the proxy its destinations (`policy.address_lists`);
anything else is a bad line, reported with its file and line number.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from blocklists.formats.common import ListEntry, ReadReport, numbered_lines


def read(path: Path, report: ReadReport) -> Iterator[ListEntry]:
    """Yields nothing (no names): the addresses go to `report.addresses`."""
    for lineno, raw in numbered_lines(path, report):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not report.address(line):
            report.bad_line(lineno, raw, "nuk është adresë IP ose rrjet / not an IP address "
                            "or network", source=str(path))
    yield from ()
