"""Cache: upstream answers reused for their TTL, negative answers per RFC 2308, stale answers
per RFC 8767 when the upstream is gone, one upstream request for identical queries in flight."""

from __future__ import annotations

import asyncio

import pytest
from dnslib import QTYPE, RR, SOA, A, DNSHeader, DNSQuestion, DNSRecord

from dns_resolver.handlers.cache import CacheHandler, CacheSettings
from dns_resolver.handlers.upstream import UpstreamHandler, UpstreamSettings, read_any
from dns_resolver.messages import Answer, Query, render
from dns_resolver.metrics import DnsStats
from dns_resolver.testing import ede_codes, make_query
from dns_resolver.wire import NXDOMAIN, SERVFAIL, Question, parse_fast
from policy import Group

PUPILS = Group("pupils", "Pupils")


def make_q(name: str, now: float, qtype: str = "A", *, edns: bool = False) -> Query:
    parsed = parse_fast(make_query(name, qtype, edns=edns))
    assert isinstance(parsed, Question)
    return Query(parsed, "10.0.0.5", PUPILS, "udp", now)


class Zone:
    """A stand-in authoritative server: names → (address, TTL); missing names are NXDOMAIN.

    Its answers go through the real `UpstreamHandler.to_answer`, as upstream replies do."""

    def __init__(self, soa_ttl: int = 300, soa_minimum: int = 60) -> None:
        self.records: dict[str, tuple[str, int]] = {}
        self.soa = (soa_ttl, soa_minimum)
        self.down = False
        self.convert = UpstreamHandler(UpstreamSettings(()), DnsStats())

    async def __call__(self, q: Query) -> Answer:
        if self.down:
            return Answer("servfail", "no upstream answered", rcode=SERVFAIL,
                          ede=(22, "Roja: upstream unreachable"))
        record = DNSRecord(DNSHeader(qr=1, ra=1), q=DNSQuestion(q.name, q.qtype))
        if q.name in self.records:
            address, ttl = self.records[q.name]
            record.add_answer(RR(q.name, QTYPE.A, rdata=A(address), ttl=ttl))
        else:
            record.header.rcode = NXDOMAIN
            ttl, minimum = self.soa
            record.add_auth(RR("test", QTYPE.SOA, ttl=ttl, rdata=SOA(
                "ns.test", "hostmaster.test", (1, 3600, 600, 86400, minimum))))
        return self.convert.to_answer(read_any(bytes(record.pack())))


def addresses(answer: Answer) -> list[str]:
    return [str(rr.rdata) for rr in answer.sections().answer if rr.rtype == QTYPE.A]


def ttls(answer: Answer) -> list[int]:
    records = answer.sections()
    return [rr.ttl for rr in records.answer + records.authority]


def cache(**kw: object) -> CacheHandler:
    return CacheHandler(CacheSettings(**kw), DnsStats())  # type: ignore[arg-type]


async def test_positive_answer_is_reused_with_decreasing_ttl() -> None:
    zone, c = Zone(), cache()
    zone.records["www.a.test"] = ("192.0.2.1", 300)
    first = await c.handle(make_q("www.a.test", 1000), zone)
    assert first.kind == "upstream" and addresses(first) == ["192.0.2.1"] and ttls(first) == [300]
    zone.records["www.a.test"] = ("192.0.2.2", 300)       # the upstream changes its data
    later = await c.handle(make_q("www.a.test", 1010), zone)
    assert later.kind == "cached"
    assert addresses(later) == ["192.0.2.1"] and ttls(later) == [290]
    assert later.cache_ttl == 290
    last = await c.handle(make_q("www.a.test", 1299.5), zone)
    assert addresses(last) == ["192.0.2.1"] and ttls(last) == [1]
    fresh = await c.handle(make_q("www.a.test", 1300), zone)  # the TTL has run out
    assert fresh.kind == "upstream" and addresses(fresh) == ["192.0.2.2"]
    assert c.stats.cache_hits["records"] == 2


