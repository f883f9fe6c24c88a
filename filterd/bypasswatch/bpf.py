"""The kernel prefilter of the bypass watch: a classic BPF program attached to the packet
socket, so that ordinary traffic (web pages, video, QUIC streams) never reaches Python.

Written out by hand with a tiny label assembler because the box has no libpcap to compile a
tcpdump filter string. It accepts, on Ethernet frames carrying IPv4 (first fragments) or IPv6
(TCP/UDP directly after the fixed header):

- UDP to 53, 853, 500, 4500, 1194; UDP to 443 with a QUIC long header (handshakes only);
  UDP on any port whose payload looks like a WireGuard initiation (length 148, type 1) or an
  OpenVPN hard reset (first byte 0x38 or 0x50, length 14, 42 or 54);
- TCP to 1194 (any segment); TCP SYNs to 53, 853, 443; TCP segments whose payload starts a
  TLS ClientHello (record 0x16, handshake type 1), on any port;

and cuts each packet to `SNAP` bytes. The Python classifier (`packets`) decides the rest; the
filter is only a cheap superset of what it matches.
"""

from __future__ import annotations

import ctypes
import socket
import struct
from collections.abc import Sequence

SNAP = 2048
SO_ATTACH_FILTER = 26

# Classic BPF opcodes (linux/filter.h)
LDH_ABS, LDB_ABS, LD_ABS = 0x28, 0x30, 0x20
LDH_IND, LDB_IND, LD_IND = 0x48, 0x50, 0x40
LDX_MSH, LDX_IMM = 0xB1, 0x01
JEQ, JSET = 0x15, 0x45
AND, RSH, ADD_X = 0x54, 0x74, 0x0C
TAX, RET = 0x07, 0x06

# (label or "", opcode, k, jump-if-true label, jump-if-false label); "" = the next instruction.
Line = tuple[str, int, int, str, str]


def _program() -> list[Line]:
    def port_list(ports: Sequence[int], then: str, otherwise: str) -> list[Line]:
        out: list[Line] = [("", JEQ, p, then, "") for p in ports[:-1]]
        return [*out, ("", JEQ, ports[-1], then, otherwise)]

    return [
        ("", LDH_ABS, 12, "", ""),
        ("", JEQ, 0x0800, "v4", ""),
        ("", JEQ, 0x86DD, "v6", "drop"),
        ("v4", LDH_ABS, 20, "", ""),               # flags + fragment offset
        ("", JSET, 0x1FFF, "drop", ""),            # a later fragment: no ports
        ("", LDX_MSH, 14, "", ""),                 # X = IPv4 header length
        ("", LDB_ABS, 23, "", ""),                 # protocol
        ("", JEQ, 17, "udp", ""),
        ("", JEQ, 6, "tcp", "drop"),
        ("v6", LDX_IMM, 40, "", ""),               # X = the fixed IPv6 header
        ("", LDB_ABS, 20, "", ""),                 # next header
        ("", JEQ, 17, "udp", ""),
        ("", JEQ, 6, "tcp", "drop"),
        # UDP header at 14 + X
        ("udp", LDH_IND, 16, "", ""),              # destination port
        *port_list((53, 853, 500, 4500, 1194), "accept", ""),
        ("", JEQ, 443, "", "any_udp"),
        ("", LDB_IND, 22, "", ""),                 # first payload byte
        ("", AND, 0xC0, "", ""),
        ("", JEQ, 0xC0, "accept", ""),             # QUIC long header: a handshake packet
        ("any_udp", LDH_IND, 18, "", ""),          # UDP length: the exact sizes below only
        ("", JEQ, 8 + 148, "wg", ""),
        *port_list((8 + 14, 8 + 42, 8 + 54), "ovpn", "drop"),
        ("wg", LD_IND, 22, "", ""),
        ("", JEQ, 0x01000000, "accept", "drop"),   # WireGuard handshake initiation
        ("ovpn", LDB_IND, 22, "", ""),
        ("", JEQ, 0x38, "accept", ""),             # OpenVPN hard reset v2
        ("", JEQ, 0x50, "accept", "drop"),         # and v3
        # TCP header at 14 + X
        ("tcp", LDH_IND, 16, "", ""),              # destination port
        ("", JEQ, 1194, "accept", ""),
        ("", LDB_IND, 27, "", ""),                 # flags
        ("", AND, 0x12, "", ""),
        ("", JEQ, 0x02, "", "data"),               # SYN without ACK: a connection attempt
        ("", LDH_IND, 16, "", ""),
        *port_list((53, 853, 443), "accept", "drop"),
        ("data", LDB_IND, 26, "", ""),             # data offset
        ("", RSH, 2, "", ""),
        ("", AND, 0x3C, "", ""),
        ("", ADD_X, 0, "", ""),
        ("", TAX, 0, "", ""),                      # X = IP header + TCP header
        ("", LDB_IND, 14, "", ""),                 # first payload byte
        ("", JEQ, 0x16, "", "drop"),               # a TLS handshake record
        ("", LDB_IND, 19, "", ""),
        ("", JEQ, 0x01, "accept", "drop"),         # ClientHello
        ("accept", RET, SNAP, "", ""),
        ("drop", RET, 0, "", ""),
    ]


def assemble(lines: Sequence[Line]) -> list[tuple[int, int, int, int]]:
    """Resolve labels into (code, jt, jf, k); jumps only go forward (BPF has no loops)."""
    where = {label: i for i, (label, *_rest) in enumerate(lines) if label}
    out = []
    for i, (_label, code, k, jt, jf) in enumerate(lines):
        offsets = []
        for target in (jt, jf):
            offset = where[target] - i - 1 if target else 0
            if not 0 <= offset <= 255:
                raise ValueError(f"jump from {i} to {target!r} out of range")
            offsets.append(offset)
        out.append((code, offsets[0], offsets[1], k))
    return out


PROGRAM = assemble(_program())


def attach(sock: socket.socket, program: Sequence[tuple[int, int, int, int]] = PROGRAM) -> None:
    """SO_ATTACH_FILTER: the kernel copies the program, so the buffer may go afterwards."""
    raw = b"".join(struct.pack("=HBBI", *insn) for insn in program)
    buffer = ctypes.create_string_buffer(raw, len(raw))
    fprog = struct.pack("HP", len(program), ctypes.addressof(buffer))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
