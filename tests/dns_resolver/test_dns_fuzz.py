"""Fuzz the running appliance: >= 10,000 random and mutated packets over UDP and a few thousand
TCP messages (with garbage length prefixes and connections cut mid-message), then check that
ordinary queries are still answered correctly and that no handler raised.

The generator is seeded, so a failure can be replayed; every count is fixed.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import struct
import time
from pathlib import Path

import pytest
from dnslib import QTYPE, DNSRecord

from dns_resolver.testing import ask_tcp, ask_udp, make_query, parse
from filterd.testing import dns_address, running_appliance, write_lists

SEED = 20240611
UDP_PACKETS = 10_000
TCP_CONNECTIONS = 12
TCP_MESSAGES_PER_CONNECTION = 250
NAMES = ["bet365.com", "www.bet365.com", "bad.blocked.test", "use-application-dns.net",
         "_dns.resolver.arpa", "www.google.com", "www.google.al", "www.youtube.com",
         "www.allowed.test", "chain.allowed.test", "big.allowed.test", "svc.allowed.test",
         "nothere.allowed.test", "ok.bet365.com", "example.org", "a.b.c.d.e.f.g.allowed.test"]
QTYPES = ["A", "AAAA", "TXT", "MX", "HTTPS", "SVCB", "CNAME", "ANY", "SOA", "NS", "PTR", "AXFR",
          "IXFR", "OPT", "TSIG"]


def config(upstream: tuple[str, int], lists: Path) -> str:
    return f"""
