"""DNS answers whose addresses a list names are blocked (like unbound's RPZ `rpz-ip`): a real
Roja in front of a real NSD that answers innocent names with listed addresses."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from peers.nsd import NsdServer, start_nsd

from dns_resolver.testing import ask_udp, make_query, parse
from filterd.testing import dns_address, running_appliance, write_lists
from reporting.incidents import IncidentStore

SOA = "@ SOA ns1 hostmaster 1 3600 600 86400 60\n@ NS ns1\nns1 A 127.0.0.1\n"
ZONES = {
    "innocent.test.": SOA + (
        "listed A 192.0.2.66\n"             # a listed address
        "innet A 198.51.100.200\n"          # inside a listed network
        "mixed A 192.0.2.1\nmixed A 192.0.2.66\n"
        "six AAAA 2001:db8:bad::1\n"        # inside a listed IPv6 network
        "alias CNAME listed\n"              # the address comes behind a CNAME
        "legal A 203.0.113.9\n"
        "clean A 192.0.2.1\nclean AAAA 2001:db8::1\n"
        # address hints of HTTPS/SVCB records (RFC 9460) are addresses of the answer too
        "hinted HTTPS 1 . alpn=h2 ipv4hint=192.0.2.1,192.0.2.66\n"
        "hinted6 HTTPS 1 . ipv6hint=2001:db8:bad::2\n"
        "_8443._foo.svc SVCB 1 . port=8443 ipv4hint=198.51.100.7\n"
        "cleanhint HTTPS 1 . alpn=h2 ipv4hint=192.0.2.1 ipv6hint=2001:db8::1\n"),
}


@pytest.fixture(scope="module")
def nsd(tmp_path_factory: pytest.TempPathFactory) -> NsdServer:
    server = start_nsd(tmp_path_factory.mktemp("nsd-addresses"), ZONES)
    yield server  # type: ignore[misc]
    server.stop()


def config(upstream: tuple[str, int], lists_dir: Path, groups: str = "") -> str:
    return f"""
[state]
dir = "{{state}}"
[dns]
listen = ["127.0.0.1:0"]
upstreams = ["{upstream[0]}:{upstream[1]}"]
upstream_timeout = 0.5
block_answer = "nxdomain"
[dns.acl]
allow = ["127.0.0.1/32"]
[[lists]]
id = "malware"
path = "{lists_dir}/malware.txt"
category = "malware"
[[lists]]
id = "hotline"
kind = "legal"
format = "hosts"
path = "{lists_dir}/legal.txt"
category = "csam"
{groups}"""


LISTS = {"malware.txt": "# names and addresses in one list\nbad.example\n192.0.2.66\n"
                        "198.51.100.0/24\n2001:db8:bad::/48\n",
         "legal.txt": "0.0.0.0 203.0.113.9\n"}


async def ask(addr: tuple[str, int], name: str, qtype: int = 1):  # type: ignore[no-untyped-def]
    return parse(await asyncio.to_thread(ask_udp, addr, make_query(name, qtype)))


@pytest.mark.parametrize(("name", "qtype"), [
    ("listed.innocent.test", 1), ("innet.innocent.test", 1), ("mixed.innocent.test", 1),
    ("six.innocent.test", 28), ("alias.innocent.test", 1), ("legal.innocent.test", 1)])
async def test_answer_with_a_listed_address_is_blocked(tmp_path, nsd, name, qtype):
    write_lists(tmp_path / "lists", LISTS)
    async with running_appliance(tmp_path, config(nsd.address, tmp_path / "lists")) as app:
        addr = dns_address(app)
        for _ in range(2):  # the second from the answer cache, still blocked
            reply = await ask(addr, name, qtype)
            assert reply.header.rcode == 3 and not reply.rr, reply
        clean = await ask(addr, "clean.innocent.test")
        assert [str(rr.rdata) for rr in clean.rr] == ["192.0.2.1"]
        clean6 = await ask(addr, "clean.innocent.test", 28)
        assert [str(rr.rdata) for rr in clean6.rr] == ["2001:db8::1"]
    rows = {r.name: r for r in IncidentStore(tmp_path / "state" / "incidents.sqlite")
            .list_since(0)}
    assert set(rows) == {name}
    row = rows[name]
    assert row.action == "address-blocked" and row.count == 2
    legal = name.startswith("legal")
    assert (row.list_id, row.category) == (("hotline", "csam") if legal
                                           else ("malware", "malware"))
    assert row.reason.startswith("answer address: ")


@pytest.mark.parametrize(("name", "qtype"), [
    ("hinted.innocent.test", 65), ("hinted6.innocent.test", 65),
    ("_8443._foo.svc.innocent.test", 64)])
async def test_https_and_svcb_address_hints_are_checked(tmp_path, nsd, name, qtype):
    """A browser may connect to an HTTPS record's ipv4hint/ipv6hint before (or instead of)
    asking for A/AAAA: a listed hint blocks the answer like a listed A record (threats.md)."""
    write_lists(tmp_path / "lists", LISTS)
    async with running_appliance(tmp_path, config(nsd.address, tmp_path / "lists")) as app:
        addr = dns_address(app)
        for _ in range(2):
            reply = await ask(addr, name, qtype)
            assert reply.header.rcode == 3 and not reply.rr, reply
        clean = await ask(addr, "cleanhint.innocent.test", 65)
        assert clean.header.rcode == 0 and len(clean.rr) == 1, clean
    rows = IncidentStore(tmp_path / "state" / "incidents.sqlite").list_since(0)
    assert [(r.name, r.action, r.list_id, r.count) for r in rows] == [
        (name, "address-blocked", "malware", 2)]


async def test_groups_the_list_does_not_apply_to_get_the_answer(tmp_path, nsd):
    """A deny address list blocks only where the list applies; a legal one everywhere."""
    groups = """
[[groups]]
id = "staff"
networks = ["127.0.0.0/8"]
lists = []
"""
    write_lists(tmp_path / "lists", LISTS)
    async with running_appliance(tmp_path, config(nsd.address, tmp_path / "lists", groups)
                                 ) as app:
        addr = dns_address(app)
        listed = await ask(addr, "listed.innocent.test")
        assert [str(rr.rdata) for rr in listed.rr] == ["192.0.2.66"]
        assert (await ask(addr, "legal.innocent.test")).header.rcode == 3
