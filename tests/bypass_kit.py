"""Test kit for the bypass watch: real packets of every kind it must notice (and of kinds it
must leave alone), built with scapy, and a sender that puts them on the wire from inside a
test network namespace (`python -c "...; from bypass_kit import send_all; send_all(...)"`)."""

from __future__ import annotations

import os
import struct

from scapy.layers.dns import DNS, DNSQR
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.layers.tls.extensions import ServerName, TLS_Ext_ServerName
from scapy.layers.tls.handshake import TLSClientHello
from scapy.layers.tls.record import TLS
from scapy.packet import Packet, Raw

OUTSIDE_DNS = "192.0.2.53"       # TEST-NET-1: an outside resolver that never exists
SOME_SITE = "198.51.100.80"      # TEST-NET-2: an ordinary web site
DOH_ADDRESS = "1.1.1.1"          # listed in blocklists/data/doh_addresses.txt
VPN_SERVER = "203.0.113.7"       # TEST-NET-3


def client_hello(sni: str) -> bytes:
    hello = TLSClientHello(ext=[TLS_Ext_ServerName(servernames=[ServerName(servername=sni)])])
    return bytes(TLS(msg=[hello]))


def openvpn_reset(v3: bool = False, tls_auth: int = 0) -> bytes:
    session = os.urandom(8)
    auth = os.urandom(tls_auth) + struct.pack("!II", 1, 1_700_000_000) if tls_auth else b""
    return bytes([0x50 if v3 else 0x38]) + session + auth + b"\0" + b"\0\0\0\0"


def wireguard_init() -> bytes:
    return b"\x01\0\0\0" + os.urandom(144)


def ike_sa_init(nat_t: bool = False) -> bytes:
    body = os.urandom(40)
    header = os.urandom(8) + bytes(8) + bytes([33, 0x20, 34, 0x08]) + bytes(4) + \
        struct.pack("!I", 28 + len(body))
    return (b"\0\0\0\0" if nat_t else b"") + header + body


def quic_initial() -> bytes:
    return bytes([0xC3]) + b"\0\0\0\x01" + bytes([8]) + os.urandom(8) + bytes([0]) + \
        os.urandom(1200)


def bypass_packets(client: str) -> dict[str, list[Packet]]:
    """kind → IP packets from `client` that the watch must report as that kind."""
    return {
        "outside_dns": [IP(src=client, dst=OUTSIDE_DNS) / UDP(sport=40000, dport=53) /
                        DNS(qd=DNSQR(qname="shembull.al")),
                        IP(src=client, dst=OUTSIDE_DNS) / TCP(sport=40001, dport=53,
                                                              flags="S")],
        "dot": [IP(src=client, dst="192.0.2.85") / TCP(sport=40002, dport=853, flags="S")],
        "doh": [IP(src=client, dst=DOH_ADDRESS) / TCP(sport=40003, dport=443, flags="S"),
                IP(src=client, dst=SOME_SITE) / TCP(sport=40004, dport=443, flags="PA") /
                Raw(client_hello("dns.google")),
                IP(src=client, dst=DOH_ADDRESS) / UDP(sport=40005, dport=443) /
                Raw(quic_initial())],
        "openvpn": [IP(src=client, dst=VPN_SERVER) / UDP(sport=40006, dport=1194) /
                    Raw(openvpn_reset()),
                    IP(src=client, dst=VPN_SERVER) / UDP(sport=40007, dport=443) /
                    Raw(openvpn_reset(v3=True, tls_auth=32)),
                    IP(src=client, dst=VPN_SERVER) / TCP(sport=40008, dport=1194, flags="PA") /
                    Raw(struct.pack("!H", 14) + openvpn_reset())],
        "wireguard": [IP(src=client, dst=VPN_SERVER) / UDP(sport=40009, dport=51820) /
                      Raw(wireguard_init()),
                      IP(src=client, dst=VPN_SERVER) / UDP(sport=40010, dport=4444) /
                      Raw(wireguard_init())],
        "ike": [IP(src=client, dst=VPN_SERVER) / UDP(sport=500, dport=500) / Raw(ike_sa_init()),
                IP(src=client, dst=VPN_SERVER) / UDP(sport=4500, dport=4500) /
                Raw(ike_sa_init(nat_t=True))],
    }


def ordinary_packets(client: str, appliance: str) -> list[Packet]:
    """Packets the watch must leave alone."""
    return [
        IP(src=client, dst=appliance) / UDP(sport=40100, dport=53) /
        DNS(qd=DNSQR(qname="shembull.al")),                              # DNS to Roja itself
        IP(src=client, dst=SOME_SITE) / TCP(sport=40101, dport=443, flags="S"),
        IP(src=client, dst=SOME_SITE) / TCP(sport=40102, dport=443, flags="PA") /
        Raw(client_hello("www.arsimi.gov.al")),
        IP(src=client, dst=SOME_SITE) / UDP(sport=40103, dport=443) / Raw(quic_initial()),
        IP(src=client, dst=SOME_SITE) / TCP(sport=40104, dport=80, flags="PA") /
        Raw(b"GET / HTTP/1.1\r\nHost: shembull.al\r\n\r\n"),
        IP(src=client, dst=SOME_SITE) / UDP(sport=40105, dport=9999) / Raw(os.urandom(100)),
        IP(src=OUTSIDE_DNS, dst=client) / UDP(sport=53, dport=40000) / Raw(os.urandom(40)),
        IP(src=client, dst="192.0.2.85") / TCP(sport=853, dport=40106, flags="SA"),
        IP(src=client, dst=VPN_SERVER) / UDP(sport=40107, dport=500) / Raw(os.urandom(10)),
    ]


def frame(packet: Packet) -> bytes:
    """An Ethernet frame around an IP packet, as the packet socket reads it."""
    ether = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    return bytes(ether / packet)


def ipv6_packets(client: str) -> list[Packet]:
    return [IPv6(src=client, dst="2001:db8::53") / UDP(sport=40200, dport=53) /
            DNS(qd=DNSQR(qname="shembull.al")),
            IPv6(src=client, dst="2606:4700:4700::1111") / TCP(sport=40201, dport=443,
                                                               flags="S"),
            IPv6(src=client, dst="2001:db8::7") / UDP(sport=40202, dport=51820) /
            Raw(wireguard_init())]


def send_all(client: str, appliance: str, repeat_dns: int = 3) -> None:
    """Send every bypass packet (the outside DNS query `repeat_dns` times), then the
    ordinary ones, through the kernel's routing (raw IP socket)."""
    from scapy.config import conf
    from scapy.sendrecv import send
    from scapy.supersocket import L3RawSocket

    conf.L3socket = L3RawSocket
    packets = [p for group in bypass_packets(client).values() for p in group]
    packets += [bypass_packets(client)["outside_dns"][0]] * (repeat_dns - 1)
    packets += ordinary_packets(client, appliance)
    for packet in packets:
        send(packet, verbose=False)
