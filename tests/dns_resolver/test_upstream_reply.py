"""Upstream replies read and passed on as bytes: the client gets what the dnslib path gave it
(same records, header bits and OPT), with its own question bytes and aged TTLs; replies the
walk does not take are refused with ValueError (the handler then reads them with dnslib)."""

from __future__ import annotations

import random
import struct

import pytest
from dnslib import (
    AAAA,
    CNAME,
    DNAME,
    EDNS0,
    MX,
    QTYPE,
    RR,
    SOA,
    TXT,
    A,
    DNSHeader,
    DNSQuestion,
    DNSRecord,
    EDNSOption,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from dns_resolver.messages import Answer, render
from dns_resolver.testing import make_query
from dns_resolver.upstream_reply import Forwarded, WireReply, read_reply
from dns_resolver.wire import Question, parse_fast

NAME = "www.allowed.test"


def upstream_reply(build: str, name: str = NAME, qtype: str = "A", *, rcode: int = 0,
                   upstream_opt: bool = True) -> bytes:
    """What an upstream sends back for `name`: records by kind, its own OPT (with an NSID
    option, which must not reach the client) last."""
    record = DNSRecord(DNSHeader(id=4242, qr=1, aa=1, ra=1, rcode=rcode),
                       q=DNSQuestion(name, getattr(QTYPE, qtype)))
    if build == "a":
        record.add_answer(RR(name, QTYPE.A, rdata=A("192.0.2.10"), ttl=300),
                          RR(name, QTYPE.A, rdata=A("192.0.2.11"), ttl=120))
    elif build == "cname":
        record.add_answer(RR(name, QTYPE.CNAME, rdata=CNAME("edge.cdn.test"), ttl=600),
                          RR("edge.cdn.test", QTYPE.A, rdata=A("192.0.2.20"), ttl=60))
    elif build == "nxdomain":
        record.add_auth(RR("allowed.test", QTYPE.SOA, ttl=900, rdata=SOA(
            "ns.allowed.test", "hostmaster.allowed.test", (7, 3600, 600, 86400, 45))))
    elif build == "mx":
        record.add_answer(RR(name, QTYPE.MX, rdata=MX("mail.allowed.test", 10), ttl=300))
        record.add_ar(RR("mail.allowed.test", QTYPE.A, rdata=A("192.0.2.30"), ttl=300),
                      RR("mail.allowed.test", QTYPE.AAAA, rdata=AAAA("2001:db8::30"), ttl=300))
    elif build == "txt":
        record.add_answer(RR(name, QTYPE.TXT, rdata=TXT(["Roja", "ë ç"]), ttl=30))
    elif build == "https":
        record.add_answer(*RR.fromZone(f"{name}. 300 IN HTTPS 1 svc.cdn.test. alpn=h2"))
    elif build == "dname":
        record.add_answer(RR("allowed.test", QTYPE.DNAME, rdata=DNAME("other.test"), ttl=300),
                          RR(name, QTYPE.CNAME, rdata=CNAME("www.other.test"), ttl=300))
    if upstream_opt:
        record.add_ar(EDNS0(udp_len=4096, opts=[EDNSOption(3, b"ns1")]))
    return bytes(record.pack())


def client_question(name: str = NAME, qtype: str = "A", *, edns: bool = False,
                    do: bool = False, qid: int = 77) -> Question:
    parsed = parse_fast(make_query(name, qtype, edns=edns, do=do, qid=qid))
    assert isinstance(parsed, Question)
    return parsed


def the_dnslib_way(q: Question, reply: WireReply, age: int = 0) -> bytes:
    answer, authority, additional = reply.records(age)
    return render(q, Answer("upstream", "", rcode=reply.rcode, answer=answer,
                            authority=authority, additional=additional))


def shown(wire: bytes) -> tuple[object, ...]:
    record = DNSRecord.parse(wire)
    h = record.header
    return (h.id, h.qr, h.aa, h.tc, h.rd, h.ra, h.rcode, record.questions,
            [rr.toZone() for rr in record.rr], [rr.toZone() for rr in record.auth],
            [rr.toZone() for rr in record.ar])


BUILDS = ["a", "cname", "nxdomain", "mx", "txt", "https", "dname"]


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("edns,do", [(False, False), (True, False), (True, True)])
def test_the_reply_passed_on_is_the_one_dnslib_would_have_built(build, edns, do) -> None:
    qtype = {"mx": "MX", "txt": "TXT", "https": "HTTPS"}.get(build, "A")
    rcode = 3 if build == "nxdomain" else 0
    reply = read_reply(upstream_reply(build, qtype=qtype, rcode=rcode))
    q = client_question(qtype=qtype, edns=edns, do=do)
    for age in (0, 25):
        ours = render(q, Answer("upstream", "", rcode=reply.rcode, raw=Forwarded(reply, age)))
        assert shown(ours) == shown(the_dnslib_way(q, reply, age))
        parsed = DNSRecord.parse(ours)
        assert parsed.header.aa == 0 and parsed.header.id == 77
        opts = [rr for rr in parsed.ar if rr.rtype == QTYPE.OPT]
        if edns:  # ours: 1232 bytes, the client's DO, no NSID from the upstream
            assert [(o.rclass, o.edns_do, o.rdata) for o in opts] == [(1232, do, [])]
        else:
            assert opts == []


def test_the_clients_spelling_of_the_question_is_echoed() -> None:
    reply = read_reply(upstream_reply("cname"))
    q = client_question("wWw.AlLoWeD.TeSt")
    wire = render(q, Answer("upstream", "", raw=Forwarded(reply)))
    assert wire is not None
    assert wire[12:12 + len(q.wire)] == q.wire
    # a record that points into the question follows the client's case, as any forwarder's do
    assert str(DNSRecord.parse(wire).rr[0].rname) == "wWw.AlLoWeD.TeSt."


def test_ttls_age_and_stale_answers_show_the_floor() -> None:
    reply = read_reply(upstream_reply("a"))
    q = client_question()
    aged = DNSRecord.parse(render(q, Answer("cached", "", raw=Forwarded(reply, age=100))))
    assert [rr.ttl for rr in aged.rr] == [200, 20]
    expired = DNSRecord.parse(render(q, Answer("stale", "", ede=(3, "stale"),
                                               raw=Forwarded(reply, age=1000, floor=30))))
    assert [rr.ttl for rr in expired.rr] == [30, 30]


def test_what_the_cache_and_the_policy_need_is_found_on_the_bytes() -> None:
    a = read_reply(upstream_reply("a"))
    assert (a.rcode, a.min_answer_ttl, a.negative_ttl, a.names) == (0, 120, None, ())
    negative = read_reply(upstream_reply("nxdomain", rcode=3))
    assert (negative.rcode, negative.min_answer_ttl, negative.negative_ttl) == (3, None, 45)
    assert read_reply(upstream_reply("cname")).names == ("edge.cdn.test", "edge.cdn.test")
    assert read_reply(upstream_reply("https", qtype="HTTPS")).names == ("svc.cdn.test",)
    assert read_reply(upstream_reply("dname")).names == ("allowed.test", "other.test",
                                                         "www.other.test")


def test_the_answer_sections_addresses_are_found_on_the_bytes() -> None:
    """For the address lists: A/AAAA data of the answer section only (not additional)."""
    assert read_reply(upstream_reply("a")).addresses == (bytes([192, 0, 2, 10]),
                                                         bytes([192, 0, 2, 11]))
    assert read_reply(upstream_reply("cname")).addresses == (bytes([192, 0, 2, 20]),)
    assert read_reply(upstream_reply("mx", qtype="MX")).addresses == ()
    assert read_reply(upstream_reply("a")).capped(60).addresses == (bytes([192, 0, 2, 10]),
                                                                    bytes([192, 0, 2, 11]))


def test_the_upstream_opt_record_is_not_passed_on_and_counts_add_up() -> None:
    data = upstream_reply("mx", qtype="MX")
    reply = read_reply(data)
    assert (reply.answer_count, reply.authority, reply.additional) == (1, 0, 2)
    wire = render(client_question(qtype="MX"), Answer("upstream", "", raw=Forwarded(reply)))
    assert wire is not None and struct.unpack_from(">HHHH", wire, 4) == (1, 1, 0, 2)
    assert b"ns1" not in wire


def test_a_client_question_of_another_length_is_built_from_the_records() -> None:
    reply = read_reply(upstream_reply("a"))
    q = client_question("other.allowed.test")
    wire = render(q, Answer("upstream", "", raw=Forwarded(reply)))
    assert DNSRecord.parse(wire).q.qname == "other.allowed.test."


def with_opt_first(data: bytes) -> bytes:
    record = DNSRecord.parse(data)
    opt = [rr for rr in record.ar if rr.rtype == QTYPE.OPT]
    record.ar = opt + [rr for rr in record.ar if rr.rtype != QTYPE.OPT]
    return bytes(record.pack())


@pytest.mark.parametrize("damage", ["opt-not-last", "forward-pointer", "short-address",
                                    "cut", "two-questions", "pointer-loop-in-cname"])
def test_replies_the_walk_does_not_take_are_refused_with_valueerror(damage) -> None:
    data = upstream_reply("mx" if damage == "opt-not-last" else "cname", qtype="MX"
                          if damage == "opt-not-last" else "A")
    if damage == "opt-not-last":
        data = with_opt_first(data)
    elif damage == "forward-pointer":
        data = data[:12 + len(client_question().wire)] + b"\xc0\xff" + data[
            12 + len(client_question().wire) + 2:]
    elif damage == "short-address":
        record = DNSRecord.parse(upstream_reply("a", upstream_opt=False))
        data = bytearray(record.pack())
        data[-6:-4] = b"\x00\x03"   # the last A record says 3 bytes
        data = bytes(data[:-1])
    elif damage == "cut":
        data = data[:-7]
    elif damage == "two-questions":
        data = data[:4] + b"\x00\x02" + data[6:]
    elif damage == "pointer-loop-in-cname":
        record = DNSRecord.parse(upstream_reply("cname", upstream_opt=False))
        data = bytearray(record.pack())
        cname_rdata = data.index(b"\x04edge")
        data[cname_rdata:cname_rdata + 2] = struct.pack(">H", 0xC000 | cname_rdata)
        data = bytes(data)
    with pytest.raises(ValueError):
        read_reply(data)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(BUILDS), st.randoms(use_true_random=False), st.integers(1, 6))
