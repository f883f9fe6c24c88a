"""Watching an ISP's resolver fleet: does each secondary apply the RPZ serial Roja publishes?

`probe(target, origin, serials)` asks one resolver, over UDP, for the zone's SOA serial and
for the canary of the newest serial (`blocklists.rpz.canary_name`), which a resolver that
applies that version answers with `CANARY_ADDRESS`. Some resolvers (Unbound) do not answer
for an RPZ zone's SOA; then the serial is the one whose canary the resolver answers, tried
newest first among the serials Roja still remembers. A resolver that answers nothing within
`wait` seconds is down.

`Fleet` keeps what the last round found and when each serial was published, and turns it
into lag: a secondary that has serial S is behind since the first serial after S was
published; one that has the newest serial has lag 0. Pure: time is passed in.

`Fleet.newly_reached()` names, once each, the (secondary, serial) pairs a round first saw
applied: every published serial up to the one the secondary answers with (a secondary that
skipped S by taking S+1 has S's entries too), the newest only with its canary blocked. The
daemon records them as the history `roja isp report` reads (`filterd.rpz_export`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import dns.asyncquery
import dns.exception
import dns.message
import dns.rcode
import dns.rdatatype

from blocklists.rpz import CANARY_ADDRESS, canary_name, serial_newer

Target = tuple[str, int]
TIMEOUT = 2.0
SEARCH = 16  # older serials whose canary is tried for a resolver without an SOA answer


def target_text(target: Target) -> str:
    host, port = target
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True)
class Probe:
    """What one resolver answered: `serial` None when it gave none (down, or the zone is
    not loaded); `canary` True when it applies the newest serial's canary."""

    target: Target
    up: bool
    serial: int | None
    canary: bool
    error: str = ""


async def _ask(target: Target, name: str, rdtype: dns.rdatatype.RdataType,
               wait: float) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    return await dns.asyncquery.udp(query, target[0], port=target[1], timeout=wait)


async def _soa_serial(target: Target, origin: str, wait: float) -> int | None:
    reply = await _ask(target, origin, dns.rdatatype.SOA, wait)
    for rrset in reply.answer:
        if rrset.rdtype == dns.rdatatype.SOA and rrset.name.to_text() == origin:
            return int(rrset[0].serial)
    return None


async def _has_canary(target: Target, serial: int, wait: float) -> bool:
    reply = await _ask(target, canary_name(serial) + ".", dns.rdatatype.A, wait)
    return any(rrset.rdtype == dns.rdatatype.A and rd.address == CANARY_ADDRESS
               for rrset in reply.answer for rd in rrset)


async def probe(target: Target, origin: str, serials: Sequence[int],
                wait: float = TIMEOUT) -> Probe:
    """Probe one resolver; `serials` are those Roja remembers, oldest first, ending with the
    one it serves now."""
    current = serials[-1]
    try:
        canary = await _has_canary(target, current, wait)
    except (dns.exception.DNSException, OSError) as exc:
        return Probe(target, False, None, False, str(exc) or type(exc).__name__)
    serial: int | None = None
    with contextlib.suppress(dns.exception.DNSException, OSError):
        serial = await _soa_serial(target, origin, wait)
    if serial is None and canary:
        serial = current
    if serial is None:  # no SOA for the zone (Unbound): find the version it applies
        for older in reversed(serials[-1 - SEARCH:-1]):
            with contextlib.suppress(dns.exception.DNSException, OSError):
                if await _has_canary(target, older, wait):
                    serial = older
                    break
    return Probe(target, True, serial, canary)


@dataclass
class SecondaryState:
    """One secondary as the monitor last saw it; `serial` is the last one it reported
    (kept while it is down, so its lag keeps growing)."""

    target: Target
    up: bool = False
    serial: int | None = None
    canary: bool = False
    error: str = "not checked yet"
    checked: float | None = None


