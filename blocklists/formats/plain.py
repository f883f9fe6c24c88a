"""Plain lists: `domains` (one domain a line, `#` comments, `*.name` read as `name`) and
`hosts` files (`0.0.0.0 name [name...]`, local names such as `localhost` skipped). An IP
address or network where a name belongs (`1.2.3.4`, `0.0.0.0 10.0.0.0/8`) is an address entry
(`ReadReport.addresses`), never a name.

Lists of millions of lines are read a chunk (about 1 MiB) at a time, in the cheapest way that
gives the same result:

1. a chunk whose lines are all canonical names already (`domains`), or all `0.0.0.0 name` or
   all `127.0.0.1 name` (`hosts`), is checked with a handful of C-level string operations (only
   allowed characters, no empty label, no label that starts or ends with `-`, length limits)
   and split;
2. else, when its other lines are only blank or comments, one regex call finds the names;
3. else it is read line by line with the full rules.

The names, the counts and the bad-line reports (file and line number) are the same either way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from blocklists.canonical import ASCII_HOST, LABEL, canonical_host
from blocklists.formats.common import (
    LOCAL_NAMES,
    MAX_LINE,
    NULL_ADDRESSES,
    ReadReport,
    long_line,
    looks_like_ip,
    too_long,
)

CHUNK = 1 << 20  # characters read at a time (then up to the end of the line)
_FAST = {
    "domains": re.compile(rf"^({LABEL}(?:\.{LABEL})*)$", re.MULTILINE),
    # A hosts name needs a dot; `localhost.localdomain` and `0.0.0.0` are filtered afterwards.
    "hosts": re.compile(rf"^(?:0\.0\.0\.0|127\.0\.0\.1)[ \t]+({LABEL}(?:\.{LABEL})+)[ \t]*$",
                        re.MULTILINE),
}
# Lines that hold nothing: blank, or only a comment (each ends with its newline).
_EMPTY = re.compile(r"^[ \t]*(?:#[^\n]*)?\n", re.MULTILINE)
_HOST_BYTES = b"abcdefghijklmnopqrstuvwxyz0123456789_-.\n"
_NEWLINE_AS_DOT = bytes.maketrans(b"\n", b".")
# With a newline before the first line and newlines read as dots: an empty line or label, a
# label ending or starting with "-" (with only _HOST_BYTES present, these are all the ways a
# line is not a canonical name, apart from its length).
_NOT_CANONICAL = (b"..", b"-.", b".-")
_HOSTS_PREFIXES = ("\n0.0.0.0 ", "\n127.0.0.1 ")
# A line ending in a numeric label (`1.2.3.4`, `0.0.0.0 10.0.0.0/8`) or with a `:` (IPv6):
# an address, read by the full rules (a top-level domain is never all digits).
_ADDRESS_LINE = re.compile(r"\.[0-9]+(?:/[0-9]+)?[ \t]*$|:", re.MULTILINE)


def read(path: Path, fmt: str, report: ReadReport) -> Iterator[str]:
    """The canonical hosts of a `domains` or `hosts` file, in file order."""
    for batch in read_batches(path, fmt, report):
        yield from batch


def read_batches(path: Path, fmt: str, report: ReadReport) -> Iterator[list[str]]:
    """`read`, a list of hosts per chunk of the file (for the compiler)."""
    src = str(path)
    fast = _FAST["hosts" if fmt == "hosts" else "domains"]
    lineno = 0  # lines before this chunk
    # Text mode reads "\r\n" and "\r" as "\n", as iterating over the file's lines would.
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        while chunk := handle.read(CHUNK):
            if not chunk.endswith("\n"):  # finish the last line (or the file), at most
                rest = handle.readline(MAX_LINE + 1)  # MAX_LINE more: a longer one is
                chunk += rest + "\n" * too_long(handle, rest)  # cut here, then rejected
            lines = chunk.count("\n") + (not chunk.endswith("\n"))
            fast_ok = _ADDRESS_LINE.search(chunk) is None
            hosts = _all_names(chunk if chunk.endswith("\n") else chunk + "\n", fmt) \
                if fast_ok else None
            if hosts is None and fast_ok:
                hosts = fast.findall(chunk)
                if not (hosts and len(hosts) + len(_EMPTY.findall(chunk)) == lines
                        and max(map(len, hosts)) <= 253):
                    hosts = None
            if hosts is not None:
                if not LOCAL_NAMES.isdisjoint(hosts):
                    hosts = [host for host in hosts if host not in LOCAL_NAMES]
                report.entries += len(hosts)
            else:
                hosts = _read_lines(chunk.split("\n")[:lines], lineno, fmt, report, src)
            lineno += lines
            if hosts:
                yield hosts


def _all_names(text: str, fmt: str) -> list[str] | None:
    """The names of `text` (whole lines, ending with a newline) when every line is a canonical
    name (`domains`) or every line is `0.0.0.0 name` or every line `127.0.0.1 name` with a
    canonical name that has a dot (`hosts`); else None. Local names are not removed here."""
    framed = "\n" + text
    if fmt == "hosts":
        lines = text.count("\n")
        for prefix in _HOSTS_PREFIXES:
            if framed.count(prefix) == lines:
                framed = framed.replace(prefix, "\n")  # one pass: no new prefix can appear
                break
        else:
            return None
    if not framed.isascii():
        return None
    raw = framed.encode("ascii")
    if raw.translate(None, _HOST_BYTES):
        return None
    dotted = raw.translate(_NEWLINE_AS_DOT)
    if any(bad in dotted for bad in _NOT_CANONICAL):
        return None
    names = framed[1:-1].split("\n")
    if max(map(len, names)) > 63:  # a label may be too long: check the long names in full
        for name in names:
            if len(name) > 63 and not (len(name) <= 253 and ASCII_HOST.fullmatch(name)):
                return None
    if fmt == "hosts" and not all("." in name for name in names):
        return None
    return names


def _read_lines(lines: list[str], lineno: int, fmt: str, report: ReadReport,
                src: str) -> list[str]:
    """The full rules, line by line (`lineno`: the number of lines before `lines`)."""
    out: list[str] = []
    for n, raw in enumerate(lines, lineno + 1):
        if len(raw) > MAX_LINE:
            long_line(report, n, raw, src)
            continue
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if fmt == "hosts":
            fields = line.split()
            if len(fields) < 2:
                report.bad_line(n, raw, "hosts line needs an address and a name", source=src)
                continue
            if fields[0] not in NULL_ADDRESSES and not looks_like_ip(fields[0]):
                report.bad_line(n, raw, "first field is not an address", source=src)
                continue
            names = fields[1:]
        else:
            names = line.split()
            if len(names) != 1:
                report.bad_line(n, raw, "expected one domain per line", source=src)
                continue
        hosts = []
        for name in names:
            if name not in LOCAL_NAMES and report.address(name):
                continue
            host = canonical_host(name[2:] if name.startswith("*.") else name)
            if host in LOCAL_NAMES:  # canonical, so `LocalHost.` is skipped too
                continue
            if host is None or ("." not in host and fmt == "hosts"):
                report.bad_line(n, raw, f"not a valid host name: {name!r}", source=src)
                break
            hosts.append(host)
        else:  # a line counts whole: one bad name skips the line once
            report.entries += len(hosts)
            out.extend(hosts)
    return out
