"""The running bypass watch: a packet socket on the LAN card, the classifier, a rate limit per
client and kind, incidents and metrics.

The socket is `AF_PACKET` (needs `CAP_NET_RAW`, nothing else) with the `bpf` prefilter
attached before it is bound, so only candidate packets ever reach Python; it is read from the
asyncio loop (`add_reader`), never blocking it. Frames the machine sends itself are skipped.

Incidents: source `bypass`, category `filter_bypass`, action `detected`, name `<kind>
<target>` (e.g. `outside_dns 8.8.8.8:53`, `doh dns.google`), the client's group from the
config's groups, the client pseudonymised by `IncidentWriter` (shared with the daemon's
database). At most one incident per (client, kind) per `interval` seconds (default 60); the
writer's deduplication folds the following intervals into the same row while the attempts
go on, so a row's count is the number of intervals in which that client kept trying. The
monthly report counts them as circumvention attempts.

Metrics (`--metrics HOST:PORT`): `roja_bypass_detected_total{kind}` (every detection, also
those the rate limit folds), `roja_bypass_packets_total` (frames the prefilter let through),
`roja_bypass_errors_total` (frames the classifier failed on; never fatal).
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import logging
import socket
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from blocklists.compiled import Match
from filterd.bypasswatch.bpf import attach
from filterd.bypasswatch.packets import KINDS, Address, Classifier, Detection, parse_frame
from filterd.config import RojaConfig
from policy import Policy
from reporting.incidents import Incident, IncidentWriter, db_path
from reporting.pseudonym import load_or_create_key, yearly_keys

log = logging.getLogger("roja.bypass")
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
READ_BURST = 512          # frames read per wake-up before yielding to the loop
RATE_CAPACITY = 65536     # (client, kind) pairs remembered by the rate limit


class RateLimit:
    """Admit one detection per (client, kind) per `interval` seconds; count the rest."""

    def __init__(self, interval: float, capacity: int = RATE_CAPACITY) -> None:
        self.interval = interval
        self.capacity = capacity
        self._last: OrderedDict[tuple[str, str], float] = OrderedDict()
        self.folded = 0

    def admit(self, client: str, kind: str, now: float) -> bool:
        key = (client, kind)
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self.folded += 1
            return False
        self._last[key] = now
        self._last.move_to_end(key)
        while len(self._last) > self.capacity:
            self._last.popitem(last=False)
        return True


class _NoLists:
    """The watch needs the policy only to name a client's group: a matcher without lists."""

    def lookup(self, host: str) -> list[Match]:
        return []

    def has_url_entries(self, host: str) -> bool:
        return False

    def lookup_url(self, host: str, path: str) -> list[Match]:
        return []


def group_policy(cfg: RojaConfig) -> Policy:
    """A policy with the config's groups and no lists: enough for `group_for`."""
    return Policy(tuple(cfg.policy.groups), cfg.policy.default_group, {}, _NoLists(),
                  profiles=cfg.policy.profiles)


def local_addresses(proc: Path = Path("/proc/net")) -> set[Address]:
    """The machine's own addresses: /proc/net/fib_trie (IPv4 `/32 host LOCAL`) and
    /proc/net/if_inet6; no netlink needed, so it works under RestrictAddressFamilies."""
    found: set[Address] = set()
    try:
        last = ""
        for line in (proc / "fib_trie").read_text().splitlines():
            text = line.strip()
            if text.startswith("|-- "):
                last = text[4:]
            elif text == "/32 host LOCAL" and last:
                found.add(ipaddress.IPv4Address(last))
    except (OSError, ValueError) as exc:
        log.warning("could not read the IPv4 addresses: %s", exc)
    try:
        for line in (proc / "if_inet6").read_text().splitlines():
            found.add(ipaddress.IPv6Address(bytes.fromhex(line.split()[0])))
    except (OSError, ValueError, IndexError) as exc:
        log.warning("could not read the IPv6 addresses: %s", exc)
    return found


