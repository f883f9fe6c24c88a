"""Encrypted DNS listeners: DNS over TLS (RFC 7858) and DNS over HTTPS (RFC 8484).

Each accepted socket is first admitted by the TCP listener's rules (`server.TcpListener`:
ACL, per-client and total caps, idle eviction), *then* TLS is set up on it
(`loop.connect_accepted_socket(..., ssl=...)`): a refused source costs no handshake. (Not
`start_tls` on an open stream: asyncio and uvloop may lose a ClientHello already read, and the
handshake then stalls; uvloop #707, cpython #142352.) DoT connections are then served like TCP
(`serve_admitted`: pipelining, queries in flight, idle timeout); DoH ones by
`dns_resolver.doh`. Both answer through the one `Resolver`, so the chain, the ACL and the
incidents are those of UDP/TCP. They run in the main process only (`dns.workers` share
UDP/TCP, not these).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import struct
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from dns_resolver.doh import DohAnswerer, DohConnection, http1_server
from dns_resolver.engine import Resolver
from dns_resolver.server import Connection, TcpLimits, TcpListener, open_socket

log = logging.getLogger("roja.dns.tls")
Factory = Callable[[Connection], asyncio.BaseProtocol]


class EncryptedDns:
    def __init__(self, resolver: Resolver, *, tls: Iterable[tuple[str, int]],
                 https: Iterable[tuple[str, int]], dot_context: ssl.SSLContext,
                 doh_context: ssl.SSLContext, limits: TcpLimits, path: str = "/dns-query",
                 allowed: Callable[[str], bool] = lambda client: True) -> None:
        self.resolver = resolver
        self.tls = tuple(tls)
        self.https = tuple(https)
        self.dot = TcpListener(resolver, limits, allowed, transport="dot")
        self.doh_slots = TcpListener(resolver, limits, allowed)
        self.dot_context = dot_context
        self.doh_context = doh_context
        self.respond = DohAnswerer(resolver, path)
        self.http1 = http1_server(self.respond, limits.idle_timeout)
        self._sockets: list[socket.socket] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.bound_tls: list[tuple[str, int]] = []
        self.bound_https: list[tuple[str, int]] = []

    def _dot_protocol(self, slot: Connection) -> asyncio.BaseProtocol:
        reader = asyncio.StreamReader()
        return asyncio.StreamReaderProtocol(
            reader, lambda r, w: self.dot.serve_admitted(r, w, slot))

    def _doh_protocol(self, slot: Connection) -> asyncio.BaseProtocol:
        return DohConnection(self.doh_slots, slot, self.respond, self.http1)

    async def start(self) -> None:
        for listen, bound, slots, context, factory in (
                (self.tls, self.bound_tls, self.dot, self.dot_context, self._dot_protocol),
                (self.https, self.bound_https, self.doh_slots, self.doh_context,
                 self._doh_protocol)):
            for host, port in listen:
                sock = open_socket(host, port, socket.SOCK_STREAM)
                self._sockets.append(sock)
                bound.append((host, sock.getsockname()[1]))
                self._spawn(self._accept(sock, slots, context, factory))
        for host, port in self.bound_tls:
            log.info("DNS over TLS on %s port %d", host, port)
        for host, port in self.bound_https:
            log.info("DNS over HTTPS on https://%s:%d%s", host, port, self.respond.path)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("encrypted DNS listener failed", exc_info=task.exception())

    async def _accept(self, sock: socket.socket, slots: TcpListener, context: ssl.SSLContext,
                      factory: Factory) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                raw, addr = await loop.sock_accept(sock)
            except OSError as exc:   # EMFILE and the like: wait instead of spinning
                log.warning("accept failed: %s", exc)
                await asyncio.sleep(0.1)
                continue
            slot = slots.admit(addr[0], raw)
            if isinstance(slot, str):
                slots.stats.tcp_close(slot)
                # a reset: no TIME_WAIT kept for a refused source
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                raw.close()
                continue
            self._spawn(self._open(raw, slot, slots, context, factory))

    async def _open(self, raw: socket.socket, slot: Connection, slots: TcpListener,
                    context: ssl.SSLContext, factory: Factory) -> None:
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.connect_accepted_socket(
                lambda: factory(slot), raw, ssl=context,
                ssl_handshake_timeout=slots.idle_timeout)
        except (OSError, ssl.SSLError, TimeoutError, ConnectionError):
            slots.stats.tcp_close("tls")
            slots.release(slot)
            raw.close()
            return
        slot.transport = transport

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for sock in self._sockets:
            sock.close()
        for slots in (self.dot, self.doh_slots):
            for conn in list(slots.connections):
                conn.transport.close()
        await asyncio.sleep(0)
        await self.http1.shutdown(1)
