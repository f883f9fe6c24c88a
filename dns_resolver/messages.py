"""What flows through the handler chain: the `Query` (never mutated) and the `Answer` (why, and
the records to send). Rendering an `Answer` to wire bytes happens once, in `render`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from dnslib import (
    EDNS0,
    QTYPE,
    RR,
    DNSHeader,
    DNSLabel,
    DNSQuestion,
    DNSRecord,
    EDNSOption,
)

from dns_resolver.upstream_reply import Forwarded, Sections
from dns_resolver.upstream_reply import render as render_forwarded
from dns_resolver.wire import EDNS_SIZE, Question, question_wire
from policy import Group


class IncidentNote(NamedTuple):
    """What the server tells the incident writer about a block (the client is added later)."""

    name: str
    category: str
    list_id: str
    action: str
    reason: str


class Query(NamedTuple):
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
        q = self.question._replace(name=name, wire=question_wire(name, self.question.qtype,
                                                                   self.question.qclass))
        return self._replace(question=q)


class Answer(NamedTuple):
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
    fixed_records: int = 0           # the first N answer records are synthetic (safe-search
                                     # CNAME): their TTL stays, the rest age when reused
    incident: IncidentNote | None = None
    wire: bytes | None = None         # already rendered for this very query (hand-built)
    raw: Forwarded | None = None      # an upstream reply passed on as it came (its records
                                      # are not in answer/authority/additional: see sections)

    def sections(self) -> Sections:
        """The records, as dnslib objects, wherever the answer keeps them."""
        if self.raw is not None:
            return self.raw.reply.records(self.raw.age, self.raw.floor)
        return Sections(self.answer, self.authority, self.additional)


Next = Callable[[Query], Awaitable[Answer]]


def render(q: Question, a: Answer) -> bytes:
    """Pack `a` as the reply to `q`, echoing the client's question bytes exactly."""
    if a.wire is not None:
        return a.wire
    if a.raw is not None:
        forwarded = render_forwarded(q, a.raw.reply, a.raw.age, a.raw.floor, a.ede)
        if forwarded is not None:
            return forwarded
        answer, authority, additional = a.sections()
        a = a._replace(raw=None, answer=answer, authority=authority, additional=additional)
    header = DNSHeader(id=q.id, qr=1, aa=0, ra=1, rd=int(q.rd), rcode=a.rcode & 0xF)
    header.cd = (q.flags >> 4) & 1
    # Packed lower-case so that name compression (dnslib compares labels case-sensitively) does
    # not depend on the client's 0x20 case: records pointing into the question then follow the
    # client's spelling the same way here and in a reply the answer cache patches for another.
    record = DNSRecord(header, q=DNSQuestion(_labels(q.wire.lower()), q.qtype, q.qclass))
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
