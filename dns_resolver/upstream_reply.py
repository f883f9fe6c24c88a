"""An upstream reply read on its bytes, and passed on as the reply to the client's query.

A name that is in no cache costs one upstream reply, and reading that reply with dnslib and
packing it again was a quarter of the CPU such a query costs (measured: ~110 of ~450 µs). So
`read_reply` walks the bytes once and keeps what the chain needs: the rcode, the TTL fields,
the lifetimes the cache uses (the smallest answer TTL; RFC 2308's min(SOA TTL, SOA MINIMUM)
for negative answers) and the names the policy inspects (owner names other than the
question, CNAME/DNAME targets, HTTPS/SVCB targets) and the address bytes of the answer's
A/AAAA records and of its HTTPS/SVCB address hints (`ipv4hint`, `ipv6hint`; the policy's
address lists, `policy.address_lists`). `render` copies the
upstream's sections (RRSIG and NSEC records too), sets our header bits (the upstream's AD
passed on when the client asked with DO or AD), writes the client's question bytes (0x20
case) over the upstream's, lowers the TTLs by the answer's age and puts our OPT record where
the upstream's was.
Compression pointers stay valid: the question and every record keep their offsets.

A reply the walk does not take (an OPT record that is not the last record, a forward
compression pointer, a name that runs off the end, an A record that is not 4 bytes...)
raises ValueError; the upstream handler then reads it with dnslib, as every reply was read
before. `WireReply.records` gives the dnslib records for the handlers that need objects
(safe search builds its answer from the target's records).
"""

from __future__ import annotations

import struct
from typing import Any, NamedTuple

from dnslib import QTYPE, RR, DNSRecord

from dns_resolver.wire import (
    AD,
    CD,
    QR,
    RA,
    RD,
    T_OPT,
    Question,
    edns_option_ede,
    name_text,
    opt_record,
)

_HEADER = struct.Struct(">HHHHHH")
_RR = struct.Struct(">HHIH")
_TTL = struct.Struct(">I")
T_A, T_CNAME, T_SOA, T_AAAA, T_DNAME, T_SVCB, T_HTTPS = 1, 5, 6, 28, 39, 64, 65
_FIXED_LENGTH = {T_A: 4, T_AAAA: 16}
_PARAM = struct.Struct(">HH")
_HINT_SIZE = {4: 4, 6: 16}  # SvcParamKey ipv4hint, ipv6hint → address length
_TARGET_NAMED = (T_CNAME, T_DNAME)


class Sections(NamedTuple):
    """An answer's records as dnslib objects (OPT left out)."""

    answer: tuple[Any, ...]
    authority: tuple[Any, ...]
    additional: tuple[Any, ...]


class Forwarded(NamedTuple):
    """An upstream reply carried in an `Answer`: shown `age` seconds after it arrived (the
    record cache's hits), no TTL below `floor` (stale answers show 30)."""

    reply: WireReply
    age: int = 0
    floor: int = 0


