"""Hand-written DNS wire primitives for the hot path (ARCHITECTURE decision 2).

`parse_fast` reads only the header, the single question and a plain OPT record, without building
dnslib objects; anything it does not fully understand returns `SLOW`, and `parse_slow` (dnslib)
decides. Both give the same `Question` for the same packet (checked by a property test).
Also here: error replies built from the header, truncated (TC=1) replies, and finding the TTL
fields of a packed answer so cached answers can be served with decremented TTLs.
"""

from __future__ import annotations

import functools
import re
import struct
from enum import Enum
from typing import NamedTuple

from dnslib import EDNS0, DNSRecord

QR, TC, RD, RA, AD, CD = 0x8000, 0x0200, 0x0100, 0x0080, 0x0020, 0x0010
OPCODE_MASK = 0x7800
T_OPT = 41
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 2, 3, 4, 5
BADVERS = 16
EDNS_SIZE = 1232
_HEADER = struct.Struct(">HHHHHH")
_TYPE_CLASS = struct.Struct(">HH")
# Bytes allowed in a label on the fast path: letters, digits, '-', '_', '*'. Everything else
# (escapes, spaces, binary) takes the slow path, where dnslib renders it with escapes.
_FAST_LABEL_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_*")


class Verdict(Enum):
    DROP = "drop"          # not a query we may answer (too short, QR=1)
    FORMERR = "formerr"    # header readable, the rest is not
    NOTIMP = "notimp"      # opcode other than QUERY
    BADVERS = "badvers"    # EDNS version above 0
    SLOW = "slow"          # fine, but the fast parser does not handle it


class Edns(NamedTuple):
    udp_size: int
    version: int
    do: bool


class Question(NamedTuple):
    """The one question of a query, as the rest of the resolver sees it."""

    id: int
    flags: int
    name: str      # lower case, no trailing dot, "" for the root
    qtype: int
    qclass: int
    wire: bytes    # the question section as the client sent it (echoed byte for byte)
    edns: Edns | None

    @property
    def rd(self) -> bool:
        return bool(self.flags & RD)

    @property
    def dnssec(self) -> int:
        """What the upstream is asked besides the question: 2 = DO (DNSSEC records wanted),
        1 = CD (checking disabled); upstream data differ by these, so caches key by them."""
        return (2 if self.edns is not None and self.edns.do else 0) | (1 if self.flags & CD
                                                                       else 0)

    @property
    def wants_ad(self) -> bool:
        """May the reply carry AD (RFC 6840 5.7: only when the query had DO or AD)?"""
        return bool(self.flags & AD) or (self.edns is not None and self.edns.do)

    def max_udp(self) -> int:
        if self.edns is None:
            return 512
        return max(512, min(self.edns.udp_size, EDNS_SIZE))


def parse_fast(data: bytes) -> Question | Verdict:
    if len(data) < 12:
        return Verdict.DROP
    qid, flags, qd, an, ns, ar = _HEADER.unpack_from(data)
    if flags & QR:
        return Verdict.DROP
    if flags & OPCODE_MASK:
        return Verdict.NOTIMP
    if qd != 1 or an or ns or ar > 1:
        return Verdict.SLOW if qd == 1 else Verdict.FORMERR
    pos, end = 12, len(data)
    labels: list[bytes] = []
    while True:
        if pos >= end:
            return Verdict.FORMERR
        length = data[pos]
        if length == 0:
            pos += 1
            break
        if length > 63 or pos + 1 + length > end:
            return Verdict.SLOW
        label = data[pos + 1:pos + 1 + length]
        if not _FAST_LABEL_BYTES.issuperset(label):
            return Verdict.SLOW
        labels.append(label)
        pos += 1 + length
    if pos + 4 > end or pos - 12 > 255:
        return Verdict.FORMERR if pos + 4 > end else Verdict.SLOW
    qtype, qclass = _TYPE_CLASS.unpack_from(data, pos)
    qend = pos + 4
    edns = None
    if ar:
        # Exactly one OPT RR: root name, type 41, class = UDP size, TTL = rcode/version/flags.
        if qend + 11 > end or data[qend] != 0:
            return Verdict.SLOW
        rtype, size, ttl, rdlen = struct.unpack_from(">HHIH", data, qend + 1)
        if rtype != T_OPT or qend + 11 + rdlen != end:
            return Verdict.SLOW
        # The options must tile the RDATA exactly; anything else is for the slow path to judge.
        opt_pos = qend + 11
        while opt_pos < end:
            if opt_pos + 4 > end:
                return Verdict.SLOW
            opt_pos += 4 + (data[opt_pos + 2] << 8 | data[opt_pos + 3])
        if opt_pos != end:
            return Verdict.SLOW
        if (ttl >> 16) & 0xFF:
            return Verdict.BADVERS
        edns = Edns(size, 0, bool(ttl & 0x8000))
    elif qend != end:
        return Verdict.SLOW
    name = b".".join(labels).decode("ascii").lower()
    return Question(qid, flags, name, qtype, qclass, data[12:qend], edns)


