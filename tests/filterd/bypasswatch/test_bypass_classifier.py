"""The bypass classifier and the kernel prefilter on packets built with scapy: every kind is
recognised, ordinary traffic is not, and no byte string can make either of them fail."""

from __future__ import annotations

import ipaddress
import struct

import pytest
from bypass_kit import (
    DOH_ADDRESS,
    OUTSIDE_DNS,
    bypass_packets,
    client_hello,
    frame,
    ipv6_packets,
    openvpn_reset,
    ordinary_packets,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.packet import Packet

from filterd.bypasswatch.bpf import PROGRAM, SNAP
from filterd.bypasswatch.packets import (
    Classifier,
    parse_frame,
    tls_sni,
)

CLIENT, APPLIANCE = "10.78.0.17", "10.78.0.1"
CLASSIFIER = Classifier.build([ipaddress.ip_address(APPLIANCE)])
BYPASS = [(kind, p) for kind, packets in bypass_packets(CLIENT).items() for p in packets]
ORDINARY = ordinary_packets(CLIENT, APPLIANCE)


def classify(data: bytes) -> str | None:
    flow = parse_frame(data)
    found = CLASSIFIER.classify(flow) if flow is not None else None
    return found.kind if found is not None else None


@pytest.mark.parametrize(("kind", "packet"), BYPASS, ids=[f"{k}-{i}" for i, (k, _) in
                                                          enumerate(BYPASS)])
def test_every_bypass_kind_is_recognised(kind: str, packet: object) -> None:
    data = frame(packet)  # type: ignore[arg-type]
    assert classify(data) == kind
    flow = parse_frame(data)
    assert flow is not None
    found = CLASSIFIER.classify(flow)
    assert found is not None and found.client == CLIENT


@pytest.mark.parametrize("packet", ORDINARY, ids=[str(i) for i in range(len(ORDINARY))])
def test_ordinary_traffic_is_left_alone(packet: object) -> None:
    assert classify(frame(packet)) is None  # type: ignore[arg-type]


def test_targets_name_the_server_or_the_doh_host() -> None:
    packets = bypass_packets(CLIENT)
    targets = [CLASSIFIER.classify(parse_frame(frame(p)))  # type: ignore[arg-type]
               for p in (packets["outside_dns"][0], packets["doh"][1], packets["doh"][0])]
    assert [t.target for t in targets if t] == [f"{OUTSIDE_DNS}:53", "dns.google",
                                                f"{DOH_ADDRESS}:443"]


def test_ipv6_outside_dns_doh_and_wireguard() -> None:
    kinds = [classify(frame(p)) for p in ipv6_packets("2001:db8:1::17")]
    assert kinds == ["outside_dns", "doh", "wireguard"]
    found = CLASSIFIER.classify(parse_frame(frame(ipv6_packets("2001:db8:1::17")[0])))  # type: ignore[arg-type]
    assert found is not None and found.target == "[2001:db8::53]:53"


def test_a_vlan_tagged_frame_is_read() -> None:
    data = frame(bypass_packets(CLIENT)["wireguard"][0])
    tagged = data[:12] + struct.pack("!HH", 0x8100, 42) + data[12:]
    assert classify(tagged) == "wireguard"


def test_sni_is_read_from_a_client_hello_and_nothing_else() -> None:
    assert tls_sni(client_hello("Mozilla.Cloudflare-DNS.com")) == "mozilla.cloudflare-dns.com"
    hello = client_hello("dns.google")
    for cut in range(len(hello)):
        assert tls_sni(hello[:cut]) in (None, "dns.google")
    assert tls_sni(b"\x17\x03\x03" + bytes(60)) is None


def test_openvpn_on_an_odd_port_needs_the_exact_shape() -> None:
    reset = openvpn_reset()
    assert classify(frame(_udp(reset, 5000))) == "openvpn"
    assert classify(frame(_udp(reset[:-1] + b"\x01", 5000))) is None   # packet id not 0
    assert classify(frame(_udp(reset + b"junk", 5000))) is None        # wrong length
    assert classify(frame(_udp(reset + b"junk", 1194))) == "openvpn"   # the port says enough


def _udp(payload: bytes, port: int) -> Packet:
    from scapy.layers.inet import IP, UDP
    from scapy.packet import Raw
    return IP(src=CLIENT, dst="203.0.113.9") / UDP(sport=41000, dport=port) / Raw(payload)


# -- the kernel prefilter, run by a small classic-BPF interpreter --

def run_bpf(data: bytes) -> int:
    a = x = 0
    pc = 0
    while True:
        code, jt, jf, k = PROGRAM[pc]
        pc += 1
        cls = code & 0x07
        if cls in (0x00, 0x01) and code not in (0x01,):        # loads
            mode, size = code & 0xE0, code & 0x18
            if code == 0xB1:                                   # ldxb 4*([k]&0xf)
                if k >= len(data):
                    return 0
                x = (data[k] & 0x0F) * 4
                continue
            offset = k + (x if mode == 0x40 else 0)
            width = {0x00: 4, 0x08: 2, 0x10: 1}[size]
            if offset + width > len(data):
                return 0
            a = int.from_bytes(data[offset:offset + width], "big")
        elif code == 0x01:
            x = k
        elif cls == 0x05:                                      # jumps
            op = code & 0xF0
            taken = a == k if op == 0x10 else bool(a & k) if op == 0x40 else False
            pc += jt if taken else jf
        elif cls == 0x04:                                      # ALU
            op = code & 0xF0
            operand = x if code & 0x08 else k
            a = {0x50: a & operand, 0x70: a >> operand, 0x00: a + operand}[op] & 0xFFFFFFFF
        elif code == 0x07:
            x = a
        elif code == 0x06:
            return k
        else:
            raise AssertionError(f"opcode {code:#x} not interpreted")


@pytest.mark.parametrize(("kind", "packet"), BYPASS, ids=[f"{k}-{i}" for i, (k, _) in
                                                          enumerate(BYPASS)])
def test_the_prefilter_lets_every_bypass_packet_through(kind: str, packet: object) -> None:
    assert run_bpf(frame(packet)) == SNAP  # type: ignore[arg-type]


def test_the_prefilter_lets_ipv6_bypass_through() -> None:
    assert all(run_bpf(frame(p)) == SNAP for p in ipv6_packets("2001:db8:1::17"))


def test_the_prefilter_drops_bulk_traffic() -> None:
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.l2 import ARP
    from scapy.packet import Raw
    bulk = [IP(src=CLIENT, dst="198.51.100.80") / TCP(sport=443, dport=40000, flags="A") /
            Raw(bytes(1400)),
            IP(src=CLIENT, dst="198.51.100.80") / TCP(sport=40000, dport=80, flags="PA") /
            Raw(b"GET / HTTP/1.1\r\n\r\n"),
            IP(src=CLIENT, dst="198.51.100.80") / UDP(sport=40000, dport=443) /
            Raw(b"\x40" + bytes(1200)),                           # QUIC short header
            IP(src=CLIENT, dst="198.51.100.80") / UDP(sport=40000, dport=9999) / Raw(b"x" * 50),
            IP(src=CLIENT, dst="198.51.100.80", frag=100) / Raw(bytes(100)),
            ARP()]
    assert [run_bpf(frame(p)) for p in bulk] == [0] * len(bulk)


# -- robustness: no input makes the parser, the classifier or the prefilter fail --

@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=1600))
def test_any_bytes_are_safe(data: bytes) -> None:
    classify(data)
    assert run_bpf(data) in (0, SNAP)
    tls_sni(data)


SAMPLES = [frame(p) for _, p in BYPASS] + [frame(p) for p in ORDINARY]


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(SAMPLES), st.integers(0, 2000), st.binary(min_size=1, max_size=8),
       st.integers(0, 2000))
def test_damaged_real_frames_are_safe(sample: bytes, at: int, junk: bytes, cut: int) -> None:
    at %= len(sample)
    damaged = (sample[:at] + junk + sample[at + len(junk):])[:max(cut, 14)]
    classify(damaged)
    assert run_bpf(damaged) in (0, SNAP)
