"""`policy.addresses`: IP-literal hosts in every notation, private and gateway destinations,
`[[groups]] ip_literals`, `[policy] allow_private`, and what `explain` says about them."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from blocklists.compiled import CompiledList, Tag, compile_entries
from blocklists.urls import canonical_url_host
from configkit import ConfigError, Section, parse_toml_text
from policy import Group, ListRule, Policy, Unblock
from policy.addresses import AddressRules, host_address
from policy.config import parse
from policy.explain import explain

RULES = {"legal": ListRule("legal", "legal", "csam"), "deny": ListRule("deny", "deny", "gambling"),
         "ok": ListRule("ok", "allow", "")}
ENTRIES = [("8.8.4.4", Tag("ok", "")), ("1.2.3.4", Tag("legal", "csam")),
           ("9.9.9.9", Tag("deny", "gambling")), ("bet.example", Tag("deny", "gambling"))]
PUPILS = Group("nx", "Nxënësit", (ipaddress.ip_network("10.0.0.0/16"),))
STAFF = Group("st", "Stafi", (ipaddress.ip_network("10.1.0.0/16"),), ip_literals="allow")
ALLOWED = AddressRules((ipaddress.ip_network("10.9.0.0/24"), ipaddress.ip_network("fd00::/64")))


@pytest.fixture
def policy(tmp_path: Path) -> Iterator[Policy]:
    compile_entries(ENTRIES, tmp_path / "l.compiled")
    view = CompiledList(tmp_path / "l.compiled")
    yield Policy((PUPILS, STAFF), PUPILS, RULES, view, addresses=ALLOWED)
    view.close()


def decide(policy: Policy, group: Group, typed: str) -> tuple[str, str]:
    host = canonical_url_host(typed)
    assert host is not None, typed
    d = policy.decide(group, host)
    return d.action, d.list_id


@pytest.mark.parametrize(("typed", "pupils", "staff"), [
    # a public address: blocked for pupils in every notation, open for staff
    ("8.8.8.8", ("block", "ip-literal"), ("pass", "")),
    ("134744072", ("block", "ip-literal"), ("pass", "")),
    ("0x08080808", ("block", "ip-literal"), ("pass", "")),
    ("010.010.010.010", ("block", "ip-literal"), ("pass", "")),
    ("[2001:4860:4860::8888]", ("block", "ip-literal"), ("pass", "")),
    # the lists still apply to addresses: legal wins, deny blocks, allow opens
    ("1.2.3.4", ("block", "legal"), ("block", "legal")),
    ("9.9.9.9", ("block", "deny"), ("block", "deny")),
    ("8.8.4.4", ("allow", "ok"), ("allow", "ok")),
    # private, loopback, link-local, CGNAT, multicast: refused unless allowed
    ("127.0.0.1", ("block", "private-address"), ("block", "private-address")),
    ("2130706433", ("block", "private-address"), ("block", "private-address")),
    ("[::1]", ("block", "private-address"), ("block", "private-address")),
    ("[::ffff:192.168.1.1]", ("block", "private-address"), ("block", "private-address")),
    ("0300.0250.1.1", ("block", "private-address"), ("block", "private-address")),
    ("169.254.169.254", ("block", "private-address"), ("block", "private-address")),
    ("100.64.0.1", ("block", "private-address"), ("block", "private-address")),
    ("224.0.0.1", ("block", "private-address"), ("block", "private-address")),
    ("0.0.0.0", ("block", "private-address"), ("block", "private-address")),
    # [policy] allow_private opens a network; it is still an IP literal for pupils
    ("10.9.0.5", ("block", "ip-literal"), ("pass", "")),
    ("[fd00::5]", ("block", "ip-literal"), ("pass", "")),
    # names are untouched
    ("example.org", ("pass", ""), ("pass", "")),
    ("bet.example", ("block", "deny"), ("block", "deny")),
])
def test_address_hosts(policy: Policy, typed: str, pupils: tuple[str, str],
                       staff: tuple[str, str]) -> None:
    assert decide(policy, PUPILS, typed) == pupils
    assert decide(policy, STAFF, typed) == staff


def test_urls_on_addresses_are_decided_like_hosts(policy: Policy) -> None:
    d = policy.decide_url(PUPILS, "http://3232235777/admin")
    assert d.blocked and d.list_id == "private-address" and d.entry == "192.168.1.1"
    assert policy.decide_url(PUPILS, "http://0x08080808/").list_id == "ip-literal"
    assert not policy.decide_url(STAFF, "http://8.8.8.8/").blocked


def test_the_gateway_is_refused_even_inside_an_allowed_network(policy: Policy) -> None:
    gateway = {ipaddress.ip_address("10.9.0.1"), ipaddress.ip_address("203.0.113.1")}
    for address in ("10.9.0.1", "203.0.113.1", "::ffff:10.9.0.1"):
        d = policy.destination(ipaddress.ip_address(address), gateway)
        assert d is not None and d.list_id == "private-address" and "gateway" in d.reason
    assert policy.destination(ipaddress.ip_address("10.9.0.2"), gateway) is None
    assert policy.destination(ipaddress.ip_address("93.184.216.34"), gateway) is None
    assert policy.destination(ipaddress.ip_address("10.8.0.1"), gateway) is not None


def test_an_unblock_opens_an_address_for_the_group(policy: Policy) -> None:
    now = datetime.now(UTC)
    opened = policy.with_unblocks((Unblock(7, "nx", "8.8.8.8", now + timedelta(hours=1)),),
                                  now)
    assert opened.decide(PUPILS, "8.8.8.8").action == "allow"
    assert opened.decide(PUPILS, "8.8.4.8").list_id == "ip-literal"


def test_host_address_is_fast_and_exact_for_names() -> None:
    assert host_address("example.org") is None and host_address("a.b1") is None
    assert host_address("1.2.3.4") == ipaddress.ip_address("1.2.3.4")
    assert host_address("[fd00::1]") == ipaddress.ip_address("fd00::1")


def test_explain_shows_the_address_rule(policy: Policy) -> None:
    result = explain(policy, "10.0.0.9", host="0xC0A80101")
    assert result.decision.list_id == "private-address"
    steps = [s for s in result.steps if s.kind == "address"]
    assert steps and "192.168.1.1" in steps[0].en and "allow_private" in steps[0].sq
    result = explain(policy, "10.0.0.9", host="134744072")
    assert result.decision.list_id == "ip-literal"
    step = next(s for s in result.steps if s.kind == "address")
    assert "ip_literals" in step.en and "Adresë IP" in step.sq
    assert result.steps[-1].en.startswith("Decision: BLOCKED")


def _parse(text: str) -> tuple[tuple[Group, ...], AddressRules]:
    data, source = parse_toml_text(text, "/etc/roja/roja.toml")
    s = parse(Section(data, "", source), Path("/etc/roja"))
    return s.groups, s.addresses


def test_config_keys() -> None:
    groups, rules = _parse('[[groups]]\nid = "a"\n[[groups]]\nid = "b"\nip_literals = "allow"\n'
                           '[policy]\nallow_private = ["10.0.5.0/24", "fd00:5::/64"]\n')
    assert [g.ip_literals for g in groups] == ["block", "allow"]
    assert [str(n) for n in rules.allow_private] == ["10.0.5.0/24", "fd00:5::/64"]
    assert _parse("")[1] == AddressRules()


@pytest.mark.parametrize(("text", "key"), [
    ('[[groups]]\nid = "a"\nip_literals = "yes"\n', "ip_literals"),
    ('[policy]\nallow_private = ["school-server"]\n', "allow_private"),
])
def test_config_errors_name_the_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        _parse(text)
    assert key in str(err.value)
