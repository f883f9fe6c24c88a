"""The DNS listeners: UDP and TCP on every configured address, IPv4 and IPv6.

UDP: each datagram goes through `Resolver.reply_fast`; only what it cannot answer becomes a
task (bounded: beyond `MAX_PENDING` in flight a query gets SERVFAIL rather than growing memory).
Every reply, fast or slow, goes out with the others finished in the same loop round
(`UdpListener._send`).
TCP (RFC 7766): length-prefixed messages, pipelined (answers may come out of order), an idle
timeout, a cap on open connections, on connections per client and on queries in flight per
connection; sources outside the ACL are closed at accept (`TcpListener`). Sockets are opened
with SO_REUSEPORT so that `dns.workers` processes can share one port.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import socket
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, cast

from dns_resolver.engine import Pending, Resolver
from dns_resolver.round_batch import RoundBatch
from dns_resolver.wire import SERVFAIL, header_reply

log = logging.getLogger("roja.dns.server")
MAX_PENDING = 4096
PER_CONNECTION_INFLIGHT = 32


def open_socket(host: str, port: int, kind: int, reuse_port: bool = False) -> socket.socket:
    """A bound, non-blocking socket. SO_REUSEPORT only when several workers share the port:
    otherwise a second Roja on the same port must fail loudly, not silently share queries."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, kind)
    try:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        if kind == socket.SOCK_DGRAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.bind((host, port))
        if kind == socket.SOCK_STREAM:
            sock.listen(512)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        exc.add_note(f"{where} ({'TCP' if kind == socket.SOCK_STREAM else 'UDP'})")
        raise
    return sock


def open_pair(host: str, port: int, attempts: int = 20,
              reuse_port: bool = False) -> tuple[socket.socket, socket.socket]:
    """UDP and TCP sockets on one port. For port 0 the kernel picks the UDP port, which may be
    taken for TCP (by an outgoing connection's local port): then another port is tried."""
    for attempt in range(attempts):
        udp = open_socket(host, port, socket.SOCK_DGRAM, reuse_port)
        try:
            return udp, open_socket(host, udp.getsockname()[1], socket.SOCK_STREAM, reuse_port)
        except OSError as exc:
            udp.close()
            if port != 0 or exc.errno != errno.EADDRINUSE or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


