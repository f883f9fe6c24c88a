"""The running resolver over real sockets, with a real NSD upstream (tests/peers)."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from dns_resolver.testing import ask_tcp, ask_udp, make_query, parse
from filterd.testing import dns_address, running_appliance, write_lists

LISTS = {
    "deny.txt": "blocked.test\nbet365.com\n",
    "hosts.txt": "0.0.0.0 porn.example\n",
    "allow.txt": "ok.bet365.com\n",
    "legal.txt": "csam.example\n",
    "legal-allow.txt": "csam.example\n",
}


def config(upstream: tuple[str, int] | None, lists_dir: Path, extra: str = "",
           block: str = 'block_answer = "nxdomain"') -> str:
    up = f'"{upstream[0]}:{upstream[1]}"' if upstream else '"127.0.0.1:9"'
    return f"""
[state]
dir = "{{state}}"
[dns]
listen = ["127.0.0.1:0"]
upstreams = [{up}]
upstream_timeout = 0.3
{block}
{extra}
[dns.acl]
allow = ["127.0.0.1/32"]
[[lists]]
id = "deny"
path = "{lists_dir}/deny.txt"
category = "gambling"
[[lists]]
id = "hosts"
path = "{lists_dir}/hosts.txt"
format = "hosts"
category = "pornography"
[[lists]]
id = "allow"
path = "{lists_dir}/allow.txt"
kind = "allow"
[[lists]]
id = "legal"
path = "{lists_dir}/legal.txt"
kind = "legal"
category = "csam"
[[lists]]
id = "legal-allow"
path = "{lists_dir}/legal-allow.txt"
kind = "allow"
"""


@pytest.fixture
def lists_dir(tmp_path: Path) -> Path:
    write_lists(tmp_path / "lists", LISTS)
    return tmp_path / "lists"


def dq(addr: tuple[str, int], name: str, rdtype: str = "A", *, tcp: bool = False,
       use_edns: bool = True, source: str | None = None) -> dns.message.Message:
    msg = dns.message.make_query(name, rdtype, use_edns=use_edns)
    fn = dns.query.tcp if tcp else dns.query.udp
    return fn(msg, addr[0], port=addr[1], timeout=3, source=source)


async def test_blocks_listed_domain_and_subdomains(tmp_path, lists_dir, upstream_dns):
    async with running_appliance(tmp_path, config(upstream_dns.address, lists_dir)) as app:
        addr = dns_address(app)
        for name in ("bet365.com", "www.bet365.com", "a.b.BET365.com.", "porn.example",
                     "bad.blocked.test"):
            r = await asyncio.to_thread(dq, addr, name)
            assert r.rcode() == dns.rcode.NXDOMAIN, name
            assert r.answer == []
            assert r.authority and r.authority[0].ttl == 60
        r = await asyncio.to_thread(dq, addr, "www.bet365.com")
        assert r.options and r.options[0].otype == 15
        assert r.options[0].code == 17  # Filtered


async def test_allowed_name_resolves_through_upstream(tmp_path, lists_dir, upstream_dns):
    async with running_appliance(tmp_path, config(upstream_dns.address, lists_dir)) as app:
        addr = dns_address(app)
        r = await asyncio.to_thread(dq, addr, "www.allowed.test")
        assert r.rcode() == dns.rcode.NOERROR
        assert [rr.to_text() for rr in r.answer[0]] == ["192.0.2.10"]
        r6 = await asyncio.to_thread(dq, addr, "www.allowed.test", "AAAA", tcp=True)
        assert [rr.to_text() for rr in r6.answer[0]] == ["2001:db8::10"]
        nx = await asyncio.to_thread(dq, addr, "nothere.allowed.test")
        assert nx.rcode() == dns.rcode.NXDOMAIN
        assert nx.authority[0].rdtype == dns.rdatatype.SOA


async def test_allow_list_beats_deny_but_not_legal(tmp_path, lists_dir, upstream_dns):
    async with running_appliance(tmp_path, config(upstream_dns.address, lists_dir)) as app:
        addr = dns_address(app)
        ok = await asyncio.to_thread(dq, addr, "ok.bet365.com")
        assert ok.rcode() != dns.rcode.NXDOMAIN or not ok.options  # not blocked by Roja
        assert not any(o.otype == 15 for o in ok.options)
        legal = await asyncio.to_thread(dq, addr, "csam.example")
        assert legal.rcode() == dns.rcode.NXDOMAIN
        assert legal.options[0].code == 15  # Blocked: the legal layer


@pytest.mark.parametrize("mode,expected_a,expected_aaaa", [
    ("null", "0.0.0.0", "::"),
    ("blockpage", "192.0.2.1", "2001:db8::1"),
])
async def test_block_answer_forms(tmp_path, lists_dir, mode, expected_a, expected_aaaa):
    block = (f'block_answer = "{mode}"\nblockpage_ipv4 = "192.0.2.1"\n'
             'blockpage_ipv6 = "2001:db8::1"')
    async with running_appliance(tmp_path, config(None, lists_dir, block=block)) as app:
        addr = dns_address(app)
        a = await asyncio.to_thread(dq, addr, "www.bet365.com")
        assert [rr.to_text() for rr in a.answer[0]] == [expected_a]
        assert a.answer[0].ttl == 60
        aaaa = await asyncio.to_thread(dq, addr, "bet365.com", "AAAA")
        assert [rr.to_text() for rr in aaaa.answer[0]] == [expected_aaaa]
        mx = await asyncio.to_thread(dq, addr, "bet365.com", "MX")
        assert mx.rcode() == dns.rcode.NOERROR and mx.answer == []


async def test_cname_chain_into_blocked_name_is_blocked(tmp_path, lists_dir, upstream_dns):
    async with running_appliance(tmp_path, config(upstream_dns.address, lists_dir)) as app:
        addr = dns_address(app)
        r = await asyncio.to_thread(dq, addr, "chain.allowed.test")
        assert r.rcode() == dns.rcode.NXDOMAIN
        assert "192.0.2.66" not in r.to_text()
        ok = await asyncio.to_thread(dq, addr, "okchain.allowed.test")
        assert "192.0.2.10" in ok.to_text()
        https = await asyncio.to_thread(dq, addr, "svc.allowed.test", "HTTPS")
        assert https.rcode() == dns.rcode.NXDOMAIN
        good = await asyncio.to_thread(dq, addr, "goodsvc.allowed.test", "HTTPS")
        assert good.rcode() == dns.rcode.NOERROR and good.answer


async def test_safe_search_cname_with_addresses(tmp_path, lists_dir, upstream_dns):
    async with running_appliance(tmp_path, config(upstream_dns.address, lists_dir)) as app:
        addr = dns_address(app)
        r = await asyncio.to_thread(dq, addr, "www.google.com")
        text = r.to_text()
        assert "CNAME forcesafesearch.google.com." in text
        assert "216.239.38.120" in text
        yt = await asyncio.to_thread(dq, addr, "www.youtube.com")
        assert "restrictmoderate.youtube.com." in yt.to_text()
        assert "216.239.38.119" in yt.to_text()
        al = await asyncio.to_thread(dq, addr, "www.google.al")
        assert "forcesafesearch.google.com." in al.to_text()


async def test_safe_search_answers_without_upstream(tmp_path, lists_dir):
    async with running_appliance(tmp_path, config(None, lists_dir)) as app:
        addr = dns_address(app)
        r = await asyncio.to_thread(dq, addr, "www.google.com")
        assert "forcesafesearch.google.com." in r.to_text()
        assert "216.239.38.120" in r.to_text()


async def test_canaries(tmp_path, lists_dir):
    async with running_appliance(tmp_path, config(None, lists_dir)) as app:
        addr = dns_address(app)
        for name in ("use-application-dns.net", "mask.icloud.com", "mask-h2.icloud.com",
                     "mask-canary.icloud.com"):
            r = await asyncio.to_thread(dq, addr, name)
            assert r.rcode() == dns.rcode.NXDOMAIN, name
        r = await asyncio.to_thread(dq, addr, "_dns.resolver.arpa", "SVCB")
        assert r.rcode() == dns.rcode.NOERROR and r.answer == []


async def test_unreachable_upstream_gives_servfail_fast(tmp_path, lists_dir):
    async with running_appliance(tmp_path, config(None, lists_dir)) as app:
        addr = dns_address(app)
        t0 = time.monotonic()
        r = await asyncio.to_thread(dq, addr, "example.org")
        assert r.rcode() == dns.rcode.SERVFAIL
        assert time.monotonic() - t0 < 2.5
        assert any(o.otype == 15 and o.code == 22 for o in r.options)


async def test_client_outside_acl_is_refused(tmp_path, lists_dir):
    async with running_appliance(tmp_path, config(None, lists_dir)) as app:
        addr = dns_address(app)
        reply = await asyncio.to_thread(ask_udp, addr, make_query("bet365.com"),
                                        source="127.0.0.9")
        assert parse(reply).header.rcode == 5  # REFUSED
        assert app.stats.results.get("refused") == 1


async def test_question_echoed_byte_for_byte(tmp_path, lists_dir, upstream_dns):
    async with running_appliance(tmp_path, config(upstream_dns.address, lists_dir)) as app:
        addr = dns_address(app)
        for name in ("WwW.AlLoWeD.tEsT", "BeT365.CoM", "www.ALLOWED.test"):
            for _ in range(2):  # the second answer comes from the answer cache
                packet = make_query(name)
                reply = await asyncio.to_thread(ask_udp, addr, packet)
                assert reply is not None
                assert reply[12:12 + len(packet) - 12] == packet[12:]
                assert reply[:2] == packet[:2]


async def test_truncation_and_tcp_fallback(tmp_path, lists_dir, upstream_dns):
    async with running_appliance(tmp_path, config(upstream_dns.address, lists_dir)) as app:
        addr = dns_address(app)
        udp = parse(await asyncio.to_thread(ask_udp, addr, make_query("big.allowed.test", "TXT",
                                                                       edns=True)))
        assert udp.header.tc == 1 and not udp.rr
        [tcp] = await asyncio.to_thread(ask_tcp, addr, [make_query("big.allowed.test", "TXT")])
        record = parse(tcp)
        assert record.header.tc == 0 and len(record.rr) == 12
        noedns = parse(await asyncio.to_thread(ask_udp, addr, make_query("big.allowed.test",
                                                                          "TXT")))
        assert noedns.header.tc == 1


async def test_tcp_pipelined_queries(tmp_path, lists_dir, upstream_dns):
    async with running_appliance(tmp_path, config(upstream_dns.address, lists_dir)) as app:
        addr = dns_address(app)
        packets = [make_query(n, qid=i) for i, n in enumerate(
            ["www.allowed.test", "bet365.com", "mx.allowed.test", "use-application-dns.net"])]
        replies = await asyncio.to_thread(ask_tcp, addr, packets)
        by_id = {parse(r).header.id: parse(r) for r in replies}
        assert set(by_id) == {0, 1, 2, 3}
        assert by_id[1].header.rcode == 3 and by_id[0].rr[0].rdata.toZone() == "192.0.2.10"


async def test_protocol_ladder(tmp_path, lists_dir):
    async with running_appliance(tmp_path, config(None, lists_dir)) as app:
        addr = dns_address(app)
        # QR=1 is never answered
        packet = bytearray(make_query("bet365.com"))
        packet[2] |= 0x80
        assert await asyncio.to_thread(ask_udp, addr, bytes(packet), 0.5) is None
        # opcode other than QUERY → NOTIMP
        packet = bytearray(make_query("bet365.com"))
        packet[2] |= 2 << 3  # STATUS
        assert parse(await asyncio.to_thread(ask_udp, addr, bytes(packet))).header.rcode == 4
        # unreadable question → FORMERR; too short → dropped
        garbage = make_query("bet365.com")[:12] + b"\x3f\x01"
        reply = await asyncio.to_thread(ask_udp, addr, garbage)
        assert reply is not None and reply[3] & 0xF == 1
        assert await asyncio.to_thread(ask_udp, addr, b"\x00\x01\x02", 0.5) is None
        # EDNS version 1 → BADVERS (extended rcode 16)
        q = dns.message.make_query("bet365.com", "A", use_edns=1)
        r = await asyncio.to_thread(dns.query.udp, q, addr[0], 3, addr[1])
        assert r.rcode() == dns.rcode.BADVERS
        # the server still answers normally afterwards
        r = await asyncio.to_thread(dq, addr, "bet365.com")
        assert r.rcode() == dns.rcode.NXDOMAIN
        assert r.edns == 0 and r.payload == 1232


async def test_serve_stale_when_upstream_dies(tmp_path, lists_dir):
    from peers.nsd import start_nsd
    from peers.zones import ZONES

    nsd = await asyncio.to_thread(start_nsd, tmp_path / "nsd", ZONES)
    try:
        async with running_appliance(tmp_path, config(nsd.address, lists_dir)) as app:
            addr = dns_address(app)
            r = await asyncio.to_thread(dq, addr, "short.allowed.test")
            assert "192.0.2.11" in r.to_text()
            await asyncio.to_thread(nsd.stop)
            app.resolver.clock = lambda: time.monotonic() + 10  # past the 5 s TTL
            stale = await asyncio.to_thread(dq, addr, "short.allowed.test")
            assert "192.0.2.11" in stale.to_text()
            assert stale.answer[0].ttl == 30
            assert any(o.otype == 15 and o.code == 3 for o in stale.options)
    finally:
        nsd.stop()


async def test_incidents_written_with_pseudonymous_client(tmp_path, lists_dir):
    from reporting.incidents import IncidentStore

    async with running_appliance(tmp_path, config(None, lists_dir)) as app:
        addr = dns_address(app)
        for _ in range(3):
            await asyncio.to_thread(dq, addr, "www.bet365.com")
        await asyncio.to_thread(dq, addr, "porn.example")
    rows = IncidentStore(tmp_path / "state" / "incidents.sqlite").list_since(0)
    by_name = {r.name: r for r in rows}
    assert by_name["www.bet365.com"].count == 3
    assert by_name["www.bet365.com"].category == "gambling"
    assert by_name["porn.example"].list_id == "hosts"
    assert all(r.client != "127.0.0.1" and len(r.client) == 16 for r in rows)
    raw = (tmp_path / "state" / "incidents.sqlite").read_bytes()
    assert b"127.0.0.1" not in raw


async def test_metrics_count_results(tmp_path, lists_dir):
    import urllib.request

    async with running_appliance(tmp_path, config(None, lists_dir), metrics=True) as app:
        addr = dns_address(app)
        await asyncio.to_thread(dq, addr, "bet365.com")
        await asyncio.to_thread(dq, addr, "bet365.com")
        await asyncio.to_thread(dq, addr, "use-application-dns.net")
        await asyncio.to_thread(dq, addr, "use-application-dns.net")  # from the answer cache
        await asyncio.to_thread(ask_udp, addr, make_query("x.test"), source="127.0.0.9")
        host, port = app.cfg.metrics_listen  # type: ignore[misc]
        body = await asyncio.to_thread(
            lambda: urllib.request.urlopen(f"http://{host}:{port}/metrics").read().decode())
        assert 'roja_dns_queries_total{result="blocked"} 2.0' in body
        assert 'roja_dns_queries_total{result="refused"} 1.0' in body
        assert 'roja_dns_cache_hits_total{cache="answer"} 1.0' in body
        assert 'roja_lists_entries{list="deny"} 2.0' in body
        assert "roja_dns_answer_seconds_bucket" in body
        assert "roja_incidents_written_total" in body


async def test_concurrent_misses_each_get_their_own_reply(tmp_path, lists_dir, upstream_dns):
    """The slow path's replies of one loop round go out together (`UdpListener._send`): each
    still reaches its own client, with its own ID and question."""
    async with running_appliance(tmp_path, config(upstream_dns.address, lists_dir)) as app:
        addr = dns_address(app)
        loop = asyncio.get_running_loop()
        names = [f"c{i}.nothere.allowed.test" for i in range(40)]
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in names]
        try:
            for i, (s, name) in enumerate(zip(socks, names, strict=True)):
                s.setblocking(False)
                s.sendto(make_query(name, qid=1000 + i), addr)
            replies = await asyncio.wait_for(
                asyncio.gather(*(loop.sock_recv(s, 4096) for s in socks)), 5)
        finally:
            for s in socks:
                s.close()
    for i, (name, reply) in enumerate(zip(names, replies, strict=True)):
        r = parse(reply)
        assert r.header.id == 1000 + i and str(r.q.qname) == name + "."
        assert r.header.rcode == dns.rcode.NXDOMAIN
