"""Serves the RPZ zone to an ISP's secondaries: AXFR/IXFR over TCP, SOA over UDP, NOTIFY.

    server = RpzServer(history, listen=("192.0.2.1", 53), allow=["198.51.100.0/24"],
                       tsig_keys={"roja-xfr.": "<base64>"}, notify=[("198.51.100.7", 53)])
    await server.start(); ...; await server.publish(new_zone); ...; await server.stop()

The ladder a request goes through, here only: shorter than a header or a response → dropped;
unreadable → FORMERR. TSIG (RFC 8945): an unknown key → NOTAUTH/BADKEY, a bad MAC →
NOTAUTH/BADSIG (both with an unsigned TSIG record), clock skew → NOTAUTH/BADTIME (signed); with
keys configured, unsigned → REFUSED. Opcode ≠ QUERY → NOTIMP; source not in `allow` (empty:
nobody) → REFUSED; a name other than the origin → NOTAUTH. Then SOA and NS answer; AXFR (TCP
only, RFC 5936) streams the zone in messages of at most `max_message` octets; IXFR over TCP
sends the RFC 1995 differences from the secondary's serial (the whole zone if that serial is
unknown); IXFR over UDP gets the current SOA alone, meaning "use TCP"; anything else → REFUSED.
Answers to signed requests are signed, a transfer's messages chained (RFC 8945 5.3.1). A
transfer sends the version current when it started, even if `publish` runs meanwhile.

`publish(zone)` records a version and sends NOTIFY (RFC 1996) over UDP to each `notify` target,
retrying with a doubling timeout until acknowledged; `wait_notified()` says who did. `counters`
(axfr, ixfr, ixfr_axfr, ixfr_current, ixfr_udp, soa, refused, notauth, formerr, notimp,
notify_sent, notify_acked, notify_failed) are for metrics and tests.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import errno
import ipaddress
import logging
import struct
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple, cast

import dns.exception
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TSIG
import dns.rrset
import dns.tsig

from blocklists.rpz import (
    MAX_MESSAGE,
    RR,
    TSIG_RESERVE,
    RpzZone,
    ZoneHistory,
    axfr_rrs,
    messages,
    name_wire,
    rr_wire,
)
from configkit import client_address

log = logging.getLogger("roja.rpz.server")

FUDGE = 300
_SOA, _NS, _AXFR, _IXFR = 6, 2, 252, 251
_QR, _AA = 0x8000, 0x0400
Target = tuple[str, int]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_TSIG_RDATA: Any = dns.rdtypes.ANY.TSIG.TSIG  # dnspython leaves these two untyped
_tsig_sign: Any = dns.tsig.sign


class _Head(NamedTuple):  # what every answer copies from the request
    qid: int
    opcode: int
    rd: int
    question: bytes


def _append_tsig(wire: bytes, keyname: dns.name.Name, rdata: Any) -> bytes:
    body = cast(bytes, rdata.to_wire())
    rr = cast(bytes, keyname.to_wire()) + struct.pack(">HHIH", 250, 255, 0, len(body)) + body
    (arcount,) = struct.unpack(">H", wire[10:12])
    return wire[:10] + struct.pack(">H", arcount + 1) + wire[12:] + rr


class _Signer:
    """Signs the messages of one answer, chaining the MACs of a multi-message transfer."""

    def __init__(self, key: dns.tsig.Key, request_mac: bytes, original_id: int) -> None:
        self.key, self.request_mac, self.original_id = key, request_mac, original_id
        self.ctx: Any = None

    def sign(self, wire: bytes, error: int = 0, other: bytes = b"") -> bytes:
        rdata = _TSIG_RDATA(dns.rdataclass.ANY, dns.rdatatype.TSIG, self.key.algorithm, 0, FUDGE,
                            b"", self.original_id, error, other)
        rdata, self.ctx = _tsig_sign(wire, self.key, rdata, int(time.time()), self.request_mac,
                                     self.ctx, True)
        return _append_tsig(wire, self.key.name, rdata)


def _no_verify(message: object, name: object) -> bool:
    return False  # dnspython: a falsy key parses the TSIG record without checking it


def _parse_keys(tsig_keys: Mapping[str, str] | None) -> dict[dns.name.Name, dns.tsig.Key]:
    keys: dict[dns.name.Name, dns.tsig.Key] = {}
    for name, secret in (tsig_keys or {}).items():
        try:
            raw = base64.b64decode(secret, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"TSIG key {name!r}: secret is not base64 ({exc})") from None
        if len(raw) < 16:
            raise ValueError(f"TSIG key {name!r}: secret shorter than 16 octets")
        key = dns.tsig.Key(dns.name.from_text(name), raw, dns.tsig.HMAC_SHA256)
        keys[key.name] = key
    return keys


class _Udp(asyncio.DatagramProtocol):
    """Requests go to `respond`; answers to our NOTIFYs resolve the waiting future."""

    def __init__(self, server: RpzServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) >= 12 and data[2] & 0x80:  # a response: the ack of a NOTIFY?
            qid, flags = struct.unpack(">HH", data[:4])
            waiting = self.server.notify_waiting.get((qid, addr[0], addr[1]))
            if waiting and not waiting.done() and (flags >> 11) & 0xF == dns.opcode.NOTIFY:
                waiting.set_result(flags & 0xF)
            return
        try:
            reply = next(self.server.respond(data, addr[0], tcp=False), None)
        except Exception:
            log.exception("RPZ UDP request from %s failed", addr[0])
            return
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


class RpzServer:
    """The RPZ primary: see the module docstring for what it answers and in which order."""

    def __init__(self, history: ZoneHistory, listen: Target = ("127.0.0.1", 53),
                 allow: Iterable[str | Network] = (), tsig_keys: Mapping[str, str] | None = None,
                 notify: Iterable[Target] = (), *, notify_key: str | None = None,
                 max_message: int = MAX_MESSAGE, idle_timeout: float = 30.0,
                 max_connections: int = 64, notify_attempts: int = 5,
                 notify_timeout: float = 1.0) -> None:
        self.history = history
        self.listen = listen
        self.allow: tuple[Network, ...] = tuple(ipaddress.ip_network(a, strict=False)
                                                for a in allow)
        self.keys = _parse_keys(tsig_keys)
        self.notify = tuple((str(ipaddress.ip_address(host)), port) for host, port in notify)
        self.notify_key = self.keys[dns.name.from_text(notify_key)] if notify_key else None
        if not 1024 <= max_message <= 65535:
            raise ValueError("max_message must be between 1024 and 65535")
        self.max_message, self.max_connections = max_message, max_connections
        self.idle_timeout = idle_timeout
        self.notify_attempts, self.notify_timeout = notify_attempts, notify_timeout
        self.counters: Counter[str] = Counter()
        self.bound: Target = listen
        self._origin = dns.name.from_text(history.current.origin)
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._connections = 0
        self._notifying: dict[Target, asyncio.Task[bool]] = {}
        self.notify_waiting: dict[tuple[int, str, int], asyncio.Future[int]] = {}

    async def start(self) -> None:
        """Listen on UDP and TCP, on one port (for port 0, one free for both is found)."""
        host, port = self.listen
        for attempt in range(20):
            self._tcp = await asyncio.start_server(self._serve_tcp, host, port,
                                                   reuse_address=True)
            self.bound = (host, self._tcp.sockets[0].getsockname()[1])
            try:
                self._udp, _ = await asyncio.get_running_loop().create_datagram_endpoint(
                    lambda: _Udp(self), local_addr=self.bound)
                break
            except OSError as exc:
                self._tcp.close()
                if port != 0 or exc.errno != errno.EADDRINUSE or attempt == 19:
                    raise
        log.info("RPZ %s serial %d served on %s port %d", self.history.current.origin,
                 self.history.current.serial, *self.bound)

    async def stop(self) -> None:
        for task in self._notifying.values():
            task.cancel()
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            if hasattr(self._tcp, "close_clients"):  # Python 3.13+
                self._tcp.close_clients()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._tcp.wait_closed(), 2)

    async def publish(self, zone: RpzZone) -> None:
        """Make `zone` the current version and NOTIFY the secondaries (if it changed)."""
        if self.history.record(zone) is not None:
            self.notify_all()

    def notify_all(self) -> None:
        """Start a NOTIFY round for the current serial; a newer round replaces an older one."""
        zone = self.history.current
        for target in self.notify:
            if target in self._notifying:
                self._notifying[target].cancel()
            task = asyncio.get_running_loop().create_task(self._notify_one(target, zone))
            task.add_done_callback(_log_failure)
            self._notifying[target] = task

    async def wait_notified(self) -> dict[Target, bool]:
        """Wait for the NOTIFY rounds in flight; True for each target that acknowledged."""
        targets, tasks = list(self._notifying), list(self._notifying.values())
        done = await asyncio.gather(*tasks, return_exceptions=True)
        return {target: result is True for target, result in zip(targets, done, strict=True)}

    async def _notify_one(self, target: Target, zone: RpzZone) -> bool:
        """NOTIFY `target` from our own port until it answers (RFC 1996 4.), doubling the wait."""
        query = dns.message.make_query(zone.origin, dns.rdatatype.SOA)
        query.flags = _AA  # (the opcode lives in the flags: set it after them)
        query.set_opcode(dns.opcode.NOTIFY)
        query.answer.append(dns.rrset.from_text(zone.origin, zone.ttl, "IN", "SOA",
                                                zone.soa().rdata))
        if self.notify_key is not None:
            query.use_tsig(self.notify_key)
        wire, key = query.to_wire(), (query.id, *target)
        reply = self.notify_waiting[key] = asyncio.get_running_loop().create_future()
        timeout, rcode = self.notify_timeout, None
        try:
            for _ in range(self.notify_attempts):
                assert self._udp is not None, "start() first"
                self._udp.sendto(wire, target)
                self.counters["notify_sent"] += 1
                with contextlib.suppress(TimeoutError):
                    rcode = await asyncio.wait_for(asyncio.shield(reply), timeout)
                    break
                timeout *= 2
        finally:
            del self.notify_waiting[key]
        ok = rcode == dns.rcode.NOERROR
        self.counters["notify_acked" if ok else "notify_failed"] += 1
        log.log(logging.INFO if ok else logging.WARNING, "NOTIFY %s serial %d to %s port %d: %s",
                zone.origin, zone.serial, *target,
                "no answer" if rcode is None else dns.rcode.Rcode(rcode).name)
        return ok

    async def _serve_tcp(self, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        if self._connections >= self.max_connections:
            writer.close()
            return
        self._connections += 1
        peer = writer.get_extra_info("peername")
        client = peer[0] if peer else ""
        try:
            while True:
                head = await asyncio.wait_for(reader.readexactly(2), self.idle_timeout)
                data = await asyncio.wait_for(reader.readexactly(struct.unpack(">H", head)[0]),
                                              self.idle_timeout)
                for message in self.respond(data, client, tcp=True):
                    writer.write(struct.pack(">H", len(message)) + message)
                    await asyncio.wait_for(writer.drain(), self.idle_timeout)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
        except Exception:
            log.exception("RPZ TCP connection from %s failed", client)
        finally:
            self._connections -= 1
            writer.close()

    def _allowed(self, client: str) -> bool:
        address = client_address(client)
        if address is None:
            return False
        return any(address in network for network in self.allow)

    def respond(self, wire: bytes, client: str, tcp: bool) -> Iterator[bytes]:
        """The answer messages to one request from `client` (nothing if it is dropped)."""
        if len(wire) < 12 or wire[2] & 0x80:
            return iter(())
        qid, flags = struct.unpack(">HH", wire[:4])
        head = _Head(qid, (flags >> 11) & 0xF, flags & 0x0100, b"")
        try:
            request = dns.message.from_wire(wire, keyring=_no_verify)
        except Exception:  # anything unreadable is FORMERR, whatever dnspython raised
            return self._answer(head, dns.rcode.FORMERR)
        if len(request.question) == 1:
            q = request.question[0]
            head = head._replace(question=cast(bytes, q.name.to_wire())
                                 + struct.pack(">HH", q.rdtype, q.rdclass))
        signer: _Signer | None = None
        if request.tsig is not None:
            verified = self._verify(wire, request, head, client)
            if not isinstance(verified, _Signer):
                return verified
            signer = verified
        if head.opcode != dns.opcode.QUERY:
            return self._answer(head, dns.rcode.NOTIMP, signer)
        if not head.question:
            return self._answer(head, dns.rcode.FORMERR, signer)
        refusal = ("no TSIG" if self.keys and signer is None
                   else None if self._allowed(client) else "address not allowed")
        if refusal is not None:
            log.info("RPZ request from %s refused: %s", client, refusal)
            return self._answer(head, dns.rcode.REFUSED, signer)
        q = request.question[0]
        if q.name != self._origin or q.rdclass != dns.rdataclass.IN:
            return self._answer(head, dns.rcode.NOTAUTH, signer)
        zone = self.history.current
        rrs: Iterable[RR] | None
        if q.rdtype in (_SOA, _NS):
            self.counters["soa" if q.rdtype == _SOA else "ns"] += 1
            rrs = [rr_wire(zone.soa() if q.rdtype == _SOA else zone.ns(), zone.origin)]
        elif q.rdtype == _AXFR and tcp:
            self.counters["axfr"] += 1
            log.info("AXFR %s serial %d to %s", zone.origin, zone.serial, client)
            rrs = axfr_rrs(zone)
        elif q.rdtype == _IXFR and tcp:
            rrs = self._ixfr(request, zone, client)
            if rrs is None:
                return self._answer(head, dns.rcode.FORMERR, signer)
        elif q.rdtype == _IXFR:
            self.counters["ixfr_udp"] += 1
            rrs = [rr_wire(zone.soa(), zone.origin)]
        else:
            return self._answer(head, dns.rcode.REFUSED, signer)
        return self._answer(head, dns.rcode.NOERROR, signer, rrs)

    def _verify(self, wire: bytes, request: dns.message.Message, head: _Head,
                client: str) -> _Signer | Iterator[bytes]:
        """The signer for a request whose TSIG verifies, else the NOTAUTH answer to send."""
        assert request.tsig is not None
        keyname, tsig = request.tsig.name, request.tsig[0]
        try:
            verified = dns.message.from_wire(wire, keyring=self.keys)
        except dns.tsig.BadTime:  # the MAC was right: a signed answer with our time
            signer = _Signer(self.keys[keyname], tsig.mac, tsig.original_id)
            reply = next(self._answer(head, dns.rcode.NOTAUTH))
            return iter([signer.sign(reply, dns.rcode.BADTIME,
                                     struct.pack(">Q", int(time.time()))[2:])])
        except (dns.message.UnknownTSIGKey, dns.tsig.BadKey, dns.tsig.BadAlgorithm):
            error = dns.rcode.BADKEY
        except dns.exception.DNSException:
            error = dns.rcode.BADSIG
        else:
            return _Signer(cast(dns.tsig.Key, verified.keyring), tsig.mac, tsig.original_id)
        # RFC 8945 5.2: BADKEY and BADSIG answers carry an unsigned TSIG record with the error.
        log.info("RPZ request from %s: bad TSIG (%s)", client, error.name)
        reply = next(self._answer(head, dns.rcode.NOTAUTH))
        rdata = tsig.replace(time_signed=int(time.time()), mac=b"", error=error, other=b"")
        return iter([_append_tsig(reply, keyname, rdata)])

    def _ixfr(self, request: dns.message.Message, zone: RpzZone,
              client: str) -> Iterable[RR] | None:
        soas = [r for r in request.authority if r.rdtype == _SOA]
        if not soas:
            return None
        serial = int(soas[0][0].serial)
        records = self.history.ixfr_records(serial)
        if records is None:
            self.counters["ixfr_axfr"] += 1
            log.info("IXFR %s from unknown serial %d to %s: whole zone %d", zone.origin,
                     serial, client, zone.serial)
            return axfr_rrs(zone)
        self.counters["ixfr_current" if serial == zone.serial else "ixfr"] += 1
        log.info("IXFR %s %d → %d to %s", zone.origin, serial, zone.serial, client)
        return [rr_wire(record, zone.origin) for record in records]

    def _answer(self, head: _Head, rcode: int, signer: _Signer | None = None,
                rrs: Iterable[RR] = ()) -> Iterator[bytes]:
        """The messages of an answer (AA when NOERROR), each signed if `signer` is given."""
        if rcode != dns.rcode.NOERROR:
            self.counters[dns.rcode.Rcode(rcode).name.lower()] += 1
        flags = _QR | (head.opcode << 11) | head.rd | rcode | (_AA if rcode == 0 else 0)
        replies = messages(rrs, head.qid, flags, head.question,
                           name_wire(self.history.current.origin),
                           self.max_message - TSIG_RESERVE)
        if signer is None:
            return replies
        return (signer.sign(reply) for reply in replies)


def _log_failure(task: asyncio.Task[bool]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("NOTIFY task failed", exc_info=task.exception())
