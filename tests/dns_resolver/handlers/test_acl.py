"""ACL: only clients inside the allowed networks are answered; everyone else gets REFUSED."""

from __future__ import annotations

import ipaddress

import pytest
from dnslib import DNSRecord

from blocklists.compiled import empty_list
from dns_resolver.answer_cache import AnswerCache
from dns_resolver.chain import build_chain
from dns_resolver.config import DnsSettings
from dns_resolver.engine import Resolver
from dns_resolver.handlers.acl import DEFAULT_ALLOW, AclHandler
from dns_resolver.metrics import DnsStats
from dns_resolver.testing import make_query
from dns_resolver.wire import REFUSED
from policy import Group, Policy
from policy.ref import PolicyRef

DEFAULT = AclHandler([ipaddress.ip_network(n) for n in DEFAULT_ALLOW])


@pytest.mark.parametrize("client", [
    "127.0.0.1", "127.255.255.254", "::1",
    "10.0.0.1", "10.255.255.255",
    "172.16.0.1", "172.31.255.254",
    "192.168.0.1", "192.168.255.254",
    "100.64.0.1", "100.127.255.254",          # carrier-grade NAT (school behind an ISP NAT)
    "169.254.10.20",                          # link-local
    "fc00::1", "fd12:3456::1",                # unique local
    "fe80::1", "fe80::1%eth0",                # link-local with a zone index
])
def test_default_ranges_are_answered(client: str) -> None:
    assert DEFAULT.allowed(client)
    assert DEFAULT.admit(client, 0.0) is None


@pytest.mark.parametrize("client", [
    "8.8.8.8", "203.0.113.5", "1.1.1.1",
    "11.0.0.1", "9.255.255.255",              # just outside 10/8
    "172.15.255.255", "172.32.0.1",           # just outside 172.16/12
    "192.167.255.255", "192.169.0.1",         # just outside 192.168/16
    "100.63.255.255", "100.128.0.1",          # just outside 100.64/10
    "128.0.0.1",
    "2001:db8::1", "2a00:1450::1", "::2", "::",
    "", "localhost", "not-an-address", "10.0.0.256",
])
def test_outside_clients_are_refused(client: str) -> None:
    assert not DEFAULT.allowed(client)
    refusal = DEFAULT.admit(client, 0.0)
    assert refusal is not None
    assert refusal.rcode == REFUSED
    assert refusal.kind == "refused"


@pytest.mark.parametrize(("client", "allowed"), [
    ("::ffff:10.1.2.3", True),
    ("::ffff:127.0.0.1", True),
    ("::ffff:192.168.1.1", True),
    ("::ffff:8.8.8.8", False),
    ("::ffff:203.0.113.5", False),
])
def test_ipv4_mapped_ipv6_is_judged_as_ipv4(client: str, allowed: bool) -> None:
    """A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d."""
    assert DEFAULT.allowed(client) is allowed


def test_configured_networks_replace_the_defaults() -> None:
    acl = AclHandler([ipaddress.ip_network("192.0.2.0/24"), ipaddress.ip_network("2001:db8::/32")])
    assert acl.allowed("192.0.2.77")
    assert acl.allowed("::ffff:192.0.2.77")
    assert acl.allowed("2001:db8:1::5")
    assert not acl.allowed("127.0.0.1")
    assert not acl.allowed("10.0.0.1")
    assert not acl.allowed("::1")


def test_empty_allow_list_refuses_everyone() -> None:
    acl = AclHandler([])
    assert not acl.allowed("127.0.0.1")
    assert not acl.allowed("::1")


def test_answers_stay_right_when_the_memo_overflows() -> None:
    acl = AclHandler([ipaddress.ip_network("10.0.0.0/8")], memo_size=4)
    for i in range(50):
        assert acl.allowed(f"10.0.0.{i}")
        assert not acl.allowed(f"11.0.0.{i}")
    assert acl.allowed("10.0.0.1") and not acl.allowed("11.0.0.1")


async def test_refused_reply_on_the_wire_echoes_the_question(tmp_path) -> None:
    """What a client outside the ACL sees: REFUSED for every name, even a blocked or canary one."""
    policy = PolicyRef(Policy((), Group("pupils", "Pupils"), {},
                              empty_list(tmp_path / "empty.bin")))
    cfg = DnsSettings(acl_allow=(ipaddress.ip_network("127.0.0.1/32"),))
    stats = DnsStats()
    chain = build_chain(cfg, policy, stats)
    resolver = Resolver(admission=chain.admission, chain=chain.entry, policy=policy,
                        answers=AnswerCache(100), stats=stats, quick=chain.quick)
    for name in ("www.Example.com", "use-application-dns.net", "www.google.com"):
        query = make_query(name, qid=4321, edns=True)
        reply = await resolver.reply(query, "192.0.2.9", "udp")
        assert reply is not None
        record = DNSRecord.parse(reply)
        assert record.header.rcode == REFUSED and record.header.id == 4321
        assert record.rr == [] and record.auth == []
        assert reply[12:12 + len(query) - 12 - 11] == query[12:-11]
    assert stats.results.get("refused") == 3
