"""Ethernet frames → what a client tried (pure: no sockets, no clock; fuzzed with hypothesis).

`parse_frame(frame)` reads Ethernet (one 802.1Q tag allowed), IPv4 (first fragments only) or
IPv6 (TCP/UDP right after the fixed header) and TCP/UDP into a `Flow`; anything it does not
understand is None, never an exception. `Classifier.classify(flow)` says which bypass it is:

| kind        | what is seen                                                             |
|-------------|--------------------------------------------------------------------------|
| outside_dns | UDP to port 53, or a TCP SYN to port 53, to a server that is not Roja    |
| dot         | a TCP SYN or UDP (DoQ) to port 853, to a server that is not Roja         |
| doh         | a TCP SYN or QUIC Initial to 443 at a known DoH address (`doh_addresses`), |
|             | or a TLS ClientHello on any port whose SNI is a known DoH host           |
| openvpn     | P_CONTROL_HARD_RESET_CLIENT_V2/V3 (UDP, or TCP with its length prefix)   |
| wireguard   | a handshake initiation: type 1, 148 bytes, on any UDP port               |
| ike         | an IKE SA_INIT / Main / Aggressive Mode initiation on UDP 500 or 4500    |

OpenVPN is recognised on any port when the packet has the exact shape of a hard reset (plain,
or with a 20/32-byte tls-auth HMAC); on port 1194 a hard-reset opcode is enough. Only the
first packet of each attempt is meant to match (SYNs, initiations), so a running session is
not counted packet by packet.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from blocklists.bypass import DOT_PORT
from blocklists.canonical import canonical_host

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
KINDS = ("outside_dns", "dot", "doh", "openvpn", "wireguard", "ike")

ETH_IPV4, ETH_IPV6, ETH_VLAN = 0x0800, 0x86DD, 0x8100
TCP, UDP = 6, 17
SYN, ACK = 0x02, 0x10
OPENVPN_PORT = 1194
OPENVPN_RESETS = (7, 10)  # P_CONTROL_HARD_RESET_CLIENT_V2, _V3 (opcode = first byte >> 3)
WIREGUARD_INIT_LEN = 148
IKE_PORTS = (500, 4500)
IKE_EXCHANGES = {2, 4, 34}  # IKEv1 Main, Aggressive; IKEv2 IKE_SA_INIT


class Flow(NamedTuple):
    """One packet's addresses, ports and transport payload."""

    src: Address
    dst: Address
    proto: int        # 6 TCP, 17 UDP
    sport: int
    dport: int
    flags: int        # TCP flags (0 for UDP)
    payload: bytes


class Detection(NamedTuple):
    kind: str         # one of KINDS
    client: str       # the source address (pseudonymised before it is stored)
    target: str       # e.g. "8.8.8.8:53", "dns.google", "203.0.113.5:51820"