@dataclass
class Fleet:
    """The secondaries, the serials published (serial → wall-clock time, oldest first) and
    `max_lag`, the seconds a secondary may take to apply a new serial."""

    targets: tuple[Target, ...]
    max_lag: float
    published: dict[int, float] = field(default_factory=dict)
    states: dict[Target, SecondaryState] = field(default_factory=dict)
    keep: int = 64
    reached: dict[Target, int] = field(default_factory=dict)  # newest serial already named

    def __post_init__(self) -> None:
        for target in self.targets:
            self.states.setdefault(target, SecondaryState(target))

    def publish(self, serial: int, at: float) -> None:
        """Record that `serial` is served from `at` on."""
        if serial in self.published:
            return
        self.published[serial] = at
        while len(self.published) > self.keep:
            del self.published[next(iter(self.published))]

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Take back what an earlier run's `snapshot` knew: when serials were published (the
        earlier time wins) and each secondary's last serial, so a restart does not reset lag."""
        try:
            old = {int(k): float(v) for k, v in (snapshot.get("published") or {}).items()}
            serials = {str(s["target"]): s.get("serial") for s in snapshot["secondaries"]}
        except (KeyError, TypeError, ValueError, AttributeError):
            return
        merged = {**old, **{s: min(at, old.get(s, at)) for s, at in self.published.items()}}
        current = self.current
        order = sorted(merged, key=lambda s: (s == current, merged[s]))  # current stays last
        self.published = {s: merged[s] for s in order[-self.keep:]}
        for target, state in self.states.items():
            serial = serials.get(target_text(target))
            if state.serial is None and isinstance(serial, int):
                state.serial = serial
                self.reached.setdefault(target, serial)  # an earlier run named it already

    @property
    def current(self) -> int | None:
        return next(reversed(self.published), None)

    def record(self, result: Probe, at: float) -> None:
        state = self.states[result.target]
        state.up, state.canary, state.error, state.checked = (result.up, result.canary,
                                                              result.error, at)
        if result.serial is not None:
            state.serial = result.serial
        elif result.up:
            state.serial = None
            state.error = "zona RPZ nuk është ngarkuar / the RPZ zone is not loaded"

    def newly_reached(self) -> list[tuple[Target, int]]:
        """(secondary, serial) pairs applied since the last call, each named once: every
        published serial up to the secondary's own, the newest only once its canary is
        blocked. A secondary down or not checked yet names nothing."""
        out: list[tuple[Target, int]] = []
        for target, state in self.states.items():
            serial = state.serial
            if not state.up or state.checked is None or serial is None:
                continue
            if serial == self.current and not state.canary:  # its zone, not yet applied
                continue
            before = self.reached.get(target)
            if before is not None and not serial_newer(serial, before):
                continue
            out += [(target, s) for s in self.published
                    if not serial_newer(s, serial)
                    and (before is None or serial_newer(s, before))]
            self.reached[target] = serial
        return out

    def lag(self, target: Target, now: float) -> float:
        """Seconds since the first serial this secondary lacks was published; 0 when it has
        the newest one."""
        serial = self.states[target].serial
        current = self.current
        if current is None or serial == current:
            return 0.0
        missing = [at for s, at in self.published.items()
                   if serial is None or serial_newer(s, serial)]
        return max(0.0, now - min(missing)) if missing else 0.0

    def behind(self, target: Target, now: float) -> bool:
        """Down, lacking a serial for longer than `max_lag`, or not applying the newest one
        (its canary not blocked, whatever its SOA says) `max_lag` after it was published."""
        state, current = self.states[target], self.current
        if not state.up or self.lag(target, now) > self.max_lag:
            return True
        return (current is not None and not state.canary
                and now - self.published[current] > self.max_lag)

    async def check(self, origin: str, now: float, wait: float = TIMEOUT) -> None:
        """One round: probe every secondary at once and record the answers."""
        serials = list(self.published)
        if not serials:
            return
        results = await asyncio.gather(*(probe(t, origin, serials, wait)
                                          for t in self.targets))
        for result in results:
            self.record(result, now)

    def snapshot(self, now: float) -> dict[str, object]:
        """Plain data for `roja rpz fleet` (written to the state dir by the daemon)."""
        return {"checked": now, "serial": self.current, "max_lag": self.max_lag,
                "published": {str(s): at for s, at in self.published.items()},
                "secondaries": [
                    {"target": target_text(t), "up": s.up, "serial": s.serial,
                     "canary": s.canary, "lag": round(self.lag(t, now)),
                     "behind": self.behind(t, now), "error": s.error}
                    for t, s in self.states.items()]}
