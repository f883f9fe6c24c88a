"""Plain lists: `domains` (one domain a line, `#` comments, `*.name` read as `name`) and
`hosts` files (`0.0.0.0 name [name...]`, local names such as `localhost` skipped).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from blocklists.canonical import canonical_host
from blocklists.formats.common import (
    LOCAL_NAMES,
    NULL_ADDRESSES,
    ReadReport,
    looks_like_ip,
    numbered_lines,
)


def read(path: Path, fmt: str, report: ReadReport) -> Iterator[str]:
    src = str(path)
    for lineno, raw in numbered_lines(path):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if fmt == "hosts":
            fields = line.split()
            if len(fields) < 2:
                report.bad_line(lineno, raw, "hosts line needs an address and a name", source=src)
                continue
            if fields[0] not in NULL_ADDRESSES and not looks_like_ip(fields[0]):
                report.bad_line(lineno, raw, "first field is not an address", source=src)
                continue
            names = fields[1:]
        else:
            names = line.split()
            if len(names) != 1:
                report.bad_line(lineno, raw, "expected one domain per line", source=src)
                continue
        hosts = []
        for name in names:
            host = canonical_host(name[2:] if name.startswith("*.") else name)
            if host in LOCAL_NAMES:  # canonical, so `LocalHost.` is skipped too
                continue
            if host is None or ("." not in host and fmt == "hosts"):
                report.bad_line(lineno, raw, f"not a valid host name: {name!r}", source=src)
                break
            hosts.append(host)
        else:  # a line counts whole: one bad name skips the line once
            report.entries += len(hosts)
            yield from hosts

