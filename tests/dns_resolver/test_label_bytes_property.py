"""Property: for any label bytes, the name the policy decides on and the question the upstream
is asked are the same name (issue 18, part A). A whole resolver (fast path and dnslib path)
runs against a recording upstream on loopback; the policy is a real one, watched."""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blocklists.compiled import CompiledList, Tag, compile_entries
from dns_resolver.answer_cache import AnswerCache
from dns_resolver.chain import build_chain
from dns_resolver.config import DnsSettings
from dns_resolver.engine import Resolver
from dns_resolver.handlers.upstream import UpstreamSettings
from dns_resolver.metrics import DnsStats
from dns_resolver.wire import name_labels, name_text, question_labels
from policy import Decision, Group, ListRule, Policy
from policy.ref import PolicyRef


class WatchedPolicy(Policy):
    """The real policy, remembering every host it was asked to decide."""

    asked: list[str]

    def decide(self, group: Group, host: str, now: object = None) -> Decision:
        self.asked.append(host)
        return super().decide(group, host)


class Recorder(asyncio.DatagramProtocol):
    """An upstream that remembers each question's label bytes and answers REFUSED."""

    def __init__(self) -> None:
        self.questions: list[list[bytes]] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        labels = question_labels(data)
        assert labels is not None
        self.questions.append(labels)
        qend = 12 + sum(len(x) + 1 for x in labels) + 5
        head = struct.pack(">HHHHHH", struct.unpack_from(">H", data)[0], 0x8105, 1, 0, 0, 0)
        assert self.transport is not None
        self.transport.sendto(head + data[12:qend], addr)


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> WatchedPolicy:
    path: Path = tmp_path_factory.mktemp("lists") / "compiled.bin"
    compile_entries([("blocked.test", Tag("deny", "gambling"))], path)
    watched = WatchedPolicy((), Group("pupils", "Pupils"),
                            {"deny": ListRule("deny", "deny", "gambling")}, CompiledList(path))
    watched.asked = []
    return watched


async def ask(policy: WatchedPolicy, packet: bytes, fast: bool) -> tuple[list[str],
                                                                         list[list[bytes]]]:
    loop = asyncio.get_running_loop()
    transport, recorder = await loop.create_datagram_endpoint(Recorder,
                                                              local_addr=("127.0.0.1", 0))
    try:
        upstream = transport.get_extra_info("sockname")
        cfg = DnsSettings(upstream=UpstreamSettings((upstream,), timeout=1.0, deadline=1.5),
                          rate_limit_qps=0, canaries=False)
        stats = DnsStats()
        chain = build_chain(cfg, PolicyRef(policy), stats)
        resolver = Resolver(admission=chain.admission, chain=chain.entry,
                            policy=PolicyRef(policy), answers=AnswerCache(10), stats=stats,
                            fast_path=fast, quick=chain.quick if fast else ())
        policy.asked = []
        reply = await resolver.reply(packet, "127.0.0.1", "udp")
        assert reply is not None and reply[12:len(packet)] == packet[12:]
        return list(policy.asked), recorder.questions
    finally:
        transport.close()


# Bytes that a pupil would use: escapes, dots, case, spaces, high bytes; plus any byte at all.
tricky = st.sampled_from([b"\\", b".", b"0", b"9", b"8", b"b", b"B", b"-", b" ", b"\xc3",
                          b"\x00", b"*", b"_"])
label_bytes = st.one_of(
    st.lists(tricky, min_size=1, max_size=8).map(b"".join),
    st.binary(min_size=1, max_size=63),
    st.sampled_from([b"blocked", b"BLOCKED", b"\\098locked", b"test", b"www"]),
)
names = st.lists(label_bytes, min_size=1, max_size=5).filter(
    lambda ls: sum(len(x) + 1 for x in ls) < 255)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(labels=names, fast=st.booleans(), qtype=st.sampled_from([1, 28, 16, 65]))
def test_policy_name_is_the_upstream_question(policy: WatchedPolicy, labels: list[bytes],
                                              fast: bool, qtype: int) -> None:
    wire = b"".join(bytes([len(x)]) + x for x in labels) + b"\0"
    packet = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + wire + struct.pack(">HH",
                                                                                     qtype, 1)
    asked, questions = asyncio.run(ask(policy, packet, fast))
    lowered = [x.lower() for x in labels]
    assert asked, "the policy was not asked"
    decided = asked[0]
    assert name_labels(decided) == lowered      # the policy's name is the client's name
    assert decided == name_text(labels)
    blocked = decided == "blocked.test" or decided.endswith(".blocked.test")
    if blocked:
        assert questions == []                  # a blocked name never goes upstream
    else:
        assert questions, "the upstream was not asked"
        for question in questions:              # the client's bytes, 0x20 case and all
            assert question == labels


@pytest.mark.parametrize("labels,text", [
    ([b"www", b"\\098locked", b"test"], "www.\\092098locked.test"),
    ([b"a.b", b"Example"], "a\\046b.example"),
    ([b"A B", b"\xc3\xab"], "a\\032b.\\195\\171"),
    ([b"*", b"_dns", b"x-y"], "*._dns.x-y"),
    ([], ""),
])
def test_name_text_examples(labels: list[bytes], text: str) -> None:
    assert name_text(labels) == text
    assert name_labels(text) == [x.lower() for x in labels]


@pytest.mark.parametrize("text", ["a..b", "\\", "a\\09", "\\256x", "ë.al", ".a"])
def test_name_labels_refuses_text_name_text_never_writes(text: str) -> None:
    with pytest.raises(ValueError):
        name_labels(text)
