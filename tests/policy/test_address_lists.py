"""`policy.address_lists`: the lookup against `ipaddress` (overlapping networks, IPv6,
IPv4-mapped), and `Policy.address_block` / IP-literal hosts per group and list kind."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blocklists.compiled import CompiledList, Tag, compile_batches
from policy import Group, ListRule, Policy
from policy.address_lists import AddressLists

LISTS = {"bad": ["192.0.2.7", "10.0.0.0/8", "2001:db8::/32", "45.33.32.0/24", "2a03:2880::/32"],
         "worse": ["10.1.2.0/24", "198.51.100.0/24", "185.60.216.0/24"],
         "legal": ["203.0.113.5", "93.184.216.34"], "ok": ["198.51.100.9"],
         "mapped": ["::ffff:198.18.0.0/112"]}
RULES = {"bad": ListRule("bad", "deny", "malware"), "worse": ListRule("worse", "deny", "gambling"),
         "legal": ListRule("legal", "legal", "csam"), "ok": ListRule("ok", "allow", "")}
PUPILS = Group("nx", "Nxënësit", (ipaddress.ip_network("10.0.0.0/16"),))
STAFF = Group("st", "Stafi", (ipaddress.ip_network("10.1.0.0/16"),), ip_literals="allow",
              lists=frozenset({"ok"}))
LAB = Group("lab", "Laboratori", (ipaddress.ip_network("10.2.0.0/16"),), ip_literals="allow")


def packed(text: str) -> bytes:
    return ipaddress.ip_address(text).packed


@pytest.mark.parametrize(("address", "lists", "entry"), [
    ("192.0.2.7", ("bad",), "192.0.2.7"),
    ("192.0.2.8", (), ""),
    ("10.200.0.1", ("bad",), "10.0.0.0/8"),
    ("10.1.2.3", ("bad", "worse"), "10.0.0.0/8"),
    ("10.1.3.0", ("bad",), "10.0.0.0/8"),
    ("11.0.0.0", (), ""),
    ("9.255.255.255", (), ""),
    ("2001:db8::1", ("bad",), "2001:db8::/32"),
    ("2001:db9::1", (), ""),
    ("::ffff:192.0.2.7", ("bad",), "192.0.2.7"),
    ("198.18.0.9", ("mapped",), "::ffff:198.18.0.0/112"),
    ("::ffff:198.18.0.9", ("mapped",), "::ffff:198.18.0.0/112"),
])
def test_lookup(address: str, lists: tuple[str, ...], entry: str) -> None:
    found = AddressLists.build(LISTS)
    assert found.lists_of(packed(address)) == lists
    if lists:
        assert found.entry(lists[0], packed(address)) == entry


def test_no_addresses_is_false() -> None:
    assert not AddressLists.build({"x": []})
    assert AddressLists.build(LISTS)


networks = st.builds(lambda v, n, p: ipaddress.ip_network(f"{ipaddress.IPv4Address(v)}/{p}",
                                                           strict=False),
                     st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.integers(8, 32))


@given(st.dictionaries(st.sampled_from("abc"), st.lists(networks, max_size=6)),
       st.lists(st.integers(0, 2**32 - 1), max_size=20))
def test_lookup_matches_ipaddress(lists: dict[str, list[ipaddress.IPv4Network]],
                                  probes: list[int]) -> None:
    """The bisect over ranges says what a slow check with `ipaddress` says."""
    found = AddressLists.build({k: [str(n) for n in v] for k, v in lists.items()})
    probes += [int(n.network_address) for v in lists.values() for n in v]
    probes += [int(n.broadcast_address) + 1 for v in lists.values() for n in v]
    for value in probes:
        address = ipaddress.IPv4Address(value % 2**32)
        slow = tuple(sorted(k for k, v in lists.items() if any(address in n for n in v)))
        assert found.lists_of(address.packed) == slow


@pytest.fixture
def policy(tmp_path: Path) -> Iterator[Policy]:
    compile_batches([(["bet.example"], Tag("worse", "gambling"))], tmp_path / "l.compiled",
                    addresses=LISTS)
    view = CompiledList(tmp_path / "l.compiled")
    yield Policy((PUPILS, STAFF, LAB), PUPILS, RULES, view)
    view.close()


def test_address_block_by_group_and_kind(policy: Policy) -> None:
    d = policy.address_block(PUPILS, packed("10.1.2.3"))
    assert d is not None and d.blocked and d.list_id == "bad" and d.category == "malware"
    assert d.entry == "10.0.0.0/8" and "10.0.0.0/8" in d.reason
    # STAFF use only the allow list: deny address lists leave them alone, legal ones do not
    assert policy.address_block(STAFF, packed("10.1.2.3")) is None
    legal = policy.address_block(STAFF, packed("203.0.113.5"))
    assert legal is not None and legal.legal and legal.category == "csam"
    # an opened name: only legal lists still block
    assert policy.address_block(PUPILS, packed("10.1.2.3"), only_legal=True) is None
    assert policy.address_block(PUPILS, packed("203.0.113.5"), only_legal=True) is not None
    # an allow list's addresses never block, and exempt them from deny address lists
    assert policy.address_block(PUPILS, packed("198.51.100.9")) is None  # also in "worse"
    assert policy.address_block(PUPILS, packed("198.51.100.8")) is not None
    assert policy.address_block(LAB, packed("8.8.8.8")) is None


@pytest.mark.parametrize(("group", "host", "action", "list_id"), [
    # a deny address list blocks an IP-literal host even where ip_literals = "allow"
    (LAB, "45.33.32.156", "block", "bad"),
    (LAB, "[2a03:2880::5]", "block", "bad"),
    (LAB, "185.60.216.35", "block", "worse"),
    (LAB, "8.8.8.8", "pass", ""),
    (PUPILS, "45.33.32.156", "block", "bad"),
    (PUPILS, "8.8.8.8", "block", "ip-literal"),
    (STAFF, "93.184.216.34", "block", "legal"),
    (STAFF, "45.33.32.156", "pass", ""),
    (LAB, "192.0.2.7", "block", "private-address"),  # private ranges are refused first
])
def test_ip_literal_host_meets_the_address_lists(policy: Policy, group: Group, host: str,
                                                 action: str, list_id: str) -> None:
    d = policy.decide(group, host)
    assert (d.action, d.list_id) == (action, list_id), d.reason


def test_copies_keep_the_built_lookup(policy: Policy) -> None:
    assert policy.with_neighbours({}).address_lists is policy.address_lists
