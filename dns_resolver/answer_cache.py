"""The front cache: finished replies per (group, name, type, class, EDNS form), as wire bytes.

This is what makes the fast path fast: a hit is answered by copying the stored reply, patching
the ID, the RD/CD bits and the client's question bytes (0x20 case), and lowering the TTLs by the
entry's age, without building any dnslib object. Blocks, canaries, safe-search rewrites and
upstream answers all land here after their first answer. Cleared on every policy reload.

Bounded twice: by entries (`[dns] answer_cache_size`) and by an estimate of the bytes it holds
(`[dns] answer_cache_max_mb`), oldest first. The estimate is the reply's length plus
`ENTRY_OVERHEAD`, the Python objects around it (key tuple and strings, `Entry`, dict slot),
measured with tracemalloc at ~430 bytes on CPython 3.13. At 5M listed names a run over the
whole list fills the cache with distinct block answers, so the byte bound is what keeps the
DNS process within its memory target.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from dataclasses import dataclass

from dns_resolver.wire import Question, ttl_fields

Key = tuple[str, str, int, int, int]
_PACK_TTL = struct.Struct(">I").pack_into
_PACK_ID = struct.Struct(">H").pack_into
ENTRY_OVERHEAD = 430


@dataclass(slots=True)
class Entry:
    template: bytes
    ttls: tuple[tuple[int, int], ...]   # (offset, original TTL); empty when TTLs are fixed
    stored: float
    expires: float
    kind: str
    label: str
    incident: object
    qlen: int = 0


def edns_form(q: Question) -> int:
    """0: no EDNS, 1: EDNS, 2: EDNS with DO (replies differ in their OPT record and DNSSEC
    records), plus the query's AD and CD bits (0x20, 0x10: AD in the reply, upstream data
    fetched with checking disabled)."""
    flags = q.flags & 0x30
    if q.edns is None:
        return flags
    return flags | (2 if q.edns.do else 1)


class AnswerCache:
    def __init__(self, size: int = 100_000, max_bytes: int = 16 << 20) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[Key, Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key, now: float) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if now >= entry.expires:
            del self._entries[key]
            self.bytes -= len(entry.template) + ENTRY_OVERHEAD
            return None
        return entry

    def put(self, key: Key, wire: bytes, ttl: int, fixed: bool, now: float, kind: str,
            label: str, incident: object, fixed_records: int = 0) -> None:
        ttls = () if fixed else tuple(ttl_fields(wire))[fixed_records:]
        qlen = _question_length(wire)
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= len(old.template) + ENTRY_OVERHEAD
        self._entries[key] = Entry(wire, ttls, now, now + ttl, kind, label, incident, qlen)
        self.bytes += len(wire) + ENTRY_OVERHEAD
        entries = self._entries
        while entries and (len(entries) > self.size or self.bytes > self.max_bytes):
            _, dropped = entries.popitem(last=False)
            self.bytes -= len(dropped.template) + ENTRY_OVERHEAD

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0


def _question_length(wire: bytes) -> int:
    pos = 12
    while wire[pos]:
        pos += 1 + wire[pos]
    return pos + 5 - 12


def reply_from_packet(entry: Entry, data: bytes, now: float) -> bytes:
    """The stored reply for a byte-identical query (all but the ID): patch ID and TTLs only.
    RD, CD and the question are equal by construction of the memo key."""
    out = bytearray(entry.template)
    out[0:2] = data[0:2]
    out[2] = (out[2] & 0xFE) | (data[2] & 0x01)
    out[3] = (out[3] & 0xEF) | (data[3] & 0x10)
    out[12:12 + entry.qlen] = data[12:12 + entry.qlen]
    if entry.ttls:
        age = int(now - entry.stored)
        for offset, ttl in entry.ttls:
            _PACK_TTL(out, offset, ttl - age if ttl > age else 0)
    return bytes(out)


def reply_from(entry: Entry, q: Question, now: float) -> bytes:
    """The stored reply, made into the answer to `q`."""
    out = bytearray(entry.template)
    _PACK_ID(out, 0, q.id)
    out[2] = (out[2] & 0xFE) | ((q.flags >> 8) & 0x01)      # RD as the client sent it
    out[3] = (out[3] & 0xEF) | (q.flags & 0x10)             # CD as the client sent it
    out[12:12 + len(q.wire)] = q.wire
    if entry.ttls:
        age = int(now - entry.stored)
        for offset, ttl in entry.ttls:
            _PACK_TTL(out, offset, ttl - age if ttl > age else 0)
    return bytes(out)