def parse_slow(data: bytes) -> Question | Verdict:
    """The always-correct parser (dnslib checks the whole message). Same verdict ladder as
    `parse_fast`. The question's name and bytes are read from the wire labels, never from
    dnslib's text, so the name decided on is the name forwarded (`name_text`)."""
    if len(data) < 12:
        return Verdict.DROP
    qid, flags, qd, _an, _ns, _ar = _HEADER.unpack_from(data)
    if flags & QR:
        return Verdict.DROP
    if flags & OPCODE_MASK:
        return Verdict.NOTIMP
    if qd != 1:
        return Verdict.FORMERR
    labels = question_labels(data)
    if labels is None:
        return Verdict.FORMERR
    qend = 12 + sum(len(label) + 1 for label in labels) + 1 + 4
    # dnslib judges the rest of the message. It refuses labels that are not UTF-8, which are
    # names all the same: it reads the question with each label's bytes replaced by as many
    # "a"s (offsets, and so compression pointers into the question, stay as they are).
    plain = b"".join(bytes([len(x)]) + b"a" * len(x) for x in labels)
    try:
        record = DNSRecord.parse(data[:12] + plain + data[12 + len(plain):])
    except Exception:  # dnslib raises several types on garbage; all mean FORMERR
        return Verdict.FORMERR
    opts = [rr for rr in record.ar if rr.rtype == T_OPT]
    edns = None
    if len(opts) > 1:
        return Verdict.FORMERR
    if opts:
        opt = opts[0]
        if (opt.ttl >> 16) & 0xFF:
            return Verdict.BADVERS
        edns = Edns(int(opt.rclass), 0, bool(opt.ttl & 0x8000))
    qtype, qclass = _TYPE_CLASS.unpack_from(data, qend - 4)
    return Question(qid, flags, name_text(labels), qtype, qclass, data[12:qend], edns)


def question_labels(data: bytes) -> list[bytes] | None:
    """The labels of the question name of message `data`, as bytes; None when the name is
    not plain labels (a compression pointer, an unknown label type), is longer than 255
    bytes, or the type and class do not follow."""
    pos, end = 12, len(data)
    labels: list[bytes] = []
    while pos < end:
        length = data[pos]
        if length == 0:
            if pos + 5 > end or pos + 1 - 12 > 255:
                return None
            return labels
        if length > 63 or pos + 1 + length > end:
            return None
        labels.append(data[pos + 1:pos + 1 + length])
        pos += 1 + length
    return None