async def test_cache_is_keyed_by_name_type_and_class() -> None:
    zone, c = Zone(), cache()
    zone.records["www.a.test"] = ("192.0.2.1", 300)
    await c.handle(make_q("www.a.test", 1000), zone)
    zone.records["www.a.test"] = ("192.0.2.2", 300)
    assert addresses(await c.handle(make_q("WWW.A.test", 1001), zone)) == ["192.0.2.1"]
    other_type = await c.handle(make_q("www.a.test", 1001, "TXT"), zone)
    assert other_type.kind == "upstream"


@pytest.mark.parametrize(("soa_ttl", "minimum", "expected"), [
    (300, 60, 60),       # SOA MINIMUM smaller
    (30, 600, 30),       # SOA TTL smaller
    (7200, 7200, 3600),  # capped by negative_max_ttl (default 3600)
])
async def test_negative_answers_live_min_of_soa_ttl_and_minimum(soa_ttl, minimum,
                                                                  expected) -> None:
    zone, c = Zone(soa_ttl, minimum), cache()
    first = await c.handle(make_q("nothere.a.test", 1000), zone)
    assert first.rcode == NXDOMAIN and first.cache_ttl == expected
    zone.records["nothere.a.test"] = ("192.0.2.9", 300)   # the name appears upstream
    still = await c.handle(make_q("nothere.a.test", 1000 + expected - 1), zone)
    assert still.kind == "cached" and still.rcode == NXDOMAIN and addresses(still) == []
    again = await c.handle(make_q("nothere.a.test", 1000 + expected), zone)
    assert again.kind == "upstream" and addresses(again) == ["192.0.2.9"]


async def test_serve_stale_with_ede_3_when_the_upstream_fails() -> None:
    zone, c = Zone(), cache()
    zone.records["www.a.test"] = ("192.0.2.1", 300)
    await c.handle(make_q("www.a.test", 1000), zone)
    zone.down = True
    q = make_q("www.a.test", 1000 + 300 + 3600, edns=True)
    stale = await c.handle(q, zone)
    assert stale.kind == "stale" and stale.rcode == 0
    assert addresses(stale) == ["192.0.2.1"] and ttls(stale) == [30]
    assert stale.ede is not None and stale.ede[0] == 3
    assert stale.cache_ttl is None           # never stored as a fresh answer
    reply = DNSRecord.parse(render(q.question, stale))   # what the client sees
    assert ede_codes(reply) == [3] and reply.rr[0].ttl == 30
    zone.down = False                        # the upstream is back: fresh data again
    zone.records["www.a.test"] = ("192.0.2.2", 300)
    back = await c.handle(make_q("www.a.test", 1000 + 300 + 3601), zone)
    assert back.kind == "upstream" and addresses(back) == ["192.0.2.2"]


async def test_stale_answers_end_after_stale_max() -> None:
    zone, c = Zone(), cache(stale_max=600)
    zone.records["www.a.test"] = ("192.0.2.1", 300)
    await c.handle(make_q("www.a.test", 1000), zone)
    zone.down = True
    assert (await c.handle(make_q("www.a.test", 1000 + 899), zone)).kind == "stale"
    gone = await c.handle(make_q("www.a.test", 1000 + 900), zone)
    assert gone.kind == "servfail" and gone.rcode == SERVFAIL


async def test_serve_stale_can_be_turned_off() -> None:
    zone, c = Zone(), cache(serve_stale=False)
    zone.records["www.a.test"] = ("192.0.2.1", 300)
    await c.handle(make_q("www.a.test", 1000), zone)
    zone.down = True
    assert (await c.handle(make_q("www.a.test", 1301), zone)).rcode == SERVFAIL


async def test_failures_are_not_cached() -> None:
    zone, c = Zone(), cache()
    zone.down = True
    assert (await c.handle(make_q("www.a.test", 1000), zone)).rcode == SERVFAIL
    zone.down = False
    zone.records["www.a.test"] = ("192.0.2.1", 300)
    assert addresses(await c.handle(make_q("www.a.test", 1000), zone)) == ["192.0.2.1"]


