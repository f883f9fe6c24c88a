"""Upstream: the end of the chain, against a real NSD and small hostile servers on loopback."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import time
from collections.abc import Callable, Iterator

import pytest
from dnslib import EDNS0, QTYPE, RR, A, DNSQuestion, DNSRecord
from peers.zones import BIG_TXT_COUNT, big_txt_string

from dns_resolver.handlers.upstream import QueryIds, UpstreamHandler, UpstreamSettings
from dns_resolver.messages import Answer, Query
from dns_resolver.metrics import DnsStats
from dns_resolver.testing import make_query
from dns_resolver.wire import (
    NXDOMAIN,
    REFUSED,
    SERVFAIL,
    Question,
    Verdict,
    parse_fast,
    parse_slow,
)
from policy import Group

PUPILS = Group("pupils", "Pupils")
Address = tuple[str, int]


def make_q(name: str, qtype: str = "A") -> Query:
    parsed = parse_fast(make_query(name, qtype))
    assert isinstance(parsed, Question)
    return Query(parsed, "10.0.0.5", PUPILS, "udp", 1000.0)


async def end_of_chain(q: Query) -> Answer:
    return Answer("servfail", "nothing after upstream", rcode=SERVFAIL)


def handler(*servers: Address, timeout: float = 0.6, deadline: float = 1.8) -> UpstreamHandler:
    return UpstreamHandler(UpstreamSettings(tuple(servers), timeout, deadline), DnsStats())


def shown(answer: Answer) -> list[tuple[str, str]]:
    return [(QTYPE[rr.rtype], str(rr.rdata)) for rr in answer.sections().answer]


@pytest.fixture
def dead_port() -> Address:
    """A loopback UDP port nobody listens on (the kernel answers ICMP port unreachable)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()


