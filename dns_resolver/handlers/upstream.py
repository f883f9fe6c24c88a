"""Upstream: forwards a query to the configured resolvers; the end of the chain.

UDP with EDNS (1232), retried over TCP when the answer is truncated; a fresh socket (random
source port) and a random ID per query; replies whose ID, source or question do not match are
ignored (anti-spoofing). Upstreams are tried in turn with a per-try timeout until a deadline;
when none answers the result is SERVFAIL (well within 2 s) with EDE 22 "No Reachable
Authority". A reply is read on its bytes and passed on as it came (`upstream_reply`); dnslib
reads only what that walk does not take. DNSSEC passes through: the client's DO and CD go
upstream (AD is always set, so a validating upstream says what it validated), RRSIG/NSEC
records and AD come back; no TTL shown is above `cache_max_ttl`.
Config: `[dns] upstreams`, `upstream_timeout` (per try), `upstream_deadline`.
Metrics: `roja_dns_upstream_errors_total{upstream, reason}`, `roja_dns_upstream_seconds`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass

from dnslib import QTYPE, RR, DNSRecord

from dns_resolver.messages import Answer, Next, Query
from dns_resolver.metrics import DnsStats
from dns_resolver.upstream_reply import Forwarded, WireReply, read_reply
from dns_resolver.upstream_udp import UdpExchanges
from dns_resolver.wire import AD, CD, RD, SERVFAIL

log = logging.getLogger("roja.dns.upstream")
EDE_NO_REACHABLE_AUTHORITY = 22


class UpstreamError(Exception):
    pass


class QueryIds:
    """Query IDs (RFC 5452): 16 bits each from the kernel's CSPRNG (`os.urandom`, getrandom),
    read `size` bytes at a time: one system call per 2048 queries instead of one per query
    (measured 0.2 µs an ID, `secrets.randbits` 1.2 µs). Every ID is used once; a child process
    after fork starts with an empty buffer, so two workers never share a sequence."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._left: Iterator[int] = iter(())
        os.register_at_fork(after_in_child=self.clear)

    def clear(self) -> None:
        self._left = iter(())

    def __call__(self) -> int:
        qid = next(self._left, -1)
        if qid < 0:
            self._left = iter(memoryview(os.urandom(self.size)).cast("H"))
            qid = next(self._left)
        return qid


query_id = QueryIds()


@dataclass(frozen=True)
class UpstreamSettings:
    servers: tuple[tuple[str, int], ...]
    timeout: float = 0.6
    deadline: float = 1.8
    max_ttl: int = 86400
    min_ttl: int = 0
    negative_max_ttl: int = 3600