# The canonical text of a name (what the policy, the caches and the incidents see): labels
# joined by ".", ASCII letters lower-cased (RFC 4343), and every byte that is not a lower-case
# letter, digit, '-', '_' or '*' written as \DDD (decimal, as in RFC 1035 master files), '\'
# and '.' included. The text of one name is never the text of another (the escape character is
# itself escaped), and its dots are exactly its label boundaries, so suffix matching walks the
# real labels; a list entry (letters, digits, '-', '_') matches only a label of those bytes.
_PLAIN_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789-_*")
_BYTE_TEXT = tuple(chr(b) if b in _PLAIN_BYTES else f"\\{b:03d}" for b in range(256))
_DDD = re.compile(r"\\([0-9]{3})")


def name_text(labels: list[bytes]) -> str:
    """The canonical text of the name made of `labels` (see above); "" for the root."""
    out = []
    for label in labels:
        low = label.lower()
        if _PLAIN_BYTES.issuperset(low):
            out.append(low.decode("ascii"))
        else:
            out.append("".join([_BYTE_TEXT[b] for b in low]))
    return ".".join(out)


def name_labels(text: str) -> list[bytes]:
    """The inverse of `name_text`: the label bytes of canonical `text`. Raises ValueError for
    text that `name_text` does not write (a bare backslash, an empty label, non-ASCII)."""
    if not text:
        return []
    labels = []
    for part in text.split("."):
        if not part or not part.isascii():
            raise ValueError(f"{text!r} is not a canonical name")
        if "\\" not in part:
            labels.append(part.encode("ascii"))
            continue
        rest = _DDD.sub("", part)
        if "\\" in rest:
            raise ValueError(f"{text!r} is not a canonical name")
        label = bytearray()
        pos = 0
        for m in _DDD.finditer(part):
            label += part[pos:m.start()].encode("ascii")
            value = int(m[1])
            if value > 255:
                raise ValueError(f"{text!r} is not a canonical name")
            label.append(value)
            pos = m.end()
        label += part[pos:].encode("ascii")
        labels.append(bytes(label))
    return labels


def question_wire(name: str, qtype: int, qclass: int = 1) -> bytes:
    """The question section for canonical `name`, `qtype` and `qclass` (for the questions
    Roja asks itself: safe-search targets). ValueError if it cannot be a DNS name."""
    labels = name_labels(name)
    if any(len(label) > 63 for label in labels) or sum(len(x) + 1 for x in labels) > 254:
        raise ValueError(f"{name!r} is not a name that fits a DNS question")
    return (b"".join(bytes([len(x)]) + x for x in labels) + b"\0"
            + _TYPE_CLASS.pack(qtype, qclass))


def _pack_question(q: object) -> bytes:
    from dnslib import DNSBuffer

    buf = DNSBuffer()
    q.pack(buf)  # type: ignore[attr-defined]
    return bytes(buf.data)


def header_reply(data: bytes, rcode: int, question: bytes = b"") -> bytes:
    """A reply made from the query's header alone (FORMERR, NOTIMP, REFUSED, ...)."""
    qid, flags = struct.unpack_from(">HH", data)
    out_flags = QR | (flags & (OPCODE_MASK | RD)) | RA | (rcode & 0xF)
    return _HEADER.pack(qid, out_flags, 1 if question else 0, 0, 0, 0) + question


def opt_record(do: bool = False, ext_rcode: int = 0, options: bytes = b"") -> bytes:
    ttl = (ext_rcode << 24) | (0x8000 if do else 0)
    return b"\x00" + struct.pack(">HHIH", T_OPT, EDNS_SIZE, ttl, len(options)) + options


def badvers_reply(data: bytes) -> bytes:
    """RFC 6891: version above 0 gets BADVERS (extended rcode 16) with our OPT (version 0)."""
    parsed = parse_slow(data)
    question = b""
    if isinstance(parsed, Question):
        question = parsed.wire
    else:
        try:
            question = _pack_question(DNSRecord.parse(data).questions[0])
        except Exception:
            question = b""
    qid, flags = struct.unpack_from(">HH", data)
    out_flags = QR | (flags & RD) | RA | (BADVERS & 0xF)
    head = _HEADER.pack(qid, out_flags, 1 if question else 0, 0, 0, 1)
    return head + question + opt_record(ext_rcode=BADVERS >> 4)


