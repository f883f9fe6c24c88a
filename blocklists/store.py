"""Turn the configured list files into the active compiled list, and keep it current.

`build_active(sources, state_dir)` compiles only when a source changed (fingerprint of path,
size and mtime of every file a source reads: a UT1 directory's files and its mapping too), in a
child process so that the DNS process never holds millions of temporary strings; the result
replaces the active file by atomic rename. A list that cannot be read keeps the last-known-good
compile active.

What the compiler stores per entry (`blocklists.formats.common.ListEntry`):

- a plain entry: its host, tagged `(list id, category)`; the entry's own category (UT1) wins
  over the list's;
- an allow entry inside a list (adblock `@@`, RPZ `rpz-passthru.`): tagged `<list id>@allow`,
  which the policy reads as an allow rule of that list;
- a subdomains-only entry (RPZ `*.name` alone): a tag flagged `subdomains_only`;
- a URL entry (non-empty path): not a DNS block; stored in the same file's URL part, for the
  proxy (`CompiledList.lookup_url`) and for steering (`CompiledList.has_url_entries`).

Shrink protection: a source with `max_shrink` (a share, default 0.5) whose entry count fell by
more than that share since the active compile is held back: the new compile is discarded, the
active one stays, and `ListShrunk` names each list with its old and new counts. Set
`max_shrink = 1.0` to accept any shrink.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from blocklists.compiled import CompiledList, Tag, compile_batches
from blocklists.formats import plain
from blocklists.readers import ReadReport, read_entries

log = logging.getLogger("roja.lists")
ACTIVE_NAME = "lists.compiled"
ALLOW_SUFFIX = "@allow"
PLAIN_FORMATS = ("domains", "hosts")  # read in batches by `blocklists.formats.plain`
BATCH = 65536  # hosts per batch handed to the compiler from the other readers


@dataclass(frozen=True)
class ListSource:
    """One configured list: a file (a directory for `ut1`), its format and default category."""

    id: str
    path: Path
    format: str
    category: str
    mapping: Path | None = None  # ut1: source category → Roja category
    max_shrink: float = 0.5
    # Also list `selftest_name(id)` under this list's tag, so `roja selftest` can check that the
    # running filter enforces this list without asking for any real harmful name.
    selftest: bool = False


SELFTEST_ZONE = "selftest.roja.test"  # RFC 6761 `.test`: never delegated, never on the Internet
# A URL list (format `urls`) carries its name as a URL entry instead: `<name>/roja-selftest/`
# is blocked by the proxy and every other path on that host is not.
SELFTEST_PATH = "/roja-selftest/"


def selftest_name(list_id: str) -> str:
    """The reserved test name that stands for list `list_id` (see `ListSource.selftest`)."""
    return f"{list_id.lower().replace('_', '-')}.{SELFTEST_ZONE}"


@dataclass
class CompileResult:
    compiled: CompiledList
    reports: list[ReadReport]
    reused: bool


class ListShrunk(Exception):  # noqa: N818 -- the name says what happened; it is not a bug
    """A list shrank by more than its `max_shrink`; the active compile at `kept` stays."""

    def __init__(self, shrunk: list[tuple[str, int, int]], kept: Path) -> None:
        self.shrunk = shrunk
        self.kept = kept
        parts = [f"list {lid!r} shrank from {old} to {new} entries" for lid, old, new in shrunk]
        super().__init__("; ".join(parts) + f"; the last-known-good compile {kept} stays active")


def _files(source: ListSource) -> list[Path]:
    files = sorted(p for p in source.path.rglob("*") if p.is_file()) \
        if source.path.is_dir() else [source.path]
    return files + ([source.mapping] if source.mapping is not None else [])


def fingerprint(sources: list[ListSource]) -> str:
    parts: list[object] = []
    for s in sources:
        parts.append([s.id, str(s.path), s.format, s.category, s.selftest])
        for path in _files(s):
            st = path.stat()
            parts.append([str(path), st.st_size, st.st_mtime_ns])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def list_sizes(compiled: CompiledList) -> dict[str, int]:
    """Entries per list id, allow and URL entries included (`x@allow` counts for `x`)."""
    out: dict[str, int] = {}
    for list_id, n in compiled.counts_by_list().items():
        base = list_id.removesuffix(ALLOW_SUFFIX)
        out[base] = out.get(base, 0) + n
    return out


def compile_sources(sources: list[ListSource], out: Path, fp: str) -> list[ReadReport]:
    """Read every source and write the compiled file to `out` (runs in any process)."""
    reports = [ReadReport(str(s.path)) for s in sources]
    urls: list[tuple[str, str, Tag]] = []

    def batches() -> Iterator[tuple[list[str], Tag]]:
        for source, report in zip(sources, reports, strict=True):
            if source.selftest and source.format == "urls":  # the proxy decides these
                urls.append((selftest_name(source.id), SELFTEST_PATH,
                             Tag(source.id, source.category)))
            elif source.selftest:
                yield [selftest_name(source.id)], Tag(source.id, source.category)
            if source.format in PLAIN_FORMATS:  # hosts only, one tag: straight to the compiler
                list_tag = Tag(source.id, source.category)
                for hosts in plain.read_batches(source.path, source.format, report):
                    yield hosts, list_tag
                continue
            tags: dict[tuple[bool, str, bool], Tag] = {}
            run: list[str] = []
            run_tag: Tag | None = None
            for e in read_entries(source.path, source.format, report, source.mapping):
                flags = (e.allow, e.category, e.subdomains_only)
                tag = tags.get(flags)
                if tag is None:
                    tag = tags[flags] = Tag(source.id + ALLOW_SUFFIX if e.allow else source.id,
                                            e.category or source.category, e.subdomains_only)
                if e.path:
                    urls.append((e.host, e.path, tag))
                    continue
                if tag is not run_tag or len(run) >= BATCH:
                    if run and run_tag is not None:
                        yield run, run_tag
                    run, run_tag = [], tag
                run.append(e.host)
            if run and run_tag is not None:
                yield run, run_tag

    compile_batches(batches(), out, meta={"fingerprint": fp,
                                          "lists": {s.id: str(s.path) for s in sources}},
                    urls=urls)
    return reports


def _child(sources: list[ListSource], out: str, fp: str,
           conn: multiprocessing.connection.Connection) -> None:
    try:
        reports = compile_sources(sources, Path(out), fp)
        conn.send(("ok", reports))
    except Exception as exc:  # reported to the parent, which keeps the old list
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _shrunk(sources: list[ListSource], old: dict[str, int],
            new: dict[str, int]) -> list[tuple[str, int, int]]:
    out = []
    for s in sources:
        before, after = old.get(s.id, 0), new.get(s.id, 0)
        if before and after < before * (1.0 - s.max_shrink):
            out.append((s.id, before, after))
    return out


def build_active(sources: list[ListSource], state_dir: Path) -> CompileResult:
    """Compile `sources` into `state_dir/lists.compiled` unless it is already current.

    Raises `ListShrunk` (the active file unchanged) when a list shrank too much."""
    state_dir.mkdir(parents=True, exist_ok=True)
    active = state_dir / ACTIVE_NAME
    fp = fingerprint(sources)
    previous: dict[str, int] = {}
    if active.exists():
        try:
            current = CompiledList(active)
            if current.meta.get("fingerprint") == fp:
                return CompileResult(current, [], reused=True)
            previous = list_sizes(current)
            current.close()
        except (ValueError, OSError) as exc:
            log.warning("compiled list cannot be used (%s); recompiling", exc)
    staging = state_dir / (ACTIVE_NAME + ".new")
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(sources, str(staging), fp, child), daemon=True)
    proc.start()
    child.close()
    try:
        status, payload = parent.recv()
    except EOFError:
        status, payload = "error", "the list compiler stopped unexpectedly"
    proc.join()
    if status != "ok":
        raise RuntimeError(payload)
    staged = CompiledList(staging)
    shrunk = _shrunk(sources, previous, list_sizes(staged))
    staged.close()
    if shrunk:
        staging.unlink()
        error = ListShrunk(shrunk, active)
        log.warning("%s", error)
        raise error
    os.replace(staging, active)
    return CompileResult(CompiledList(active), list(payload), reused=False)