[state]
dir = "{{state}}"
[dns]
listen = ["127.0.0.1:0"]
upstreams = ["{upstream[0]}:{upstream[1]}"]
upstream_timeout = 0.2
upstream_deadline = 0.5
[dns.acl]
allow = ["127.0.0.1/32"]
rate_limit_qps = 0
[[lists]]
id = "deny"
path = "{lists}/deny.txt"
category = "gambling"
[[lists]]
id = "allow"
path = "{lists}/allow.txt"
kind = "allow"
"""


# --- packet generators ------------------------------------------------------------------------

def valid_query(rng: random.Random) -> bytes:
    name = rng.choice(NAMES)
    name = "".join(c.upper() if rng.random() < 0.3 else c for c in name)
    edns = rng.random() < 0.6
    return make_query(name, rng.choice(QTYPES), edns=edns, do=edns and rng.random() < 0.5,
                      qid=rng.getrandbits(16), rd=rng.random() < 0.9,
                      udp_len=rng.choice([0, 512, 1232, 4096, 65535]))


def random_opt(rng: random.Random) -> bytes:
    options = b""
    for _ in range(rng.randrange(4)):
        data = rng.randbytes(rng.randrange(12))
        length = len(data) if rng.random() < 0.7 else rng.getrandbits(16)
        options += struct.pack(">HH", rng.choice([3, 8, 10, 12, 15, rng.getrandbits(16)]),
                               length) + data
    owner = b"\x00" if rng.random() < 0.9 else b"\x01x\x00"
    ttl = (rng.getrandbits(8) << 24) | (rng.choice([0, 0, 0, 1, 255]) << 16) | rng.getrandbits(16)
    rdlen = len(options) if rng.random() < 0.8 else rng.getrandbits(16)
    return owner + struct.pack(">HHIH", 41, rng.getrandbits(16), ttl, rdlen) + options


def _set_count(data: bytearray, field: int, value: int) -> None:
    if len(data) >= 12:
        struct.pack_into(">H", data, 4 + 2 * field, value)


def mutate(rng: random.Random, packet: bytes) -> bytes:
    data = bytearray(packet)
    for _ in range(rng.randrange(1, 4)):
        if not data:
            break
        kind = rng.randrange(11)
        i = rng.randrange(len(data))
        if kind == 0:                      # bit flips
            for _ in range(rng.randrange(1, 9)):
                j = rng.randrange(len(data))
                data[j] ^= 1 << rng.randrange(8)
        elif kind == 1:                    # truncation
            del data[rng.randrange(len(data)):]
        elif kind == 2 and len(data) > 12:  # a random label length inside the question
            data[rng.randrange(12, len(data))] = rng.randrange(256)
        elif kind == 3 and len(data) > 14:  # compression pointer to itself / back / forward
            at = rng.randrange(12, len(data) - 1)
            target = rng.choice([at, 12, at - 2 if at > 13 else 12, rng.randrange(0x4000)])
            struct.pack_into(">H", data, at, 0xC000 | target)
        elif kind == 4 and len(data) > 16:  # two pointers pointing at each other
            struct.pack_into(">HH", data, 12, 0xC000 | 14, 0xC000 | 12)
        elif kind == 5:                    # huge or odd section counts
            _set_count(data, rng.randrange(4), rng.choice([0, 2, 3, 0x7FFF, 0xFFFF]))
        elif kind == 6:                    # random EDNS, sometimes several OPT records
            opts = b"".join(random_opt(rng) for _ in range(rng.choice([1, 1, 1, 2])))
            data += opts
            _set_count(data, 3, rng.choice([1, 2, len(opts) and 1]))
        elif kind == 7:                    # flags: QR, opcode, Z, rcode, TC at random
            if len(data) >= 4:
                data[2], data[3] = rng.getrandbits(8), rng.getrandbits(8)
        elif kind == 8:                    # garbage inserted or appended
            data[i:i] = rng.randbytes(rng.randrange(1, 40))
        elif kind == 9:                    # a label of random length and content
            if len(data) > 12:
                label = rng.randbytes(rng.randrange(64))
                data[12:12] = bytes([rng.choice([len(label), rng.randrange(256)])]) + label
        else:                              # a very long name of many labels
            labels = b"".join(b"\x3f" + b"a" * 63 for _ in range(rng.randrange(3, 6)))
            data[12:12] = labels
    return bytes(data)


def odd_query(rng: random.Random) -> bytes:
    """Well-formed, but unusual: raw-byte labels, any type and class, EDNS with options."""
    labels = []
    for _ in range(rng.randrange(0, 5)):
        if rng.random() < 0.5:
            labels.append(rng.randbytes(rng.randrange(1, 20)))
        else:
            labels.append(rng.choice([b"www", b"bet365", b"google", b"allowed", b"test",
                                      b"com", b"*", b"_dns", b"xn--caf-dma", b"caf\xc3\xa9"]))
    name = b"".join(bytes([len(x)]) + x for x in labels) + b"\x00"
    qtype = rng.choice([1, 28, 16, 64, 65, 255, 251, 252, 41, 250, 0, rng.getrandbits(16)])
    qclass = rng.choice([1, 1, 1, 3, 4, 254, 255, 0, rng.getrandbits(16)])
    flags = rng.getrandbits(16) & ~0xF800                 # a query: QR=0, opcode QUERY
    edns = rng.random() < 0.5
    head = struct.pack(">HHHHHH", rng.getrandbits(16), flags, 1, 0, 0, 1 if edns else 0)
    opt = b""
    if edns:
        options = b"".join(struct.pack(">HH", rng.getrandbits(16), n) + rng.randbytes(n)
                           for n in (rng.randrange(20) for _ in range(rng.randrange(3))))
        opt = b"\x00" + struct.pack(">HHIH", 41, rng.getrandbits(16),
                                    rng.getrandbits(16), len(options)) + options
    return head + name + struct.pack(">HH", qtype, qclass) + opt


def fuzz_packet(rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.08:
        return rng.randbytes(rng.randrange(0, 80))
    if roll < 0.12:
        return rng.randbytes(12) + rng.randbytes(rng.randrange(0, 600))
    if roll < 0.32:
        return valid_query(rng)
    if roll < 0.52:
        return odd_query(rng)
    return mutate(rng, valid_query(rng) if roll < 0.8 else odd_query(rng))


# --- clients (run in threads: the appliance runs in the test's event loop) --------------------

def udp_barrage(addr: tuple[str, int], packets: list[bytes]) -> list[bytes]:
    """Send in bursts of 100 and collect whatever comes back."""
    replies: list[bytes] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        for start in range(0, len(packets), 100):
            for p in packets[start:start + 100]:
                s.sendto(p, addr)
            replies += _drain(s, 0.01)
        replies += _drain(s, 1.0)
    return replies


def _drain(s: socket.socket, quiet: float) -> list[bytes]:
    out = []
    s.settimeout(quiet)
    while True:
        try:
            out.append(s.recv(65535))
        except TimeoutError:
            return out


def tcp_session(addr: tuple[str, int], messages: list[bytes], ending: str) -> list[bytes]:
    """One connection: pipeline `messages`, then end it as `ending` says; return the replies."""
    stream = b"".join(struct.pack(">H", len(m)) + m for m in messages)
    if ending == "cut mid-message":
        stream += struct.pack(">H", 300) + b"\x12\x34\x01\x00"
    elif ending == "huge length prefix":
        stream += b"\xff\xff" + b"\x00" * 100
    elif ending == "odd byte":
        stream += b"\x00"
    with socket.create_connection(addr, timeout=5) as s:
        s.sendall(stream)
        s.shutdown(socket.SHUT_WR)
        data = b""
        try:
            while chunk := s.recv(65536):
                data += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    replies, pos = [], 0
    while pos + 2 <= len(data):
        (n,) = struct.unpack_from(">H", data, pos)
        replies.append(data[pos + 2:pos + 2 + n])
        pos += 2 + n
    assert pos == len(data), "a TCP reply was cut short"
    return replies


def tcp_abandoned(addr: tuple[str, int], rng: random.Random) -> None:
    """Connections that stop mid-length, mid-message, or reset without reading replies."""
    for how in range(6):
        with socket.create_connection(addr, timeout=5) as s:
            if how == 0:
                s.sendall(b"\x00")
            elif how == 1:
                s.sendall(struct.pack(">H", 40) + make_query("www.allowed.test")[:10])
            elif how == 2:
                s.sendall(b"\x00\x00")                    # a zero-length message
            elif how == 3:
                s.sendall(b"".join(struct.pack(">H", len(p)) + p
                                   for p in (valid_query(rng) for _ in range(50))))
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif how == 4:
                s.sendall(rng.randbytes(3000))
            # how == 5: connect and close at once


def check_udp_reply(reply: bytes) -> None:
    assert len(reply) >= 12
    assert reply[2] & 0x80, "a reply without QR=1"
    assert len(reply) <= 1232, f"UDP reply of {len(reply)} bytes"


@pytest.mark.timeout(120)
async def test_fuzzed_packets_do_not_hurt_the_server(tmp_path, upstream_dns, caplog) -> None:
    write_lists(tmp_path / "lists", {"deny.txt": "bet365.com\nblocked.test\n",
                                     "allow.txt": "ok.bet365.com\n"})
    rng = random.Random(SEED)
    udp_packets = [fuzz_packet(rng) for _ in range(UDP_PACKETS)]
    tcp_plans = []
    endings = ["clean", "cut mid-message", "huge length prefix", "odd byte"]
    for i in range(TCP_CONNECTIONS):
        messages = [fuzz_packet(rng) for _ in range(TCP_MESSAGES_PER_CONNECTION)]
        tcp_plans.append((messages, endings[i % len(endings)]))
    caplog.set_level(logging.ERROR)
    async with running_appliance(tmp_path, config(upstream_dns.address,
                                                  tmp_path / "lists")) as app:
        addr = dns_address(app)
        t0 = time.monotonic()
        replies = await asyncio.to_thread(udp_barrage, addr, udp_packets)
        assert len(replies) > UDP_PACKETS // 2     # most packets deserve an answer
        for reply in replies:
            check_udp_reply(reply)

        sessions = [asyncio.to_thread(tcp_session, addr, m, e) for m, e in tcp_plans]
        tcp_replies = await asyncio.gather(*sessions, asyncio.to_thread(tcp_abandoned, addr,
                                                                        random.Random(SEED)))
        for (messages, _), got in zip(tcp_plans, tcp_replies, strict=False):
            assert len(got) > len(messages) // 2
            assert all(r[2] & 0x80 for r in got)

        # Ordinary queries are still answered, correctly, over UDP and TCP.
        blocked = parse(await asyncio.to_thread(ask_udp, addr, make_query("www.bet365.com")))
        assert blocked.header.rcode == 3 and blocked.rr == []
        canary = parse(await asyncio.to_thread(ask_udp, addr,
                                               make_query("use-application-dns.net")))
        assert canary.header.rcode == 3
        allowed = parse(await asyncio.to_thread(ask_udp, addr, make_query("www.allowed.test")))
        assert [str(rr.rdata) for rr in allowed.rr] == ["192.0.2.10"]
        [tcp] = await asyncio.to_thread(ask_tcp, addr, [make_query("big.allowed.test", "TXT")])
        assert len(DNSRecord.parse(tcp).rr) == 12
        google = parse(await asyncio.to_thread(ask_udp, addr, make_query("www.google.com")))
        assert any(rr.rtype == QTYPE.CNAME for rr in google.rr)
        assert time.monotonic() - t0 < 90

        assert app.stats.handler_errors == 0
        assert app.stats.results.get("upstream", 0) > 500   # the fuzz reached the whole chain
        assert app.server is not None
        for _ in range(100):                 # every fuzzed connection is closed, none lingers
            if app.server.tcp.open == 0:
                break
            await asyncio.sleep(0.05)
        assert app.server.tcp.open == 0
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
