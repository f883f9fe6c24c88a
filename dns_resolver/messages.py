"""What flows through the handler chain: the `Query` (never mutated) and the `Answer` (why, and
the records to send). Rendering an `Answer` to wire bytes happens once, in `render`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from dnslib import (
    EDNS0,
    QTYPE,
    RR,
    DNSBuffer,
    DNSHeader,
    DNSLabel,
    DNSQuestion,
    DNSRecord,
    EDNSOption,
)

from dns_resolver.wire import EDNS_SIZE, Question
from policy import Group


@dataclass(frozen=True, slots=True)
class IncidentNote:
    """What the server tells the incident writer about a block (the client is added later)."""

    name: str
    category: str
    list_id: str
    action: str
    reason: str


@dataclass(frozen=True, slots=True)
class Query:
    question: Question
    client: str
    group: Group
    transport: str
    now: float

    @property
    def name(self) -> str:
        return self.question.name

    @property
    def qtype(self) -> int:
        return self.question.qtype

    def for_name(self, name: str) -> Query:
        """The same query for another name (safe-search targets); the original stays as it is."""
        wire = DNSBuffer()
        DNSQuestion(name, self.question.qtype, self.question.qclass).pack(wire)
        q = replace(self.question, name=name, wire=bytes(wire.data))
        return replace(self, question=q)


@dataclass(frozen=True, slots=True)
class Answer:
    """The outcome of a query. `kind` and `label` are small bounded values for metrics."""

    kind: str
    reason: str
    rcode: int = 0
    answer: tuple[Any, ...] = ()
    authority: tuple[Any, ...] = ()
    additional: tuple[Any, ...] = ()
    label: str = ""
    ede: tuple[int, str] | None = None
    cache_ttl: int | None = None     # seconds the rendered answer may be reused; None: never
    fixed_ttl: bool = False          # synthetic answer: TTLs stay as they are when reused
    incident: IncidentNote | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Next = Callable[[Query], Awaitable[Answer]]


def render(q: Question, a: Answer) -> bytes:
    """Pack `a` as the reply to `q`, echoing the client's question bytes exactly."""
    header = DNSHeader(id=q.id, qr=1, aa=0, ra=1, rd=int(q.rd), rcode=a.rcode & 0xF)
    header.cd = (q.flags >> 4) & 1
    record = DNSRecord(header, q=DNSQuestion(_labels(q.wire), q.qtype, q.qclass))
    for rr in a.answer:
        record.add_answer(rr)
    for rr in a.authority:
        record.add_auth(rr)
    for rr in a.additional:
        if rr.rtype != QTYPE.OPT:
            record.add_ar(rr)
    if q.edns is not None:
        opts = []
        if a.ede is not None:
            code, text = a.ede
            opts.append(EDNSOption(15, code.to_bytes(2, "big") + text.encode()))
        record.add_ar(EDNS0(udp_len=EDNS_SIZE, flags="do" if q.edns.do else "",
                            ext_rcode=a.rcode >> 4, opts=opts))
    wire = bytearray(record.pack())
    wire[12:12 + len(q.wire)] = q.wire
    return bytes(wire)


def _labels(qwire: bytes) -> DNSLabel:
    labels, pos = [], 0
    while qwire[pos]:
        n = qwire[pos]
        labels.append(bytes(qwire[pos + 1:pos + 1 + n]))
        pos += 1 + n
    return DNSLabel(labels)


__all__ = ["RR", "Answer", "IncidentNote", "Next", "Query", "render"]
