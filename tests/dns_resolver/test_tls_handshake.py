"""Every DoT and DoH handshake completes, on asyncio's loop and on uvloop's (which `roja run`
uses): TLS set up with `start_tls` on an already open stream lost the ClientHello now and then
under uvloop, and the client waited for the handshake timeout."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import struct
import time
from pathlib import Path

import pytest
import uvloop
from cert_kit import self_signed
from dnslib import DNSRecord

from blocklists.compiled import empty_list
from dns_resolver.answer_cache import AnswerCache
from dns_resolver.chain import build_chain
from dns_resolver.config import DnsSettings
from dns_resolver.engine import Resolver
from dns_resolver.metrics import DnsStats
from dns_resolver.server import TcpLimits
from dns_resolver.testing import make_query
from dns_resolver.tls_cert import server_context
from dns_resolver.tls_server import EncryptedDns
from policy import Group, Policy
from policy.ref import PolicyRef


def encrypted(tmp_path: Path, cert: Path, key: Path) -> EncryptedDns:
    policy = PolicyRef(Policy((), Group("pupils", "Pupils"), {},
                              empty_list(tmp_path / "empty.bin")))
    cfg = DnsSettings(acl_allow=(ipaddress.ip_network("127.0.0.0/8"),))
    stats = DnsStats()
    chain = build_chain(cfg, policy, stats)
    resolver = Resolver(admission=chain.admission, chain=chain.entry, policy=policy,
                        answers=AnswerCache(100), stats=stats, quick=chain.quick)
    return EncryptedDns(resolver, tls=[("127.0.0.1", 0)], https=[("127.0.0.1", 0)],
                        dot_context=server_context(cert, key, ["dot"]),
                        doh_context=server_context(cert, key, ["h2", "http/1.1"]),
                        limits=TcpLimits(idle_timeout=3.0), allowed=chain.acl.allowed)


def dot_query(port: int, cert: Path) -> int:
    """One DoT query for the Firefox canary; its rcode."""
    context = ssl.create_default_context(cafile=cert)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        query = make_query("use-application-dns.net")
        tls.sendall(struct.pack(">H", len(query)) + query)
        (length,) = struct.unpack(">H", tls.recv(2))
        return DNSRecord.parse(tls.recv(length)).header.rcode


def doh_handshake(port: int, cert: Path) -> str | None:
    context = ssl.create_default_context(cafile=cert)
    context.set_alpn_protocols(["h2"])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        return tls.selected_alpn_protocol()


async def handshakes(tmp_path: Path, which: str) -> list[tuple[object, float]]:
    cert, key = self_signed(tmp_path)
    server = encrypted(tmp_path, cert, key)
    await server.start()
    out = []
    try:
        port = (server.bound_tls if which == "dot" else server.bound_https)[0][1]
        for _ in range(8):
            started = time.monotonic()
            try:
                result: object = await asyncio.to_thread(
                    dot_query if which == "dot" else doh_handshake, port, cert)
            except OSError as exc:
                result = exc
            out.append((result, round(time.monotonic() - started, 2)))
    finally:
        await server.stop()
    return out


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
@pytest.mark.parametrize("which", ["dot", "doh"])
def test_every_handshake_completes_at_once(tmp_path: Path, which: str, loop: str) -> None:
    """Eight connections in a row: each gets its answer (DoT: the canary's NXDOMAIN; DoH: the
    h2 ALPN) well within the handshake timeout, on both event loops Roja runs on."""
    run = uvloop.run if loop == "uvloop" else asyncio.run
    results = run(handshakes(tmp_path, which))
    assert all(r == (3 if which == "dot" else "h2") and t < 2 for r, t in results), results
