"""The fast path (hand parser + answer cache of wire bytes) answers exactly as the dnslib path.

Two in-process resolvers share one policy, one clock and one real upstream (NSD serving
tests/peers/zones.py); one has `fast_path=True`, the other `fast_path=False` (dnslib parses
every query and the whole handler chain runs every time). Hypothesis sends them the same
sequences of packets, each packet three times: as drawn; with a fresh ID and letter case (the
fast resolver answers from its answer cache); byte for byte again but the ID (its packet memo).
The clock moves on in whole seconds between queries. Every reply must be byte for byte the
same, or both must be silent.
"""

from __future__ import annotations

import asyncio
import ipaddress
import struct
from collections.abc import Callable

import pytest
from dnslib import QTYPE, DNSRecord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blocklists.compiled import CompiledList, Tag, compile_entries
from dns_resolver.answer_cache import AnswerCache
from dns_resolver.chain import build_chain
from dns_resolver.config import DnsSettings
from dns_resolver.engine import Resolver
from dns_resolver.handlers.upstream import UpstreamSettings
from dns_resolver.metrics import DnsStats
from policy import Group, ListRule, Policy
from policy.ref import PolicyRef

BLOCKED = ("blocked.test", "bet365.com", "porn.example")
CANARIES = ("use-application-dns.net", "mask.icloud.com", "mask-h2.icloud.com",
            "mask-canary.icloud.com", "resolver.arpa", "_dns.resolver.arpa")
SAFE_SEARCH = ("www.google.com", "www.google.al", "google.co.uk", "www.youtube.com",
               "m.youtube.com", "www.bing.com", "duckduckgo.com", "www.ecosia.org")
ZONE_NAMES = ("www.allowed.test", "chain.allowed.test", "okchain.allowed.test",
              "svc.allowed.test", "goodsvc.allowed.test", "big.allowed.test",
              "short.allowed.test", "mail.allowed.test", "nothere.allowed.test",
              "allowed.test", "ok.bet365.com", "csam.example", "forcesafesearch.google.com")
CLIENTS = ("127.0.0.1", "10.1.0.5", "10.2.0.7", "203.0.113.9")  # pupils, strict, staff, outside
QTYPES = (1, 28, 16, 15, 65, 64, 5, 6, 2, 255, 12)


@pytest.fixture(scope="module")
def policy_ref(tmp_path_factory: pytest.TempPathFactory) -> PolicyRef:
    path = tmp_path_factory.mktemp("lists") / "compiled.bin"
    deny, allow, legal = Tag("deny", "gambling"), Tag("allow", ""), Tag("legal", "csam")
    compile_entries([("blocked.test", deny), ("bet365.com", deny), ("porn.example", deny),
                     ("ok.bet365.com", allow), ("csam.example", legal)], path)
    rules = {"deny": ListRule("deny", "deny", "gambling"),
             "allow": ListRule("allow", "allow", ""),
             "legal": ListRule("legal", "legal", "csam")}
    strict = Group("strict", "Strict", (ipaddress.ip_network("10.1.0.0/16"),),
                   safe_search="strict")
    staff = Group("staff", "Staff", (ipaddress.ip_network("10.2.0.0/16"),),
                  lists=frozenset({"allow"}), safe_search="off")
    return PolicyRef(Policy((strict, staff), Group("pupils", "Pupils"), rules,
                            CompiledList(path)))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def build(policy: PolicyRef, upstream: tuple[str, int], clock: Callable[[], float],
          fast: bool) -> Resolver:
    cfg = DnsSettings(upstream=UpstreamSettings((upstream,), timeout=1.0, deadline=1.8),
                      rate_limit_qps=0)
    stats = DnsStats()
    chain = build_chain(cfg, policy, stats)
    # Wired as filterd.app wires it; the dnslib resolver runs the whole chain every time.
    return Resolver(admission=chain.admission, chain=chain.entry, policy=policy,
                    answers=AnswerCache(1000), stats=stats, clock=clock, fast_path=fast,
                    quick=chain.quick if fast else ())


def encode(name: str, qtype: int, qid: int, flags: int, edns: tuple[int, bool] | None) -> bytes:
    labels = [label.encode() for label in name.split(".") if label]
    question = b"".join(bytes([len(x)]) + x for x in labels) + b"\x00"
    question += struct.pack(">HH", qtype, 1)
    head = struct.pack(">HHHHHH", qid, flags, 1, 0, 0, 1 if edns else 0)
    opt = b""
    if edns:
        opt = b"\x00" + struct.pack(">HHIH", 41, edns[0], 0x8000 if edns[1] else 0, 0)
    return head + question + opt


label = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
random_name = st.builds(lambda ls, tail: ".".join([*ls, tail]).strip("."),
                        st.lists(label, min_size=1, max_size=3),
                        st.sampled_from(["", "allowed.test", "blocked.test", "bet365.com",
                                         "example", "resolver.arpa", "google.com"]))
names = st.one_of(
    st.sampled_from(BLOCKED + CANARIES + SAFE_SEARCH + ZONE_NAMES),
    st.builds(lambda sub, base: f"{sub}.{base}", label, st.sampled_from(BLOCKED)),
    random_name,
)


