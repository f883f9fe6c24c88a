"""The NSD upstream fixture really serves the fixture zones, over UDP and TCP."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

from .nsd import NsdServer, require_peer
from .zones import BIG_TXT_COUNT, big_txt_string

pytestmark = pytest.mark.peer


def ask_udp(server: NsdServer, name: str, rdtype: str, payload: int = 1232) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype, use_edns=0, payload=payload)
    return dns.query.udp(query, server.host, port=server.port, timeout=2)


def ask_tcp(server: NsdServer, name: str, rdtype: str) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype, use_edns=0, payload=1232)
    return dns.query.tcp(query, server.host, port=server.port, timeout=2)


def answer_rrset(response: dns.message.Message, name: str, rdtype: str) -> dns.rrset.RRset:
    return response.find_rrset(
        response.answer,
        dns.name.from_text(name),
        dns.rdataclass.IN,
        dns.rdatatype.from_text(rdtype),
    )


def lookup(server: NsdServer, name: str, rdtype: str, *, tcp: bool = False) -> dns.rrset.RRset:
    """The answer RRset of `name`/`rdtype` asked over UDP (or TCP)."""
    response = (ask_tcp if tcp else ask_udp)(server, name, rdtype)
    return answer_rrset(response, name, rdtype)


def texts(rrset: dns.rrset.RRset) -> set[str]:
    return {rdata.to_text() for rdata in rrset}


def test_require_peer_finds_nsd() -> None:
    assert require_peer("nsd").endswith("/nsd")


def test_www_allowed_a_and_aaaa(upstream_dns: NsdServer) -> None:
    response = ask_udp(upstream_dns, "www.allowed.test.", "A")
    assert response.rcode() == dns.rcode.NOERROR
    assert response.flags & dns.flags.AA
    a = answer_rrset(response, "www.allowed.test.", "A")
    assert texts(a) == {"192.0.2.10"}
    assert a.ttl == 300
    aaaa = lookup(upstream_dns, "www.allowed.test.", "AAAA", tcp=True)
    assert texts(aaaa) == {"2001:db8::10"}


def test_short_ttl(upstream_dns: NsdServer) -> None:
    rrset = lookup(upstream_dns, "short.allowed.test.", "A")
    assert texts(rrset) == {"192.0.2.11"}
    assert rrset.ttl == 5


def test_cname_chain_crosses_zones(upstream_dns: NsdServer) -> None:
    response = ask_udp(upstream_dns, "chain.allowed.test.", "A")
    assert response.rcode() == dns.rcode.NOERROR
    chain = answer_rrset(response, "chain.allowed.test.", "CNAME")
    hop = answer_rrset(response, "hop.allowed.test.", "CNAME")
    bad = answer_rrset(response, "bad.blocked.test.", "A")
    assert texts(chain) == {"hop.allowed.test."}
    assert texts(hop) == {"bad.blocked.test."}
    assert texts(bad) == {"192.0.2.66"}


def test_big_txt_truncated_over_udp_complete_over_tcp(upstream_dns: NsdServer) -> None:
    udp = ask_udp(upstream_dns, "big.allowed.test.", "TXT", payload=1232)
    assert udp.flags & dns.flags.TC
    tcp = ask_tcp(upstream_dns, "big.allowed.test.", "TXT")
    assert not tcp.flags & dns.flags.TC
    rrset = answer_rrset(tcp, "big.allowed.test.", "TXT")
    assert len(rrset) == BIG_TXT_COUNT
    assert texts(rrset) == {f'"{big_txt_string(i)}"' for i in range(BIG_TXT_COUNT)}
    assert len(tcp.to_wire()) > 1232


def test_https_record(upstream_dns: NsdServer) -> None:
    rrset = lookup(upstream_dns, "svc.allowed.test.", "HTTPS")
    (rdata,) = list(rrset)
    assert rdata.to_text() == '1 bad.blocked.test. alpn="h2"'


def test_nxdomain(upstream_dns: NsdServer) -> None:
    response = ask_udp(upstream_dns, "nothere.allowed.test.", "A")
    assert response.rcode() == dns.rcode.NXDOMAIN
    assert not response.answer
    (soa,) = response.authority
    assert soa.rdtype == dns.rdatatype.SOA
    assert soa.ttl == 60


@pytest.mark.parametrize(
    ("name", "rdtype", "expected"),
    [
        ("forcesafesearch.google.com.", "A", "216.239.38.120"),
        ("forcesafesearch.google.com.", "AAAA", "2001:4860:4802:32::78"),
        ("restrictmoderate.youtube.com.", "A", "216.239.38.119"),
        ("restrict.youtube.com.", "A", "216.239.38.120"),
        ("strict.bing.com.", "A", "204.79.197.220"),
        ("safe.duckduckgo.com.", "A", "52.142.124.215"),
        ("strict-safe-search.ecosia.org.", "A", "192.0.2.80"),
        ("sub.deep.blocked.test.", "A", "192.0.2.68"),
        ("bad.blocked.test.", "AAAA", "2001:db8::66"),
        ("www.blocked.test.", "A", "192.0.2.67"),
        ("okchain.allowed.test.", "CNAME", "www.allowed.test."),
        ("goodsvc.allowed.test.", "HTTPS", "1 www.allowed.test."),
        ("mx.allowed.test.", "A", "192.0.2.25"),
        ("mail.allowed.test.", "MX", "10 mx.allowed.test."),
    ],
)
def test_fixture_records(upstream_dns: NsdServer, name: str, rdtype: str, expected: str) -> None:
    assert texts(lookup(upstream_dns, name, rdtype)) == {expected}
