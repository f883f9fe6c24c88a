"""The compiled list: one immutable file that every DNS worker memory-maps read-only.

Layout: magic `ROJALST2`, u32 header length, a JSON header (tag table, counts, offsets, meta),
then, each 8-byte aligned: a marisa-trie of reversed-label keys (`com.example.`), u32 offsets
per trie key id, and the u16 tags of every key (a tag indexes the header's
`(list_id, category)` table; a name on several lists has several tags).

A lookup reverses the name once (`www.example.com` → `com.example.www.`) and asks the trie for
every stored key that is a prefix of it, which are exactly the listed parent domains, in one C
call (≈2 µs with 1,000,000 entries). The trie takes ~15 bytes an entry, shared by every
process through the page cache instead of ~100 bytes as a Python `str` in a `set`.
A new compile is written beside the old file and renamed over it, so readers never see half a
list; a reader that still has the old file mapped keeps a valid view until it reopens.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
from array import array
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import marisa_trie

MAGIC = b"ROJALST2"


def reversed_key(host: str) -> str:
    """`www.example.com` → `com.example.www.` (the trie's key form)."""
    return ".".join(reversed(host.split("."))) + "."


class Tag(NamedTuple):
    list_id: str
    category: str


class Match(NamedTuple):
    """One list entry that matched: the listed domain (the name or a parent) and its tag."""

    entry: str
    list_id: str
    category: str


def compile_entries(entries: Iterable[tuple[str, Tag]], out: Path,
                    meta: dict[str, object] | None = None) -> int:
    """Write the compiled file for (canonical host, tag) pairs; return the entry count."""
    tags: dict[Tag, int] = {}
    by_key: dict[str, set[int]] = {}
    for host, tag in entries:
        index = tags.setdefault(tag, len(tags))
        if index > 0xFFFF:
            raise ValueError("more than 65535 (list, category) pairs")
        by_key.setdefault(reversed_key(host), set()).add(index)
    trie = marisa_trie.Trie(by_key.keys())
    offsets = array("I", [0]) * (len(trie) + 1)
    per_id: list[list[int]] = [[] for _ in range(len(trie))]
    for key, tag_set in by_key.items():
        per_id[trie[key]] = sorted(tag_set)
    values = array("H")
    per_tag = [0] * len(tags)
    for key_id, tag_list in enumerate(per_id):
        offsets[key_id] = len(values)
        values.extend(tag_list)
        for t in tag_list:
            per_tag[t] += 1
    offsets[len(trie)] = len(values)
    del by_key, per_id
    trie_bytes = trie.tobytes()
    header = {
        "count": len(values),
        "keys": len(trie),
        "tags": [[t.list_id, t.category] for t in sorted(tags, key=tags.__getitem__)],
        "per_tag": per_tag,
        "trie_len": len(trie_bytes),
        "meta": meta or {},
    }
    header_bytes = json.dumps(header).encode()
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    with tmp.open("wb") as f:
        f.write(MAGIC + struct.pack("<I", len(header_bytes)) + header_bytes)
        f.write(b"\0" * (-f.tell() % 8))
        f.write(trie_bytes)
        f.write(b"\0" * (-f.tell() % 8))
        offsets.tofile(f)
        f.write(b"\0" * (-f.tell() % 8))
        values.tofile(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, out)
    return len(values)


class CompiledList:
    """A read-only view of a compiled list file (memory-mapped, shared between processes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            self._mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size > 12 else None
        if self._mm is None or self._mm[:8] != MAGIC:
            raise ValueError(f"{path}: not a compiled Roja list")
        (hlen,) = struct.unpack_from("<I", self._mm, 8)
        try:
            header = json.loads(self._mm[12:12 + hlen])
        except ValueError as exc:
            raise ValueError(f"{path}: damaged header") from exc
        self.count: int = header["count"]
        self.meta: dict[str, object] = header.get("meta", {})
        self.tags = [Tag(lid, cat) for lid, cat in header["tags"]]
        self._per_tag: list[int] = header["per_tag"]
        keys = header["keys"]
        pos = 12 + hlen
        pos += -pos % 8
        view = memoryview(self._mm)
        self._trie = marisa_trie.Trie()
        self._trie_view = view[pos:pos + header["trie_len"]]
        self._trie.map(self._trie_view)
        pos += header["trie_len"]
        pos += -pos % 8
        self._offsets = view[pos:pos + 4 * (keys + 1)].cast("I")
        pos += 4 * (keys + 1)
        pos += -pos % 8
        self._values = view[pos:pos + 2 * self.count].cast("H")
        if len(self._values) != self.count or len(self._offsets) != keys + 1:
            raise ValueError(f"{path}: truncated")

    def lookup(self, host: str) -> list[Match]:
        """Every entry that lists `host` or one of its parent domains, most specific first."""
        found = list(self._trie.iter_prefixes_with_ids(".".join(reversed(host.split("."))) + "."))
        if not found:
            return []
        out = []
        offsets, values, tags = self._offsets, self._values, self.tags
        for key, key_id in reversed(found):
            entry = host[len(host) - len(key) + 1:]  # the key is the reversed entry plus "."
            for i in range(offsets[key_id], offsets[key_id + 1]):
                tag = tags[values[i]]
                out.append(Match(entry, tag.list_id, tag.category))
        return out

    def counts_by_list(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for tag, n in zip(self.tags, self._per_tag, strict=False):
            out[tag.list_id] = out.get(tag.list_id, 0) + n
        return out

    def close(self) -> None:
        self._trie = marisa_trie.Trie()
        self._offsets.release()
        self._values.release()
        self._trie_view.release()
        if self._mm is not None:
            self._mm.close()


def empty_list(path: Path) -> CompiledList:
    compile_entries([], path)
    return CompiledList(path)