class UpstreamHandler:
    def __init__(self, settings: UpstreamSettings, stats: DnsStats) -> None:
        self.settings = settings
        self.stats = stats
        self._next = 0
        self._udp: UdpExchanges | None = None   # made on the loop of the first query

    async def handle(self, q: Query, call_next: Next) -> Answer:
        try:
            reply = await self.resolve(q.question.wire, q.question.dnssec)
        except UpstreamError as exc:
            return Answer("servfail", f"no upstream answered: {exc}", rcode=SERVFAIL,
                          ede=(EDE_NO_REACHABLE_AUTHORITY, "Roja: upstream unreachable"))
        return self.to_answer(reply)

    def to_answer(self, reply: WireReply | DNSRecord) -> Answer:
        """The answer passing `reply` on: its bytes when the walk took it, else its records."""
        if isinstance(reply, DNSRecord):
            return self._records_answer(reply)
        reply = reply.capped(self.settings.max_ttl)
        if reply.min_answer_ttl is not None:
            ttl = self._positive_ttl(reply.min_answer_ttl)
        else:
            ttl = self._negative_ttl(reply.negative_ttl)
        return Answer("upstream", "resolved by upstream", rcode=reply.rcode,
                      raw=Forwarded(reply), cache_ttl=ttl if ttl > 0 else None)

    def _positive_ttl(self, smallest: int) -> int:
        return max(self.settings.min_ttl, min(smallest, self.settings.max_ttl))

    def _negative_ttl(self, soa_lifetime: int | None) -> int:
        """RFC 2308: negative answers live min(SOA TTL, SOA MINIMUM); none without a SOA."""
        return min(soa_lifetime or 0, self.settings.negative_max_ttl)

    def _records_answer(self, record: DNSRecord) -> Answer:
        rcode = record.header.rcode
        additional = tuple(rr for rr in record.ar if rr.rtype != QTYPE.OPT)
        if record.rr:
            ttl = self._positive_ttl(min(rr.ttl for rr in record.rr))
        else:
            soas = [rr for rr in record.auth if rr.rtype == QTYPE.SOA]
            ttl = self._negative_ttl(
                min(min(rr.ttl, rr.rdata.times[4]) for rr in soas) if soas else None)
        cap = self.settings.max_ttl
        return Answer("upstream", "resolved by upstream", rcode=rcode,
                      answer=_capped(record.rr, cap), authority=_capped(record.auth, cap),
                      additional=_capped(additional, cap),
                      cache_ttl=ttl if ttl > 0 else None)

    async def resolve(self, question: bytes, dnssec: int = 0) -> WireReply | DNSRecord:
        """Ask the upstreams `question` (a question section: the client's own label bytes,
        0x20 case and all, so the name asked is exactly the name the policy decided on), with
        DO and CD as in `dnssec` (`Question.dnssec`: 2 = DO, 1 = CD)."""
        servers = self.settings.servers
        if not servers:
            raise UpstreamError("no upstream configured")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.deadline
        errors: list[str] = []
        start = self._next
        self._next = (self._next + 1) % len(servers)
        attempt = 0
        while loop.time() < deadline - 0.01:
            server = servers[(start + attempt) % len(servers)]
            attempt += 1
            timeout = min(self.settings.timeout, deadline - loop.time())
            label = f"{server[0]}:{server[1]}"
            t0 = time.perf_counter()
            try:
                reply = await self._query(server, question, dnssec, loop.time() + timeout)
            except TimeoutError:
                self.stats.upstream_error(label, "timeout")
                errors.append(f"{label} timeout")
                continue
            except (OSError, UpstreamError, ValueError) as exc:
                self.stats.upstream_error(label, "error")
                errors.append(f"{label} {exc}")
                await asyncio.sleep(min(0.05, max(0.0, deadline - loop.time())))
                continue
            self.stats.upstream_latency(time.perf_counter() - t0)
            rcode = reply.header.rcode if isinstance(reply, DNSRecord) else reply.rcode
            if rcode in (SERVFAIL, 5):  # SERVFAIL, REFUSED: try another one
                self.stats.upstream_error(label, "servfail")
                errors.append(f"{label} rcode {rcode}")
                if attempt >= len(servers):
                    return reply
                continue
            return reply
        raise UpstreamError("; ".join(errors[-3:]) or "deadline passed")

    async def _query(self, server: tuple[str, int], question: bytes, dnssec: int,
                     expires: float) -> WireReply | DNSRecord:
        """One try at `server`, TimeoutError at `expires` (loop time): one timer that fails the
        reply's future (not `asyncio.wait_for` around the whole coroutine, with its own
        bookkeeping per try), and what is left of the try for TCP."""
        qid = query_id()
        flags = RD | AD | (CD if dnssec & 1 else 0)
        packet = (struct.pack(">HHHHHH", qid, flags, 1, 0, 0, 1) + question
                  + (_OPT_1232_DO if dnssec & 2 else _OPT_1232))

        def matches(data: bytes) -> bool:
            return _reply_matches(data, qid, question)

        loop = asyncio.get_running_loop()
        exchanges = self._udp
        if exchanges is None or exchanges.loop is not loop:
            exchanges = self._udp = UdpExchanges(loop)
        data = await exchanges.ask(server, packet, matches, expires)
        if data[2] & 0x02:  # TC: the whole answer over TCP, in what is left of the try
            async with asyncio.timeout_at(expires):
                return await self._query_tcp(server, packet, matches)
        return read_any(data)

    async def _query_tcp(self, server: tuple[str, int], packet: bytes,
                         matches: object) -> WireReply | DNSRecord:
        reader, writer = await asyncio.open_connection(*server)
        try:
            writer.write(struct.pack(">H", len(packet)) + packet)
            await writer.drain()
            while True:
                (length,) = struct.unpack(">H", await reader.readexactly(2))
                data = await reader.readexactly(length)
                if matches(data):  # type: ignore[operator]
                    return read_any(data)
        except asyncio.IncompleteReadError as exc:
            raise UpstreamError("TCP connection closed early") from exc
        finally:
            writer.close()


def read_any(data: bytes) -> WireReply | DNSRecord:
    """The matching reply, read on its bytes, or by dnslib when the walk does not take it (a
    reply without its question, an OPT record before others...). One that neither reads is
    this upstream's error."""
    try:
        return read_reply(data)
    except ValueError:
        pass
    try:
        return DNSRecord.parse(data)
    except Exception as exc:  # dnslib raises several kinds on malformed records
        raise UpstreamError(f"unreadable reply ({type(exc).__name__})") from None


# The OPT record of every query: root name, type 41, UDP size 1232, no options; DO or not.
_OPT_1232 = struct.pack(">BHHIH", 0, 41, 1232, 0, 0)
_OPT_1232_DO = struct.pack(">BHHIH", 0, 41, 1232, 0x8000, 0)


def _capped(records: list[RR] | tuple[RR, ...], max_ttl: int) -> tuple[RR, ...]:
    return tuple(rr if rr.ttl <= max_ttl else RR(rr.rname, rr.rtype, rr.rclass, max_ttl,
                                                   rr.rdata) for rr in records)


def _reply_matches(data: bytes, qid: int, question: bytes) -> bool:
    """Is `data` the reply to the query with `qid` and `question` (the section's bytes)? Names
    compare case-insensitively (RFC 4343); type and class exactly. Checked on the bytes: the
    question is the first name of a message, so it is never compressed."""
    if len(data) < 12 or struct.unpack_from(">H", data)[0] != qid or not data[2] & 0x80:
        return False
    qdcount = struct.unpack_from(">H", data, 4)[0]
    if qdcount == 0 and data[3] & 0xF:
        return True  # an error without the question (NSD's REFUSED for an unknown class)
    if qdcount != 1:
        return False
    end = 12 + len(question)
    got = data[12:end]
    return (len(got) == len(question) and got[-4:] == question[-4:]
            and got[:-4].lower() == question[:-4].lower())
