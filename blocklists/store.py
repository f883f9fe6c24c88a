"""Turn the configured list files into the active compiled list, and keep it current.

`build_active(sources, state_dir)` compiles only when a source changed (fingerprint of path,
size and mtime of every file a source reads: a UT1 directory's files and its mapping too), in a
child process so that the DNS process never holds millions of temporary strings; the result
replaces the active file by atomic rename. A list that cannot be read keeps the last-known-good
compile active.

What the compiler stores per entry (`blocklists.formats.common.ListEntry`):

- a plain entry: its host, tagged `(list id, category)`; the entry's own category (UT1) wins
  over the list's;
- an allow entry inside a list (adblock `@@`, RPZ `rpz-passthru.`; `@@||1.2.3.4^` too): tagged
  `<list id>@allow`, an allow rule of that list; `$important`: `<list id>@important`;
- a subdomains-only entry (RPZ `*.name` alone): a tag flagged `subdomains_only`;
- a URL entry (non-empty path): stored in the URL part, for the proxy and for steering
  (unless `blocklists.public_suffix.steer_refused`, or over `max_steered_hosts`).

Shrink protection, per list: a source with `max_shrink` (a share, default 0.5) whose entry
count fell by more than that share since the active compile is held back. Its entries are then
read from the active compile (exactly what was enforced: its last-known-good) while every other
list's change is applied; `CompileResult.applied` and `.held_back` say which, and the compile
remembers both until the next change. Set `max_shrink = 1.0` to accept any shrink.
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import json
import logging
import multiprocessing
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from blocklists.compiled import CompiledList, Tag, compile_batches
from blocklists.formats import plain
from blocklists.public_suffix import STEER_REFUSED, steer_refused
from blocklists.readers import ReadReport, read_entries

log = logging.getLogger("roja.lists")
ACTIVE_NAME = "lists.compiled"
LOCK_NAME = "lists.lock"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
ALLOW_SUFFIX = "@allow"
IMPORTANT_SUFFIX = "@important"
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
    # URL entries steer their hosts to the proxy: at most this many hosts per list (the first
    # in file order); the URL entries of further hosts are dropped and counted (docs/lists.md).
    max_steered_hosts: int = 2000
    never_steer: tuple[str, ...] = ()  # hosts whose URL entries (theirs and below) are dropped


SELFTEST_ZONE = "selftest.roja.test"  # RFC 6761 `.test`: never delegated, never on the Internet
# A URL list (format `urls`) carries its name as a URL entry instead: `<name>/roja-selftest/`
# is blocked by the proxy and every other path on that host is not.
SELFTEST_PATH = "/roja-selftest/"


def selftest_name(list_id: str) -> str:
    """The reserved test name that stands for list `list_id` (see `ListSource.selftest`)."""
    return f"{list_id.lower().replace('_', '-')}.{SELFTEST_ZONE}"


@dataclass(frozen=True)
class HeldBack:
    """A list whose new file shrank too much: `old` entries stay enforced instead of `new`."""

    list_id: str
    old: int
    new: int

    @property
    def why(self) -> str:
        return (f"u zvogëlua nga {self.old} në {self.new} hyrje, mbeten të fundit të mira / "
                f"shrank from {self.old} to {self.new} entries, the last-known-good stay")


@dataclass
class CompileResult:
    compiled: CompiledList
    reports: list[ReadReport]
    reused: bool
    applied: list[str] = field(default_factory=list)  # lists whose new files now apply
    held_back: list[HeldBack] = field(default_factory=list)


def _files(source: ListSource) -> list[Path]:
    files = sorted(p for p in source.path.rglob("*") if p.is_file()) \
        if source.path.is_dir() else [source.path]
    return files + ([source.mapping] if source.mapping is not None else [])


def list_fingerprints(sources: list[ListSource]) -> dict[str, str]:
    """Per list: a digest of its settings and the path, size and mtime of each file it reads."""
    out = {}
    for s in sources:
        parts: list[object] = [s.id, str(s.path), s.format, s.category, s.selftest,
                               s.max_steered_hosts, list(s.never_steer)]
        for path in _files(s):
            st = path.stat()
            parts.append([str(path), st.st_size, st.st_mtime_ns])
        out[s.id] = hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]
    return out


def fingerprint(sources: list[ListSource]) -> str:
    return hashlib.sha256(json.dumps(list(list_fingerprints(sources).items())).encode()
                          ).hexdigest()[:32]


def list_sizes(compiled: CompiledList) -> dict[str, int]:
    """Entries per list id, allow and URL entries and addresses included (`x@allow` counts
    for `x`)."""
    out: dict[str, int] = {}
    for list_id, n in compiled.counts_by_list().items():
        out[base_id(list_id)] = out.get(base_id(list_id), 0) + n
    for list_id, found in compiled.addresses.items():
        out[base_id(list_id)] = out.get(base_id(list_id), 0) + len(found)
    return out


def base_id(list_id: str) -> str:
    """The configured list of a compiled list id (`x@allow`, `x@important` → `x`)."""
    return list_id.removesuffix(ALLOW_SUFFIX).removesuffix(IMPORTANT_SUFFIX)


def compile_sources(sources: list[ListSource], out: Path, fp: str,
                    meta: dict[str, object] | None = None, held: Path | None = None,
                    held_ids: frozenset[str] = frozenset()) -> list[ReadReport]:
    """Read every source and write the compiled file to `out` (runs in any process); the lists
    in `held_ids` are read from the compiled file `held` instead of their sources."""
    reports = [ReadReport(str(s.path)) for s in sources]
    urls: list[tuple[str, str, Tag]] = []
    addresses: dict[str, list[str]] = {}
    summaries: dict[str, dict[str, object]] = {}

    def batches() -> Iterator[tuple[list[str], Tag]]:
        if held is not None and held_ids:
            yield from _kept_entries(CompiledList(held), held_ids, urls, addresses, summaries)
        for source, report in zip(sources, reports, strict=True):
            if source.id in held_ids:
                continue
            yield from _source_batches(source, report, urls)
            addresses[source.id] = sorted(set(report.addresses))
            addresses.update({source.id + suffix: sorted(set(found)) for suffix, found in (
                (ALLOW_SUFFIX, report.allow_addresses),
                (IMPORTANT_SUFFIX, report.important_addresses)) if found})
            summaries[source.id] = list_summary(report)

    compile_batches(batches(), out, meta={"fingerprint": fp,
                                          "lists": {s.id: str(s.path) for s in sources},
                                          "summary": summaries, **(meta or {})},
                    urls=urls, addresses=addresses)
    return reports


def list_summary(report: ReadReport) -> dict[str, object]:
    """What one list gave, for `roja lists status`: domains, URL entries, addresses, bad
    lines, skipped rules by kind, and notable kinds (allow, badfilter...)."""
    read_urls = report.kinds["url"]
    over = sum(report.kinds[k] for k in ("url over steering cap", *STEER_REFUSED))
    return {"domains": report.entries - read_urls, "urls": read_urls - over,
            "addresses": len(report.addresses) + len(report.important_addresses),
            "bad": report.error_count, "skipped": dict(report.unsupported.most_common()),
            "kinds": {k: n for k, n in report.kinds.items() if k not in ("url", "address")}}


def _source_batches(source: ListSource, report: ReadReport, urls: list[tuple[str, str, Tag]]
                    ) -> Iterator[tuple[list[str], Tag]]:
    """The host batches of one list; its URL entries are appended to `urls`."""
    if source.selftest and source.format == "urls":  # the proxy decides these
        urls.append((selftest_name(source.id), SELFTEST_PATH,
                     Tag(source.id, source.category)))
    elif source.selftest:
        yield [selftest_name(source.id)], Tag(source.id, source.category)
    if source.format in PLAIN_FORMATS:  # hosts only, one tag: straight to the compiler
        list_tag = Tag(source.id, source.category)
        for hosts in plain.read_batches(source.path, source.format, report):
            yield hosts, list_tag
        return
    tags: dict[tuple[bool, str, bool, bool], Tag] = {}
    steered: set[str] = set()
    never = frozenset(source.never_steer)
    run: list[str] = []
    run_tag: Tag | None = None
    for e in read_entries(source.path, source.format, report, source.mapping):
        flags = (e.allow, e.category, e.subdomains_only, e.important)
        tag = tags.get(flags)
        if tag is None:
            suffix = ALLOW_SUFFIX if e.allow else IMPORTANT_SUFFIX if e.important else ""
            tag = tags[flags] = Tag(source.id + suffix, e.category or source.category,
                                    e.subdomains_only)
        if e.path:
            refused = steer_refused(e.host, never)
            if refused is not None:
                report.kinds[refused] += 1
                continue
            if e.host not in steered and len(steered) >= source.max_steered_hosts:
                report.kinds["url over steering cap"] += 1
                continue
            steered.add(e.host)
            urls.append((e.host, e.path, tag))
            continue
        if tag is not run_tag or len(run) >= BATCH:
            if run and run_tag is not None:
                yield run, run_tag
            run, run_tag = [], tag
        run.append(e.host)
    if run and run_tag is not None:
        yield run, run_tag


def _kept_entries(old: CompiledList, ids: frozenset[str], urls: list[tuple[str, str, Tag]],
                  addresses: dict[str, list[str]], summaries: dict[str, dict[str, object]]
                  ) -> Iterator[tuple[list[str], Tag]]:
    """The entries of lists `ids` (their allow entries too) as the compile `old` has them;
    their URL entries, addresses and summaries go to `urls`, `addresses` and `summaries`."""
    old_summary = old.meta.get("summary")
    for list_id in ids:
        addresses[list_id] = list(old.addresses.get(list_id, ()))
        addresses.update({t: list(old.addresses[t]) for t in (
            list_id + ALLOW_SUFFIX, list_id + IMPORTANT_SUFFIX) if old.addresses.get(t)})
        if isinstance(old_summary, dict) and list_id in old_summary:
            summaries[list_id] = old_summary[list_id]
    def kept(tags: tuple[Tag, ...]) -> Iterator[Tag]:
        return (t for t in tags if base_id(t.list_id) in ids)

    for host, path, tags in old.items(urls=True):
        urls.extend((host, path, tag) for tag in kept(tags))
    runs: dict[Tag, list[str]] = {}
    for host, _, tags in old.items():
        for tag in kept(tags):
            run = runs.setdefault(tag, [])
            run.append(host)
            if len(run) >= BATCH:
                yield run, tag
                runs[tag] = []
    yield from ((run, tag) for tag, run in runs.items() if run)
    old.close()


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this process when its parent dies (PR_SET_PDEATHSIG), so a compile
    never outlives a killed daemon; exit at once if the parent is already gone."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the pipe's EOF still ends the parent's wait
        pass
    if os.getppid() != parent:
        os._exit(1)


def _child(sources: list[ListSource], out: str, fp: str, meta: dict[str, object],
           held: str | None, held_ids: frozenset[str], parent: int,
           conn: multiprocessing.connection.Connection) -> None:
    _die_with_parent(parent)
    try:
        reports = compile_sources(sources, Path(out), fp, meta,
                                  Path(held) if held else None, held_ids)
        conn.send(("ok", reports))
    except Exception as exc:  # reported to the parent, which keeps the old list
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _shrunk(sources: list[ListSource], old: dict[str, int], new: dict[str, int],
            reports: list[ReadReport]) -> list[tuple[str, int, int]]:
    """Lists that lost more than their `max_shrink`, or whose file could not be read at all
    (nothing but errors: a damaged file is held back whatever its `max_shrink`)."""
    out = []
    for s, report in zip(sources, reports, strict=True):
        own = int(s.selftest)  # the list's reserved self-test name is not one of its entries
        before, after = max(0, old.get(s.id, 0) - own), max(0, new.get(s.id, 0) - own)
        unreadable = report.error_count > 0 and report.entries == 0
        if before and (after < before * (1.0 - s.max_shrink) or unreadable):
            out.append((s.id, before, after))
    return out


def _compile_in_child(sources: list[ListSource], out: Path, fp: str, meta: dict[str, object],
                      held: Path | None = None,
                      held_ids: frozenset[str] = frozenset()) -> list[ReadReport]:
    """`compile_sources` in a spawned child, so the DNS process never holds the temporary
    strings of millions of entries; raises RuntimeError with the child's reason."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(sources, str(out), fp, meta,
                                            str(held) if held else None, held_ids,
                                            os.getpid(), child), daemon=True)
    proc.start()
    child.close()
    try:
        status, payload = parent.recv()
    except EOFError:
        status, payload = "error", "the list compiler stopped unexpectedly"
    proc.join()
    if status != "ok":
        raise RuntimeError(payload)
    return list(payload)


