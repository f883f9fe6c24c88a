"""dns_resolver.wire: the hand-written fast parser agrees with the dnslib parser, and the
small wire helpers (error replies, TC=1 replies, TTL offsets) produce what clients expect."""

from __future__ import annotations

import struct

import pytest
from dnslib import EDNS0, QTYPE, RR, SOA, TXT, A, DNSHeader, DNSQuestion, DNSRecord
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dns_resolver.testing import make_query
from dns_resolver.wire import (
    BADVERS,
    FORMERR,
    NOTIMP,
    REFUSED,
    SERVFAIL,
    Edns,
    Question,
    Verdict,
    badvers_reply,
    header_reply,
    parse_fast,
    parse_slow,
    truncated,
    ttl_fields,
)

FAST_BYTES = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_*"
PROPERTY = settings(max_examples=400, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


# --- packet builders (by hand, so any byte can be put anywhere) -------------------------------

def header(qid: int = 0x1234, flags: int = 0x0100, qd: int = 1, an: int = 0, ns: int = 0,
           ar: int = 0) -> bytes:
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar)


def encode_name(labels: list[bytes]) -> bytes:
    return b"".join(bytes([len(label)]) + label for label in labels) + b"\x00"


def opt(udp_size: int = 1232, version: int = 0, do: bool = False, ext_rcode: int = 0,
        options: bytes = b"", owner: bytes = b"\x00") -> bytes:
    ttl = (ext_rcode << 24) | (version << 16) | (0x8000 if do else 0)
    return owner + struct.pack(">HHIH", 41, udp_size, ttl, len(options)) + options


def packet(labels: list[bytes], qtype: int = 1, qclass: int = 1, *, qid: int = 0x1234,
           flags: int = 0x0100, edns: bytes | None = None) -> bytes:
    question = encode_name(labels) + struct.pack(">HH", qtype, qclass)
    return header(qid, flags, ar=1 if edns is not None else 0) + question + (edns or b"")


# --- strategies ------------------------------------------------------------------------------


fast_label = st.binary(min_size=1, max_size=63).map(
    lambda b: bytes(FAST_BYTES[x % len(FAST_BYTES)] for x in b))
# Any bytes dnslib can read. (RFC 2181 allows any binary label; dnslib refuses labels that are
# not UTF-8 with FORMERR, so the slow path does too: a known, harmless limitation.)
any_label = st.text(min_size=1, max_size=30).map(str.encode).filter(lambda b: len(b) <= 63)
fast_labels = st.lists(fast_label, max_size=6).filter(lambda ls: len(encode_name(ls)) <= 255)
any_labels = st.lists(st.one_of(fast_label, any_label), max_size=6).filter(
    lambda ls: len(encode_name(ls)) <= 255)
u16 = st.integers(0, 0xFFFF)
# QR=0 and opcode QUERY; every other header bit (AA, TC, RD, RA, Z, AD, CD, rcode) random.
query_flags = u16.map(lambda f: f & ~0xF800)
option = st.tuples(u16, st.binary(max_size=40)).map(
    lambda t: struct.pack(">HH", t[0], len(t[1])) + t[1])
edns_strategy = st.one_of(
    st.none(),
    st.builds(lambda size, do, opts: opt(size, 0, do, options=b"".join(opts)),
              u16, st.booleans(), st.lists(option, max_size=3)),
)


