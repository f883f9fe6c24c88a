"""The compiled list: one immutable file that every DNS worker memory-maps read-only.

Layout (format 3): magic `ROJALST3`, u32 header length, a JSON header (tag table, tag-set
table, counts, offsets, meta), then two sections, each 8-byte aligned: a marisa-trie of keys
and, unless every key carries the same tags, one u16 per trie key id naming its tag set. A tag
indexes the header's `(list_id, category[, subdomains_only])` table; a tag set (`combos`) is
the sorted tags of a key, usually one (a name on several lists has several). A
subdomains-only tag (RPZ `*.name` alone) matches below its key but not the key itself.

Keys are the name reversed plus a dot (`www.example.com` → `moc.elpmaxe.www.`): the key of a
listed domain is a prefix of every name's below it and of no other (not `moc.elpmaxeton.`).

The header also carries the IP addresses and networks each list names (`addresses`, list id →
canonical texts): they are never keys of the name trie.

The second section holds URL-level entries for the proxy: keys `moc.elpmaxe./ads/` plus one
key `moc.elpmaxe.` without tags for every host with URL entries, so `has_url_entries(host)`
("steer this name to the proxy?") is one prefix query. `lookup` never returns URL entries.

A lookup reverses the name once and asks the trie for every stored key that is a prefix of it
(exactly the listed parent domains) in one C call: a few µs with 5,000,000 entries, ~15 bytes
an entry shared by every process through the page cache. A new compile is written beside the
old file and renamed over it, so readers never see half a list. A file of an older format is
refused with a message that says so (`build_active` then compiles again).

Compiling is built for millions of entries: readers hand over batches of hosts with one tag
(`compile_batches`), kept as one string a batch. When every key has the same tags the keys go
straight into the trie and no per-key table is written; otherwise only the keys outside the
largest list are collected (key → a bit per tag) and placed in the per-key table.

(Just over 400 lines: the writer and the reader of one file format stay in one module, so they
cannot drift apart.)
"""

from __future__ import annotations

import json
import mmap
import os
import struct
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain
from pathlib import Path
from typing import NamedTuple

import marisa_trie

MAGIC = b"ROJALST3"
OLD_MAGICS = {b"ROJALST2": 2}
#: marisa-trie levels: more is smaller but slower to search (3 is marisa's default).
NUM_TRIES = 3
NO_TAG = -1  # a URL section's host key: present for `has_url_entries`, without tags
_RUN = 65536  # hosts per batch when grouping single entries


def reversed_key(host: str) -> str:
    """`www.example.com` → `moc.elpmaxe.www.` (the trie's key form)."""
    return host[::-1] + "."


def _reversed_keys(hosts: Sequence[str]) -> str | None:
    """`reversed_key` of every host (in reverse order), one a line, made by two C calls for the
    whole batch; None if a host has a newline in it (not canonical, but be exact)."""
    text = ("." + "\n.".join(hosts))[::-1]
    return text if text.count("\n") == len(hosts) - 1 else None


class Tag(NamedTuple):
    list_id: str
    category: str
    subdomains_only: bool = False


class Match(NamedTuple):
    """One list entry that matched: the listed domain (the name or a parent) and its tag."""

    entry: str
    list_id: str
    category: str


class _Keys:
    """The keys of one section with their tag indexes: batches of keys with one tag each, as one
    string a batch (keys one a line: a fraction of the memory of a `str` per key)."""

    def __init__(self) -> None:
        self.batches: list[tuple[str, int]] = []
        self.odd: list[tuple[str, int]] = []  # keys with a newline in them
        self.used: set[int] = set()

    def add(self, key: str, t: int) -> None:
        (self.odd if "\n" in key else self.batches).append((key, t))
        self.used.add(t)

    def add_many(self, keys: str, t: int) -> None:
        """Add the keys of a batch, one a line."""
        self.batches.append((keys, t))
        self.used.add(t)

    def of(self, tag: int | None) -> Iterator[str]:
        """The keys of `batches` with tag `tag` (all if None); a repeated key repeats."""
        for text, t in self.batches:
            if tag is None or t == tag:
                yield from text.split("\n")


