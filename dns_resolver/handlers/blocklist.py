"""Policy: asks `policy` whether the name may be resolved, and answers blocks itself.

An adapter: every rule (lists, legal layer, DoH endpoints, IP literals, the self-test's
reserved names) is the policy's; this handler only builds the reply for its `Decision`.

Before: the query name (canonical) is decided for the client's group; a block is answered with
the configured form (`[dns] block_answer = "nxdomain" | "null" | "blockpage"`, TTL
`block_ttl`), plus an Extended DNS Error (RFC 8914: 15 Blocked for legal lists, 17 Filtered
otherwise) when the client sent EDNS. After: the answer coming back is inspected; if any name in
its CNAME chain, or the target of an HTTPS/SVCB record, is blocked, the whole answer is blocked
(so a CNAME into a listed domain cannot leak it); so is an answer with an A/AAAA address, or an
HTTPS/SVCB `ipv4hint`/`ipv6hint` address, that a deny or legal address list names
(`policy.address_lists`, like RPZ `rpz-ip`; docs/threats.md says why a hint blocks the whole
answer rather than being stripped), checked only when some list names addresses. The
inspection sits here, above the shared cache, because the decision depends on the group.
Metric: result `blocked`, label = list id.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

from dnslib import QTYPE, DNSLabel
from dnslib.buffer import Buffer

from dns_resolver.messages import Answer, IncidentNote, Next, Query
from dns_resolver.upstream_reply import hint_addresses
from dns_resolver.wire import NXDOMAIN, Question, name_text, synth_reply
from policy import Decision, Group
from policy.ref import PolicySource

EDE_BLOCKED, EDE_FILTERED = 15, 17
ADDRESS = "address-blocked"  # the incident action of an answer blocked for its address


@dataclass(frozen=True)
class BlockAnswerSettings:
    mode: str = "nxdomain"            # nxdomain | null | blockpage
    ttl: int = 60
    blockpage_ipv4: str = ""
    blockpage_ipv6: str = ""


class BlocklistHandler:
    def __init__(self, policy: PolicySource, settings: BlockAnswerSettings) -> None:
        self.policy = policy
        self.settings = settings
        null = settings.mode == "null"
        v4 = "0.0.0.0" if null else settings.blockpage_ipv4
        v6 = "::" if null else settings.blockpage_ipv6
        self._v4 = ipaddress.IPv4Address(v4).packed if v4 else b""
        self._v6 = ipaddress.IPv6Address(v6).packed if v6 else b""

    def decide(self, q: Question, group: Group) -> Decision | None:
        # A query name is already canonical for matching (`wire.name_text`): lower-case, its
        # dots are its label boundaries, and a byte outside LDH is \DDD, so such a label never
        # equals a list entry's label while its parents still match.
        return self.policy.current.decide(group, q.name) if q.name else None

    def quick(self, q: Question, group: Group) -> Answer | None:
        """The synchronous part, also run by the fast path: the block answer, or None."""
        decision = self.decide(q, group)
        if decision is not None and decision.blocked:
            return self.block_answer(q, decision, "blocked")
        return None

    async def handle(self, q: Query, call_next: Next) -> Answer:
        policy = self.policy.current
        decision = self.decide(q.question, q.group)
        if decision is not None and decision.blocked:
            return self.block_answer(q.question, decision, "blocked")
        answer = await call_next(q)
        if answer.kind in ("upstream", "cached", "stale", "safesearch"):
            only_legal = decision is not None and decision.action == "allow"
            for name in _names_in(answer):
                if name == q.name:  # decided above: not blocked
                    continue
                hit = policy.decide(q.group, name)
                if hit.blocked and (hit.legal or not only_legal):
                    return self.block_answer(q.question, hit, "cname-blocked")
            if policy.address_lists:
                for packed in _addresses_in(answer):
                    found = policy.address_block(q.group, packed, only_legal=only_legal)
                    if found is not None:
                        return self.block_answer(q.question, found, "address-blocked")
        return answer

    def block_answer(self, q: Question, d: Decision, action: str) -> Answer:
        """The configured block reply, built by hand (the same bytes on the fast path)."""
        s = self.settings
        ede = _ede(d.legal, d.category)
        rcode, rtype, rdata = 0, 0, b""
        if s.mode == "nxdomain":
            rcode = NXDOMAIN
        elif q.qtype == QTYPE.A and self._v4:
            rtype, rdata = QTYPE.A, self._v4
        elif q.qtype == QTYPE.AAAA and self._v6:
            rtype, rdata = QTYPE.AAAA, self._v6
        # A confidential entry is known only by its hash: the SOA owner is the query name
        # and the incident records the hash id, so its text is never written or shown.
        owner = q.name if d.confidential or not d.entry or action == ADDRESS else d.entry
        wire = synth_reply(q, rcode, s.ttl, rtype=rtype, rdata=rdata,
                           soa_owner=None if rdata else owner, ede=ede)
        reason = d.reason if action == "blocked" else \
            f"{'answer address' if action == ADDRESS else 'CNAME/HTTPS target'}: {d.reason}"
        # The self-test's reserved names are checks, not pupils: no incident, no report line.
        note = None if d.selftest else IncidentNote(
            d.entry if d.confidential else q.name, d.category, d.list_id, action, reason)
        # Positional: this runs for every blocked query (keywords cost a third more here).
        return Answer("blocked", reason, rcode, (), (), (), d.list_id, ede, s.ttl, True, 0,
                      note, wire)


@functools.lru_cache(maxsize=1024)
def _ede(legal: bool, category: str) -> tuple[int, str]:
    """The Extended DNS Error of a block (RFC 8914): 15 Blocked for a legal list, 17 Filtered
    otherwise, with the category; one tuple per category, not one per query."""
    return (EDE_BLOCKED if legal else EDE_FILTERED, f"Roja: {category}")


def _names_in(answer: Answer) -> list[str]:
    """Owner names, CNAME/DNAME targets and HTTPS/SVCB targets in the answer section, each
    once, in the canonical text of the question's name (`wire.name_text`, made from the label
    bytes): a target spelled with odd bytes is decided on its real labels, suffixes included."""
    found: list[str] = []
    if answer.raw is not None:  # found on the bytes (owner names pointing at the question
        found += answer.raw.reply.names  # left out: that name was decided before)
    for rr in answer.answer:
        found.append(_text(rr.rname))
        if rr.rtype in (QTYPE.CNAME, QTYPE.DNAME):
            found.append(_text(rr.rdata.label))
        elif rr.rtype == QTYPE.HTTPS:
            found.append(name_text([bytes(x) for x in rr.rdata.target]))
        elif rr.rtype == QTYPE.SVCB:
            found.append(_svcb_target(bytes(rr.rdata.data)))
    out: list[str] = []
    for host in found:
        if host and host not in out:
            out.append(host)
    return out


def _addresses_in(answer: Answer) -> tuple[bytes, ...]:
    """The address bytes of the answer section's A and AAAA records and HTTPS/SVCB hints."""
    if answer.raw is not None:
        return answer.raw.reply.addresses
    out: list[bytes] = []
    for rr in answer.answer:
        if rr.rtype in (QTYPE.A, QTYPE.AAAA):
            out.append(bytes(rr.rdata.data))
        elif rr.rtype in (QTYPE.HTTPS, QTYPE.SVCB):
            packed = Buffer()
            rr.rdata.pack(packed)
            out.extend(hint_addresses(bytes(packed.data)))
    return tuple(out)


def _text(label: DNSLabel) -> str:
    return name_text([bytes(x) for x in label.label])


def _svcb_target(rdata: bytes) -> str:
    labels, pos = [], 2
    while pos < len(rdata) and rdata[pos]:
        n = rdata[pos]
        labels.append(rdata[pos + 1:pos + 1 + n])
        pos += 1 + n
    return name_text(labels)


def parse_block_address(text: str, version: int) -> str:
    if not text:
        return ""
    addr = ipaddress.ip_address(text)
    if addr.version != version:
        raise ValueError(f"not an IPv{version} address")
    return str(addr)