@st.composite
def valid_queries(draw: st.DrawFn, labels: st.SearchStrategy[list[bytes]] = any_labels
                  ) -> bytes:
    return packet(draw(labels), draw(u16), draw(st.sampled_from([1, 1, 1, 3, 255]) | u16),
                  qid=draw(u16), flags=draw(query_flags), edns=draw(edns_strategy))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid query with a few random edits: bit flips, truncation, inserted bytes, counts."""
    data = bytearray(draw(valid_queries()))
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(["flip", "set", "truncate", "insert", "count", "pointer"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if how == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif how == "set":
            data[i] = draw(st.integers(0, 255))
        elif how == "truncate":
            del data[i:]
        elif how == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif how == "count" and len(data) >= 12:
            field = draw(st.sampled_from([4, 6, 8, 10]))
            data[field:field + 2] = struct.pack(">H", draw(st.sampled_from([0, 1, 2, 0xFFFF])))
        elif how == "pointer" and len(data) > 13:
            at = draw(st.integers(12, len(data) - 2))
            data[at:at + 2] = struct.pack(">H", 0xC000 | draw(st.integers(0, len(data))))
    return bytes(data)


def agree_when_fast_decides(data: bytes) -> None:
    fast = parse_fast(data)
    if fast is Verdict.SLOW:
        return
    assert fast == parse_slow(data), data.hex()


# --- properties ------------------------------------------------------------------------------

@PROPERTY
@given(valid_queries())
def test_fast_parser_matches_slow_parser_on_valid_queries(data: bytes) -> None:
    fast = parse_fast(data)
    slow = parse_slow(data)
    assert fast is Verdict.SLOW or fast == slow
    assert isinstance(slow, Question)


@PROPERTY
@given(fast_labels, u16, u16, u16, query_flags, edns_strategy)
def test_fast_parser_handles_plain_queries_itself(labels, qtype, qclass, qid, flags, edns):
    """Ordinary queries never need dnslib: the question comes out lower-cased, echoed as sent."""
    data = packet(labels, qtype, qclass, qid=qid, flags=flags, edns=edns)
    q = parse_fast(data)
    assert isinstance(q, Question)
    assert q == parse_slow(data)
    assert q.name == b".".join(labels).decode().lower()
    assert q.wire == data[12:12 + len(encode_name(labels)) + 4]
    assert (q.id, q.flags, q.qtype, q.qclass) == (qid, flags, qtype, qclass)
    assert (q.edns is None) == (edns is None)


@PROPERTY
@given(st.binary(max_size=80))
@example(b"")
@example(header(qd=1) + b"\xc0\x0c\x00\x01\x00\x01")        # pointer to itself
@example(header(qd=1) + b"\x01a\xc0\x0c\x00\x01\x00\x01")   # pointer back to its start
def test_parsers_agree_on_random_bytes(data: bytes) -> None:
    agree_when_fast_decides(data)


@PROPERTY
@given(st.binary(max_size=60))
def test_parsers_agree_on_random_bytes_after_a_query_header(tail: bytes) -> None:
    agree_when_fast_decides(header() + tail)
    agree_when_fast_decides(header(ar=1) + tail)


@PROPERTY
@given(mutated())
@example(packet([b"a"], edns=opt(options=b"\x00\x0a\x00\x05xy")))        # option overruns
@example(packet([b"a"], edns=opt(version=1, options=b"\x00\x0a\x00\x09x")))
def test_parsers_agree_on_mutated_queries(data: bytes) -> None:
    agree_when_fast_decides(data)


# --- the ladder for bad packets --------------------------------------------------------------

def _with_flags(data: bytes, set_bits: int) -> bytes:
    (flags,) = struct.unpack_from(">H", data, 2)
    return data[:2] + struct.pack(">H", flags | set_bits) + data[4:]


LADDER = [
    ("empty", b"", Verdict.DROP),
    ("eleven bytes", make_query("a.test")[:11], Verdict.DROP),
    ("QR=1 (a reply)", _with_flags(make_query("a.test"), 0x8000), Verdict.DROP),
    ("QR=1 beats opcode", _with_flags(make_query("a.test"), 0x8000 | 0x2800), Verdict.DROP),
    ("opcode NOTIFY", _with_flags(make_query("a.test"), 4 << 11), Verdict.NOTIMP),
    ("opcode UPDATE", _with_flags(make_query("a.test"), 5 << 11), Verdict.NOTIMP),
    ("opcode IQUERY", _with_flags(make_query("a.test"), 1 << 11), Verdict.NOTIMP),
    ("qdcount 0", header(qd=0), Verdict.FORMERR),
    ("qdcount 0 with bytes", header(qd=0) + make_query("a.test")[12:], Verdict.FORMERR),
    ("qdcount 2", header(qd=2) + make_query("a.test")[12:] * 2, Verdict.FORMERR),
    ("header only", header(), Verdict.FORMERR),
    ("name cut short", header() + b"\x05ab", Verdict.FORMERR),
    ("no type/class", header() + encode_name([b"a", b"test"]) + b"\x00", Verdict.FORMERR),
    ("EDNS version 1", packet([b"a", b"test"], edns=opt(version=1)), Verdict.BADVERS),
    ("EDNS version 255", packet([b"a", b"test"], edns=opt(version=255, do=True)),
     Verdict.BADVERS),
    ("two OPT records", header(ar=2) + make_query("a.test")[12:] + opt() + opt(),
     Verdict.FORMERR),
]


@pytest.mark.parametrize(("data", "verdict"), [(d, v) for _, d, v in LADDER],
                         ids=[name for name, _, _ in LADDER])
def test_ladder(data: bytes, verdict: Verdict) -> None:
    assert parse_slow(data) is verdict
    assert parse_fast(data) in (verdict, Verdict.SLOW)


@pytest.mark.parametrize("data", [
    make_query("WwW.ExAmPlE.CoM"),
    make_query("a.test", edns=True, do=True),
    make_query("a.test", "AAAA", edns=True, udp_len=4096),
    make_query(".", "NS"),
    packet([b"_dns", b"resolver", b"arpa"], 64),
    packet([b"*", b"x-y", b"test"], 16, 3),
], ids=["mixed case", "EDNS DO", "EDNS 4096", "root", "underscore", "wildcard CHAOS"])
def test_fast_parser_answers_ordinary_queries_without_dnslib(data: bytes) -> None:
    q = parse_fast(data)
    assert isinstance(q, Question)
    assert q == parse_slow(data)


@pytest.mark.parametrize("data", [
    packet([b"a b", b"test"]),                        # a space needs escaping
    packet([b"caf\xc3\xa9", b"test"]),                # raw UTF-8
    header(an=1) + make_query("a.test")[12:],          # an answer in a query
    header() + b"\xc0\x0c\x00\x01\x00\x01",            # compression in the question
    packet([b"a"], edns=opt(owner=b"\x01x\x00")),      # OPT with a non-root owner
    packet([b"a"]) + b"\x00",                          # trailing garbage
    packet([b"a"], edns=opt(options=b"\x00\x0a\x00\x05xy")),  # option runs past its RR
], ids=["space", "utf-8", "answer count", "pointer", "opt owner", "trailing", "bad option"])
def test_unusual_queries_go_to_the_slow_path(data: bytes) -> None:
    assert parse_fast(data) is Verdict.SLOW


def test_edns_fields_and_udp_size_bounds() -> None:
    q = parse_fast(packet([b"a"], edns=opt(udp_size=4096, do=True)))
    assert isinstance(q, Question)
    assert q.edns == Edns(4096, 0, True)
    assert q.max_udp() == 1232
    small = parse_fast(packet([b"a"], edns=opt(udp_size=100)))
    assert isinstance(small, Question) and small.max_udp() == 512
    plain = parse_fast(packet([b"a"]))
    assert isinstance(plain, Question) and plain.edns is None and plain.max_udp() == 512


# --- replies built from the header ------------------------------------------------------------

@pytest.mark.parametrize("rcode", [FORMERR, SERVFAIL, NOTIMP, REFUSED])
@pytest.mark.parametrize("opcode", [0, 2, 4])
@pytest.mark.parametrize("rd", [False, True])
def test_header_reply(rcode: int, opcode: int, rd: bool) -> None:
    query = _with_flags(make_query("a.test", qid=0xBEEF, rd=rd), opcode << 11)
    reply = DNSRecord.parse(header_reply(query, rcode))
    h = reply.header
    assert (h.id, h.qr, h.opcode, h.rd, h.ra, h.rcode) == (0xBEEF, 1, opcode, int(rd), 1, rcode)
    assert reply.questions == [] and reply.rr == []


def test_header_reply_with_question_echoes_it() -> None:
    query = make_query("MiXeD.test", qid=7)
    question = query[12:]
    reply = header_reply(query, SERVFAIL, question)
    assert reply[12:] == question
    assert DNSRecord.parse(reply).header.q == 1


def test_badvers_reply_carries_extended_rcode_and_our_version_0_opt() -> None:
    query = packet([b"WWW", b"a", b"test"], 28, qid=99, edns=opt(version=1, do=True))
    reply = DNSRecord.parse(badvers_reply(query))
    assert reply.header.id == 99 and reply.header.qr == 1
    [o] = [rr for rr in reply.ar if rr.rtype == QTYPE.OPT]
    assert (reply.header.rcode | ((o.ttl >> 24) << 4)) == BADVERS
    assert (o.ttl >> 16) & 0xFF == 0 and o.rclass == 1232
    assert badvers_reply(query)[12:12 + len(query) - 12 - 11] == query[12:-11]


# --- truncated() -----------------------------------------------------------------------------

def _big_reply(q: Question, rcode: int = 0) -> bytes:
    record = DNSRecord(DNSHeader(id=q.id, qr=1, ra=1, rd=1, rcode=rcode),
                       q=DNSQuestion("big.test", QTYPE.TXT))
    for i in range(12):
        record.add_answer(RR("big.test", QTYPE.TXT, ttl=300, rdata=TXT("x" * 200 + str(i))))
    if q.edns:
        record.add_ar(EDNS0(udp_len=1232, flags="do" if q.edns.do else ""))
    return bytes(record.pack())


@pytest.mark.parametrize(("edns", "do"), [(False, False), (True, False), (True, True)])
def test_truncated_keeps_header_question_and_opt_only(edns: bool, do: bool) -> None:
    query = make_query("BiG.test", "TXT", edns=edns, do=do, qid=4242)
    q = parse_fast(query)
    assert isinstance(q, Question)
    full = _big_reply(q)
    assert len(full) > q.max_udp()
    small = truncated(q, full)
    assert len(small) <= 512
    record = DNSRecord.parse(small)
    assert record.header.tc == 1 and record.header.qr == 1 and record.header.id == 4242
    assert record.rr == [] and record.auth == []
    assert small[12:12 + len(q.wire)] == q.wire      # the client's case, byte for byte
    opts = [rr for rr in record.ar if rr.rtype == QTYPE.OPT]
    assert len(opts) == (1 if edns else 0)
    if edns:
        assert bool(opts[0].ttl & 0x8000) == do


def test_truncated_keeps_the_rcode() -> None:
    q = parse_fast(make_query("big.test", "TXT"))
    assert isinstance(q, Question)
    assert DNSRecord.parse(truncated(q, _big_reply(q, rcode=3))).header.rcode == 3


# --- ttl_fields() ----------------------------------------------------------------------------

def test_ttl_fields_finds_every_ttl_except_opt() -> None:
    record = DNSRecord(DNSHeader(id=1, qr=1), q=DNSQuestion("www.a.test", QTYPE.A))
    record.add_answer(RR("www.a.test", QTYPE.A, ttl=300, rdata=A("192.0.2.1")))
    record.add_answer(RR("www.a.test", QTYPE.A, ttl=299, rdata=A("192.0.2.2")))
    record.add_auth(RR("a.test", QTYPE.SOA, ttl=3600, rdata=SOA(
        "ns.a.test", "h.a.test", (1, 2, 3, 4, 60))))
    record.add_ar(RR("ns.a.test", QTYPE.A, ttl=7, rdata=A("192.0.2.53")))
    record.add_ar(EDNS0(udp_len=1232, flags="do"))
    wire = bytes(record.pack())   # packed with name compression
    fields = ttl_fields(wire)
    assert [ttl for _, ttl in fields] == [300, 299, 3600, 7]
    for offset, ttl in fields:
        assert struct.unpack_from(">I", wire, offset)[0] == ttl
    # Rewriting those offsets changes exactly the TTLs a client sees.
    patched = bytearray(wire)
    for offset, _ in fields:
        struct.pack_into(">I", patched, offset, 5)
    again = DNSRecord.parse(bytes(patched))
    assert [rr.ttl for rr in again.rr + again.auth] == [5, 5, 5]
    assert [rr.ttl for rr in again.ar if rr.rtype != QTYPE.OPT] == [5]
    assert [rr.ttl for rr in again.ar if rr.rtype == QTYPE.OPT] == [0x8000]


def test_ttl_fields_of_a_reply_without_records_is_empty() -> None:
    assert ttl_fields(header_reply(make_query("a.test"), REFUSED, make_query("a.test")[12:])) == []
