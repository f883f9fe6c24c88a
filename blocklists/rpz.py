"""The RPZ export of the non-confidential policy, for ISP resolver fleets (ARCHITECTURE.md, 5).

`RpzZone(origin, serial, names)` is one version of the zone: an SOA whose serial is the feed's
serial, an NS, and for every canonical host `name` two QNAME triggers (RPZ, draft-vixie-dnsop-
dns-rpz) that make the ISP's resolver answer NXDOMAIN for the name and everything below it:

    name.origin.    CNAME .
    *.name.origin.  CNAME .

An address or network the list names becomes one IP trigger (RPZ `rpz-ip`, no `*.` twin;
`blocklists.rpz_triggers`); URL entries cannot be said in RPZ and are left out (docs/rpz.md).

Every version also holds one canary, a local-data record for a name that exists nowhere else:

    s<serial>.canary.roja.origin.  A  127.0.0.2

A secondary that has this version answers `s<serial>.canary.roja A` with 127.0.0.2; one that
is behind answers NXDOMAIN or SERVFAIL. `blocklists.rpz_fleet` asks each secondary for it, so
"has the serial" is checked by the policy the resolver applies, not only by its SOA.

`zone_text()` is the zone file (what BIND, Knot or `unbound`'s `zonefile:` would load).
Confidential (hashed) entries never reach this module: the caller passes cleartext hosts only.

`ZoneHistory` keeps the current version and the differences to the last `keep` versions, so a
secondary that asks for IXFR (RFC 1995) from a recent serial gets only what changed: for each
step the old SOA, the deleted records, the new SOA and the added records. A serial it does not
know (too old, or never ours) gets `None`, and the server falls back to the whole zone.
Differences are stored, not whole versions, so history costs memory only for what changed.

Serials follow RFC 1982 arithmetic: a new version must be newer than the current one.

The wire helpers at the end (`axfr_rrs`, `trigger_rrs`, `rr_wire`, `messages`) turn records
into the messages of a transfer; `blocklists.rpz_server` signs and sends them.
"""

from __future__ import annotations

import logging
import socket
import struct
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from blocklists.canonical import canonical_host
from blocklists.rpz_triggers import RPZ_IP, name_fits, trigger_names

log = logging.getLogger("roja.rpz")

DEFAULT_TTL = 300
SERIAL_BITS = 32
_HALF = 1 << (SERIAL_BITS - 1)
_MAX_SERIAL = (1 << SERIAL_BITS) - 1
MAX_MESSAGE = 16384  # octets per transfer message
TSIG_RESERVE = 512  # left free in each message for its TSIG record
_SOA, _NS, _CNAME, _A = 6, 2, 5, 1
CANARY_ADDRESS = "127.0.0.2"  # what a secondary answers for the canary of a serial it has
RR = tuple[bytes, bytes]  # owner labels relative to the origin; type, class, TTL, rdata


class Record(NamedTuple):
    """One resource record in text form; `owner` is absolute (ends with a dot)."""

    owner: str
    rtype: str
    ttl: int
    rdata: str

    def text(self) -> str:
        return f"{self.owner} {self.ttl} IN {self.rtype} {self.rdata}"


@dataclass(frozen=True)
class SoaTimers:
    """The SOA timers. `expire` is long on purpose: an ISP keeps blocking with the last zone
    it has for two weeks when Roja cannot be reached, rather than dropping the policy."""

    refresh: int = 3600
    retry: int = 600
    expire: int = 1_209_600
    minimum: int = 60


def serial_newer(new: int, old: int) -> bool:
    """True if `new` is after `old` in RFC 1982 serial number arithmetic."""
    return new != old and ((new - old) & _MAX_SERIAL) < _HALF


def _check_origin(origin: str) -> None:
    if not origin.endswith(".") or origin == ".":
        raise ValueError(f"RPZ origin {origin!r} must be absolute, e.g. 'rpz.roja.'")
    if canonical_host(origin) != origin.rstrip("."):
        raise ValueError(f"RPZ origin {origin!r} is not a canonical lower-case name")