def parse_frame(frame: bytes) -> Flow | None:
    """An Ethernet frame's IP/TCP/UDP view, or None (not IP, a later fragment, truncated)."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    offset = 14
    if ethertype == ETH_VLAN:
        if len(frame) < 18:
            return None
        ethertype = struct.unpack_from("!H", frame, 16)[0]
        offset = 18
    if ethertype == ETH_IPV4:
        return parse_ipv4(frame, offset)
    if ethertype == ETH_IPV6:
        return parse_ipv6(frame, offset)
    return None


def parse_ipv4(data: bytes, offset: int = 0) -> Flow | None:
    if len(data) < offset + 20 or data[offset] >> 4 != 4:
        return None
    ihl = (data[offset] & 0x0F) * 4
    total = struct.unpack_from("!H", data, offset + 2)[0]
    if ihl < 20 or total < ihl:
        return None
    if struct.unpack_from("!H", data, offset + 6)[0] & 0x1FFF:
        return None  # not the first fragment: no transport header
    end = min(len(data), offset + total)
    src = ipaddress.IPv4Address(data[offset + 12:offset + 16])
    dst = ipaddress.IPv4Address(data[offset + 16:offset + 20])
    return _transport(data[offset + ihl:end], data[offset + 9], src, dst)


def parse_ipv6(data: bytes, offset: int = 0) -> Flow | None:
    if len(data) < offset + 40 or data[offset] >> 4 != 6:
        return None
    length = struct.unpack_from("!H", data, offset + 4)[0]
    end = min(len(data), offset + 40 + length)
    src = ipaddress.IPv6Address(data[offset + 8:offset + 24])
    dst = ipaddress.IPv6Address(data[offset + 24:offset + 40])
    return _transport(data[offset + 40:end], data[offset + 6], src, dst)


def _transport(segment: bytes, proto: int, src: Address, dst: Address) -> Flow | None:
    if proto == UDP:
        if len(segment) < 8:
            return None
        sport, dport, length = struct.unpack_from("!HHH", segment)
        end = length if 8 <= length <= len(segment) else len(segment)
        return Flow(src, dst, UDP, sport, dport, 0, segment[8:end])
    if proto == TCP:
        if len(segment) < 20:
            return None
        sport, dport = struct.unpack_from("!HH", segment)
        header = (segment[12] >> 4) * 4
        if header < 20 or header > len(segment):
            return None
        return Flow(src, dst, TCP, sport, dport, segment[13], segment[header:])
    return None


def tls_sni(payload: bytes) -> str | None:
    """The server name of a TLS ClientHello that starts `payload` (as far as it reaches), or
    None. Bounds are checked at every step; a truncated hello without SNI is None."""
    if len(payload) < 43 or payload[0] != 0x16 or payload[5] != 0x01:
        return None
    pos = 9 + 2 + 32  # record header 5 + handshake header 4; version 2; random 32
    try:
        pos += 1 + payload[pos]                                         # session id
        pos += 2 + struct.unpack_from("!H", payload, pos)[0]            # cipher suites
        pos += 1 + payload[pos]                                         # compression
        ext_end = pos + 2 + struct.unpack_from("!H", payload, pos)[0]
        pos += 2
        while pos + 4 <= min(ext_end, len(payload)):
            ext_type, ext_len = struct.unpack_from("!HH", payload, pos)
            pos += 4
            if ext_type == 0:  # server_name: list length 2, type 1 (0 = host_name), length 2
                if payload[pos + 2] != 0:
                    return None
                name_len = struct.unpack_from("!H", payload, pos + 3)[0]
                raw = payload[pos + 5:pos + 5 + name_len]
                if len(raw) != name_len:
                    return None
                return canonical_host(raw.decode("ascii", errors="replace"))
            pos += ext_len
    except (IndexError, struct.error):
        return None
    return None


def is_openvpn_reset(payload: bytes, port_hint: bool) -> bool:
    """A client's hard reset: plain (14 bytes) or with a 20/32-byte tls-auth HMAC; with
    `port_hint` (port 1194) the opcode and a plausible size are enough."""
    if not payload or payload[0] >> 3 not in OPENVPN_RESETS or payload[0] & 0x07:
        return False
    if port_hint and 14 <= len(payload) <= 1500:
        return True
    zeros = b"\0\0\0\0"
    if len(payload) == 14:  # opcode, session id 8, ack count 0, message packet id 0
        return payload[9] == 0 and payload[10:14] == zeros
    for hmac_len in (20, 32):  # + HMAC, replay packet id 4, time 4
        if len(payload) == 1 + 8 + hmac_len + 8 + 1 + 4:
            return payload[-5] == 0 and payload[-4:] == zeros
    return False


def is_wireguard_init(payload: bytes) -> bool:
    return len(payload) == WIREGUARD_INIT_LEN and payload[:4] == b"\x01\0\0\0"


def is_ike_init(payload: bytes, dport: int) -> bool:
    """An IKE initiation: initiator SPI set, responder SPI zero, version 1.0 or 2.0, a known
    exchange type, and a length field that fits. On 4500 after the non-ESP marker."""
    if dport == 4500:
        if payload[:4] != b"\0\0\0\0":
            return False
        payload = payload[4:]
    if len(payload) < 28:
        return False
    if payload[:8] == bytes(8) or payload[8:16] != bytes(8):
        return False
    version, exchange = payload[17], payload[18]
    length = struct.unpack_from("!I", payload, 24)[0]
    return version in (0x10, 0x20) and exchange in IKE_EXCHANGES and 28 <= length <= 65535


def is_quic_initial(payload: bytes) -> bool:
    """A QUIC long-header Initial packet (v1 or v2 type bits), the first packet of a session."""
    if len(payload) < 7 or payload[0] & 0xC0 != 0xC0:
        return False
    version = payload[1:5]
    packet_type = (payload[0] >> 4) & 0x03
    return (version == b"\0\0\0\x01" and packet_type == 0) or \
        (version == b"\x6b\x33\x43\xcf" and packet_type == 1)


@dataclass
class Classifier:
    """Decides what a flow is. `ours`: Roja's own addresses (DNS to them is the filter's);
    `doh_addresses`/`is_doh_host`: the shipped endpoint lists (`blocklists.bypass`)."""

    ours: frozenset[Address]
    doh_addresses: frozenset[Address]
    is_doh_host: Callable[[str], bool]

    @classmethod
    def build(cls, ours: Iterable[Address]) -> Classifier:
        from blocklists.bypass import doh_addresses, is_doh_host
        return cls(frozenset(ours), frozenset(doh_addresses()), is_doh_host)

    def classify(self, flow: Flow) -> Detection | None:
        if flow.src in self.ours or flow.dst in self.ours:
            return None
        kind, target = self._kind(flow)
        if kind is None:
            return None
        return Detection(kind, str(flow.src), target or _endpoint(flow.dst, flow.dport))

    def _kind(self, f: Flow) -> tuple[str | None, str]:
        udp = f.proto == UDP
        opening = udp or f.flags & (SYN | ACK) == SYN
        if f.dport == 53 and opening:
            return "outside_dns", ""
        if f.dport == DOT_PORT and opening:
            return "dot", ""
        if udp:
            if f.dport == 443 and f.dst in self.doh_addresses and is_quic_initial(f.payload):
                return "doh", ""
            if is_wireguard_init(f.payload):
                return "wireguard", ""
            if f.dport in IKE_PORTS and is_ike_init(f.payload, f.dport):
                return "ike", ""
            if is_openvpn_reset(f.payload, OPENVPN_PORT in (f.dport, f.sport)):
                return "openvpn", ""
            return None, ""
        if f.dport == 443 and opening and f.dst in self.doh_addresses:
            return "doh", ""
        if f.payload:
            sni = tls_sni(f.payload)
            if sni and self.is_doh_host(sni):
                return "doh", sni
            framed = len(f.payload) > 2 and \
                struct.unpack_from("!H", f.payload)[0] == len(f.payload) - 2
            if framed and is_openvpn_reset(f.payload[2:], f.dport == OPENVPN_PORT):
                return "openvpn", ""
        return None, ""


def _endpoint(address: Address, port: int) -> str:
    return f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"