class WireReply:
    """What one walk over an upstream reply found. `data` is kept as received."""

    __slots__ = ("_records", "ad", "additional", "addresses", "answer_count", "authority",
                 "data", "end",
                 "min_answer_ttl", "names", "negative_ttl", "qlen", "rcode", "ttls")

    def __init__(self, data: bytes, *, rcode: int, qlen: int, end: int,
                 counts: tuple[int, int, int], ttls: tuple[tuple[int, int], ...],
                 min_answer_ttl: int | None, negative_ttl: int | None,
                 names: tuple[str, ...], ad: bool = False,
                 addresses: tuple[bytes, ...] = ()) -> None:
        self.data = data
        self.rcode = rcode
        self.ad = ad                      # the validating upstream says: authentic data
        self.qlen = qlen
        self.end = end                    # where the records we pass on end (OPT excluded)
        self.answer_count, self.authority, self.additional = counts
        self.ttls = ttls                  # (offset, TTL) of every record but OPT
        self.min_answer_ttl = min_answer_ttl
        self.negative_ttl = negative_ttl
        self.names = names
        self.addresses = addresses        # A/AAAA data and HTTPS/SVCB hints of the answer
        self._records: Sections | None = None

    def capped(self, max_ttl: int) -> WireReply:
        """This reply with no TTL above `max_ttl` (`[dns] cache_max_ttl`: what clients are
        shown, not only how long Roja keeps it); itself when none is above."""
        if all(ttl <= max_ttl for _offset, ttl in self.ttls):
            return self
        data = bytearray(self.data)
        ttls = []
        for offset, ttl in self.ttls:
            if ttl > max_ttl:
                ttl = max_ttl
                _TTL.pack_into(data, offset, ttl)
            ttls.append((offset, ttl))
        cap = max_ttl
        return WireReply(bytes(data), rcode=self.rcode, qlen=self.qlen, end=self.end,
                         counts=(self.answer_count, self.authority, self.additional),
                         ttls=tuple(ttls), ad=self.ad,
                         min_answer_ttl=None if self.min_answer_ttl is None
                         else min(self.min_answer_ttl, cap),
                         negative_ttl=None if self.negative_ttl is None
                         else min(self.negative_ttl, cap), names=self.names,
                         addresses=self.addresses)

    def records(self, age: int = 0, floor: int = 0) -> Sections:
        """The records as dnslib objects, TTLs lowered by `age` (not below `floor`). Parsed
        once, on first use: only the handlers that rebuild an answer need them."""
        if self._records is None:
            record = DNSRecord.parse(self.data)
            self._records = Sections(tuple(record.rr), tuple(record.auth),
                                     tuple(rr for rr in record.ar if rr.rtype != QTYPE.OPT))
        if not age and not floor:
            return self._records
        return Sections(*(aged(part, age, floor) for part in self._records))


def aged(records: tuple[Any, ...], age: int, floor: int = 0) -> tuple[Any, ...]:
    """Copies of dnslib `records` with TTLs lowered by `age`, never below `floor`."""
    return tuple(RR(rr.rname, rr.rtype, rr.rclass, max(floor, rr.ttl - age), rr.rdata)
                 for rr in records)


def read_reply(data: bytes) -> WireReply:
    """Walk `data` (a reply whose header and question already matched our query)."""
    try:
        return _walk(data)
    except (IndexError, struct.error) as exc:
        raise ValueError(f"reply runs off the end ({type(exc).__name__})") from None


def _walk(data: bytes) -> WireReply:
    _id, flags, qd, an, ns, ar = _HEADER.unpack_from(data)
    if qd != 1:
        raise ValueError("not exactly one question")
    size = len(data)
    pos = _skip_name(data, 12) + 4
    qlen = pos - 12
    ttls: list[tuple[int, int]] = []
    names: list[str] = []
    addresses: list[bytes] = []
    min_answer_ttl: int | None = None
    negative_ttl: int | None = None
    opt_seen = False
    end = pos
    total = an + ns + ar
    for index in range(total):
        if opt_seen:
            raise ValueError("a record after the OPT record")
        owner = pos
        pos = _skip_name(data, pos)
        if pos + 10 > size:
            raise ValueError("record header runs off the end")
        rtype, _rclass, ttl, rdlen = _RR.unpack_from(data, pos)
        rdata = pos + 10
        pos = rdata + rdlen
        if pos > size:
            raise ValueError("record data runs off the end")
        if rtype == T_OPT:
            if index < an + ns:
                raise ValueError("OPT outside the additional section")
            opt_seen = True
            continue
        end = pos
        expected = _FIXED_LENGTH.get(rtype)
        if expected is not None:
            if rdlen != expected:
                raise ValueError("address record of the wrong length")
            if index < an:
                addresses.append(data[rdata:pos])
        ttls.append((rdata - 6, ttl))
        if index < an:
            min_answer_ttl = ttl if min_answer_ttl is None else min(min_answer_ttl, ttl)
            if data[owner] != 0xC0 or data[owner + 1] != 12:   # not a pointer to the question
                names.append(_name(data, owner))
            if rtype in _TARGET_NAMED:
                names.append(_name(data, rdata))
            elif rtype in (T_HTTPS, T_SVCB) and rdlen > 2:
                names.append(_name(data, rdata + 2, pointers=False))
                addresses.extend(hint_addresses(data[rdata:pos]))
        elif index < an + ns and rtype == T_SOA:
            if rdlen < 22:
                raise ValueError("SOA record too short")
            (minimum,) = _TTL.unpack_from(data, pos - 4)
            lifetime = min(ttl, minimum)
            negative_ttl = lifetime if negative_ttl is None else min(negative_ttl, lifetime)
    return WireReply(data, rcode=flags & 0xF, qlen=qlen, end=end,
                     counts=(an, ns, ar - opt_seen), ttls=tuple(ttls),
                     min_answer_ttl=min_answer_ttl, negative_ttl=negative_ttl,
                     names=tuple(names), ad=bool(flags & AD), addresses=tuple(addresses))


