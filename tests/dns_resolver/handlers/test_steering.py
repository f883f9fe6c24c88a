"""The steering handler: hosts with URL entries resolve to the proxy, all others are untouched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dnslib import QTYPE, RR, A, DNSRecord

from blocklists.compiled import CompiledList, Tag, compile_entries
from dns_resolver.chain import build_chain
from dns_resolver.config import DnsSettings
from dns_resolver.handlers.steering import SteeringHandler
from dns_resolver.messages import Answer, Query, render
from dns_resolver.metrics import DnsStats
from dns_resolver.testing import make_query
from dns_resolver.wire import Question, Verdict, parse_fast, parse_slow
from policy import Group, ListRule, Policy
from policy.ref import PolicyRef
from policy.steering import SteerSettings

PUPILS = Group("pupils", "Pupils")


@pytest.fixture
def policy(tmp_path: Path) -> Iterator[PolicyRef]:
    path = tmp_path / "lists.compiled"
    compile_entries([("bet365.com", Tag("deny", "gambling"))], path,
                    urls=[("example.com", "/shembull/", Tag("urls", "pornography"))])
    compiled = CompiledList(path)
    rules = {"deny": ListRule("deny", "deny", "gambling"),
             "urls": ListRule("urls", "deny", "pornography")}
    yield PolicyRef(Policy((PUPILS,), PUPILS, rules, compiled))
    compiled.close()


def make_q(name: str, qtype: str = "A") -> Query:
    data = make_query(name, qtype)
    parsed = parse_fast(data)
    if parsed is Verdict.SLOW:
        parsed = parse_slow(data)
    assert isinstance(parsed, Question)
    return Query(parsed, "10.0.0.5", PUPILS, "udp", 1000.0)


async def upstream(q: Query) -> Answer:
    return Answer("upstream", "resolved", answer=(RR(q.name, QTYPE.A, rdata=A("203.0.113.7"),
                                                     ttl=300),), cache_ttl=300)


def reply(q: Query, answer: Answer) -> DNSRecord:
    return DNSRecord.parse(render(q.question, answer))


@pytest.mark.parametrize("name", ["example.com", "www.example.com", "a.b.example.com"])
async def test_names_with_url_entries_get_the_proxy_address(policy: PolicyRef,
                                                             name: str) -> None:
    handler = SteeringHandler(policy, SteerSettings("192.168.1.1", "fd00::1", 30))
    q = make_q(name)
    got = reply(q, await handler.handle(q, upstream))
    assert [(str(r.rdata), r.ttl) for r in got.rr] == [("192.168.1.1", 30)]
    q6 = make_q(name, "AAAA")
    got6 = reply(q6, await handler.handle(q6, upstream))
    assert [str(r.rdata) for r in got6.rr] == ["fd00::1"]


@pytest.mark.parametrize("qtype", ["HTTPS", "SVCB"])
async def test_https_and_svcb_get_nodata_so_clients_fall_back_to_a(policy: PolicyRef,
                                                                    qtype: str) -> None:
    handler = SteeringHandler(policy, SteerSettings("192.168.1.1", "", 30))
    q = make_q("example.com", qtype)
    answer = await handler.handle(q, upstream)
    got = reply(q, answer)
    assert got.header.rcode == 0 and not got.rr
    assert [QTYPE[r.rtype] for r in got.auth] == ["SOA"]
    assert answer.kind == "steered" and answer.cache_ttl == 30


async def test_no_ipv6_address_means_no_aaaa_so_ipv6_cannot_go_around(
        policy: PolicyRef) -> None:
    handler = SteeringHandler(policy, SteerSettings("192.168.1.1", "", 30))
    q = make_q("example.com", "AAAA")
    got = reply(q, await handler.handle(q, upstream))
    assert got.header.rcode == 0 and not got.rr


@pytest.mark.parametrize("name,qtype", [("example.org", "A"), ("notexample.com", "A"),
                                        ("example.com", "MX"), ("example.com", "TXT")])
async def test_other_names_and_types_pass_untouched(policy: PolicyRef, name: str,
                                                    qtype: str) -> None:
    handler = SteeringHandler(policy, SteerSettings("192.168.1.1", "", 30))
    q = make_q(name, qtype)
    answer = await handler.handle(q, upstream)
    assert answer.kind == "upstream"


async def test_in_the_chain_a_blocked_name_stays_blocked_and_the_order_is_after_policy(
        policy: PolicyRef) -> None:
    chain = build_chain(DnsSettings(), policy, DnsStats(), SteerSettings("192.168.1.1"))
    names = [type(h).__name__ for h in chain.handlers]
    assert names.index("SteeringHandler") == names.index("BlocklistHandler") + 1
    answer = await chain.entry(make_q("bet365.com"))
    assert answer.kind == "blocked"
    steered = await chain.entry(make_q("www.example.com"))
    assert steered.kind == "steered"
    plain = build_chain(DnsSettings(), policy, DnsStats())
    assert "SteeringHandler" not in [type(h).__name__ for h in plain.handlers]
