"""The demo's stand-in for the internet, so that every example `roja demo` prints works offline.

Two small servers on loopback, started and stopped with the demo:
- a DNS server (UDP and TCP on `127.0.0.1`, a port the kernel picks) that is the demo's
  `[dns] upstreams`: it answers the demo's names (`DEMO_DOMAINS` and their subdomains) with
  `SITE_ADDRESS`, and passes every other question on to the real resolvers (resolv.conf's, or
  `roja demo --upstream`), replying SERVFAIL when none of them answers;
- the sample site: a tiny HTTP server on `SITE_ADDRESS`, which the proxy reaches for a page
  it lets through (`curl -x <proxy> http://example.com:<site port>/`).
A demo helper only: a real gateway forwards to real resolvers and real sites.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from collections.abc import Coroutine, Sequence
from typing import Any

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

from dns_resolver.server import open_pair

log = logging.getLogger("roja.demo")
DEMO_DOMAINS = ("tiktok.com", "example.com", "example.org")
SITE_ADDRESS = "127.0.0.4"
FORWARD_TIMEOUT = 1.5  # below Roja's upstream deadline (1.8 s): the SERVFAIL is ours, in time
UDP_LIMIT = 1232       # larger answers go back truncated; Roja then asks over TCP
SITE_PAGE = """<!doctype html><html lang="sq"><meta charset="utf-8">
<title>Faqe shembull / sample page</title>
<h1>Faqe shembull e demos së Rojës / the Roja demo's sample page</h1>
<p>Kjo faqe nuk është e bllokuar: proxy-ja e la të kalojë. /
This page is not blocked: the proxy let it through.</p>
<p>{path}</p></html>
"""


def is_demo_name(name: str) -> bool:
    name = name.lower().rstrip(".")
    return any(name == d or name.endswith("." + d) for d in DEMO_DOMAINS)


def local_answer(query: dns.message.Message) -> dns.message.Message | None:
    """The answer for a demo name (A: `SITE_ADDRESS`; other types: no data), else None."""
    if len(query.question) != 1 or not is_demo_name(query.question[0].name.to_text()):
        return None
    question = query.question[0]
    reply = dns.message.make_response(query)
    reply.flags |= dns.flags.AA
    if question.rdtype == dns.rdatatype.A:
        reply.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", SITE_ADDRESS))
    return reply


class DemoInternet:
    """Binds both servers at once (an `OSError` names what is taken); `start` serves them."""

    def __init__(self, forward: Sequence[tuple[str, int]], site_port: int) -> None:
        self.forward = tuple(forward)
        self.site_port = site_port
        site = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            site.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            site.bind((SITE_ADDRESS, site_port))
            site.listen(64)
        except OSError:
            site.close()
            raise
        self._site_socket = site
        self._udp, self._tcp = open_pair("127.0.0.1", 0)
        self.dns_port = int(self._udp.getsockname()[1])
        self._servers: list[asyncio.Server] = []
        self._transport: asyncio.DatagramTransport | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def dns_address(self) -> str:
        return f"127.0.0.1:{self.dns_port}"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Udp(self), sock=self._udp)
        self._transport = transport
        self._servers = [await asyncio.start_server(self._dns_tcp, sock=self._tcp),
                         await asyncio.start_server(_site, sock=self._site_socket)]

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        for server in self._servers:
            server.close()
        for task in list(self._tasks):
            task.cancel()
        for sock in (self._udp, self._tcp, self._site_socket):
            sock.close()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def answer(self, wire: bytes) -> bytes | None:
        """The reply to one query's bytes; None for bytes that are not a query."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        reply = local_answer(query)
        if reply is not None:
            return reply.to_wire()
        for host, port in self.forward:
            try:
                found, _ = await dns.asyncquery.udp_with_fallback(
                    query, host, port=port, timeout=FORWARD_TIMEOUT / len(self.forward))
            except (dns.exception.DNSException, OSError) as exc:
                log.debug("demo upstream %s:%d: %s", host, port, exc)
                continue
            return found.to_wire()
        failed = dns.message.make_response(query)
        failed.set_rcode(dns.rcode.SERVFAIL)
        return failed.to_wire()

    async def answer_udp(self, wire: bytes, addr: tuple[str, int]) -> None:
        reply = await self.answer(wire)
        if reply is None or self._transport is None or self._transport.is_closing():
            return
        if len(reply) > UDP_LIMIT:
            short = dns.message.make_response(dns.message.from_wire(wire))
            short.flags |= dns.flags.TC
            reply = short.to_wire()
        self._transport.sendto(reply, addr)

    async def _dns_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            while True:
                (length,) = struct.unpack(">H", await asyncio.wait_for(reader.readexactly(2), 10))
                reply = await self.answer(await reader.readexactly(length))
                if reply is None:
                    break
                writer.write(struct.pack(">H", len(reply)) + reply)
                await writer.drain()
        writer.close()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, internet: DemoInternet) -> None:
        self.internet = internet

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.internet.spawn(self.internet.answer_udp(data, addr))


async def _site(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One request per connection: 200 and the sample page for any path (HEAD: no body)."""
    with contextlib.suppress(asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                             ConnectionError, TimeoutError):
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        method, _, rest = head.decode("latin-1").partition(" ")
        path = rest.partition(" ")[0]
        body = SITE_PAGE.format(path=path.replace("&", "&amp;").replace("<", "&lt;")).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
        if method != "HEAD":
            writer.write(body)
        await writer.drain()
    writer.close()
