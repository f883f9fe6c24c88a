"""Test kit for the DNS server: build queries and talk to a server over real sockets."""

from __future__ import annotations

import random
import socket
import struct
from pathlib import Path

from dnslib import EDNS0, QTYPE, DNSRecord

_handed_out: set[int] = set()


def _below_ephemeral() -> tuple[int, int]:
    """Ports under the kernel's ephemeral range (32768-60999 by default)."""
    try:
        start = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        start = 32768
    return 10000, min(start, 32768)


def free_port(host: str = "127.0.0.1") -> int:
    """A port free for both TCP and UDP on `host`, not handed out before in this process.

    Chosen below the ephemeral range: a port found by binding to 0 lies inside it, and between
    its release and the server's bind any outgoing connection or UDP query (Roja opens one per
    upstream query) may take it (seen in CI as EADDRINUSE)."""
    low, high = _below_ephemeral()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(500):
        port = random.randrange(low, high) if high - low > 1000 else 0
        if port in _handed_out:
            continue
        with socket.socket(family, socket.SOCK_STREAM) as tcp, \
                socket.socket(family, socket.SOCK_DGRAM) as udp:
            try:
                tcp.bind((host, port))
                port = tcp.getsockname()[1]
                udp.bind((host, port))
            except OSError:
                continue
        _handed_out.add(port)
        return int(port)
    raise RuntimeError(f"no port free for both TCP and UDP on {host}")


def make_query(name: str, qtype: str | int = "A", *, edns: bool = False, do: bool = False,
               qid: int | None = None, rd: bool = True, udp_len: int = 1232) -> bytes:
    q = DNSRecord.question(name, qtype if isinstance(qtype, str) else QTYPE[qtype])
    if qid is not None:
        q.header.id = qid
    q.header.rd = int(rd)
    if edns:
        q.add_ar(EDNS0(udp_len=udp_len, flags="do" if do else ""))
    return bytes(q.pack())


def ask_udp(server: tuple[str, int], packet: bytes, timeout: float = 3.0,
            source: str | None = None) -> bytes | None:
    family = socket.AF_INET6 if ":" in server[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        if source:
            s.bind((source, 0))
        s.sendto(packet, server)
        try:
            return s.recv(65535)
        except TimeoutError:
            return None


def ask_tcp(server: tuple[str, int], packets: list[bytes], timeout: float = 3.0,
            source: str | None = None) -> list[bytes]:
    """Send `packets` pipelined on one connection (from address `source`, if given); return
    the replies in arrival order."""
    family = socket.AF_INET6 if ":" in server[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        if source:
            s.bind((source, 0))
        s.connect(server)
        s.sendall(b"".join(struct.pack(">H", len(p)) + p for p in packets))
        out = []
        for _ in packets:
            head = _read(s, 2)
            out.append(_read(s, struct.unpack(">H", head)[0]))
        return out


def _read(s: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise ConnectionError("server closed the connection")
        data += chunk
    return data


def parse(reply: bytes | None) -> DNSRecord:
    assert reply is not None, "no reply"
    return DNSRecord.parse(reply)


def ede_codes(record: DNSRecord) -> list[int]:
    codes = []
    for rr in record.ar:
        if rr.rtype == QTYPE.OPT:
            for opt in rr.rdata:
                if opt.code == 15:
                    codes.append(int.from_bytes(opt.data[:2], "big"))
    return codes
