"""Upstream: forwards a query to the configured resolvers; the end of the chain.

UDP with EDNS (1232), retried over TCP when the answer is truncated; a fresh socket (random
source port) and a random ID per query; replies whose ID, source or question do not match are
ignored (anti-spoofing). Upstreams are tried in turn with a per-try timeout until a deadline;
when none answers the result is SERVFAIL (well within 2 s) with EDE 22 "No Reachable
Authority". Config: `[dns] upstreams`, `upstream_timeout` (per try), `upstream_deadline`.
Metrics: `roja_dns_upstream_errors_total{upstream, reason}`, `roja_dns_upstream_seconds`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import struct
import time
from dataclasses import dataclass

from dnslib import EDNS0, QTYPE, DNSLabel, DNSQuestion, DNSRecord

from dns_resolver.messages import Answer, Next, Query
from dns_resolver.metrics import DnsStats
from dns_resolver.wire import SERVFAIL

log = logging.getLogger("roja.dns.upstream")
EDE_NO_REACHABLE_AUTHORITY = 22


class UpstreamError(Exception):
    pass


@dataclass(frozen=True)
class UpstreamSettings:
    servers: tuple[tuple[str, int], ...]
    timeout: float = 0.6
    deadline: float = 1.8
    max_ttl: int = 86400
    min_ttl: int = 0
    negative_max_ttl: int = 3600


class _UdpExchange(asyncio.DatagramProtocol):
    def __init__(self, check: object) -> None:
        self.check = check
        self.reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not self.reply.done() and self.check(data):  # type: ignore[operator]
            self.reply.set_result(data)

    def error_received(self, exc: Exception) -> None:
        if not self.reply.done():
            self.reply.set_exception(exc)


class UpstreamHandler:
    def __init__(self, settings: UpstreamSettings, stats: DnsStats) -> None:
        self.settings = settings
        self.stats = stats
        self._next = 0

    async def handle(self, q: Query, call_next: Next) -> Answer:
        try:
            record = await self.resolve(q.name, q.qtype, q.question.qclass)
        except UpstreamError as exc:
            return Answer("servfail", f"no upstream answered: {exc}", rcode=SERVFAIL,
                          ede=(EDE_NO_REACHABLE_AUTHORITY, "Roja: upstream unreachable"))
        return self.to_answer(record)

    def to_answer(self, record: DNSRecord) -> Answer:
        s = self.settings
        rcode = record.header.rcode
        additional = tuple(rr for rr in record.ar if rr.rtype != QTYPE.OPT)
        if record.rr:
            ttl = min(rr.ttl for rr in record.rr)
            ttl = max(s.min_ttl, min(ttl, s.max_ttl))
        else:  # RFC 2308: negative answers live min(SOA TTL, SOA MINIMUM)
            soas = [rr for rr in record.auth if rr.rtype == QTYPE.SOA]
            ttl = min(min(rr.ttl, rr.rdata.times[4]) for rr in soas) if soas else 0
            ttl = min(ttl, s.negative_max_ttl)
        return Answer("upstream", "resolved by upstream", rcode=rcode, answer=tuple(record.rr),
                      authority=tuple(record.auth), additional=additional,
                      cache_ttl=ttl if ttl > 0 else None)

    async def resolve(self, name: str, qtype: int, qclass: int = 1) -> DNSRecord:
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
                record = await asyncio.wait_for(self._query(server, name, qtype, qclass), timeout)
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
            if record.header.rcode in (SERVFAIL, 5):  # SERVFAIL, REFUSED: try another one
                self.stats.upstream_error(label, "servfail")
                errors.append(f"{label} rcode {record.header.rcode}")
                if attempt >= len(servers):
                    return record
                continue
            return record
        raise UpstreamError("; ".join(errors[-3:]) or "deadline passed")

    async def _query(self, server: tuple[str, int], name: str, qtype: int,
                     qclass: int) -> DNSRecord:
        qid = secrets.randbits(16)
        query = DNSRecord(q=DNSQuestion(_labels(name), qtype, qclass))
        query.header.id = qid
        query.header.rd = 1
        query.add_ar(EDNS0(udp_len=1232))
        packet = query.pack()

        def matches(data: bytes) -> bool:
            return _reply_matches(data, qid, name, qtype, qclass)

        loop = asyncio.get_running_loop()
        transport, proto = await loop.create_datagram_endpoint(
            lambda: _UdpExchange(matches), remote_addr=server)
        try:
            transport.sendto(packet)
            data = await proto.reply
        finally:
            transport.close()
        record = DNSRecord.parse(data)
        if record.header.tc:
            record = await self._query_tcp(server, packet, matches)
        return record

    async def _query_tcp(self, server: tuple[str, int], packet: bytes,
                         matches: object) -> DNSRecord:
        reader, writer = await asyncio.open_connection(*server)
        try:
            writer.write(struct.pack(">H", len(packet)) + packet)
            await writer.drain()
            while True:
                (length,) = struct.unpack(">H", await reader.readexactly(2))
                data = await reader.readexactly(length)
                if matches(data):  # type: ignore[operator]
                    return DNSRecord.parse(data)
        except asyncio.IncompleteReadError as exc:
            raise UpstreamError("TCP connection closed early") from exc
        finally:
            writer.close()


_DDD = re.compile(r"\\([0-9]{3})")


def _labels(name: str) -> DNSLabel:
    """The name as `parse_slow` wrote it (dnslib text: bytes outside 33..126 as \\ddd) back to
    labels. Not through `DNSLabel(str)`, whose IDNA step fails on, or rewrites, such bytes."""
    return DNSLabel([_DDD.sub(lambda m: chr(int(m[1])) if int(m[1]) < 256 else m[0], part)
                     .encode("latin-1") for part in name.split(".") if part])


def _reply_matches(data: bytes, qid: int, name: str, qtype: int, qclass: int) -> bool:
    if len(data) < 12 or struct.unpack_from(">H", data)[0] != qid or not data[2] & 0x80:
        return False
    try:
        q = DNSRecord.parse(data).questions
    except Exception:
        return False
    if not q and data[3] & 0xF:
        return True  # an error without the question (NSD's REFUSED for an unknown class)
    if len(q) != 1:
        return False
    got = str(q[0].qname).rstrip(".").lower()
    return got == name.lower() and q[0].qtype == qtype and q[0].qclass == qclass