def trigger_records(name: str, origin: str, ttl: int) -> tuple[Record, ...]:
    """The two QNAME triggers for `name`: the name itself and everything below it; for an
    IP trigger (`rpz_ip_owner`) that one record."""
    if name.endswith(RPZ_IP):
        return (Record(f"{name}.{origin}", "CNAME", ttl, "."),)
    return (Record(f"{name}.{origin}", "CNAME", ttl, "."),
            Record(f"*.{name}.{origin}", "CNAME", ttl, "."))


def canary_name(serial: int) -> str:
    """The name whose answer shows that a resolver applies version `serial` of the zone."""
    return f"s{serial}.canary.roja"


def canary_record(serial: int, origin: str, ttl: int) -> Record:
    return Record(f"{canary_name(serial)}.{origin}", "A", ttl, CANARY_ADDRESS)


@dataclass(frozen=True)
class RpzZone:
    """One version of the RPZ zone. `names` are canonical hosts (no trailing dot)."""

    origin: str
    serial: int
    names: frozenset[str]
    ttl: int = DEFAULT_TTL
    timers: SoaTimers = field(default_factory=SoaTimers)
    mname: str = "localhost."
    rname: str = "hostmaster.localhost."

    def __post_init__(self) -> None:
        _check_origin(self.origin)
        if not 0 <= self.serial <= _MAX_SERIAL:
            raise ValueError(f"RPZ serial {self.serial} is not a 32-bit unsigned number")
        if not 0 <= self.ttl < _HALF:
            raise ValueError(f"RPZ TTL {self.ttl} out of range")
        bad = sorted(name for name in self.names if not name_fits(name, self.origin))
        if bad:
            raise ValueError(f"{len(bad)} names cannot be RPZ triggers under {self.origin}: "
                             f"{', '.join(bad[:5])}")

    @classmethod
    def from_hosts(cls, origin: str, serial: int, hosts: Iterable[str],
                   ttl: int = DEFAULT_TTL, addresses: Iterable[str] = ()
                   ) -> tuple[RpzZone, tuple[str, ...]]:
        """Build a zone from list hosts, canonicalising them, and addresses/networks (IP
        triggers); returns the zone and the entries that cannot be triggers (not a host name
        or address, a name under an RPZ trigger label, too long under `origin`), which a list
        reader counts instead of failing the whole export."""
        _check_origin(origin)
        names, rejected = trigger_names(hosts, addresses, origin)
        if rejected:
            log.warning("RPZ %s serial %d: %d hosts cannot be triggers, left out",
                        origin, serial, len(rejected))
        return cls(origin, serial, names, ttl), tuple(rejected)

    @cached_property
    def sorted_names(self) -> tuple[str, ...]:
        """The names in a stable order (zone file and AXFR order), computed once."""
        return tuple(sorted(self.names))

    def soa(self) -> Record:
        t = self.timers
        return Record(self.origin, "SOA", self.ttl,
                      f"{self.mname} {self.rname} {self.serial} "
                      f"{t.refresh} {t.retry} {t.expire} {t.minimum}")

    def ns(self) -> Record:
        return Record(self.origin, "NS", self.ttl, self.mname)

    def triggers(self, name: str) -> tuple[Record, ...]:
        """The triggers for `name` in this zone (`trigger_records`)."""
        return trigger_records(name, self.origin, self.ttl)

    def canary(self) -> Record:
        """This version's canary (see the module docstring)."""
        return canary_record(self.serial, self.origin, self.ttl)

    def records(self) -> Iterator[Record]:
        """SOA, NS, the canary, then the triggers of every name in sorted order (no closing
        SOA)."""
        yield self.soa()
        yield self.ns()
        yield self.canary()
        for name in self.sorted_names:
            yield from self.triggers(name)

    def zone_text(self) -> str:
        """The zone as a master file with names relative to `$ORIGIN`."""
        t = self.timers
        lines = [
            f"; Roja RPZ {self.origin} serial {self.serial}: {len(self.names)} blocked names",
            f"$ORIGIN {self.origin}",
            f"$TTL {self.ttl}",
            f"@ SOA {self.mname} {self.rname} {self.serial} "
            f"{t.refresh} {t.retry} {t.expire} {t.minimum}",
            f"@ NS {self.mname}",
            f"{canary_name(self.serial)} A {CANARY_ADDRESS}",
        ]
        for name in self.sorted_names:
            lines.append(f"{name} CNAME .")
            if not name.endswith(RPZ_IP):
                lines.append(f"*.{name} CNAME .")
        return "\n".join(lines) + "\n"

    def same_shape(self, other: RpzZone) -> bool:
        """True if only the serial and names differ, so an IXFR can express the change."""
        return (self.origin, self.ttl, self.mname) == (other.origin, other.ttl, other.mname)


