"""DNS over HTTPS (RFC 8484): GET `?dns=<base64url>` and POST `application/dns-message` on one
path (default `/dns-query`), answered by the same `Resolver` as UDP and TCP (ACL, rate limit,
policy, incidents with the connection's own peer address: no forwarded-for header is trusted).

A connection is admitted by the TCP listener's rules (ACL and caps) *before* the TLS handshake
(`dns_resolver.tls_server`); after it, ALPN picks the HTTP version: `h2` is served by
`dns_resolver.doh_h2` (the `h2` library; aiohttp's server speaks HTTP/1.1 only), anything else
by aiohttp's low-level HTTP/1.1 server.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import NamedTuple

from aiohttp import web

from dns_resolver.engine import Resolver
from dns_resolver.server import Connection, TcpListener

CONTENT_TYPE = "application/dns-message"
MAX_MESSAGE = 65535


class DohReply(NamedTuple):
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    max_age: int | None = None


Respond = Callable[[str, str, bytes, str, str], Awaitable[DohReply]]


def _min_ttl(wire: bytes) -> int:
    """The smallest TTL of the answer and authority records (RFC 8484 §5.1's freshness)."""
    from dnslib import DNSRecord  # parsed only for the header's freshness, never the answer
    try:
        record = DNSRecord.parse(wire)
    except Exception:
        return 0
    ttls = [rr.ttl for rr in (*record.rr, *record.auth)]
    return min(ttls) if ttls else 0


def _decode_get(query: str) -> bytes | None:
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key == "dns":
            try:
                return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            except (binascii.Error, ValueError):
                return None
    return None


class DohAnswerer:
    """From an HTTP request (method, target, body, content type, peer) to the reply."""

    def __init__(self, resolver: Resolver, path: str) -> None:
        self.resolver = resolver
        self.path = path

    async def __call__(self, method: str, target: str, body: bytes, content_type: str,
                       client: str) -> DohReply:
        path, _, query = target.partition("?")
        if path != self.path:
            return DohReply(404, b"not found\n")
        if method == "GET":
            data = _decode_get(query)
            if data is None:
                return DohReply(400, b"missing or unreadable dns parameter\n")
        elif method == "POST":
            if content_type.split(";")[0].strip().lower() != CONTENT_TYPE:
                return DohReply(415, b"expected application/dns-message\n")
            data = body
        else:
            return DohReply(405, b"GET or POST\n")
        if len(data) > MAX_MESSAGE:
            return DohReply(413, b"message too large\n")
        wire = await self.resolver.reply(data, client, "doh")
        if wire is None:
            return DohReply(400, b"not a DNS query\n")
        return DohReply(200, wire, CONTENT_TYPE, _min_ttl(wire))


def http1_server(respond: Respond, idle_timeout: float) -> web.Server:
    """aiohttp's low-level HTTP/1.1 server answering every request through `respond`."""
    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        body = await request.read() if request.can_read_body else b""
        client = request.transport.get_extra_info("peername")[0] if request.transport else ""
        reply = await respond(request.method, request.path_qs, body,
                              request.headers.get("Content-Type", ""), client)
        headers = {"Content-Type": reply.content_type}
        if reply.max_age is not None:
            headers["Cache-Control"] = f"max-age={reply.max_age}"
        return web.Response(status=reply.status, body=reply.body, headers=headers)
    return web.Server(handle, keepalive_timeout=idle_timeout, client_max_size=MAX_MESSAGE + 1)


class DohConnection(asyncio.Protocol):
    """One DoH connection, already admitted (its slot) and with TLS set up: the HTTP/2 or
    HTTP/1.1 protocol chosen by ALPN gets every event; the slot is given back at the end."""

    def __init__(self, slots: TcpListener, slot: Connection, respond: Respond,
                 http1: web.Server) -> None:
        self.slots = slots
        self.slot: Connection | None = slot
        self.respond = respond
        self.http1 = http1
        self.inner: asyncio.Protocol | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        from dns_resolver.doh_h2 import H2Protocol
        peer = transport.get_extra_info("peername")
        ssl_object = transport.get_extra_info("ssl_object")
        alpn = ssl_object.selected_alpn_protocol() if ssl_object is not None else None
        if alpn == "h2":
            self.inner = H2Protocol(self.respond, peer[0] if peer else "",
                                    self.slots.idle_timeout)
        else:
            self.inner = self.http1()
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.inner is not None:
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.inner is not None else None

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.slot is not None:
            self.slots.release(self.slot)
            self.slot = None
        if self.inner is not None:
            self.inner.connection_lost(exc)