def hint_addresses(rdata: bytes) -> list[bytes]:
    """The `ipv4hint` (key 4) and `ipv6hint` (key 6) addresses of HTTPS/SVCB record data
    (RFC 9460 section 2.2: priority, an uncompressed target name, then key, length, value)."""
    pos = 2
    while pos < len(rdata) and rdata[pos]:
        if rdata[pos] & 0xC0:
            return []  # a compressed target: not RFC 9460 data, nothing read from it
        pos += 1 + rdata[pos]
    pos += 1
    out: list[bytes] = []
    while pos + 4 <= len(rdata):
        key, length = _PARAM.unpack_from(rdata, pos)
        pos += 4
        size = _HINT_SIZE.get(key)
        if size is not None:
            value = rdata[pos:pos + length]
            out.extend(value[i:i + size] for i in range(0, len(value) - size + 1, size))
        pos += length
    return out


def render(q: Question, reply: WireReply, age: int = 0, floor: int = 0,
           ede: tuple[int, str] | None = None) -> bytes | None:
    """`reply` as the answer to the client's `q`; None when the client's question is not the
    length of the upstream's (then the caller builds the reply from `records`)."""
    if len(q.wire) != reply.qlen:
        return None
    out = bytearray(reply.data[:reply.end])
    flags = QR | (q.flags & (RD | CD)) | RA | reply.rcode
    if reply.ad and q.wants_ad:
        flags |= AD
    _HEADER.pack_into(out, 0, q.id, flags, 1, reply.answer_count, reply.authority,
                      reply.additional + (q.edns is not None))
    out[12:12 + reply.qlen] = q.wire
    if age or floor:
        for offset, ttl in reply.ttls:
            _TTL.pack_into(out, offset, max(floor, ttl - age, 0))
    if q.edns is not None:
        out += opt_record(q.edns.do, 0, edns_option_ede(*ede) if ede is not None else b"")
    return bytes(out)


def _skip_name(data: bytes, pos: int) -> int:
    """The offset after the name at `pos`. A pointer must point back (before this name), as
    every real server's do: a forward one could point into the OPT record we replace."""
    start = pos
    while True:
        length = data[pos]
        if length == 0:
            return pos + 1
        if length & 0xC0 == 0xC0:
            if ((length & 0x3F) << 8 | data[pos + 1]) >= start:
                raise ValueError("compression pointer that does not point back")
            return pos + 2
        if length & 0xC0:
            raise ValueError("unknown label type")
        pos += 1 + length
        if pos >= len(data):
            raise ValueError("name runs off the end")


def _name(data: bytes, pos: int, pointers: bool = True) -> str:
    """The name at `pos` as canonical text (`wire.name_text`), following pointers."""
    labels: list[bytes] = []
    length_so_far = 0
    jumps = 0
    while True:
        length = data[pos]
        if length == 0:
            break
        if length & 0xC0 == 0xC0 and pointers:
            jumps += 1
            target = (length & 0x3F) << 8 | data[pos + 1]
            if jumps > 32 or target >= pos:
                raise ValueError("compression pointer loop")
            pos = target
            continue
        if length & 0xC0:
            raise ValueError("unknown label type")
        labels.append(data[pos + 1:pos + 1 + length])
        length_so_far += 1 + length
        if length_so_far > 255 or pos + 1 + length > len(data):
            raise ValueError("name too long")
        pos += 1 + length
    return name_text(labels)