def truncated(q: Question, reply: bytes) -> bytes:
    """The TC=1 form of `reply`: header, question and (with EDNS) our OPT record only."""
    _qid, flags = struct.unpack_from(">HH", reply)
    head = _HEADER.pack(q.id, flags | TC, 1, 0, 0, 1 if q.edns else 0)
    return head + q.wire + (opt_record(q.edns.do) if q.edns else b"")


def ttl_fields(wire: bytes) -> list[tuple[int, int]]:
    """(offset, ttl) of every TTL field in a packed message, OPT records excluded."""
    _id, _flags, qd, an, ns, ar = _HEADER.unpack_from(wire)
    pos = 12
    for _ in range(qd):
        pos = _skip_name(wire, pos) + 4
    out = []
    for _ in range(an + ns + ar):
        pos = _skip_name(wire, pos)
        rtype, _cls, ttl, rdlen = struct.unpack_from(">HHIH", wire, pos)
        if rtype != T_OPT:
            out.append((pos + 4, ttl))
        pos += 10 + rdlen
    return out


def _skip_name(wire: bytes, pos: int) -> int:
    while True:
        length = wire[pos]
        if length == 0:
            return pos + 1
        if length & 0xC0 == 0xC0:
            return pos + 2
        pos += 1 + length


def edns_option_ede(code: int, text: str) -> bytes:
    """RFC 8914 Extended DNS Error option (code 15) bytes."""
    payload = struct.pack(">H", code) + text.encode("utf-8")
    return struct.pack(">HH", 15, len(payload)) + payload


__all__ = ["EDNS0", "Edns", "Question", "Verdict", "parse_fast", "parse_slow"]


_SOA_NAMES = b"\x04roja\x07blocked\x00\x0ahostmaster\x04roja\x07invalid\x00"
_RR = struct.Struct(">HHIH")


def synth_reply(q: Question, rcode: int, ttl: int, *, rtype: int = 0, rdata: bytes = b"",
                soa_owner: str | None = None, ede: tuple[int, str] | None = None) -> bytes:
    """A synthetic reply built by hand (blocks): one record of `rtype` for the query name, or
    a SOA for `soa_owner` in the authority section (negative answers), plus our OPT record
    with an Extended DNS Error when the client sent EDNS. No dnslib objects on this path."""
    flags = QR | (q.flags & (RD | CD)) | RA | (rcode & 0xF)
    out = _HEADER.pack(q.id, flags, 1, 1 if rdata else 0, 1 if soa_owner is not None else 0,
                       1 if q.edns else 0) + q.wire
    if rdata:
        out += b"\xc0\x0c" + _RR.pack(rtype, q.qclass, ttl, len(rdata)) + rdata
    if soa_owner is not None:
        out += _owner(q, soa_owner) + _soa_record(q.qclass, ttl)
    if q.edns is not None:
        options = edns_option_ede(*ede) if ede else b""
        out += opt_record(q.edns.do, rcode >> 4, options)
    return out


@functools.lru_cache(maxsize=64)
def _soa_record(qclass: int, ttl: int) -> bytes:
    """Type, class, TTL, length and RDATA of the negative answer's SOA (the same for every
    block with this TTL: built once, not per query)."""
    soa = _SOA_NAMES + struct.pack(">IIIII", 1, 3600, 600, 86400, ttl)
    return _RR.pack(6, qclass, ttl, len(soa)) + soa


def _owner(q: Question, owner: str) -> bytes:
    """`owner` as a compression pointer into the question when it is the name or a parent of
    it, else spelled out."""
    name = q.name
    if owner == name or name.endswith("." + owner):
        skip = name[:len(name) - len(owner)].count(".")
        pos = 12
        for _ in range(skip):
            pos += 1 + q.wire[pos - 12]
        return struct.pack(">H", 0xC000 | pos)
    return question_wire(owner, 0, 0)[:-4]
