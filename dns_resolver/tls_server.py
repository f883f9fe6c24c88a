"""Encrypted DNS listeners: DNS over TLS (RFC 7858) and DNS over HTTPS (RFC 8484).

DoT is the TCP listener (`server.TcpListener`: ACL at accept, per-client caps, idle timeout,
queries in flight per connection) with a TLS handshake after admission. DoH connections are
admitted by the same rules (their own slots) and served by `dns_resolver.doh`. Both answer
through the one `Resolver`, so the chain, the ACL and the incidents are those of UDP/TCP.
They run in the main process only (`dns.workers` share UDP/TCP, not these).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Callable, Iterable

from dns_resolver.doh import DohAnswerer, DohConnection, http1_server
from dns_resolver.engine import Resolver
from dns_resolver.server import TcpLimits, TcpListener, open_socket

log = logging.getLogger("roja.dns.tls")


class EncryptedDns:
    def __init__(self, resolver: Resolver, *, tls: Iterable[tuple[str, int]],
                 https: Iterable[tuple[str, int]], dot_context: ssl.SSLContext,
                 doh_context: ssl.SSLContext, limits: TcpLimits, path: str = "/dns-query",
                 allowed: Callable[[str], bool] = lambda client: True) -> None:
        self.resolver = resolver
        self.tls = tuple(tls)
        self.https = tuple(https)
        self.dot = TcpListener(resolver, limits, allowed, tls=dot_context, transport="dot")
        self.doh_slots = TcpListener(resolver, limits, allowed)
        self.doh_context = doh_context
        self.respond = DohAnswerer(resolver, path)
        self.http1 = http1_server(self.respond, limits.idle_timeout)
        self._servers: list[asyncio.Server] = []
        self.bound_tls: list[tuple[str, int]] = []
        self.bound_https: list[tuple[str, int]] = []

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for host, port in self.tls:
            sock = open_socket(host, port, socket.SOCK_STREAM)
            self._servers.append(await asyncio.start_server(self.dot.serve, sock=sock))
            self.bound_tls.append((host, sock.getsockname()[1]))
            log.info("DNS over TLS on %s port %d", host, sock.getsockname()[1])
        for host, port in self.https:
            sock = open_socket(host, port, socket.SOCK_STREAM)
            self._servers.append(await loop.create_server(
                lambda: DohConnection(self.doh_slots, self.doh_context, self.respond,
                                      self.http1), sock=sock))
            self.bound_https.append((host, sock.getsockname()[1]))
            log.info("DNS over HTTPS on https://%s:%d%s", host, sock.getsockname()[1],
                     self.respond.path)

    async def stop(self) -> None:
        for s in self._servers:
            s.close()
            if hasattr(s, "close_clients"):   # asyncio's, not uvloop's
                s.close_clients()
        for s in self._servers:
            try:
                await asyncio.wait_for(s.wait_closed(), 2)
            except TimeoutError:
                log.warning("encrypted DNS clients still open at shutdown")
        await self.http1.shutdown(1)