@st.composite
def mixed_case(draw: st.DrawFn, name: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    return "".join(c.upper() if f else c for c, f in zip(name, flips, strict=True))


@st.composite
def query_specs(draw: st.DrawFn) -> tuple[str, int, int, tuple[int, bool] | None, str, str, int]:
    name = draw(names)
    qtype = draw(st.sampled_from(QTYPES) | st.integers(0, 0xFFFF))
    # RD and CD as a client might set them; AD sometimes (dig sets it).
    flags = draw(st.sampled_from([0x0100, 0x0000, 0x0120, 0x0110, 0x0130]))
    edns = draw(st.sampled_from([None, (1232, False), (1232, True), (512, False), (4096, True)]))
    client = draw(st.sampled_from(CLIENTS))
    transport = draw(st.sampled_from(["udp", "udp", "tcp"]))
    advance = draw(st.sampled_from([0, 0, 0, 1, 3, 6, 59, 61, 299, 301]))
    return name, qtype, flags, edns, client, transport, advance


async def run_sequence(policy: PolicyRef, upstream: tuple[str, int],
                       sends: list[tuple[bytes, str, str, int]]) -> None:
    clock = Clock()
    fast = build(policy, upstream, clock, True)
    slow = build(policy, upstream, clock, False)
    for data, client, transport, advance in sends:
        clock.now += advance
        got_fast = await fast.reply(data, client, transport)
        got_slow = await slow.reply(data, client, transport)
        if got_fast != got_slow:
            pytest.fail(f"fast and dnslib paths differ for {data.hex()} from {client} "
                        f"over {transport}:\nfast:\n{_show(got_fast)}\ndnslib:\n{_show(got_slow)}")
    assert fast.stats.handler_errors == slow.stats.handler_errors == 0


def _show(wire: bytes | None) -> str:
    return "(no reply)" if wire is None else str(DNSRecord.parse(wire))


@settings(max_examples=150, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.data())
def test_fast_path_and_dnslib_path_give_identical_bytes(policy_ref, upstream_dns, data) -> None:
    sends: list[tuple[bytes, str, str, int]] = []
    for _ in range(data.draw(st.integers(1, 6), label="queries")):
        name, qtype, flags, edns, client, transport, advance = data.draw(query_specs())
        for repeat in range(2):   # the second time from the fast resolver's answer cache
            spelled = data.draw(mixed_case(name))
            qid = data.draw(st.integers(0, 0xFFFF))
            sends.append((encode(spelled, qtype, qid, flags, edns), client, transport,
                          advance if repeat == 0 else data.draw(st.sampled_from([0, 1, 2]))))
        # The same bytes again but the ID: the fast resolver's packet memo.
        packet = sends[-1][0]
        sends.append((data.draw(st.binary(min_size=2, max_size=2)) + packet[2:], client,
                      transport, data.draw(st.sampled_from([0, 1]))))
    asyncio.run(run_sequence(policy_ref, upstream_dns.address, sends))


@pytest.mark.parametrize("name", ["www.google.com", "short.allowed.test", "bet365.com",
                                  "nothere.allowed.test", "chain.allowed.test",
                                  "mask.icloud.com"])
async def test_cached_replies_age_alike(policy_ref, upstream_dns, name: str) -> None:
    """TTLs seen by a client go down the same way from the answer cache and the record cache."""
    clock = Clock()
    fast = build(policy_ref, upstream_dns.address, clock, True)
    slow = build(policy_ref, upstream_dns.address, clock, False)
    for step, advance in enumerate([0, 1, 2, 2, 30, 40]):
        clock.now += advance
        data = encode(name, 1, step, 0x0100, (1232, False))
        assert await fast.reply(data, "127.0.0.1", "udp") == \
            await slow.reply(data, "127.0.0.1", "udp"), (name, step)
    if name != "bet365.com":     # blocks are rebuilt by hand each time, not cached
        assert fast.stats.cache_hits["answer"] >= 1


async def test_malformed_packets_get_the_same_ladder_answer(policy_ref, upstream_dns) -> None:
    clock = Clock()
    fast = build(policy_ref, upstream_dns.address, clock, True)
    slow = build(policy_ref, upstream_dns.address, clock, False)
    good = encode("www.allowed.test", 1, 7, 0x0100, (1232, True))
    packets = [b"", good[:11], good[:12], good[:20], good[:-1],
               good[:2] + b"\x81\x00" + good[4:],               # QR=1
               good[:2] + b"\x21\x00" + good[4:],               # opcode 4 (NOTIFY)
               good[:4] + b"\x00\x02" + good[6:],               # qdcount 2
               good[:-9] + b"\x01" + good[-8:],                 # EDNS version 1
               good[:12] + b"\xc0\x0c" + good[-15:]]            # pointer loop in the question
    for p in packets:
        assert await fast.reply(p, "127.0.0.1", "udp") == await slow.reply(p, "127.0.0.1", "udp")


def test_policy_fixture_is_wired(policy_ref: PolicyRef) -> None:
    p = policy_ref.current
    assert p.decide(p.default_group, "www.bet365.com").blocked
    assert not p.decide(p.group_for("10.2.0.7"), "www.bet365.com").blocked
    assert p.decide(p.group_for("10.2.0.7"), "csam.example").blocked


async def test_safe_search_cname_keeps_its_ttl_while_the_target_ages(policy_ref,
                                                                      upstream_dns) -> None:
    clock = Clock()
    fast = build(policy_ref, upstream_dns.address, clock, True)
    seen = []
    for advance in (0, 30, 100):
        clock.now += advance
        reply = await fast.reply(encode("www.google.com", 1, 1, 0x0100, None), "127.0.0.1",
                                 "udp")
        assert reply is not None
        seen.append([(QTYPE[rr.rtype], rr.ttl) for rr in DNSRecord.parse(reply).rr])
    assert seen == [[("CNAME", 300), ("A", 300)], [("CNAME", 300), ("A", 270)],
                    [("CNAME", 300), ("A", 170)]]
