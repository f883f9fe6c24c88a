"""Safe search: search engines are rewritten to their safe endpoints with a CNAME, per group."""

from __future__ import annotations

import ipaddress
from importlib import resources

import pytest
from dnslib import AAAA, QTYPE, RR, A, DNSRecord

from blocklists.compiled import CompiledList, Tag, compile_entries
from dns_resolver.answer_cache import AnswerCache
from dns_resolver.chain import build_chain
from dns_resolver.config import DnsSettings
from dns_resolver.engine import Resolver
from dns_resolver.handlers.safesearch import SafeSearchHandler
from dns_resolver.messages import Answer, Query, render
from dns_resolver.metrics import DnsStats
from dns_resolver.testing import make_query
from dns_resolver.wire import NXDOMAIN, SERVFAIL, Question, Verdict, parse_fast, parse_slow
from policy import Group, ListRule, Policy
from policy.ref import PolicyRef

MODERATE = Group("pupils", "Pupils", safe_search="moderate")
STRICT = Group("young", "Young pupils", safe_search="strict")
OFF = Group("staff", "Staff", safe_search="off")
ZONE = {
    "forcesafesearch.google.com": ("216.239.38.120", "2001:4860:4802:32::78"),
    "restrictmoderate.youtube.com": ("216.239.38.119", "2001:4860:4802:32::77"),
    "restrict.youtube.com": ("216.239.38.120", "2001:4860:4802:32::78"),
    "strict.bing.com": ("204.79.197.220", ""),
    "safe.duckduckgo.com": ("52.142.124.215", ""),
    "strict-safe-search.ecosia.org": ("192.0.2.80", ""),
    "www.google.com": ("142.250.1.1", ""),     # the unfiltered addresses
    "www.youtube.com": ("142.250.2.2", ""),
    "mail.google.com": ("142.250.3.3", ""),
}
HANDLER = SafeSearchHandler()


def make_q(name: str, qtype: str = "A", group: Group = MODERATE) -> Query:
    data = make_query(name, qtype)
    parsed = parse_fast(data)
    if parsed is Verdict.SLOW:
        parsed = parse_slow(data)
    assert isinstance(parsed, Question)
    return Query(parsed, "10.0.0.5", group, "udp", 1000.0)


async def upstream(q: Query) -> Answer:
    """The rest of the chain, answering from ZONE like an upstream resolver would."""
    if q.name not in ZONE:
        return Answer("upstream", "resolved", rcode=NXDOMAIN, cache_ttl=60)
    v4, v6 = ZONE[q.name]
    records: tuple[RR, ...] = ()
    if q.qtype == QTYPE.A:
        records = (RR(q.name, QTYPE.A, rdata=A(v4), ttl=300),)
    elif q.qtype == QTYPE.AAAA and v6:
        records = (RR(q.name, QTYPE.AAAA, rdata=AAAA(v6), ttl=300),)
    return Answer("upstream", "resolved", answer=records, cache_ttl=300)


async def unreachable(q: Query) -> Answer:
    return Answer("servfail", "no upstream answered", rcode=SERVFAIL)


def shown(q: Query, answer: Answer) -> list[tuple[str, str, str]]:
    """The answer section as a client (dig) sees it: (owner, type, data)."""
    reply = DNSRecord.parse(render(q.question, answer))
    return [(str(rr.rname).lower(), QTYPE[rr.rtype], str(rr.rdata)) for rr in reply.rr]


def google_domains() -> list[str]:
    text = resources.files("policy.data").joinpath("google_domains.txt").read_text()
    return [d for line in text.splitlines() if not line.startswith("#") for d in line.split()]


def test_the_google_domain_list_is_complete() -> None:
    domains = google_domains()
    assert len(domains) == len(set(domains)) >= 185   # Google lists 187 today
    for d in ("google.com", "google.al", "google.co.uk", "google.com.au", "google.de",
              "google.it", "google.gr", "google.rs", "google.mk", "google.me", "google.co.jp"):
        assert d in domains


async def test_every_google_cctld_is_rewritten() -> None:
    for domain in google_domains():
        for name in (f"www.{domain}", domain):
            q = make_q(name)
            answer = await HANDLER.handle(q, upstream)
            assert answer.kind == "safesearch", name
            assert shown(q, answer) == [
                (f"{name}.", "CNAME", "forcesafesearch.google.com."),
                ("forcesafesearch.google.com.", "A", "216.239.38.120"),
            ], name


@pytest.mark.parametrize("name", ["www.youtube.com", "m.youtube.com", "youtubei.googleapis.com",
                                  "youtube.googleapis.com", "www.youtube-nocookie.com"])
@pytest.mark.parametrize(("group", "target", "address"), [
    (MODERATE, "restrictmoderate.youtube.com", "216.239.38.119"),
    (STRICT, "restrict.youtube.com", "216.239.38.120"),
])
async def test_youtube_moderate_and_strict(name, group, target, address) -> None:
    q = make_q(name, group=group)
    assert shown(q, await HANDLER.handle(q, upstream)) == [
        (f"{name}.", "CNAME", f"{target}."), (f"{target}.", "A", address)]