def test_damaged_replies_are_read_or_refused_never_anything_else(build, rnd: random.Random,
                                                                  flips: int) -> None:
    data = bytearray(upstream_reply(build))
    for _ in range(flips):
        data[rnd.randrange(12, len(data))] = rnd.randrange(256)
    if rnd.random() < 0.3:
        data = data[:rnd.randrange(12, len(data))]
    try:
        reply = read_reply(bytes(data))
    except ValueError:
        return
    q = client_question(edns=True)
    wire = render(q, Answer("upstream", "", raw=Forwarded(reply, age=5)))
    assert wire is None or wire[:2] == struct.pack(">H", 77)


def test_https_and_svcb_address_hints_are_answer_addresses() -> None:
    """ipv4hint/ipv6hint of HTTPS and SVCB records count as the answer's addresses (the
    policy's address lists check them), read on the bytes and through dnslib alike."""
    from dnslib import HTTPS
    from dnslib.buffer import Buffer

    from dns_resolver.upstream_reply import hint_addresses

    record = DNSRecord(DNSHeader(id=1, qr=1, ra=1), q=DNSQuestion(NAME, QTYPE.HTTPS))
    https = HTTPS.fromZone(["1", ".", "alpn=h2", "ipv4hint=192.0.2.7,192.0.2.8",
                            "ipv6hint=2001:db8::9"])
    record.add_answer(RR(NAME, QTYPE.HTTPS, rdata=https, ttl=60))
    reply = read_reply(record.pack())
    assert reply.addresses == (bytes([192, 0, 2, 7]), bytes([192, 0, 2, 8]),
                               bytes.fromhex("20010db8000000000000000000000009"))
    packed = Buffer()
    https.pack(packed)
    assert tuple(hint_addresses(bytes(packed.data))) == reply.addresses
    assert hint_addresses(b"\x00\x01\x00") == []           # no parameters
    assert hint_addresses(b"\x00\x01\x00\x00\x04\x00\x03\xc0\x00\x02") == []  # cut short
