"""Canaries: the answers that switch off Firefox DoH, iCloud Private Relay and DDR upgrades."""

from __future__ import annotations

import ipaddress

import pytest
from dnslib import QTYPE, RR, A, DNSRecord

from blocklists.compiled import empty_list
from dns_resolver.answer_cache import AnswerCache
from dns_resolver.chain import build_chain
from dns_resolver.config import DnsSettings
from dns_resolver.engine import Resolver
from dns_resolver.handlers.canary import CanaryHandler
from dns_resolver.messages import Answer, Query, render
from dns_resolver.metrics import DnsStats
from dns_resolver.testing import make_query
from dns_resolver.wire import (
    NOERROR,
    NXDOMAIN,
    SERVFAIL,
    Question,
    Verdict,
    parse_fast,
    parse_slow,
)
from policy import Group, Policy
from policy.ref import PolicyRef

PUPILS = Group("pupils", "Pupils")


def make_q(name: str, qtype: str = "A", *, edns: bool = False) -> Query:
    data = make_query(name, qtype, edns=edns)
    parsed = parse_fast(data)
    if parsed is Verdict.SLOW:
        parsed = parse_slow(data)
    assert isinstance(parsed, Question)
    return Query(parsed, "10.0.0.5", PUPILS, "udp", 1000.0)


async def upstream(q: Query) -> Answer:
    """The rest of the chain: answers every name with 192.0.2.1."""
    return Answer("upstream", "resolved", answer=(RR(q.name, QTYPE.A, rdata=A("192.0.2.1"),
                                                     ttl=300),), cache_ttl=300)


@pytest.mark.parametrize("name", ["use-application-dns.net", "mask.icloud.com",
                                  "mask-h2.icloud.com", "mask-canary.icloud.com",
                                  "USE-application-DNS.net.", "Mask.iCloud.com"])
@pytest.mark.parametrize("qtype", ["A", "AAAA", "HTTPS", "TXT"])
async def test_bypass_canaries_get_nxdomain(name: str, qtype: str) -> None:
    q = make_q(name, qtype)
    answer = await CanaryHandler().handle(q, upstream)
    assert answer.kind == "canary"
    assert answer.rcode == NXDOMAIN
    assert answer.answer == ()
    reply = DNSRecord.parse(render(q.question, answer))
    assert reply.header.rcode == NXDOMAIN
    assert reply.rr == []
    assert [rr.rtype for rr in reply.auth] == [QTYPE.SOA]
    assert reply.auth[0].ttl == 300


@pytest.mark.parametrize("name", ["resolver.arpa", "_dns.resolver.arpa", "x.y.RESOLVER.arpa"])
@pytest.mark.parametrize("qtype", ["SVCB", "A", "AAAA"])
async def test_resolver_arpa_is_nodata(name: str, qtype: str) -> None:
    q = make_q(name, qtype, edns=True)
    answer = await CanaryHandler().handle(q, upstream)
    reply = DNSRecord.parse(render(q.question, answer))
    assert reply.header.rcode == NOERROR
    assert reply.rr == []
    assert [(str(rr.rname).lower(), rr.rtype) for rr in reply.auth] == [
        ("resolver.arpa.", QTYPE.SOA)]


@pytest.mark.parametrize("name", ["application-dns.net", "www.use-application-dns.net",
                                  "icloud.com", "www.icloud.com", "mask.icloud.com.evil.test",
                                  "xresolver.arpa", "arpa", "resolver.arpa.example",
                                  "www.example.com"])
async def test_other_names_pass_on_untouched(name: str) -> None:
    q = make_q(name)
    answer = await CanaryHandler().handle(q, upstream)
    assert answer == await upstream(q)


async def test_canary_reply_echoes_the_question_and_edns() -> None:
    data = make_query("Use-Application-DNS.NET", "A", edns=True, qid=555)
    q = parse_fast(data)
    assert isinstance(q, Question)
    query = Query(q, "10.0.0.5", PUPILS, "udp", 1000.0)
    wire = render(q, await CanaryHandler().handle(query, upstream))
    assert wire[:2] == data[:2]
    assert wire[12:12 + len(q.wire)] == q.wire
    reply = DNSRecord.parse(wire)
    assert any(rr.rtype == QTYPE.OPT for rr in reply.ar)


@pytest.mark.parametrize(("canaries", "rcode"), [(True, NXDOMAIN), (False, SERVFAIL)])
async def test_canaries_can_be_switched_off(tmp_path, canaries: bool, rcode: int) -> None:
    """With `canaries = false` the name is resolved like any other (here: no upstream)."""
    policy = PolicyRef(Policy((), PUPILS, {}, empty_list(tmp_path / "empty.bin")))
    cfg = DnsSettings(canaries=canaries, acl_allow=(ipaddress.ip_network("127.0.0.0/8"),))
    stats = DnsStats()
    chain = build_chain(cfg, policy, stats)
    resolver = Resolver(admission=chain.admission, chain=chain.entry, policy=policy,
                        answers=AnswerCache(100), stats=stats, quick=chain.quick)
    reply = await resolver.reply(make_query("use-application-dns.net"), "127.0.0.1", "udp")
    assert DNSRecord.parse(reply).header.rcode == rcode