@pytest.fixture
def blackhole() -> Iterator[Address]:
    """A loopback UDP port that receives queries and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()


class ScriptedServer(asyncio.DatagramProtocol):
    """A UDP server that answers each query with the datagrams `script(query)` returns, sent in
    order; `(data, True)` is sent from a second socket (another source port: a spoofer)."""

    def __init__(self, script: Callable[[DNSRecord], list[tuple[bytes, bool]]]) -> None:
        self.script = script
        self.seen: list[tuple[int, int]] = []   # (query ID, client source port)
        self.transport: asyncio.DatagramTransport | None = None
        self.spoofer: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = DNSRecord.parse(data)
        self.seen.append((query.header.id, addr[1]))
        assert self.transport is not None and self.spoofer is not None
        for reply, spoofed in self.script(query):
            (self.spoofer if spoofed else self.transport).sendto(reply, addr)


async def start_scripted(script: Callable[[DNSRecord], list[tuple[bytes, bool]]]
                         ) -> tuple[ScriptedServer, Address, Callable[[], None]]:
    loop = asyncio.get_running_loop()
    proto = ScriptedServer(script)
    transport, _ = await loop.create_datagram_endpoint(lambda: proto,
                                                       local_addr=("127.0.0.1", 0))
    spoofer, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol,
                                                     local_addr=("127.0.0.1", 0))
    proto.spoofer = spoofer

    def close() -> None:
        transport.close()
        spoofer.close()

    return proto, transport.get_extra_info("sockname"), close


async def ask_scripted(script: Callable[[DNSRecord], list[tuple[bytes, bool]]],
                       q: Query | None = None, **limits: float
                       ) -> tuple[ScriptedServer, Answer]:
    """One query to a handler whose only upstream is a scripted server (`limits`: its timeout
    and deadline)."""
    server, address, close = await start_scripted(script)
    try:
        answer = await handler(address, **limits).handle(q or make_q("www.allowed.test"),
                                                         end_of_chain)
    finally:
        close()
    return server, answer


def reply_to(query: DNSRecord, address: str, *, qid: int | None = None, name: str | None = None,
             rcode: int = 0, qr: int = 1) -> bytes:
    reply = query.reply()
    reply.header.rcode = rcode
    reply.header.qr = qr
    if qid is not None:
        reply.header.id = qid
    if name is not None:   # a new question object: reply() shares the query's
        reply.questions = [DNSQuestion(name, query.q.qtype, query.q.qclass)]
    owner = name or query.q.qname
    if rcode == 0:
        reply.add_answer(RR(owner, QTYPE.A, rdata=A(address), ttl=300))
    return bytes(reply.pack())


# --- against NSD ------------------------------------------------------------------------------

async def test_answer_from_the_upstream(upstream_dns) -> None:
    answer = await handler(upstream_dns.address).handle(make_q("www.allowed.test"), end_of_chain)
    assert answer.kind == "upstream" and answer.rcode == 0
    assert shown(answer) == [("A", "192.0.2.10")]
    assert answer.cache_ttl == 300


async def test_nxdomain_from_the_upstream_is_cacheable_for_the_soa_minimum(upstream_dns) -> None:
    answer = await handler(upstream_dns.address).handle(make_q("nothere.allowed.test"),
                                                        end_of_chain)
    assert answer.rcode == NXDOMAIN and answer.sections().answer == ()
    assert [QTYPE[rr.rtype] for rr in answer.sections().authority] == ["SOA"]
    assert answer.cache_ttl == 60


async def test_cname_chain_is_returned_whole(upstream_dns) -> None:
    answer = await handler(upstream_dns.address).handle(make_q("okchain.allowed.test"),
                                                        end_of_chain)
    assert shown(answer) == [("CNAME", "www.allowed.test."), ("A", "192.0.2.10")]


async def test_truncated_udp_answer_is_retried_over_tcp(upstream_dns) -> None:
    answer = await handler(upstream_dns.address).handle(make_q("big.allowed.test", "TXT"),
                                                        end_of_chain)
    assert answer.rcode == 0
    texts = sorted(b"".join(rr.rdata.data).decode() for rr in answer.sections().answer)
    assert texts == sorted(big_txt_string(i) for i in range(BIG_TXT_COUNT))


async def test_second_upstream_is_used_when_the_first_is_dead(upstream_dns, dead_port,
                                                             blackhole) -> None:
    for first in (dead_port, blackhole):
        h = handler(first, upstream_dns.address, timeout=0.3)
        for _ in range(3):   # whichever upstream a query starts with, it gets its answer
            answer = await h.handle(make_q("www.allowed.test"), end_of_chain)
            assert shown(answer) == [("A", "192.0.2.10")]
        assert any(label == f"127.0.0.1:{first[1]}" for label, _ in h.stats.upstream_errors)


# --- dead upstreams ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["refusing", "silent"])
async def test_dead_upstream_gives_servfail_within_2s_with_ede_22(kind, dead_port,
                                                                 blackhole) -> None:
    h = handler(dead_port if kind == "refusing" else blackhole)   # default timeouts
    t0 = time.monotonic()
    answer = await h.handle(make_q("www.allowed.test"), end_of_chain)
    elapsed = time.monotonic() - t0
    assert answer.kind == "servfail" and answer.rcode == SERVFAIL
    assert answer.ede is not None and answer.ede[0] == 22
    assert elapsed < 2.5                       # the deadline is 1.8 s; generous for slow CI
    assert sum(h.stats.upstream_errors.values()) >= 1


async def test_a_silent_upstream_is_given_up_at_the_deadline(blackhole) -> None:
    """One timer checks every exchange in flight (`upstream_udp._TICK`): each try still ends
    at its time limit, and the last at the deadline."""
    h = handler(blackhole, timeout=0.2, deadline=0.5)
    t0 = time.monotonic()
    answer = await h.handle(make_q("www.allowed.test"), end_of_chain)
    elapsed = time.monotonic() - t0
    assert answer.rcode == SERVFAIL and answer.ede is not None and answer.ede[0] == 22
    assert 0.45 <= elapsed < 0.8
    assert sum(h.stats.upstream_errors.values()) == 3   # 0.2 s, 0.2 s, then what was left


async def test_no_upstream_configured_gives_servfail_at_once() -> None:
    answer = await handler().handle(make_q("www.allowed.test"), end_of_chain)
    assert answer.rcode == SERVFAIL and answer.ede is not None and answer.ede[0] == 22


# --- anti-spoofing ----------------------------------------------------------------------------

async def test_replies_that_do_not_match_are_ignored() -> None:
    def script(q: DNSRecord) -> list[tuple[bytes, bool]]:
        qid = q.header.id
        return [
            (reply_to(q, "6.6.6.1", qid=qid ^ 0x5A5A), False),           # wrong ID
            (reply_to(q, "6.6.6.2", name="evil.example."), False),      # wrong question
            (reply_to(q, "6.6.6.3", qr=0), False),                      # not a reply
            (reply_to(q, "6.6.6.4"), True),                             # from another port
            (b"\x00" * 5, False),                                       # garbage
            (reply_to(q, "192.0.2.99"), False),                         # the real answer
        ]

    _server, answer = await ask_scripted(script)
    assert shown(answer) == [("A", "192.0.2.99")]


async def test_only_spoofed_replies_mean_no_answer() -> None:
    def script(q: DNSRecord) -> list[tuple[bytes, bool]]:
        return [(reply_to(q, "6.6.6.1", qid=(q.header.id + 1) & 0xFFFF), False),
                (reply_to(q, "6.6.6.2"), True)]

    _server, answer = await ask_scripted(script, timeout=0.2, deadline=0.5)
    assert answer.rcode == SERVFAIL and "6.6.6" not in str(answer.sections())


async def test_query_ids_and_source_ports_are_random() -> None:
    server, address, close = await start_scripted(lambda q: [(reply_to(q, "192.0.2.1"), False)])
    try:
        h = handler(address)
        for i in range(20):
            assert shown(await h.handle(make_q(f"n{i}.allowed.test"), end_of_chain))
    finally:
        close()
    ids = {qid for qid, _ in server.seen}
    ports = {port for _, port in server.seen}
    assert len(server.seen) == 20
    assert len(ids) >= 18 and len(ports) >= 10


def test_query_ids_are_16_bit_and_spread_across_refills() -> None:
    ids = QueryIds(size=64)   # 32 IDs per read from the kernel: hundreds of refills
    got = [ids() for _ in range(20000)]
    assert all(0 <= qid <= 0xFFFF for qid in got)
    assert len({qid >> 8 for qid in got}) == 256 and len({qid & 0xFF for qid in got}) == 256
    assert len(set(got)) > 16000   # 20,000 draws from 65,536: ~17,240 distinct expected


def test_a_forked_worker_does_not_repeat_the_parents_ids() -> None:
    ids = QueryIds()
    ids()   # the parent's buffer is filled before the fork
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:   # the child: its next 50 IDs
        os.write(write_end, struct.pack(">50H", *(ids() for _ in range(50))))
        os._exit(0)
    os.close(write_end)
    child = list(struct.unpack(">50H", os.read(read_end, 100)))
    os.close(read_end)
    os.waitpid(pid, 0)
    assert child != [ids() for _ in range(50)]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_concurrent_queries_each_have_their_own_port_and_close_it() -> None:
    """The queries of one loop round are sent together; each from its own socket, whose port
    the kernel picks, and every socket is closed afterwards."""
    server, address, close = await start_scripted(lambda q: [(reply_to(q, "192.0.2.1"), False)])
    try:
        h = handler(address)
        await h.handle(make_q("warm.allowed.test"), end_of_chain)   # the epoll set exists
        before = open_fds()
        answers = await asyncio.gather(*(h.handle(make_q(f"c{i}.allowed.test"), end_of_chain)
                                         for i in range(50)))
        assert open_fds() <= before   # earlier tests' sockets may close meanwhile
    finally:
        close()
    assert all(shown(a) == [("A", "192.0.2.1")] for a in answers)
    ports = {port for _, port in server.seen[1:]}
    assert len(server.seen) == 51 and len(ports) == 50


async def test_timed_out_and_cancelled_queries_close_their_sockets(blackhole) -> None:
    h = handler(blackhole, timeout=0.2, deadline=0.3)
    await h.handle(make_q("warm.allowed.test"), end_of_chain)   # times out; the epoll set exists
    before = open_fds()
    answer = await h.handle(make_q("www.allowed.test"), end_of_chain)
    assert answer.rcode == SERVFAIL and answer.ede is not None and answer.ede[0] == 22
    task = asyncio.ensure_future(h.handle(make_q("www.allowed.test"), end_of_chain))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert open_fds() <= before


@pytest.mark.parametrize("rcode", [SERVFAIL, REFUSED])
async def test_servfail_or_refused_from_one_upstream_tries_the_next(rcode, upstream_dns) -> None:
    _server, address, close = await start_scripted(
        lambda q: [(reply_to(q, "", rcode=rcode), False)])
    try:
        h = handler(address, upstream_dns.address)
        for _ in range(2):
            answer = await h.handle(make_q("www.allowed.test"), end_of_chain)
            assert shown(answer) == [("A", "192.0.2.10")]
    finally:
        close()


async def test_refused_from_every_upstream_is_passed_on() -> None:
    _server, answer = await ask_scripted(lambda q: [(reply_to(q, "", rcode=REFUSED), False)])
    assert answer.rcode == REFUSED and answer.cache_ttl is None


# --- unusual questions ------------------------------------------------------------------------

def slow_q(data: bytes) -> Query:
    parsed = parse_slow(data)
    assert isinstance(parsed, Question)
    return Query(parsed, "10.0.0.5", PUPILS, "udp", 1000.0)


async def test_error_reply_without_a_question_is_taken_at_once(upstream_dns) -> None:
    """NSD answers an unknown class with a bare REFUSED; that is an answer, not a timeout."""
    data = make_query("www.allowed.test")
    data = data[:-2] + struct.pack(">H", 239)            # class 239
    answer = await handler(upstream_dns.address).handle(slow_q(data), end_of_chain)
    assert answer.rcode == REFUSED
    assert answer.cache_ttl is None


@pytest.mark.parametrize("label", [b"caf\xc3\xa9", b"a b", b"x\x00y", b"all\xc2\x8ded"])
async def test_names_with_unusual_bytes_are_asked_as_sent(upstream_dns, label) -> None:
    """A label with raw bytes is asked upstream byte for byte (not re-encoded through IDNA,
    which either fails or asks for a different name): NSD says NXDOMAIN for it."""
    data = make_query("x.allowed.test", qid=1)
    data = data[:12] + bytes([len(label)]) + label + data[12 + 2:]
    assert parse_fast(data) is Verdict.SLOW
    q = slow_q(data)
    answer = await handler(upstream_dns.address).handle(q, end_of_chain)
    assert answer.rcode == NXDOMAIN, answer.reason


async def test_the_question_is_compared_on_its_bytes() -> None:
    def script(q: DNSRecord) -> list[tuple[bytes, bool]]:
        other_type = q.reply()
        other_type.questions = [DNSQuestion(q.q.qname, QTYPE.AAAA, q.q.qclass)]
        two = q.reply()
        two.questions = [q.q, DNSQuestion("www.allowed.test")]
        upper = bytearray(reply_to(q, "192.0.2.77"))
        upper[13:13 + 3] = upper[13:13 + 3].upper()  # "WWW": names compare case-insensitively
        return [(other_type.pack(), False), (two.pack(), False), (bytes(upper), False)]

    server, answer = await ask_scripted(script)
    assert len(server.seen) == 1  # the first matching reply was taken, no retry
    assert shown(answer) == [("A", "192.0.2.77")]


async def test_the_query_asks_once_with_rd_and_edns() -> None:
    queries: list[DNSRecord] = []

    def script(q: DNSRecord) -> list[tuple[bytes, bool]]:
        queries.append(q)
        return [(reply_to(q, "192.0.2.8"), False)]

    _server, _answer = await ask_scripted(script, make_q("Www.Allowed.test", "AAAA"))
    (q,) = queries
    assert q.header.rd == 1 and q.header.qr == 0 and len(q.questions) == 1
    assert str(q.q.qname).lower() == "www.allowed.test." and q.q.qtype == QTYPE.AAAA
    assert [(rr.rtype, rr.rclass) for rr in q.ar] == [(QTYPE.OPT, 1232)] and not q.rr


async def test_a_matching_reply_that_does_not_parse_is_that_upstreams_error() -> None:
    def script(q: DNSRecord) -> list[tuple[bytes, bool]]:
        good = reply_to(q, "192.0.2.5")
        return [(good[:-3], False)]  # the A record's address cut short

    server, answer = await ask_scripted(script, timeout=0.5, deadline=1.5)
    assert answer.rcode == SERVFAIL and answer.sections().answer == ()
    assert len(server.seen) >= 2  # refused at once and asked again, not left to time out


async def test_a_reply_the_byte_walk_does_not_take_is_read_by_dnslib() -> None:
    """An OPT record before the other additional records: valid, but the bytes cannot be
    passed on with ours in its place, so the records are read and the answer built anew."""
    def script(q: DNSRecord) -> list[tuple[bytes, bool]]:
        reply = DNSRecord.parse(reply_to(q, "192.0.2.44"))
        reply.add_ar(EDNS0(udp_len=4096))
        reply.add_ar(RR("extra.allowed.test", QTYPE.A, rdata=A("192.0.2.45"), ttl=60))
        return [(bytes(reply.pack()), False)]

    _server, answer = await ask_scripted(script)
    assert answer.raw is None and shown(answer) == [("A", "192.0.2.44")]
    assert [str(rr.rname) for rr in answer.additional] == ["extra.allowed.test."]
    assert answer.cache_ttl == 300