class _Combos:
    """The table of distinct tag sets, shared by both sections."""

    def __init__(self) -> None:
        self.index: dict[tuple[int, ...], int] = {}

    def __call__(self, tags: Iterable[int]) -> int:
        combo = tuple(sorted(t for t in tags if t != NO_TAG))
        i = self.index.setdefault(combo, len(self.index))
        if i > 0xFFFF:
            raise ValueError("more than 65536 distinct sets of lists per name")
        return i

    def table(self) -> list[list[int]]:
        return [list(c) for c in sorted(self.index, key=self.index.__getitem__)]


class _Section(NamedTuple):
    trie: bytes
    keys: int
    uniform: int  # the tag set of every key, or -1: see `per_key`
    per_key: array[int]  # u16 tag set per key id (empty when uniform)
    pairs: Counter[int]  # keys per tag set


def _section(keys: _Keys, combos: _Combos) -> _Section:
    if len(keys.used) == 1 and not keys.odd:  # the usual case, e.g. one list: no per-key table
        trie = marisa_trie.Trie(keys.of(None), num_tries=NUM_TRIES)  # repeats are stored once
        (only,) = keys.used
        c = combos((only,))
        return _Section(trie.tobytes(), len(trie), c, array("H"), Counter({c: len(trie)}))
    # Several tags: the tag with the most keys is the primary, the default of the per-key
    # table; only the keys of other tags are collected (with a bit per tag) and placed.
    size: Counter[int] = Counter()
    for text, t in keys.batches:
        size[t] += len(text)
    primary = size.most_common(1)[0][0] if size else NO_TAG
    masks: dict[str, int] = {}  # a key of another tag -> a bit (1 << (tag + 1)) per tag
    batches = [(text.split("\n"), t) for text, t in keys.batches if t != primary]
    for group, t in [*batches, *(([key], t) for key, t in keys.odd)]:
        bit = 1 << (t + 1)
        for key in group:
            masks[key] = masks.get(key, 0) | bit
    del batches
    both = masks.keys() & keys.of(primary)  # C: walks the primary's keys, keeps none of them
    trie = marisa_trie.Trie(chain(keys.of(primary), masks.keys()), num_tries=NUM_TRIES)
    n = len(trie)
    base = combos((primary,))
    per_key = array("H", [base]) * n
    pairs: Counter[int] = Counter()
    found: dict[int, int] = {}  # mask -> tag set
    primary_bit = 1 << (primary + 1)

    def combo(key: str, mask: int) -> int:
        if key in both:
            mask |= primary_bit
        c = found.get(mask)
        if c is None:
            c = found[mask] = combos(t - 1 for t in range(mask.bit_length()) if mask >> t & 1)
        pairs[c] += 1
        return c

    if len(masks) < n // 4:  # few: find each key's id (a few µs each in a big trie)
        for key, mask in masks.items():
            per_key[trie[key]] = combo(key, mask)
    else:  # many: walk the whole trie once (about a µs a key)
        for key, key_id in trie.iteritems():
            bits = masks.get(key)
            if bits is not None:
                per_key[key_id] = combo(key, bits)
    pairs[base] += n - len(masks)
    return _Section(trie.tobytes(), n, -1, per_key, pairs)


def _runs(entries: Iterable[tuple[str, Tag]]) -> Iterator[tuple[list[str], Tag]]:
    """Group consecutive entries with the same tag into batches."""
    hosts: list[str] = []
    current: Tag | None = None
    for host, tag in entries:
        if (tag is not current and tag != current) or len(hosts) >= _RUN:
            if hosts and current is not None:
                yield hosts, current
            hosts, current = [], tag
        hosts.append(host)
    if hosts and current is not None:
        yield hosts, current


def compile_entries(entries: Iterable[tuple[str, Tag]], out: Path,
                    meta: dict[str, object] | None = None,
                    urls: Iterable[tuple[str, str, Tag]] = ()) -> int:
    """Write the compiled file for (canonical host, tag) pairs and (host, path, tag) URL
    entries (`urls` is read after `entries`); return the host entry count."""
    return compile_batches(_runs(entries), out, meta, urls)


