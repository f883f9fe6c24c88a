"""Confidential (hashed) list entries: the hotline's CSAM list, kept only as SHA-256 digests.

What is hashed is a Safe Browsing lookup expression, the UTF-8 of a canonical (see
`blocklists.urls`) `host/` for a host entry or `host/path` (path prefix, query kept if the
entry has one) for a URL entry: `evil.example/`, `evil.example/dir/`, `evil.example/p?id=3`.
A request matches when the digest of one of its own expressions (host suffixes × path
prefixes, at most 30 per URL) is in the set, so a host entry covers the host, its subdomains
and every URL on them, and `evil.example/dir/` covers `/dir/` and everything below it but not
`/other/`. Safe Browsing's limits apply: an entry host of more than 5 labels matches only that
exact host, and a directory entry deeper than 3 levels only that exact path.

The cleartext never reaches this module's file, its errors, or its matches: the file holds
digests and `(list_id, category)` tags only, and a `HashMatch` carries `hash_id` (the first 12
hex digits of the digest), which is all that incidents, logs and metrics may show. Digests
hide the list from reading, not from someone who already suspects a given URL and hashes it.

File layout (little-endian): magic `ROJAHSH1`, u32 header length, a JSON header (`count`,
`tags` as `[list_id, category]`, `meta`), zero padding to 8 bytes, a u32 bucket index of
65,537 entries (record range per first two digest bytes), the sorted 32-byte digests, then
one u16 tag per digest. It is written to a temporary file and renamed over the old one;
readers map it read-only, and a lookup is a bucket index plus a short binary search.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from blocklists.canonical import canonical_host
from blocklists.urls import canonical_url, canonical_url_host, host_suffixes, is_ip_host

__all__ = [
    "MAGIC",
    "CleartextError",
    "ConfidentialSet",
    "HashMatch",
    "digests_from_cleartext",
    "entry_expression",
    "hash_entry",
    "hash_id",
]

MAGIC = b"ROJAHSH1"
DIGEST_SIZE = 32
_BUCKETS = 1 << 16
_INDEX_BYTES = 4 * (_BUCKETS + 1)
_BUCKET = struct.Struct("<II")


class HashMatch(NamedTuple):
    """A confidential entry that matched: a short digest id and its tag, never cleartext."""

    hash_id: str
    list_id: str
    category: str


class CleartextError(ValueError):
    """Bad cleartext input; `errors` lists `(line number, why)` and never the line itself."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        self.errors = errors
        shown = "; ".join(f"line {n}: {why}" for n, why in errors[:20])
        more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} bad confidential entries: {shown}{more}")


def hash_entry(expression: str) -> bytes:
    """SHA-256 of a canonical expression; a bare host (no `/`) is hashed as `host/`."""
    if "/" not in expression:
        expression += "/"
    return hashlib.sha256(expression.encode("utf-8")).digest()


def hash_id(digest: bytes) -> str:
    return digest.hex()[:12]


def entry_expression(cleartext: str) -> str:
    """A hotline URL or host → its canonical expression (`evil.example/`, `evil.example/d/`).

    Raises ValueError naming the problem but not the text (it may be confidential)."""
    found = canonical_url(cleartext)
    if found is None:
        raise ValueError("not a URL or host name")
    if found.scheme not in ("http", "https"):
        raise ValueError("not an http(s) URL")
    if not is_ip_host(found.host) and canonical_host(found.host) != found.host:
        raise ValueError("not a valid host name")
    return found.text


def digests_from_cleartext(lines: Iterable[str]) -> list[bytes]:
    """For the publisher: one digest per entry line (URL or host); blank and `#` lines skipped.

    Every line is checked first; any bad line raises `CleartextError` with all line numbers,
    so nothing is published from half a list."""
    digests: list[bytes] = []
    errors: list[tuple[int, str]] = []
    for lineno, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            digests.append(hash_entry(entry_expression(line)))
        except ValueError as exc:
            errors.append((lineno, str(exc)))
    if errors:
        raise CleartextError(errors)
    return digests


