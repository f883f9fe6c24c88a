"""Names are bytes: a label holding `\\`, `.` or other non-LDH bytes is decided as exactly the
name the upstream is asked for (issue 18, part A). End to end: a real Roja in front of a real
NSD that serves the names the trick would reach if Roja decoded the escape."""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

import pytest
from peers.nsd import NsdServer, start_nsd

from dns_resolver.testing import ask_tcp, ask_udp, parse
from filterd.testing import dns_address, running_appliance, write_lists

SOA = "@ SOA ns1 hostmaster 1 3600 600 86400 60\n@ NS ns1\nns1 A 127.0.0.1\n"
ZONES = {
    "blocked.test.": SOA + "www A 192.0.2.67\n@ A 192.0.2.66\nx\\032y A 192.0.2.67\n",
    "allowed.test.": SOA + "odd CNAME x\\032y.blocked.test.\n",
    "google.com.": SOA + "www A 192.0.2.99\nforcesafesearch A 216.239.38.120\n",
    "use-application-dns.net.": SOA + "@ A 192.0.2.53\n",
}
LEAKED = {"192.0.2.66", "192.0.2.67", "192.0.2.99", "192.0.2.53"}


@pytest.fixture(scope="module")
def nsd(tmp_path_factory: pytest.TempPathFactory) -> NsdServer:
    server = start_nsd(tmp_path_factory.mktemp("nsd-bytes"), ZONES)
    yield server  # type: ignore[misc]
    server.stop()


def config(upstream: tuple[str, int], lists_dir: Path) -> str:
    return f"""
[state]
dir = "{{state}}"
[dns]
listen = ["127.0.0.1:0"]
upstreams = ["{upstream[0]}:{upstream[1]}"]
upstream_timeout = 0.5
block_answer = "nxdomain"
[dns.acl]
allow = ["127.0.0.1/32"]
[[lists]]
id = "deny"
path = "{lists_dir}/deny.txt"
category = "gambling"
"""


def query(labels: list[bytes], qtype: int = 1, qid: int = 0x4242) -> bytes:
    """A query for the name made of exactly these label bytes (no text in between)."""
    name = b"".join(bytes([len(label)]) + label for label in labels) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + name + struct.pack(">HH", qtype, 1)


TRICKS = [
    pytest.param([b"www", b"\\098locked", b"test"], id="escape-in-label"),
    pytest.param([b"\\098locked", b"test"], id="escape-apex"),
    pytest.param([b"www", b"\\b", b"locked", b"test"], id="backslash-split"),
    pytest.param([b"www\\.blocked", b"test"], id="escaped-dot"),
    pytest.param([b"www", b"\\103oogle", b"com"], id="safe-search"),
    pytest.param([b"\\117se-application-dns", b"net"], id="doh-canary"),
    pytest.param([b"www", b"BLOCKED\\", b"test"], id="trailing-backslash"),
]


def addresses(reply: bytes | None) -> set[str]:
    record = parse(reply)
    return {str(rr.rdata) for rr in record.rr if rr.rtype == 1}


@pytest.mark.parametrize("labels", TRICKS)
async def test_escaped_label_never_reaches_the_decoded_name(tmp_path, nsd, labels):
    write_lists(tmp_path / "lists", {"deny.txt": "blocked.test\n"})
    async with running_appliance(tmp_path, config(nsd.address, tmp_path / "lists")) as app:
        addr = dns_address(app)
        packet = query(labels)
        over_udp = await asyncio.to_thread(ask_udp, addr, packet)
        over_tcp = (await asyncio.to_thread(ask_tcp, addr, [packet]))[0]
        for reply in (over_udp, over_tcp):
            assert not addresses(reply) & LEAKED, parse(reply)
            # the client's question comes back byte for byte
            assert reply is not None and reply[12:12 + len(packet) - 12] == packet[12:]


async def test_plain_names_still_work(tmp_path, nsd):
    """The control: the same upstream answers the plain names, and the list blocks them."""
    write_lists(tmp_path / "lists", {"deny.txt": "blocked.test\n"})
    async with running_appliance(tmp_path, config(nsd.address, tmp_path / "lists")) as app:
        addr = dns_address(app)
        blocked = parse(await asyncio.to_thread(ask_udp, addr, query([b"www", b"blocked",
                                                                          b"test"])))
        assert blocked.header.rcode == 3
        safe = await asyncio.to_thread(ask_udp, addr, query([b"www", b"google", b"com"]))
        assert addresses(safe) == {"216.239.38.120"}
        canary = parse(await asyncio.to_thread(
            ask_udp, addr, query([b"use-application-dns", b"net"])))
        assert canary.header.rcode == 3
        # 0x20 case reaches the upstream as the client wrote it, and still resolves
        mixed = await asyncio.to_thread(ask_udp, addr, query([b"fOrCeSafeSearch", b"GOOGLE",
                                                                b"com"]))
        assert addresses(mixed) == {"216.239.38.120"}


async def test_cname_to_odd_label_under_blocked_name_is_blocked(tmp_path, nsd):
    """A CNAME target whose label holds a space is still a name under blocked.test."""
    write_lists(tmp_path / "lists", {"deny.txt": "blocked.test\n"})
    async with running_appliance(tmp_path, config(nsd.address, tmp_path / "lists")) as app:
        addr = dns_address(app)
        reply = await asyncio.to_thread(ask_udp, addr, query([b"odd", b"allowed", b"test"]))
        assert not addresses(reply) & LEAKED, parse(reply)
        assert parse(reply).header.rcode == 3
