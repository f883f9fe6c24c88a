"""The demo's stand-in upstream and sample site, asked over real loopback sockets: the demo's
names come back as 127.0.0.4, other names from the real upstream (NSD here), big answers over
TCP, SERVFAIL in time when the real upstream is out of reach, and the sample page is 200."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence

import dns.asyncquery
import dns.flags
import dns.message
import dns.rcode
import pytest
from peers.nsd import NsdServer
from peers.zones import BIG_TXT_COUNT

from dns_resolver.testing import free_port
from filterd.commands.demo_internet import SITE_ADDRESS, DemoInternet, is_demo_name


@pytest.fixture
async def internet(upstream_dns: NsdServer) -> AsyncIterator[DemoInternet]:
    async with serving([upstream_dns.address]) as running:
        yield running


@contextlib.asynccontextmanager
async def serving(forward: Sequence[tuple[str, int]]) -> AsyncIterator[DemoInternet]:
    internet = DemoInternet(forward, free_port(SITE_ADDRESS))
    await internet.start()
    try:
        yield internet
    finally:
        await internet.close()


async def ask(internet: DemoInternet, name: str, rdtype: str = "A",
              tcp: bool = False) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype, use_edns=0, payload=1232)
    ask_one = dns.asyncquery.tcp if tcp else dns.asyncquery.udp
    return await ask_one(query, "127.0.0.1", port=internet.dns_port, timeout=5)


@pytest.mark.parametrize(("name", "demo"), [
    ("tiktok.com", True), ("newsroom.TikTok.com.", True), ("example.org", True),
    ("www.example.com", True), ("notexample.com", False), ("example.com.al", False),
    ("www.allowed.test", False),
])
def test_which_names_are_the_demos(name: str, demo: bool) -> None:
    assert is_demo_name(name) is demo


async def test_demo_names_lead_to_the_sample_site(internet: DemoInternet) -> None:
    for tcp in (False, True):
        reply = await ask(internet, "newsroom.tiktok.com", tcp=tcp)
        assert reply.rcode() == dns.rcode.NOERROR
        assert [r.address for r in reply.answer[0]] == [SITE_ADDRESS]
    nodata = await ask(internet, "tiktok.com", "AAAA")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer


async def test_other_names_come_from_the_real_upstream(internet: DemoInternet) -> None:
    reply = await ask(internet, "www.allowed.test")
    assert [r.address for r in reply.answer[0]] == ["192.0.2.10"]
    assert (await ask(internet, "nothere.allowed.test")).rcode() == dns.rcode.NXDOMAIN
    big = await ask(internet, "big.allowed.test", "TXT")
    assert big.flags & dns.flags.TC and not big.answer  # too big for UDP: ask over TCP
    full = await ask(internet, "big.allowed.test", "TXT", tcp=True)
    assert len(full.answer[0]) == BIG_TXT_COUNT


async def test_an_unreachable_upstream_gives_servfail_in_time() -> None:
    async with serving([("127.0.0.1", 9)]) as internet:
        started = time.monotonic()
        reply = await ask(internet, "www.allowed.test")
        assert reply.rcode() == dns.rcode.SERVFAIL
        assert time.monotonic() - started < 1.8  # Roja's upstream deadline


async def test_the_sample_site_answers_200(internet: DemoInternet) -> None:
    reader, writer = await asyncio.open_connection(SITE_ADDRESS, internet.site_port)
    writer.write(b"GET /faqe?x=<b> HTTP/1.1\r\nHost: example.com\r\n\r\n")
    response = (await asyncio.wait_for(reader.read(), 5)).decode()
    writer.close()
    assert response.startswith("HTTP/1.1 200 OK\r\n")
    assert "Faqe shembull e demos së Rojës" in response
    assert "/faqe?x=&lt;b>" in response
