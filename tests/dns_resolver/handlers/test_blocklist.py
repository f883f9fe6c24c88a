"""The policy handler: block answers in every form, EDE codes, and CNAME/HTTPS inspection."""

from __future__ import annotations

from pathlib import Path

import pytest
from dnslib import AAAA, CNAME, HTTPS, QTYPE, RR, A, DNSRecord

from blocklists.compiled import CompiledList, Tag, compile_entries
from dns_resolver.handlers.blocklist import BlockAnswerSettings, BlocklistHandler
from dns_resolver.messages import Answer, Query, render
from dns_resolver.testing import ede_codes, make_query
from dns_resolver.wire import NXDOMAIN, Question, Verdict, parse_fast, parse_slow
from policy import Group, ListRule, Policy
from policy.ref import PolicyRef

PUPILS = Group("pupils", "Pupils")
STAFF = Group("staff", "Staff", lists=frozenset({"allow"}))


@pytest.fixture
def policy(tmp_path: Path) -> PolicyRef:
    path = tmp_path / "lists.compiled"
    compile_entries([("bet365.com", Tag("deny", "gambling")),
                     ("csam.example", Tag("legal", "csam")),
                     ("ok.bet365.com", Tag("allow", "")),
                     ("tracker.example", Tag("deny", "ads_trackers"))], path)
    rules = {"deny": ListRule("deny", "deny", "gambling"),
             "legal": ListRule("legal", "legal", "csam"),
             "allow": ListRule("allow", "allow", "")}
    return PolicyRef(Policy((PUPILS, STAFF), PUPILS, rules, CompiledList(path)))


def make_q(name: str, qtype: str = "A", *, edns: bool = False,
           group: Group = PUPILS) -> Query:
    data = make_query(name, qtype, edns=edns)
    parsed = parse_fast(data)
    if parsed is Verdict.SLOW:
        parsed = parse_slow(data)
    assert isinstance(parsed, Question)
    return Query(parsed, "10.0.0.5", group, "udp", 1000.0)


def answering(*records: RR) -> object:
    async def rest_of_chain(q: Query) -> Answer:
        return Answer("upstream", "resolved", answer=records, cache_ttl=300)
    return rest_of_chain


async def unreachable(q: Query) -> Answer:
    raise AssertionError("a blocked name must not reach the upstream")


@pytest.mark.parametrize("name", ["bet365.com", "www.bet365.com", "a.b.BET365.com"])
async def test_listed_name_and_subdomains_get_nxdomain_with_soa(policy: PolicyRef,
                                                                name: str) -> None:
    handler = BlocklistHandler(policy, BlockAnswerSettings("nxdomain", 60))
    q = make_q(name, edns=True)
    answer = await handler.handle(q, unreachable)  # type: ignore[arg-type]
    reply = DNSRecord.parse(render(q.question, answer))
    assert reply.header.rcode == NXDOMAIN
    assert [str(rr.rname).lower() for rr in reply.auth] == ["bet365.com."]  # 0x20 case kept
    assert reply.auth[0].ttl == 60
    assert ede_codes(reply) == [17]
    assert answer.incident is not None and answer.incident.category == "gambling"


async def test_legal_list_gets_ede_blocked(policy: PolicyRef) -> None:
    handler = BlocklistHandler(policy, BlockAnswerSettings())
    q = make_q("www.csam.example", edns=True, group=STAFF)
    reply = DNSRecord.parse(render(q.question, await handler.handle(q, unreachable)))  # type: ignore[arg-type]
    assert ede_codes(reply) == [15]


async def test_no_ede_without_edns(policy: PolicyRef) -> None:
    handler = BlocklistHandler(policy, BlockAnswerSettings())
    q = make_q("bet365.com")
    reply = DNSRecord.parse(render(q.question, await handler.handle(q, unreachable)))  # type: ignore[arg-type]
    assert reply.ar == []