@pytest.mark.parametrize(("name", "target"), [
    ("www.bing.com", "strict.bing.com"),
    ("bing.com", "strict.bing.com"),
    ("duckduckgo.com", "safe.duckduckgo.com"),
    ("www.duckduckgo.com", "safe.duckduckgo.com"),
    ("start.duckduckgo.com", "safe.duckduckgo.com"),
    ("www.ecosia.org", "strict-safe-search.ecosia.org"),
    ("ecosia.org", "strict-safe-search.ecosia.org"),
    ("WWW.Google.AL", "forcesafesearch.google.com"),
])
@pytest.mark.parametrize("group", [MODERATE, STRICT])
async def test_other_engines_are_rewritten(name: str, target: str, group: Group) -> None:
    q = make_q(name, group=group)
    records = shown(q, await HANDLER.handle(q, upstream))
    assert records[0] == (f"{name.lower()}.", "CNAME", f"{target}.")
    assert records[1] == (f"{target}.", "A", ZONE[target][0])


@pytest.mark.parametrize("name", ["www.google.com", "www.google.al", "www.youtube.com",
                                  "www.bing.com", "duckduckgo.com", "www.ecosia.org"])
async def test_group_with_safe_search_off_is_untouched(name: str) -> None:
    q = make_q(name, group=OFF)
    assert await HANDLER.handle(q, upstream) == await upstream(q)


@pytest.mark.parametrize("name", ["mail.google.com", "google.example", "www.google.evil.test",
                                  "notyoutube.com", "api.bing.com", "www.example.com"])
async def test_other_names_pass_on(name: str) -> None:
    q = make_q(name)
    assert await HANDLER.handle(q, upstream) == await upstream(q)


async def test_aaaa_query_gets_the_target_ipv6() -> None:
    q = make_q("www.google.com", "AAAA")
    assert shown(q, await HANDLER.handle(q, upstream)) == [
        ("www.google.com.", "CNAME", "forcesafesearch.google.com."),
        ("forcesafesearch.google.com.", "AAAA", "2001:4860:4802:32::78")]


async def test_cname_query_gets_only_the_cname() -> None:
    q = make_q("www.google.com", "CNAME")
    assert shown(q, await HANDLER.handle(q, upstream)) == [
        ("www.google.com.", "CNAME", "forcesafesearch.google.com.")]


@pytest.mark.parametrize(("name", "qtype", "expected"), [
    ("www.google.com", "A", [("forcesafesearch.google.com.", "A", "216.239.38.120")]),
    ("www.google.de", "AAAA",
     [("forcesafesearch.google.com.", "AAAA", "2001:4860:4802:32::78")]),
    ("www.youtube.com", "A", [("restrictmoderate.youtube.com.", "A", "216.239.38.119")]),
    ("www.bing.com", "A", [("strict.bing.com.", "A", "204.79.197.220")]),
    ("www.bing.com", "AAAA", []),                 # no published IPv6 address
    ("duckduckgo.com", "A", []),                  # no published fixed address
])
async def test_fallback_addresses_when_the_upstream_fails(name, qtype, expected) -> None:
    q = make_q(name, qtype)
    answer = await HANDLER.handle(q, unreachable)
    assert answer.kind == "safesearch" and answer.rcode == 0
    records = shown(q, answer)
    assert records[0][:2] == (f"{name}.", "CNAME")
    assert records[1:] == expected


async def test_fallback_for_strict_youtube() -> None:
    q = make_q("m.youtube.com", group=STRICT)
    assert shown(q, await HANDLER.handle(q, unreachable))[1] == (
        "restrict.youtube.com.", "A", "216.239.38.120")


async def test_safe_search_reply_ttls_do_not_outlive_the_rewrite() -> None:
    q = make_q("www.google.com")
    reply = DNSRecord.parse(render(q.question, await HANDLER.handle(q, upstream)))
    assert all(0 < rr.ttl <= 300 for rr in reply.rr)


async def test_a_blocked_search_engine_stays_blocked(tmp_path) -> None:
    """Policy runs before safe search: a school that lists bing.com gets NXDOMAIN, no CNAME."""
    path = tmp_path / "compiled.bin"
    compile_entries([("bing.com", Tag("deny", "search"))], path)
    policy = PolicyRef(Policy((), MODERATE, {"deny": ListRule("deny", "deny", "search")},
                              CompiledList(path)))
    cfg = DnsSettings(acl_allow=(ipaddress.ip_network("127.0.0.0/8"),))
    stats = DnsStats()
    chain = build_chain(cfg, policy, stats)
    resolver = Resolver(admission=chain.admission, chain=chain.entry, policy=policy,
                        answers=AnswerCache(100), stats=stats, quick=chain.quick)
    bing = DNSRecord.parse(await resolver.reply(make_query("www.bing.com"), "127.0.0.1", "udp"))
    assert bing.header.rcode == NXDOMAIN and bing.rr == []
    google = DNSRecord.parse(await resolver.reply(make_query("www.google.com"), "127.0.0.1",
                                                  "udp"))
    assert "forcesafesearch.google.com" in str(google.rr[0].rdata)
