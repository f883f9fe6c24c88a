"""Turn the configured list files into the active compiled list, and keep it current.

`build_active(sources, state_dir)` compiles only when a source file changed (fingerprint of
path, size and mtime), in a child process so that the DNS process never holds millions of
temporary strings; the result replaces the active file by atomic rename. A list that cannot
be read keeps the last-known-good compile active.
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

from blocklists.compiled import CompiledList, Tag, compile_entries
from blocklists.readers import ReadReport, read_list

log = logging.getLogger("roja.lists")
ACTIVE_NAME = "lists.compiled"


@dataclass(frozen=True)
class ListSource:
    """One configured list file."""

    id: str
    path: Path
    format: str
    category: str


@dataclass
class CompileResult:
    compiled: CompiledList
    reports: list[ReadReport]
    reused: bool


def fingerprint(sources: list[ListSource]) -> str:
    parts = []
    for s in sources:
        st = s.path.stat()
        parts.append([s.id, str(s.path), s.format, s.category, st.st_size, st.st_mtime_ns])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def compile_sources(sources: list[ListSource], out: Path, fp: str) -> list[ReadReport]:
    """Read every source and write the compiled file to `out` (runs in any process)."""
    reports = [ReadReport(str(s.path)) for s in sources]

    def entries() -> Iterator[tuple[str, Tag]]:
        for source, report in zip(sources, reports, strict=True):
            tag = Tag(source.id, source.category)
            for host in read_list(source.path, source.format, report):
                yield host, tag

    compile_entries(entries(), out, meta={"fingerprint": fp,
                                          "lists": {s.id: str(s.path) for s in sources}})
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


def build_active(sources: list[ListSource], state_dir: Path) -> CompileResult:
    """Compile `sources` into `state_dir/lists.compiled` unless it is already current."""
    state_dir.mkdir(parents=True, exist_ok=True)
    active = state_dir / ACTIVE_NAME
    fp = fingerprint(sources)
    if active.exists():
        try:
            current = CompiledList(active)
            if current.meta.get("fingerprint") == fp:
                return CompileResult(current, [], reused=True)
            current.close()
        except (ValueError, OSError):
            log.warning("compiled list %s is damaged; recompiling", active)
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
    os.replace(staging, active)
    return CompileResult(CompiledList(active), list(payload), reused=False)