@pytest.mark.parametrize("mode,qtype,expected", [
    ("null", "A", "0.0.0.0"), ("null", "AAAA", "::"),
    ("blockpage", "A", "192.0.2.80"), ("blockpage", "AAAA", "2001:db8::80"),
])
async def test_address_forms(policy: PolicyRef, mode: str, qtype: str, expected: str) -> None:
    handler = BlocklistHandler(policy, BlockAnswerSettings(mode, 30, "192.0.2.80",
                                                           "2001:db8::80"))
    q = make_q("www.bet365.com", qtype)
    reply = DNSRecord.parse(render(q.question, await handler.handle(q, unreachable)))  # type: ignore[arg-type]
    assert [rr.rdata.toZone() for rr in reply.rr] == [expected]
    assert reply.rr[0].ttl == 30 and str(reply.rr[0].rname) == "www.bet365.com."


async def test_other_types_get_nodata_in_address_modes(policy: PolicyRef) -> None:
    handler = BlocklistHandler(policy, BlockAnswerSettings("null", 60))
    q = make_q("bet365.com", "MX")
    reply = DNSRecord.parse(render(q.question, await handler.handle(q, unreachable)))  # type: ignore[arg-type]
    assert reply.header.rcode == 0 and reply.rr == [] and reply.auth[0].rtype == QTYPE.SOA


async def test_unlisted_name_passes_and_allow_list_opens(policy: PolicyRef) -> None:
    handler = BlocklistHandler(policy, BlockAnswerSettings())
    rest = answering(RR("x", QTYPE.A, rdata=A("192.0.2.1"), ttl=300))
    assert (await handler.handle(make_q("example.org"), rest)).kind == "upstream"  # type: ignore[arg-type]
    opened = await handler.handle(make_q("ok.bet365.com"), rest)  # type: ignore[arg-type]
    assert opened.kind == "upstream"


async def test_cname_into_blocked_name_blocks_the_answer(policy: PolicyRef) -> None:
    handler = BlocklistHandler(policy, BlockAnswerSettings())
    rest = answering(RR("innocent.example", QTYPE.CNAME, rdata=CNAME("cdn.bet365.com"), ttl=60),
                     RR("cdn.bet365.com", QTYPE.A, rdata=A("192.0.2.66"), ttl=60))
    answer = await handler.handle(make_q("innocent.example"), rest)  # type: ignore[arg-type]
    assert answer.kind == "blocked" and answer.rcode == NXDOMAIN
    assert answer.incident is not None and answer.incident.action == "cname-blocked"


async def test_https_target_into_blocked_name_blocks_the_answer(policy: PolicyRef) -> None:
    handler = BlocklistHandler(policy, BlockAnswerSettings())
    record = RR.fromZone("svc.example. 300 IN HTTPS 1 tracker.example. alpn=h2")[0]
    answer = await handler.handle(make_q("svc.example", "HTTPS"), answering(record))  # type: ignore[arg-type]
    assert answer.kind == "blocked"
    assert isinstance(record.rdata, HTTPS)


async def test_explicitly_allowed_name_is_only_reinspected_for_legal_lists(
        policy: PolicyRef) -> None:
    handler = BlocklistHandler(policy, BlockAnswerSettings())
    to_deny = answering(RR("ok.bet365.com", QTYPE.CNAME, rdata=CNAME("tracker.example"), ttl=60),
                        RR("tracker.example", QTYPE.AAAA, rdata=AAAA("2001:db8::1"), ttl=60))
    assert (await handler.handle(make_q("ok.bet365.com"), to_deny)).kind == "upstream"  # type: ignore[arg-type]
    to_legal = answering(RR("ok.bet365.com", QTYPE.CNAME, rdata=CNAME("csam.example"), ttl=60))
    assert (await handler.handle(make_q("ok.bet365.com"), to_legal)).kind == "blocked"  # type: ignore[arg-type]


async def test_quick_matches_handle_byte_for_byte(policy: PolicyRef) -> None:
    handler = BlocklistHandler(policy, BlockAnswerSettings("nxdomain", 60))
    q = make_q("WwW.Bet365.COM", edns=True)
    quick = handler.quick(q.question, q.group)
    slow = await handler.handle(q, unreachable)  # type: ignore[arg-type]
    assert quick is not None
    assert render(q.question, quick) == render(q.question, slow)
    assert handler.quick(make_q("example.org").question, PUPILS) is None