def compile_batches(batches: Iterable[tuple[Sequence[str], Tag]], out: Path,
                    meta: dict[str, object] | None = None,
                    urls: Iterable[tuple[str, str, Tag]] = (),
                    addresses: Mapping[str, Sequence[str]] | None = None) -> int:
    """`compile_entries` for batches of canonical hosts that share a tag (the fast way in for
    millions of entries); `urls`, `addresses` (list id → IP addresses and networks) and `meta`
    are read after `batches` (so the batches may fill them). Returns the host entry count."""
    tags: dict[Tag, int] = {}
    combos = _Combos()
    hosts = _Keys()
    for batch, tag in batches:
        if not batch:
            continue
        t = _tag_index(tags, tag)
        text = _reversed_keys(batch)
        if text is not None:
            hosts.add_many(text, t)
        else:
            for host in batch:
                hosts.add(reversed_key(host), t)
    host_part = _section(hosts, combos)
    del hosts
    url_keys = _Keys()
    for host, path, tag in urls:
        key = reversed_key(host)
        url_keys.add(key, NO_TAG)
        url_keys.add(key + path, _tag_index(tags, tag))
    url_part = _section(url_keys, combos)
    del url_keys
    table = combos.table()
    per_tag = [0] * len(tags)
    counts = [0, 0]
    for i, part in enumerate((host_part, url_part)):
        for c, n in part.pairs.items():
            counts[i] += n * len(table[c])
            for t in table[c]:
                per_tag[t] += n
    header = {
        "count": counts[0],
        "keys": host_part.keys,
        "tags": [[t.list_id, t.category, 1] if t.subdomains_only else [t.list_id, t.category]
                 for t in sorted(tags, key=tags.__getitem__)],
        "combos": table,
        "per_tag": per_tag,
        "trie_len": len(host_part.trie),
        "uniform": host_part.uniform,
        "url_count": counts[1],
        "url_keys": url_part.keys,
        "url_trie_len": len(url_part.trie),
        "url_uniform": url_part.uniform,
        "addresses": {lid: list(found) for lid, found in (addresses or {}).items() if found},
        "meta": meta or {},
    }
    header_bytes = json.dumps(header).encode()
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    with tmp.open("wb") as f:
        f.write(MAGIC + struct.pack("<I", len(header_bytes)) + header_bytes)
        for part in (host_part, url_part):
            f.write(b"\0" * (-f.tell() % 8))
            f.write(part.trie)
            f.write(b"\0" * (-f.tell() % 8))
            part.per_key.tofile(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, out)
    return counts[0]


def _tag_index(tags: dict[Tag, int], tag: Tag) -> int:
    index = tags.setdefault(tag, len(tags))
    if index > 0xFFFF:
        raise ValueError("more than 65535 (list, category) pairs")
    return index