def build_active(sources: list[ListSource], state_dir: Path) -> CompileResult:
    """Compile `sources` into `state_dir/lists.compiled` unless it is already current.

    A list that shrank too much is held back (its last-known-good entries are compiled in);
    every other list's change is applied."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / LOCK_NAME, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one compile at a time (the daemon, a CLI command)
        try:
            _remove_leftovers(state_dir)
            return _build(sources, state_dir)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _remove_leftovers(state_dir: Path) -> None:
    """Staging files of a compile that was killed half-way (its process and child are gone:
    we hold the lock)."""
    for path in state_dir.glob(ACTIVE_NAME + ".*"):
        if path.name.startswith((ACTIVE_NAME + ".new", ACTIVE_NAME + ".tmp")):
            log.info("removing the leftover of an interrupted compile: %s", path)
            path.unlink(missing_ok=True)


def _build(sources: list[ListSource], state_dir: Path) -> CompileResult:
    active = state_dir / ACTIVE_NAME
    fps = list_fingerprints(sources)
    fp = fingerprint(sources)
    previous: dict[str, int] = {}
    previous_fps: dict[str, str] = {}
    if active.exists():
        try:
            current = CompiledList(active)
            if current.meta.get("fingerprint") == fp:
                return CompileResult(current, [], reused=True,
                                     held_back=held_back_in(current.meta))
            previous = list_sizes(current)
            known = current.meta.get("list_fps")
            previous_fps = known if isinstance(known, dict) else {}
            current.close()
        except (ValueError, OSError) as exc:
            log.warning("compiled list cannot be used (%s); recompiling", exc)
    staging = state_dir / (ACTIVE_NAME + ".new")
    meta: dict[str, object] = {"list_fps": fps, "held_back": []}
    reports = _compile_in_child(sources, staging, fp, meta)
    staged = CompiledList(staging)
    held_back = [HeldBack(*s) for s in _shrunk(sources, previous, list_sizes(staged), reports)]
    staged.close()
    if held_back:
        meta["held_back"] = [[h.list_id, h.old, h.new] for h in held_back]
        _compile_in_child(sources, staging, fp, meta, active,
                          frozenset(h.list_id for h in held_back))
        for h in held_back:
            log.warning("list %r held back: %s", h.list_id, h.why)
    os.replace(staging, active)
    held_ids = {h.list_id for h in held_back}
    applied = [s.id for s in sources
               if s.id not in held_ids and previous_fps.get(s.id) != fps[s.id]]
    return CompileResult(CompiledList(active), reports, reused=False, applied=applied,
                         held_back=held_back)


def changed_lists(old: dict[str, object], new: dict[str, object]) -> list[str]:
    """Ids of the lists whose files differ between two compiles' `meta` (new lists too)."""
    before, after = old.get("list_fps"), new.get("list_fps")
    if not isinstance(after, dict):
        return []
    before = before if isinstance(before, dict) else {}
    return [lid for lid, fp in after.items() if before.get(lid) != fp]


def held_back_in(meta: dict[str, object]) -> list[HeldBack]:
    """The lists a compile holds back (from its `meta`)."""
    held = meta.get("held_back")
    return [HeldBack(str(h[0]), int(h[1]), int(h[2])) for h in held] \
        if isinstance(held, list) else []