class ConfidentialSet:
    """A set of confidential digests with their `(list_id, category)` tags.

    Built in memory from `(digest, list_id, category)` triples, written with `write(path)`, and
    opened read-only (memory-mapped, shared between processes) with `ConfidentialSet.open`.
    """

    def __init__(self, entries: Iterable[tuple[bytes, str, str]] = (),
                 meta: dict[str, object] | None = None) -> None:
        tags: dict[tuple[str, str], int] = {}
        records: set[tuple[bytes, int]] = set()
        for digest, list_id, category in entries:
            if len(digest) != DIGEST_SIZE:
                raise ValueError(f"a digest is {len(digest)} bytes, not {DIGEST_SIZE}")
            tag = tags.setdefault((list_id, category), len(tags))
            if tag > 0xFFFF:
                raise ValueError("more than 65535 (list, category) pairs")
            records.add((bytes(digest), tag))
        ordered = sorted(records)
        index = [0] * (_BUCKETS + 1)
        for digest, _ in ordered:
            index[int.from_bytes(digest[:2], "big") + 1] += 1
        for i in range(_BUCKETS):
            index[i + 1] += index[i]
        header = json.dumps({
            "count": len(ordered),
            "tags": [list(t) for t in sorted(tags, key=tags.__getitem__)],
            "meta": meta or {},
        }).encode()
        head = MAGIC + struct.pack("<I", len(header)) + header
        head += b"\0" * (-len(head) % 8)
        self._attach(b"".join([
            head,
            struct.pack(f"<{_BUCKETS + 1}I", *index),
            b"".join(d for d, _ in ordered),
            struct.pack(f"<{len(ordered)}H", *(t for _, t in ordered)),
        ]), "<memory>")
        self._mm: mmap.mmap | None = None

    @classmethod
    def open(cls, path: Path) -> ConfidentialSet:
        """Map a written set read-only; ValueError if it is not one or is damaged."""
        self = cls.__new__(cls)
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < 12:
                raise ValueError(f"{path}: not a Roja confidential set")
            self._mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            self._attach(self._mm, str(path))
        except ValueError:
            self._mm.close()
            raise
        return self

    def _attach(self, buffer: bytes | mmap.mmap, source: str) -> None:
        if buffer[:8] != MAGIC:
            raise ValueError(f"{source}: not a Roja confidential set")
        (hlen,) = struct.unpack_from("<I", buffer, 8)
        try:
            header = json.loads(buffer[12:12 + hlen])
            count = int(header["count"])
            self.tags = [(str(lid), str(cat)) for lid, cat in header["tags"]]
            self.meta: dict[str, object] = dict(header.get("meta", {}))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{source}: damaged header") from exc
        start = 12 + hlen
        start += -start % 8
        self._index_at = start
        self._digests_at = start + _INDEX_BYTES
        self._tags_at = self._digests_at + DIGEST_SIZE * count
        if len(buffer) != self._tags_at + 2 * count:
            raise ValueError(f"{source}: truncated or damaged")
        self._buffer = buffer
        self.count = count
        if self._bucket(0)[0] != 0 or self._bucket(_BUCKETS - 1)[1] != count:
            raise ValueError(f"{source}: damaged index")

    def __len__(self) -> int:
        return self.count

    def _bucket(self, bucket: int) -> tuple[int, int]:
        lo, hi = _BUCKET.unpack_from(self._buffer, self._index_at + 4 * bucket)
        return lo, hi

    def lookup(self, digest: bytes) -> list[HashMatch]:
        """The tags of one digest (several if it is on several lists)."""
        if len(digest) != DIGEST_SIZE:
            return []
        buffer, base = self._buffer, self._digests_at
        lo, hi = _BUCKET.unpack_from(buffer, self._index_at + 4 * (digest[0] << 8 | digest[1]))
        if lo == hi:
            return []
        while lo < hi:
            mid = (lo + hi) // 2
            if buffer[base + DIGEST_SIZE * mid:base + DIGEST_SIZE * (mid + 1)] < digest:
                lo = mid + 1
            else:
                hi = mid
        out = []
        while lo < self.count and buffer[base + DIGEST_SIZE * lo:
                                         base + DIGEST_SIZE * (lo + 1)] == digest:
            (tag,) = struct.unpack_from("<H", buffer, self._tags_at + 2 * lo)
            list_id, category = self.tags[tag]
            out.append(HashMatch(hash_id(digest), list_id, category))
            lo += 1
        return out

    def match_expressions(self, expressions: Iterable[str]) -> list[HashMatch]:
        """Matches of already-built expressions (`host/` or `host/path`), in their order."""
        out: list[HashMatch] = []
        for expression in expressions:
            out.extend(self.lookup(hashlib.sha256(expression.encode("utf-8")).digest()))
        return out

    def match_host(self, host: str) -> list[HashMatch]:
        """Host entries that list `host` or a parent of it (the host suffixes, as `suffix/`)."""
        canonical = canonical_url_host(host) if self.count else None
        if canonical is None:
            return []
        return self.match_expressions([suffix + "/" for suffix in host_suffixes(canonical)])

    def match_url(self, url: str) -> list[HashMatch]:
        """Host and path entries that cover `url`, most specific first."""
        found = canonical_url(url)
        if found is None or self.count == 0:
            return []
        return self.match_expressions(found.candidates())

    def write(self, path: Path) -> None:
        """Write the set to `path` atomically (temporary file, fsync, rename)."""
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        try:
            with tmp.open("wb") as f:
                f.write(self._buffer)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def close(self) -> None:
        if self._mm is not None:
            self._mm.close()
            self._mm = None