class CompiledList:
    """A read-only view of a compiled list file (memory-mapped, shared between processes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            self._mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size > 12 else None
        if self._mm is not None and self._mm[:8] in OLD_MAGICS:
            version = OLD_MAGICS[self._mm[:8]]
            self._mm.close()
            raise ValueError(f"{path}: a compiled list of an older format ({version}); "
                             "it must be compiled again")
        if self._mm is None or self._mm[:8] != MAGIC:
            raise ValueError(f"{path}: not a compiled Roja list")
        (hlen,) = struct.unpack_from("<I", self._mm, 8)
        try:
            header = json.loads(self._mm[12:12 + hlen])
        except ValueError as exc:
            raise ValueError(f"{path}: damaged header") from exc
        self.count: int = header["count"]
        self.meta: dict[str, object] = header.get("meta", {})
        self.tags = [Tag(t[0], t[1], len(t) > 2 and bool(t[2])) for t in header["tags"]]
        self._below_only = frozenset(i for i, t in enumerate(self.tags) if t.subdomains_only)
        # Per tag set: (tag index, list id, category) of each of its tags.
        self._combos = [tuple((t, self.tags[t].list_id, self.tags[t].category) for t in combo)
                        for combo in header["combos"]]
        self._per_tag: list[int] = header["per_tag"]
        self.url_count: int = header["url_count"]
        # list id → the IP addresses and networks it names (kept apart from host names)
        self.addresses: dict[str, list[str]] = header.get("addresses", {})
        view = memoryview(self._mm)
        pos = 12 + hlen
        self._views: list[memoryview] = []
        self._trie, self._per_key, self._uniform, pos = self._map(
            view, pos, header["trie_len"], header["keys"], header["uniform"])
        self._url_trie, self._url_per_key, self._url_uniform, pos = self._map(
            view, pos, header["url_trie_len"], header["url_keys"], header["url_uniform"])

    def _map(self, view: memoryview, pos: int, trie_len: int, keys: int, uniform: int
             ) -> tuple[marisa_trie.Trie, memoryview, int, int]:
        pos += -pos % 8
        trie = marisa_trie.Trie()
        trie_view = view[pos:pos + trie_len]
        self._views.append(trie_view)
        trie.map(trie_view)
        pos += trie_len
        pos += -pos % 8
        n = 0 if uniform >= 0 else keys
        per_key = view[pos:pos + 2 * n].cast("H")
        self._views.append(per_key)
        if len(per_key) != n or len(trie) != keys:
            raise ValueError(f"{self.path}: truncated")
        return trie, per_key, uniform, pos + 2 * n

    def lookup(self, host: str) -> list[Match]:
        """Every entry that lists `host` or one of its parent domains, most specific first."""
        # The DNS hot path (a lookup per uncached query): the uniform case (one tag set for
        # every key, as in a single list) skips the key ids and builds the matches directly.
        rev = host[::-1] + "."
        uniform = self._uniform
        size = len(host) + 1
        below_only = self._below_only
        out: list[Match] = []
        if uniform >= 0:
            keys = self._trie.prefixes(rev)
            if not keys:
                return out
            combo = self._combos[uniform]
            for key in reversed(keys):
                n = len(key)
                entry = host[size - n:]  # the key is the reversed entry plus "."
                for t, list_id, category in combo:
                    if n == size and t in below_only:
                        continue
                    out.append(Match(entry, list_id, category))
            return out
        found = list(self._trie.iter_prefixes_with_ids(rev))
        if not found:
            return out
        combos, per_key = self._combos, self._per_key
        for key, key_id in reversed(found):
            n = len(key)
            entry = host[size - n:]
            for t, list_id, category in combos[per_key[key_id]]:
                if n == size and t in below_only:
                    continue
                out.append(Match(entry, list_id, category))
        return out

    def has_url_entries(self, host: str) -> bool:
        """Does `host` or a parent domain have URL-level entries (steer it to the proxy)?"""
        if not self.url_count:
            return False
        return bool(self._url_trie.prefixes(host[::-1] + "."))

    def lookup_url(self, host: str, path: str) -> list[Match]:
        """URL entries for canonical `host` (or a parent) whose path is a prefix of `path` at a
        `/` or `?` boundary (an entry ending in `/` covers everything below it); most specific
        host first, then longest path. `Match.entry` is `host/path` of the entry. A path with
        capitals is looked up as given and lowercased (adblock URL rules without `$match-case`
        are stored lowercased: they match in any case)."""
        lower = path.lower()
        if lower != path:
            found = self._lookup_url(host, path)
            return found + [m for m in self._lookup_url(host, lower) if m not in found]
        return self._lookup_url(host, path)

    def _lookup_url(self, host: str, path: str) -> list[Match]:
        rev = host[::-1] + "."
        out = []
        uniform, per_key = self._url_uniform, self._url_per_key
        for host_key in reversed(self._url_trie.prefixes(rev)):
            entry_host = host[len(host) - len(host_key) + 1:]
            found = self._url_trie.iter_prefixes_with_ids(host_key + path)
            for key, key_id in sorted(found, key=lambda kv: -len(kv[0])):
                listed = key[len(host_key):]
                if not listed or not (len(listed) == len(path) or listed.endswith("/")
                                      or path[len(listed)] in "/?"):
                    continue
                for _, list_id, category in self._combos[
                        uniform if uniform >= 0 else per_key[key_id]]:
                    out.append(Match(entry_host + listed, list_id, category))
        return out

    def items(self, urls: bool = False) -> Iterator[tuple[str, str, tuple[Tag, ...]]]:
        """Every entry as (host, path, tags) of the host part, or with `urls` the URL part."""
        trie, per_key, uniform = ((self._url_trie, self._url_per_key, self._url_uniform)
                                  if urls else (self._trie, self._per_key, self._uniform))
        for key, key_id in trie.iteritems():
            combo = self._combos[uniform if uniform >= 0 else per_key[key_id]]
            if combo:
                host_key, slash, path = key.partition("/")
                yield host_key[-2::-1], slash + path, tuple(self.tags[t] for t, _, _ in combo)

    def counts_by_list(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for tag, n in zip(self.tags, self._per_tag, strict=False):
            out[tag.list_id] = out.get(tag.list_id, 0) + n
        return out

    def close(self) -> None:
        self._trie = self._url_trie = marisa_trie.Trie()
        for view in self._views:
            view.release()
        if self._mm is not None:
            self._mm.close()


def empty_list(path: Path) -> CompiledList:
    compile_entries([], path)
    return CompiledList(path)
