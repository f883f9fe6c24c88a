"""DNSSEC passes through Roja (issue 18, part C): a real validating upstream (Unbound with a
zone signed here, served by NSD; tests/peers/dnssec.py) behind a real appliance."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest
from peers.dnssec import Validator, start_validator

from filterd.testing import dns_address, running_appliance, write_lists

BODY = """\
@ 300 SOA ns1 hostmaster 1 3600 600 86400 60
@ 300 NS ns1
ns1 300 A 127.0.0.1
www 300 A 192.0.2.10
plain 300 A 192.0.2.11
adonly 300 A 192.0.2.12
bad 300 A 192.0.2.66
bogus 300 A 192.0.2.77
long 7200 A 192.0.2.13
"""


@pytest.fixture(scope="module")
def validator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Validator]:
    v = start_validator(tmp_path_factory.mktemp("dnssec"), {"signed.test.": BODY},
                        tamper={"192.0.2.77": "192.0.2.78"})
    yield v
    v.stop()


def config(upstream: tuple[str, int], lists_dir: Path) -> str:
    return f"""
[state]
dir = "{{state}}"
[dns]
listen = ["127.0.0.1:0"]
upstreams = ["{upstream[0]}:{upstream[1]}"]
block_answer = "nxdomain"
cache_max_ttl = 600
[dns.acl]
allow = ["127.0.0.1/32"]
[[lists]]
id = "deny"
path = "{lists_dir}/deny.txt"
category = "gambling"
"""


def ask(addr: tuple[str, int], name: str, *, do: bool = True, ad: bool = False,
        cd: bool = False, tcp: bool = False) -> dns.message.Message:
    q = dns.message.make_query(name, "A", use_edns=0, want_dnssec=do)
    q.flags = dns.flags.RD | (dns.flags.AD if ad else 0) | (dns.flags.CD if cd else 0)
    fn = dns.query.tcp if tcp else dns.query.udp
    return fn(q, addr[0], port=addr[1], timeout=3)


def types(section: list[dns.rrset.RRset]) -> set[str]:
    return {dns.rdatatype.to_text(rrset.rdtype) for rrset in section}


def addresses(r: dns.message.Message) -> list[str]:
    return [rd.to_text() for rrset in r.answer if rrset.rdtype == dns.rdatatype.A
            for rd in rrset]


async def test_do_query_shows_ad_and_rrsigs(tmp_path, validator):
    write_lists(tmp_path / "lists", {"deny.txt": "bad.signed.test\n"})
    async with running_appliance(tmp_path, config(validator.address, tmp_path / "lists")) as app:
        addr = dns_address(app)

        def scenario() -> None:
            for tcp in (False, True, False):   # the last one from Roja's caches
                r = ask(addr, "www.signed.test", tcp=tcp)
                assert r.flags & dns.flags.AD, r
                assert types(r.answer) == {"A", "RRSIG"}
                assert addresses(r) == ["192.0.2.10"]
            nx = ask(addr, "nothere.signed.test")
            assert nx.rcode() == dns.rcode.NXDOMAIN and nx.flags & dns.flags.AD
            assert {"NSEC", "RRSIG", "SOA"} <= types(nx.authority)

        await asyncio.to_thread(scenario)


async def test_do_and_plain_answers_do_not_mix(tmp_path, validator):
    write_lists(tmp_path / "lists", {"deny.txt": "bad.signed.test\n"})
    async with running_appliance(tmp_path, config(validator.address, tmp_path / "lists")) as app:
        addr = dns_address(app)

        def scenario() -> None:
            plain = ask(addr, "plain.signed.test", do=False)
            assert types(plain.answer) == {"A"} and not plain.flags & dns.flags.AD
            signed = ask(addr, "plain.signed.test")
            assert types(signed.answer) == {"A", "RRSIG"} and signed.flags & dns.flags.AD
            again = ask(addr, "plain.signed.test", do=False)
            assert types(again.answer) == {"A"} and not again.flags & dns.flags.AD
            # AD without DO (dig's default): AD, but no DNSSEC records
            ad_only = ask(addr, "adonly.signed.test", do=False, ad=True)
            assert types(ad_only.answer) == {"A"} and ad_only.flags & dns.flags.AD

        await asyncio.to_thread(scenario)


async def test_block_answer_unchanged_for_do_queries(tmp_path, validator):
    write_lists(tmp_path / "lists", {"deny.txt": "bad.signed.test\n"})
    async with running_appliance(tmp_path, config(validator.address, tmp_path / "lists")) as app:
        addr = dns_address(app)

        def scenario() -> None:
            r = ask(addr, "bad.signed.test", ad=True)
            assert r.rcode() == dns.rcode.NXDOMAIN
            assert not r.flags & dns.flags.AD
            assert "RRSIG" not in types(r.answer) | types(r.authority)
            assert any(o.otype == 15 for o in r.options)   # our Extended DNS Error

        await asyncio.to_thread(scenario)


async def test_cd_forwarded_and_bogus_data_refused_without_it(tmp_path, validator):
    write_lists(tmp_path / "lists", {"deny.txt": "bad.signed.test\n"})
    async with running_appliance(tmp_path, config(validator.address, tmp_path / "lists")) as app:
        addr = dns_address(app)

        def scenario() -> None:
            checked = ask(addr, "bogus.signed.test")
            assert checked.rcode() == dns.rcode.SERVFAIL and addresses(checked) == []
            unchecked = ask(addr, "bogus.signed.test", cd=True)
            assert unchecked.rcode() == dns.rcode.NOERROR
            assert addresses(unchecked) == ["192.0.2.78"] and not unchecked.flags & dns.flags.AD
            # and the unchecked answer is not served to a client that did not set CD
            assert addresses(ask(addr, "bogus.signed.test")) == []

        await asyncio.to_thread(scenario)


async def test_cache_max_ttl_caps_the_ttls_clients_see(tmp_path, validator):
    write_lists(tmp_path / "lists", {"deny.txt": "bad.signed.test\n"})
    async with running_appliance(tmp_path, config(validator.address, tmp_path / "lists")) as app:
        addr = dns_address(app)

        def scenario() -> None:
            for do in (False, True, False, True):
                r = ask(addr, "long.signed.test", do=do)
                assert addresses(r) == ["192.0.2.13"]
                assert all(rrset.ttl <= 600 for rrset in r.answer), r

        await asyncio.to_thread(scenario)