class WatchStats(Collector):
    def __init__(self) -> None:
        self.detected = dict.fromkeys(KINDS, 0)
        self.packets = 0
        self.errors = 0

    def collect(self) -> Iterator[Metric]:
        c = CounterMetricFamily("roja_bypass_detected", "Bypass attempts seen on the LAN",
                                labels=["kind"])
        for kind, n in self.detected.items():
            c.add_metric([kind], n)
        yield c
        yield CounterMetricFamily("roja_bypass_packets", "Frames past the kernel prefilter",
                                  value=self.packets)
        yield CounterMetricFamily("roja_bypass_errors", "Frames the classifier failed on",
                                  value=self.errors)


LABELS = {
    "outside_dns": "DNS te një server i jashtëm / DNS to an outside server",
    "dot": "DNS-over-TLS",
    "doh": "DNS-over-HTTPS",
    "openvpn": "OpenVPN",
    "wireguard": "WireGuard",
    "ike": "IPsec/IKE VPN",
}


class BypassWatch:
    """Reads frames from `interface`, records detections; `stop()` flushes the writer."""

    def __init__(self, cfg: RojaConfig, interface: str, allowed: Iterable[Address] = (),
                 interval: float = 60.0, registry: CollectorRegistry | None = None) -> None:
        self.cfg = cfg
        self.interface = interface
        ours = local_addresses() | set(allowed)
        for host, _port in cfg.dns.listen:
            try:
                ours.add(ipaddress.ip_address(host))
            except ValueError:
                continue
        self.classifier = Classifier.build(ours)
        self.limit = RateLimit(interval)
        self.stats = WatchStats()
        if registry is not None:
            registry.register(self.stats)
        self.policy = group_policy(cfg)
        settings = dataclasses.replace(
            cfg.incidents, dedup_seconds=max(cfg.incidents.dedup_seconds, int(2 * interval)))
        self.writer = IncidentWriter(db_path(cfg.state_dir), load_or_create_key(cfg.state_dir),
                                     settings, shared=True,
                                     key_for_year=yearly_keys(cfg.state_dir))
        self._sock: socket.socket | None = None

    async def start(self) -> None:
        self.cfg.state_dir.mkdir(parents=True, exist_ok=True)
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # receives nothing yet
        try:
            attach(sock)
            sock.bind((self.interface, ETH_P_ALL))
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        await self.writer.start()
        self._sock = sock
        asyncio.get_running_loop().add_reader(sock.fileno(), self._readable)

    async def stop(self) -> None:
        if self._sock is not None:
            asyncio.get_running_loop().remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None
            await self.writer.stop()

    def _readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        for _ in range(READ_BURST):
            try:
                frame, address = sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. the interface went down: keep watching
                log.warning("reading %s failed: %s", self.interface, exc)
                return
            if len(address) > 2 and address[2] == PACKET_OUTGOING:
                continue
            self.stats.packets += 1
            try:
                self.handle_frame(frame, time.time())
            except Exception:  # a frame must never stop the watch
                self.stats.errors += 1
                log.exception("bypass watch: frame not understood")

    def handle_frame(self, frame: bytes, now: float) -> Detection | None:
        flow = parse_frame(frame)
        if flow is None:
            return None
        found = self.classifier.classify(flow)
        if found is None:
            return None
        self.stats.detected[found.kind] += 1
        if self.limit.admit(found.client, found.kind, now):
            self.record(found, now)
        return found

    def record(self, d: Detection, now: float) -> None:
        group = self.policy.group_for(d.client).id
        self.writer.submit(Incident(now, d.client, group, f"{d.kind} {d.target}",
                                    "filter_bypass", "bypass-watch", "detected", "bypass",
                                    f"{LABELS[d.kind]} → {d.target}"))
        log.info("bypass: %s → %s (group %s)", d.kind, d.target, group)