class UdpListener(asyncio.DatagramProtocol):
    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: set[asyncio.Task[None]] = set()
        self._outgoing = RoundBatch[tuple[bytes, tuple[str, int]]](self._send)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's UDP transport does not subclass asyncio.DatagramTransport, hence the cast.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            result = self.resolver.reply_fast(data, addr[0], "udp")
        except Exception:  # the engine catches everything; this guards the listener itself
            log.exception("unexpected error on the UDP fast path")
            return
        if result is None or self.transport is None:
            return
        if isinstance(result, bytes):
            # Sent with the rest of this loop round's replies (`_send`): on a busy resolver
            # that wakes each client once per round, not once per reply (issue 21: 1.24-1.44x
            # queries per CPU-second on the blocked/allowed mix).
            self._outgoing.add((result, addr))
            return
        if len(self.pending) >= MAX_PENDING:
            self.transport.sendto(header_reply(data, SERVFAIL, result.question.wire), addr)
            return
        # Not started eagerly: the round's queries then reach the upstream together (an eager
        # start measured 10 % more CPU per miss).
        task = asyncio.get_running_loop().create_task(self._slow(result, addr))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _slow(self, pending: Pending, addr: tuple[str, int]) -> None:
        wire = await self.resolver.reply_slow(pending)
        self._outgoing.add((wire, addr))

    def _send(self, outgoing: list[tuple[bytes, tuple[str, int]]]) -> None:
        """Send this loop round's replies (fast and slow path) back to back: the client is
        woken once for them all rather than once per reply. The round is what uvloop read in
        one poll (up to 32 datagrams a socket), so a reply waits at most for the others."""
        if self.transport is None or self.transport.is_closing():
            return
        for wire, addr in outgoing:
            self.transport.sendto(wire, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("UDP error: %s", exc)


@dataclass(frozen=True)
class TcpLimits:
    """How many TCP connections may be open (`tcp_max_connections`), how many of them one
    client may hold (`tcp_max_per_client`; IPv6 clients counted per /64) and after how many
    seconds without a whole query, or with a reply the client does not read, one is closed
    (`tcp_idle_timeout`)."""

    idle_timeout: float = 10.0
    max_connections: int = 256
    max_per_client: int = 16


def client_key(client: str) -> str:
    """What the per-client cap counts by: the address, or its /64 for IPv6 (one host has a
    whole /64 to pick addresses from)."""
    if ":" not in client:
        return client
    try:
        return str(ipaddress.IPv6Network((client.split("%")[0], 64), strict=False))
    except ValueError:
        return client


class Closable(Protocol):
    """What eviction closes: the transport, or the accepted socket while TLS is set up."""

    def close(self) -> None: ...


class _Connection:
    __slots__ = ("client", "inflight", "last", "transport")

    def __init__(self, client: str, transport: Closable, now: float) -> None:
        self.client = client
        self.transport = transport
        self.inflight = 0
        self.last = now


Connection = _Connection   # a connection's slot, for the encrypted listeners


class TcpListener:
    """RFC 7766 connections. A source outside the ACL is closed at accept, before it takes a
    slot; a client at its cap likewise. When every slot is taken, the connection idle the
    longest (no query in flight) is closed to make room; if none is idle, the newcomer is."""

    def __init__(self, resolver: Resolver, limits: TcpLimits,
                 allowed: Callable[[str], bool] = lambda client: True,
                 transport: str = "tcp") -> None:
        self.resolver = resolver
        self.transport = transport   # "tcp", or "dot" for DNS over TLS
        self.limits = limits
        self.idle_timeout = limits.idle_timeout
        self.allowed = allowed
        self.connections: dict[_Connection, None] = {}   # insertion order: oldest first
        self.per_client: dict[str, int] = {}
        self.stats = resolver.stats

    @property
    def open(self) -> int:
        return len(self.connections)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        client = peer[0] if peer else ""
        refusal = self.admit(client, writer.transport)
        if isinstance(refusal, str):
            self.stats.tcp_close(refusal)
            writer.transport.abort()   # a reset: no TIME_WAIT kept for a refused source
            return
        await self.serve_admitted(reader, writer, refusal)

    async def serve_admitted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                             conn: _Connection) -> None:
        """Serve a connection that already has its slot (`admit`) until it ends."""
        peer = writer.get_extra_info("peername")
        client = peer[0] if peer else ""
        loop = asyncio.get_running_loop()
        inflight: set[asyncio.Task[None]] = set()
        lock = asyncio.Lock()
        try:
            while True:
                try:
                    head = await asyncio.wait_for(reader.readexactly(2), self.idle_timeout)
                    (length,) = struct.unpack(">H", head)
                    data = await asyncio.wait_for(reader.readexactly(length), self.idle_timeout)
                except TimeoutError:
                    self.stats.tcp_close("idle")
                    break
                except (asyncio.IncompleteReadError, ConnectionError):
                    break
                conn.last = loop.time()
                while len(inflight) >= PER_CONNECTION_INFLIGHT:
                    await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
                task = loop.create_task(self._answer(data, client, writer, lock, conn))
                inflight.add(task)
                conn.inflight += 1
                task.add_done_callback(inflight.discard)
            if inflight:
                await asyncio.wait(inflight, timeout=self.idle_timeout)
        finally:
            self.release(conn)
            for task in inflight:
                task.cancel()
            writer.close()

    def admit(self, client: str, transport: Closable) -> _Connection | str:
        """The new connection's slot, or why it gets none (the metric's reason)."""
        if not self.allowed(client):
            return "acl"
        key = client_key(client)
        if self.per_client.get(key, 0) >= self.limits.max_per_client:
            return "client_cap"
        if len(self.connections) >= self.limits.max_connections and not self._evict_idle():
            return "full"
        conn = _Connection(key, transport, asyncio.get_running_loop().time())
        self.connections[conn] = None
        self.per_client[key] = self.per_client.get(key, 0) + 1
        return conn

    def _evict_idle(self) -> bool:
        """Close the connection idle the longest, if one has no query in flight."""
        idle = [c for c in self.connections if c.inflight == 0]
        if not idle:
            return False
        victim = min(idle, key=lambda c: c.last)
        self.release(victim)
        self.stats.tcp_close("idle_evicted")
        victim.transport.close()   # its reader sees the end and its task finishes
        return True

    def release(self, conn: _Connection) -> None:
        """Give `conn`'s slot back (once: eviction and the end of its task both call this)."""
        if conn not in self.connections:
            return
        del self.connections[conn]
        left = self.per_client[conn.client] - 1
        if left:
            self.per_client[conn.client] = left
        else:
            del self.per_client[conn.client]

    async def _answer(self, data: bytes, client: str, writer: asyncio.StreamWriter,
                      lock: asyncio.Lock, conn: _Connection) -> None:
        try:
            wire = await self.resolver.reply(data, client, self.transport)
            if wire is None or writer.is_closing():
                return
            async with lock:
                writer.write(struct.pack(">H", len(wire)) + wire)
                try:
                    # A client that does not read its replies holds the slot no longer than
                    # an idle one.
                    await asyncio.wait_for(writer.drain(), self.idle_timeout)
                except TimeoutError:
                    writer.transport.abort()
                except ConnectionError:
                    pass
        finally:
            conn.inflight -= 1
            conn.last = asyncio.get_running_loop().time()


class DnsServer:
    def __init__(self, resolver: Resolver, listen: Iterable[tuple[str, int]],
                 limits: TcpLimits = TcpLimits(), reuse_port: bool = False,
                 allowed: Callable[[str], bool] = lambda client: True) -> None:
        self.resolver = resolver
        self.reuse_port = reuse_port
        self.listen = tuple(listen)
        self.tcp = TcpListener(resolver, limits, allowed)
        self._udp: list[asyncio.DatagramTransport] = []
        self._tcp: list[asyncio.Server] = []
        self.bound: list[tuple[str, int]] = []

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for host, port in self.listen:
            udp_sock, tcp_sock = open_pair(host, port, reuse_port=self.reuse_port)
            port = udp_sock.getsockname()[1]  # port 0 → the one the kernel chose, for TCP too
            transport, _ = await loop.create_datagram_endpoint(
                lambda: UdpListener(self.resolver), sock=udp_sock)
            self._udp.append(transport)
            self._tcp.append(await asyncio.start_server(self.tcp.serve, sock=tcp_sock))
            self.bound.append((host, port))
            log.info("DNS listening on %s port %d (UDP and TCP)", host, port)

    async def stop(self) -> None:
        for t in self._udp:
            t.close()
        for s in self._tcp:
            s.close()
            if hasattr(s, "close_clients"):
                s.close_clients()
        for s in self._tcp:
            try:
                await asyncio.wait_for(s.wait_closed(), 2)
            except TimeoutError:
                log.warning("TCP clients still open at shutdown")