async def test_identical_queries_in_flight_share_one_upstream_request() -> None:
    c = cache()
    calls: list[str] = []
    release = asyncio.Event()

    async def slow_upstream(q: Query) -> Answer:
        calls.append(q.name)
        await release.wait()
        return Answer("upstream", "resolved", answer=(
            RR(q.name, QTYPE.A, rdata=A("192.0.2.1"), ttl=300),), cache_ttl=300)

    waiting = [asyncio.create_task(c.handle(make_q(name, 1000), slow_upstream))
               for name in ("www.a.test", "WWW.a.test", "www.a.test", "other.a.test")]
    await asyncio.sleep(0.01)
    release.set()
    answers = await asyncio.gather(*waiting)
    assert sorted(calls) == ["other.a.test", "www.a.test"]
    assert all(addresses(a) == ["192.0.2.1"] for a in answers)
    assert answers[0] == answers[1] == answers[2]


async def test_a_failing_request_in_flight_fails_every_waiter_once() -> None:
    c = cache()
    calls = 0
    release = asyncio.Event()

    async def broken(q: Query) -> Answer:
        nonlocal calls
        calls += 1
        await release.wait()
        raise RuntimeError("upstream handler bug")

    waiting = [asyncio.create_task(c.handle(make_q("www.a.test", 1000), broken))
               for _ in range(3)]
    await asyncio.sleep(0.01)
    release.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert calls == 1
    assert all(isinstance(r, RuntimeError) for r in results)
    zone = Zone()                                   # nothing is left hanging: next query asks
    zone.records["www.a.test"] = ("192.0.2.1", 300)
    assert addresses(await c.handle(make_q("www.a.test", 1000), zone)) == ["192.0.2.1"]


async def test_size_bound_evicts_least_recently_used() -> None:
    zone, c = Zone(), cache(size=2)
    for name in ("a.test", "b.test", "c.test"):
        zone.records[name] = ("192.0.2.1", 300)
    await c.handle(make_q("a.test", 1000), zone)
    await c.handle(make_q("b.test", 1000), zone)
    await c.handle(make_q("a.test", 1001), zone)       # a is now the most recently used
    await c.handle(make_q("c.test", 1002), zone)       # evicts b
    assert len(c) == 2
    for name in ("a.test", "b.test", "c.test"):
        zone.records[name] = ("192.0.2.2", 300)
    assert addresses(await c.handle(make_q("a.test", 1003), zone)) == ["192.0.2.1"]
    assert addresses(await c.handle(make_q("c.test", 1003), zone)) == ["192.0.2.1"]
    assert addresses(await c.handle(make_q("b.test", 1003), zone)) == ["192.0.2.2"]
    assert len(c) == 2


async def test_prefetch_refreshes_an_entry_near_its_end() -> None:
    zone, c = Zone(), cache(prefetch=True)
    zone.records["www.a.test"] = ("192.0.2.1", 100)
    await c.handle(make_q("www.a.test", 1000), zone)
    zone.records["www.a.test"] = ("192.0.2.2", 100)
    near_end = await c.handle(make_q("www.a.test", 1095), zone)
    assert near_end.kind == "cached" and addresses(near_end) == ["192.0.2.1"]
    for _ in range(20):                                # let the background refresh finish
        await asyncio.sleep(0)
    after = await c.handle(make_q("www.a.test", 1105), zone)   # past the old entry's end
    assert after.kind == "cached" and addresses(after) == ["192.0.2.2"]


async def test_no_prefetch_by_default() -> None:
    zone, c = Zone(), cache()
    zone.records["www.a.test"] = ("192.0.2.1", 100)
    await c.handle(make_q("www.a.test", 1000), zone)
    zone.records["www.a.test"] = ("192.0.2.2", 100)
    await c.handle(make_q("www.a.test", 1095), zone)
    for _ in range(20):
        await asyncio.sleep(0)
    assert (await c.handle(make_q("www.a.test", 1105), zone)).kind == "upstream"