@dataclass(frozen=True)
class Delta:
    """One step of the zone's history: the two SOAs and the names removed and added. It keeps
    no reference to the whole zones, so old versions cost only what changed."""

    old_serial: int
    new_serial: int
    old_soa: Record
    new_soa: Record
    origin: str
    ttl: int
    removed: tuple[str, ...]
    added: tuple[str, ...]

    @classmethod
    def between(cls, old: RpzZone, new: RpzZone) -> Delta:
        return cls(old.serial, new.serial, old.soa(), new.soa(), new.origin, new.ttl,
                   tuple(sorted(old.names - new.names)), tuple(sorted(new.names - old.names)))

    def records(self) -> Iterator[Record]:
        """The RFC 1995 difference sequence: old SOA, deletions, new SOA, additions. The old
        serial's canary goes and the new one's comes with every step."""
        yield self.old_soa
        yield canary_record(self.old_serial, self.origin, self.ttl)
        for name in self.removed:
            yield from trigger_records(name, self.origin, self.ttl)
        yield self.new_soa
        yield canary_record(self.new_serial, self.origin, self.ttl)
        for name in self.added:
            yield from trigger_records(name, self.origin, self.ttl)


class ZoneHistory:
    """The current zone plus the differences to the `keep` versions before it."""

    def __init__(self, zone: RpzZone, keep: int = 16) -> None:
        if keep < 1:
            raise ValueError("ZoneHistory keeps at least one earlier version")
        self._current = zone
        self._deltas: deque[Delta] = deque(maxlen=keep)

    @property
    def current(self) -> RpzZone:
        return self._current

    @property
    def serials(self) -> tuple[int, ...]:
        """Serials a secondary can IXFR from, oldest first, ending with the current one."""
        return (*(d.old_serial for d in self._deltas), self._current.serial)

    def record(self, zone: RpzZone) -> Delta | None:
        """Make `zone` current. Returns the new step, or None if `zone` is the current version.

        Raises ValueError if the serial is not newer (RFC 1982) or the origin differs. A change
        of TTL or SOA names cannot be sent as an IXFR difference: it forgets the history, so
        every secondary gets the whole zone next time.
        """
        old = self._current
        if zone.origin != old.origin:
            raise ValueError(f"zone origin {zone.origin} is not {old.origin}")
        if zone.serial == old.serial:
            if zone == old:
                return None
            raise ValueError(f"serial {zone.serial} is current already with other content")
        if not serial_newer(zone.serial, old.serial):
            raise ValueError(f"serial {zone.serial} is not newer than {old.serial} (RFC 1982)")
        delta = Delta.between(old, zone)
        if not zone.same_shape(old):
            self._deltas.clear()
        self._deltas.append(delta)
        self._current = zone
        log.info("RPZ %s serial %d → %d: %d removed, %d added", zone.origin, old.serial,
                 zone.serial, len(delta.removed), len(delta.added))
        return delta

    def apply(self, serial: int, added: Iterable[str] = (),
              removed: Iterable[str] = ()) -> RpzZone:
        """Record a new version made from the current one and a feed delta; returns it."""
        names = (self._current.names - frozenset(removed)) | frozenset(added)
        zone = RpzZone(self._current.origin, serial, names, self._current.ttl,
                       self._current.timers, self._current.mname, self._current.rname)
        self.record(zone)
        return zone

    def steps(self, client_serial: int) -> list[Delta] | None:
        """The steps from `client_serial` to the current version: [] if it is current already,
        None if that serial is unknown or too old (the caller then sends the whole zone)."""
        if client_serial == self._current.serial:
            return []
        deltas = list(self._deltas)
        for index, delta in enumerate(deltas):
            if delta.old_serial == client_serial:
                return deltas[index:]
        return None

    def ixfr_records(self, client_serial: int) -> list[Record] | None:
        """The whole IXFR answer as records (current SOA, the steps, current SOA), or None
        when the caller must fall back to AXFR. For tests and small zones; the server streams."""
        steps = self.steps(client_serial)
        if steps is None:
            return None
        soa = self._current.soa()
        if not steps:
            return [soa]
        return [soa, *(r for step in steps for r in step.records()), soa]


