"""From bytes in to bytes out: the one ladder for bad packets, the fast path, the chain.

Ladder (ARCHITECTURE style rule 7): too short or QR=1 → dropped; unreadable question →
FORMERR; opcode other than QUERY → NOTIMP; EDNS version > 0 → BADVERS; admission (ACL, rate
limit) → REFUSED; an exception inside a handler → SERVFAIL, a counter and a rate-limited log
line. Nothing a client sends can raise out of `reply_fast`/`reply_slow`.

Fast path, all synchronous, in `reply_fast`:
1. a packet seen before (same bytes but the ID, same group) is answered from the packet memo;
2. else the question is parsed by hand and looked up in the answer cache (per group and
   lower-case name, so 0x20 case variants share it);
3. else the handlers' synchronous fronts run in chain order (canaries, policy): a block is
   built by hand from the question bytes, no dnslib involved;
4. anything else becomes `Pending` and goes through the async chain once (`reply_slow`); its
   rendered reply is stored in the answer cache for the next client of the same group.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dns_resolver.answer_cache import AnswerCache, Entry, edns_form, reply_from, reply_from_packet
from dns_resolver.handlers.base import Admission, QuickStage
from dns_resolver.messages import Answer, IncidentNote, Next, Query, render
from dns_resolver.metrics import DnsStats
from dns_resolver.wire import (
    FORMERR,
    NOTIMP,
    SERVFAIL,
    Question,
    Verdict,
    badvers_reply,
    header_reply,
    parse_fast,
    parse_slow,
    truncated,
)
from policy import Group
from policy.ref import PolicySource
from reporting.incidents import Incident, IncidentSink

log = logging.getLogger("roja.dns")


@dataclass(frozen=True, slots=True)
class Pending:
    """A query the fast path could not answer; `reply_slow` finishes it."""

    question: Question
    client: str
    group: Group
    transport: str
    started: float


class Resolver:
    def __init__(self, *, admission: Sequence[Admission], chain: Next, policy: PolicySource,
                 answers: AnswerCache, stats: DnsStats, incidents: IncidentSink | None = None,
                 quick: Sequence[QuickStage] = (), clock: Callable[[], float] = time.monotonic,
                 fast_path: bool = True, memo_size: int = 50_000) -> None:
        self.admission = tuple(admission)
        self.quick = tuple(quick)
        self.memo: dict[tuple[str, bytes], Entry] = {}
        self.memo_size = memo_size
        self.chain = chain
        self.policy = policy
        self.answers = answers
        self.stats = stats
        self.incidents = incidents
        self.clock = clock
        self.fast_path = fast_path
        self._groups: dict[str, Group] = {}
        self._last_error_log = 0.0

    def policy_changed(self) -> None:
        """Call after replacing the policy: cached decisions and group lookups are dropped."""
        self._groups.clear()
        self.answers.clear()
        self.memo.clear()

    def reply_fast(self, data: bytes, client: str, transport: str) -> bytes | Pending | None:
        started = time.perf_counter()
        now = self.clock()
        group = self._groups.get(client)
        if group is None:
            group = self._group_of(client)
        if self.fast_path and len(data) > 12 and group is not None:
            memo_key = (group.id, data[2:])
            hit = self.memo.get(memo_key)
            if hit is not None and now < hit.expires:
                for check in self.admission:
                    if check.admit(client, now) is not None:
                        break
                else:
                    # Only replies that fit the packet's own UDP size are memoised, so no
                    # truncation check is needed here.
                    wire = reply_from_packet(hit, data, now)
                    self.stats.cache_hits["answer"] += 1
                    self.stats.result(hit.kind, time.perf_counter() - started)
                    return wire
        parsed = parse_fast(data) if self.fast_path else Verdict.SLOW
        if parsed is Verdict.SLOW:
            parsed = parse_slow(data)
        if not isinstance(parsed, Question):
            return self._refuse_packet(data, parsed, started)
        q = parsed
        for check in self.admission:
            refusal = check.admit(client, now)
            if refusal is not None:
                return self._finish(q, refusal, client, None, transport, started, now)
        if group is None:
            group = self.policy.current.default_group
        if self.fast_path:
            entry = self.answers.get((group.id, q.name, q.qtype, q.qclass, edns_form(q)), now)
            if entry is not None:
                wire = reply_from(entry, q, now)
                fits = len(wire) <= q.max_udp()
                if entry.incident is None and fits:
                    if len(self.memo) >= self.memo_size:
                        self.memo.clear()  # cheaper than LRU bookkeeping on every hit
                    self.memo[(group.id, data[2:])] = entry
                if transport == "udp" and not fits:
                    wire = truncated(q, wire)
                self.stats.cache_hits["answer"] += 1
                if entry.incident is not None:
                    self._incident(entry.incident, client, group, entry.label)
                    self.stats.blocked[entry.label] = self.stats.blocked.get(entry.label, 0) + 1
                self.stats.result(entry.kind, time.perf_counter() - started)
                return wire
            for stage in self.quick:
                answer = stage.quick(q, group)
                if answer is not None:
                    return self._finish(q, answer, client, group, transport, started, now,
                                        cache=answer.incident is None)
        return Pending(q, client, group, transport, started)

    def _group_of(self, client: str) -> Group | None:
        if len(self._groups) > 65536:
            self._groups.clear()
        try:
            group = self.policy.current.group_for(client)
        except Exception:
            return None
        self._groups[client] = group
        return group

    async def reply_slow(self, p: Pending) -> bytes:
        now = self.clock()
        query = Query(p.question, p.client, p.group, p.transport, now)
        try:
            answer = await self.chain(query)
        except Exception:
            self.stats.handler_errors += 1
            if now - self._last_error_log > 10:
                self._last_error_log = now
                # No query name in the log: it could be a confidential list entry.
                log.exception("handler failed (query type %d)", p.question.qtype)
            answer = Answer("servfail", "internal error", rcode=SERVFAIL)
        return self._finish(p.question, answer, p.client, p.group, p.transport, p.started, now)

    async def reply(self, data: bytes, client: str, transport: str) -> bytes | None:
        first = self.reply_fast(data, client, transport)
        if isinstance(first, Pending):
            return await self.reply_slow(first)
        return first

    def _finish(self, q: Question, answer: Answer, client: str, group: Group | None,
                transport: str, started: float, now: float, cache: bool = True) -> bytes:
        wire = render(q, answer)
        if cache and group is not None and answer.cache_ttl and answer.cache_ttl > 0:
            key = (group.id, q.name, q.qtype, q.qclass, edns_form(q))
            self.answers.put(key, wire, answer.cache_ttl, answer.fixed_ttl, now, answer.kind,
                             answer.label, answer.incident, answer.fixed_records)
        if answer.incident is not None and group is not None:
            self._incident(answer.incident, client, group, answer.label)
            self.stats.blocked[answer.label] = self.stats.blocked.get(answer.label, 0) + 1
        # Every reply fits 512 bytes, the least UDP size; only a longer one asks the client's.
        if len(wire) > 512 and transport == "udp" and len(wire) > q.max_udp():
            wire = truncated(q, wire)
        self.stats.result(answer.kind, time.perf_counter() - started)
        return wire

    def _refuse_packet(self, data: bytes, verdict: Verdict, started: float) -> bytes | None:
        self.stats.result(verdict.value, time.perf_counter() - started)
        if verdict is Verdict.DROP:
            return None
        if verdict is Verdict.NOTIMP:
            return header_reply(data, NOTIMP)
        if verdict is Verdict.BADVERS:
            return badvers_reply(data)
        return header_reply(data, FORMERR)

    def _incident(self, note: object, client: str, group: Group, label: str) -> None:
        if self.incidents is None or not isinstance(note, IncidentNote):
            return
        # Positional (a blocked query's hot path): at, client, group, name, category, list,
        # action, source, reason.
        self.incidents.submit(Incident(time.time(), client, group.id, note.name, note.category,
                                       note.list_id, note.action, "dns", note.reason))
