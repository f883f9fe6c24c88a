"""The gate (decisions for connections and requests) and the page, without mitmproxy: a
confidential entry never shows, block headers are constant, tokens cannot be forged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from blocklists.compiled import CompiledList, Tag, compile_entries
from blocklists.confidential import ConfidentialSet, entry_expression, hash_entry
from filterd.proxy.blockpage import BlockInfo, Pages, category_names
from filterd.proxy.gate import Gate, canonical_names, incident, safe_search_param
from policy import Group, ListRule, Policy
from policy.ref import PolicyRef

PUPILS = Group("nxenesit", "Nxënësit", safe_search="moderate")
STAFF = Group("staf", "Stafi", safe_search="off")


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[Gate]:
    out = tmp_path / "active.lst"
    compile_entries([("bet365.com", Tag("bixhoz", "gambling"))], out,
                    urls=[("forum.example", "/tema/", Tag("urls", "violence"))])
    compiled = CompiledList(out)
    secret = ConfidentialSet([(hash_entry(entry_expression("forum.example/fshehur/")),
                               "hotline", "csam")])
    rules = {"bixhoz": ListRule("bixhoz", "deny", "gambling"),
             "urls": ListRule("urls", "deny", "violence"),
             "hotline": ListRule("hotline", "legal", "csam")}
    yield Gate(PolicyRef(Policy((PUPILS, STAFF), PUPILS, rules, compiled,
                                confidential=secret)))
    compiled.close()


def test_connection_outcomes(gate: Gate) -> None:
    assert gate.connection(PUPILS, ["dns.google"]).kind == "doh"
    assert gate.connection(PUPILS, ["www.bet365.com"]).kind == "block"
    assert gate.connection(PUPILS, ["forum.example"]).kind == "intercept"
    assert gate.connection(PUPILS, ["example.org"]).kind == "pass"
    # fronting: an allowed SNI with a blocked CONNECT target (or the other way) is blocked
    assert gate.connection(PUPILS, ["example.org", "bet365.com"]).kind == "block"


def test_requests_and_fronting(gate: Gate) -> None:
    assert gate.request(PUPILS, "https", "forum.example", "/tema/1").kind == "block"
    assert gate.request(PUPILS, "https", "FORUM.example.", "/%74ema/1").kind == "block"
    assert gate.request(PUPILS, "https", "forum.example", "/tjeter").kind == "pass"
    assert gate.request(PUPILS, "https", "forum.example", "/x", ["bet365.com"]).kind == \
        "block"
    assert gate.request(PUPILS, "http", "", "/").kind == "bad"
    assert gate.request(PUPILS, "http", "forum.example", "no-slash").kind == "bad"


def test_confidential_entries_never_show_and_incidents_carry_only_the_hash(
        gate: Gate, tmp_path: Path) -> None:
    out = gate.request(PUPILS, "https", "forum.example", "/fshehur/foto")
    assert out.kind == "block" and out.decision is not None and out.decision.confidential
    d = out.decision
    pages = Pages(b"k" * 32, "http://192.168.1.2", "Dhoma 12")
    html = pages.block(BlockInfo(PUPILS.id, out.host, d.category, d.list_id, True)).decode()
    assert "forum.example" not in html and "fshehur" not in html
    assert "Pornografi me të mitur" in html
    rec = incident(out, "10.0.0.5", PUPILS, "blocked")
    assert rec.name.startswith("sha256:") and "fshehur" not in rec.name + rec.reason


def test_block_headers_do_not_depend_on_what_blocked() -> None:
    from filterd.proxy.addon import RojaAddon
    pages = Pages(b"k" * 32, "")
    addon = RojaAddon.__new__(RojaAddon)
    addon.pages = pages
    from filterd.proxy.gate import Outcome
    from policy import Decision
    a = addon.block_response(Outcome("block", "a.example", Decision(
        "block", "r", "gambling", "bixhoz", "a.example")), PUPILS)
    b = addon.block_response(Outcome("block", "b.example", Decision(
        "block", "r", "csam", "hotline", "sha256:1", legal=True, confidential=True)), STAFF)
    assert a.status_code == b.status_code == 403
    assert [k for k in a.headers if k.lower() != "content-length"] == \
        [k for k in b.headers if k.lower() != "content-length"]
    assert {k: v for k, v in a.headers.items() if k.lower() != "content-length"} == \
        {k: v for k, v in b.headers.items() if k.lower() != "content-length"}


def test_tokens_are_signed_and_expire() -> None:
    pages = Pages(b"k" * 32, "http://x")
    info = BlockInfo("nxenesit", "bet365.com", "gambling", "bixhoz")
    token = pages.token(info, now=1000)
    assert pages.verify(token, now=1000 + 60) == info
    assert pages.verify(token, now=1000 + 2 * 86400) is None
    body, mac = token.split(".")
    assert pages.verify(body[:-2] + "xx." + mac, now=1000) is None
    assert Pages(b"j" * 32, "").verify(token, now=1000) is None


def test_safe_search_params_and_youtube(gate: Gate) -> None:
    assert safe_search_param(PUPILS, "www.google.com", "/search?q=a") == ("safe", "active")
    assert safe_search_param(PUPILS, "www.google.al", "/search") == ("safe", "active")
    assert safe_search_param(PUPILS, "www.bing.com", "/images/search") == ("adlt", "strict")
    assert safe_search_param(STAFF, "www.google.com", "/search") is None
    assert safe_search_param(PUPILS, "www.google.com", "/maps") is None
    assert gate.youtube_level(PUPILS, "www.youtube.com") == "Moderate"
    assert gate.youtube_level(STAFF, "www.youtube.com") is None
    assert gate.youtube_level(PUPILS, "example.org") is None


def test_category_names_albanian_first() -> None:
    assert category_names("gambling") == ("Bixhoz dhe lojëra fati", "Gambling")
    assert category_names("adult") == ("Pornografi", "Pornography")
    assert category_names("filter_bypass")[1].startswith("Filter bypass")


def test_bare_ipv6_addresses_are_read_like_bracketed_ones() -> None:
    # mitmproxy's original destination in transparent mode is a bare IPv6 address.
    assert canonical_names(["fd77:2::80", "[FD77:2::0:80]", "10.77.2.80"]) == [
        "[fd77:2::80]", "10.77.2.80"]
    assert canonical_names(["::ffff:10.77.2.80"]) == ["10.77.2.80"]
    assert canonical_names(["www.e2e.test:80"]) == ["www.e2e.test"]
    assert canonical_names(["fd77::2::80"]) is None  # not an address, not a name
