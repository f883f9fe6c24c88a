"""Allow lists' addresses and adblock `@@` address exceptions exempt those addresses from deny
address lists (at the DNS answer check, the proxy and IP-literal hosts), never from legal ones."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest

from blocklists.compiled import CompiledList
from blocklists.formats.common import ReadReport
from blocklists.readers import read_entries
from blocklists.store import ListSource, compile_sources
from policy import Group, ListRule, Policy

RULES = {"bad": ListRule("bad", "deny", "malware"), "hot": ListRule("hot", "legal", "csam"),
         "ok": ListRule("ok", "allow", ""), "ads": ListRule("ads", "deny", "ads_trackers")}
PUPILS = Group("nx", "Nxënësit", (ipaddress.ip_network("10.0.0.0/16"),))
STAFF = Group("st", "Stafi", (ipaddress.ip_network("10.1.0.0/16"),),
              lists=frozenset({"bad", "ads"}))  # the allow list "ok" does not apply
LAB = Group("lab", "Laboratori", (ipaddress.ip_network("10.2.0.0/16"),), ip_literals="allow")
ADS = ("||185.60.216.0/24^\n@@||185.60.216.7^\n@@*$ipaddress=185.60.216.8\n"
       "@@185.60.216.10\n||bet.example^\n")


@pytest.fixture
def policy(tmp_path: Path) -> Iterator[Policy]:
    (tmp_path / "bad.txt").write_text("45.0.0.0/8\n203.0.113.0/24\n")
    (tmp_path / "hot.txt").write_text("203.0.113.5\n45.9.9.9\n")
    (tmp_path / "ok.txt").write_text("school.example\n45.1.2.3\n203.0.113.5\n45.9.9.9\n"
                                     "185.60.216.9\n")
    (tmp_path / "ads.txt").write_text(ADS)
    out = tmp_path / "lists.compiled"
    compile_sources([ListSource("bad", tmp_path / "bad.txt", "addresses", "malware"),
                     ListSource("hot", tmp_path / "hot.txt", "addresses", "csam"),
                     ListSource("ok", tmp_path / "ok.txt", "domains", ""),
                     ListSource("ads", tmp_path / "ads.txt", "adblock", "ads_trackers")],
                    out, "fp")
    compiled = CompiledList(out)
    yield Policy((PUPILS, STAFF, LAB), PUPILS, RULES, compiled)
    compiled.close()


def blocked_by(policy: Policy, group: Group, address: str) -> str:
    d = policy.address_block(group, ipaddress.ip_address(address).packed)
    return "" if d is None else d.list_id


@pytest.mark.parametrize(("group", "address", "list_id"), [
    (PUPILS, "45.1.2.3", ""),             # the allow list "ok" names it
    (PUPILS, "45.1.2.4", "bad"),
    (PUPILS, "203.0.113.5", "hot"),       # legal wins over any allow list
    (PUPILS, "203.0.113.6", "bad"),
    (PUPILS, "185.60.216.7", ""),         # `@@||185.60.216.7^` in the deny list itself
    (PUPILS, "185.60.216.8", ""),         # `@@*$ipaddress=185.60.216.8`
    (PUPILS, "185.60.216.10", ""),        # `@@185.60.216.10`
    (PUPILS, "185.60.216.9", ""),         # the allow list "ok"
    (PUPILS, "185.60.216.11", "ads"),
    (STAFF, "45.1.2.3", "bad"),           # "ok" does not apply to staff
    (STAFF, "185.60.216.7", ""),          # "ads" (and its @@) does
])
def test_allow_addresses_exempt_from_deny_address_lists(policy: Policy, group: Group,
                                                        address: str, list_id: str) -> None:
    assert blocked_by(policy, group, address) == list_id


@pytest.mark.parametrize(("group", "host", "action", "list_id"), [
    (PUPILS, "45.1.2.3", "allow", "ok"),  # an allowed address is open even to ip_literals block
    (LAB, "45.1.2.3", "allow", "ok"),
    (LAB, "185.60.216.7", "allow", "ads@allow"),
    (LAB, "185.60.216.11", "block", "ads"),
    (LAB, "45.9.9.9", "block", "hot"),
    (PUPILS, "45.1.2.4", "block", "bad"),
])
def test_ip_literal_hosts(policy: Policy, group: Group, host: str, action: str,
                          list_id: str) -> None:
    d = policy.decide(group, host)
    assert (d.action, d.list_id) == (action, list_id), d.reason


def test_reader_keeps_address_exceptions(tmp_path: Path) -> None:
    (tmp_path / "ads.txt").write_text(ADS)
    report = ReadReport("ads")
    names = [e.host for e in read_entries(tmp_path / "ads.txt", "adblock", report)]
    assert names == ["bet.example"]
    assert report.addresses == ["185.60.216.0/24"]
    assert report.allow_addresses == ["185.60.216.7", "185.60.216.8", "185.60.216.10"]
    assert "exception-address" not in report.unsupported