# The wire form of a transfer. Written directly rather than through dnspython's message
# objects, so that an AXFR of a million names takes seconds, not minutes.

def name_wire(name: str) -> bytes:
    """A dotted name as uncompressed labels, ending with the root label."""
    return _labels(name) + b"\x00"


def _labels(name: str) -> bytes:
    out = bytearray()
    for label in name.split("."):
        if label:
            out.append(len(label))
            out += label.encode("ascii")
    return bytes(out)


def rr_wire(record: Record, origin: str) -> RR:
    """`record` (SOA, NS, CNAME or the canary's A) as owner labels relative to `origin` and
    the rest."""
    if record.rtype == "SOA":
        mname, rname, *numbers = record.rdata.split()
        rdata = name_wire(mname) + name_wire(rname) + struct.pack(">5I", *map(int, numbers))
        rtype = _SOA
    elif record.rtype == "A":
        rdata, rtype = socket.inet_aton(record.rdata), _A
    else:
        rdata, rtype = name_wire(record.rdata), {"NS": _NS, "CNAME": _CNAME}[record.rtype]
    relative = record.owner[: len(record.owner) - len(origin)]
    return _labels(relative), struct.pack(">HHIH", rtype, 1, record.ttl, len(rdata)) + rdata


def trigger_rrs(names: Iterable[str], ttl: int) -> Iterator[RR]:
    """The triggers of each name (`trigger_records`), as `rr_wire` would write them but
    fast."""
    tail = struct.pack(">HHIH", _CNAME, 1, ttl, 1) + b"\x00"  # CNAME .
    for name in names:
        labels = _labels(name)
        yield labels, tail
        if not name.endswith(RPZ_IP):
            yield b"\x01*" + labels, tail


def axfr_rrs(zone: RpzZone) -> Iterator[RR]:
    """The whole zone for AXFR (RFC 5936): SOA, NS, canary, triggers, SOA again."""
    soa = rr_wire(zone.soa(), zone.origin)
    yield soa
    yield rr_wire(zone.ns(), zone.origin)
    yield rr_wire(zone.canary(), zone.origin)
    yield from trigger_rrs(zone.sorted_names, zone.ttl)
    yield soa


def messages(rrs: Iterable[RR], qid: int, flags: int, question: bytes, origin: bytes,
             limit: int = MAX_MESSAGE - TSIG_RESERVE) -> Iterator[bytes]:
    """Pack `rrs` into as many messages of at most `limit` octets as needed. The question (its
    name must be the origin) is in the first only; owners point at the origin's first copy."""
    buf, count, qd = bytearray(12) + question, 0, 1 if question else 0
    pointer: bytes | None = b"\xc0\x0c" if question else None
    for relative, rest in rrs:
        size = len(relative) + (len(pointer) if pointer else len(origin)) + len(rest)
        if count and len(buf) + size > limit:
            yield struct.pack(">6H", qid, flags, qd, count, 0, 0) + bytes(buf[12:])
            buf, count, qd, pointer = bytearray(12), 0, 0, None
        if pointer is None:
            pointer = struct.pack(">H", 0xC000 | (len(buf) + len(relative)))
            buf += relative + origin
        else:
            buf += relative + pointer
        buf += rest
        count += 1
    yield struct.pack(">6H", qid, flags, qd, count, 0, 0) + bytes(buf[12:])
