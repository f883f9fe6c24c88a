"""The `[dns]` part of roja.toml, parsed into frozen settings.

Keys (defaults): listen (["127.0.0.1:53", "[::1]:53"]), upstreams (from /etc/resolv.conf when
empty), workers (1, or "auto": one per core this process may run on), block_answer
("nxdomain" | "null" | "blockpage"), block_ttl (60), blockpage_ipv4, blockpage_ipv6,
canaries (true), cache_size (100000), cache_max_ttl (86400), cache_min_ttl (0),
negative_max_ttl (3600), serve_stale (true), stale_max (86400),
prefetch (false), upstream_timeout (0.6), upstream_deadline (1.8), tcp_idle_timeout (10),
tcp_max_connections (256), tcp_max_per_client (16, at most tcp_max_connections);
`[dns.acl]`: allow (loopback + private ranges), rate_limit_qps (300), rate_limit_burst (600).
`[dns.tls]`, `[dns.https]`: encrypted DNS (`dns_resolver.tls_config`).
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from configkit import Section, parse_hostport
from dns_resolver.handlers.acl import DEFAULT_ALLOW, Network
from dns_resolver.handlers.blocklist import BlockAnswerSettings, parse_block_address
from dns_resolver.handlers.cache import CacheSettings
from dns_resolver.handlers.upstream import UpstreamSettings
from dns_resolver.server import TcpLimits
from dns_resolver.tls_config import EncryptedSettings
from dns_resolver.tls_config import parse as parse_encrypted


@dataclass(frozen=True)
class DnsSettings:
    listen: tuple[tuple[str, int], ...] = (("127.0.0.1", 53), ("::1", 53))
    upstream: UpstreamSettings = field(default_factory=lambda: UpstreamSettings(()))
    workers: int = 1
    workers_auto: bool = False  # `workers = "auto"`: `workers` is the number of usable cores
    block: BlockAnswerSettings = field(default_factory=BlockAnswerSettings)
    canaries: bool = True
    cache: CacheSettings = field(default_factory=CacheSettings)
    answer_cache_size: int = 100_000
    answer_cache_max_mb: float = 16.0
    tcp: TcpLimits = field(default_factory=TcpLimits)
    acl_allow: tuple[Network, ...] = tuple(ipaddress.ip_network(n) for n in DEFAULT_ALLOW)
    rate_limit_qps: float = 300.0
    rate_limit_burst: float = 600.0
    encrypted: EncryptedSettings = field(default_factory=EncryptedSettings)


def system_resolvers(path: Path = Path("/etc/resolv.conf")) -> tuple[tuple[str, int], ...]:
    """The nameservers of resolv.conf, excluding our own loopback listener's usual address."""
    out = []
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return ()
    for line in lines:
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            try:
                out.append((str(ipaddress.ip_address(fields[1].split("%")[0])), 53))
            except ValueError:
                continue
    return tuple(out)


def _addresses(s: Section, key: str, default: list[str], port: int,
               allow_zero: bool = False) -> tuple[tuple[str, int], ...]:
    out = []
    for text in s.str_list(key, default):
        try:
            out.append(parse_hostport(text, port, allow_zero))
        except ValueError:
            raise s.error(key, f"{text!r} is not an address like 127.0.0.1:53 or [::1]:53"
                          ) from None
    return tuple(out)


def _tcp_limits(s: Section) -> TcpLimits:
    total = s.int("tcp_max_connections", 256, min=1, max=65536)
    per_client = s.int("tcp_max_per_client", 16, min=1)
    if per_client > total:
        raise s.error("tcp_max_per_client",
                      f"{per_client} është më shumë se tcp_max_connections ({total}) / is more "
                      f"than tcp_max_connections ({total})")
    return TcpLimits(s.float("tcp_idle_timeout", 10.0, min=0.5, max=300), total, per_client)


MAX_WORKERS = 64


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity: a systemd `CPUAffinity=` or a
    container's cpuset counts, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity call on this platform
        return max(1, os.cpu_count() or 1)


def _workers(s: Section) -> tuple[int, bool]:
    """`workers`: a whole number (1-64) or "auto" (one per usable core, at most 64)."""
    if s.has("workers") and isinstance(value := s.raw("workers"), str):
        if value != "auto":
            raise s.error("workers", f"{value!r}: duhet një numër 1-{MAX_WORKERS} ose \"auto\""
                          f" / must be a whole number 1-{MAX_WORKERS} or \"auto\"")
        return min(usable_cores(), MAX_WORKERS), True
    return s.int("workers", 1, min=1, max=MAX_WORKERS), False


def parse(s: Section, base: Path = Path(".")) -> DnsSettings:
    listen = _addresses(s, "listen", ["127.0.0.1:53", "[::1]:53"], 53, allow_zero=True)
    upstreams = _addresses(s, "upstreams", [], 53) or system_resolvers()
    mode = s.choice("block_answer", ("nxdomain", "null", "blockpage"), "nxdomain")
    try:
        v4 = parse_block_address(s.str("blockpage_ipv4", ""), 4)
    except ValueError as exc:
        raise s.error("blockpage_ipv4", str(exc)) from None
    try:
        v6 = parse_block_address(s.str("blockpage_ipv6", ""), 6)
    except ValueError as exc:
        raise s.error("blockpage_ipv6", str(exc)) from None
    if mode == "blockpage" and not (v4 or v6):
        raise s.error("block_answer", "\"blockpage\" needs blockpage_ipv4 or blockpage_ipv6")
    block = BlockAnswerSettings(mode, s.int("block_ttl", 60, min=0, max=86400), v4, v6)
    upstream = UpstreamSettings(
        servers=upstreams,
        timeout=s.float("upstream_timeout", 0.6, min=0.05, max=5),
        deadline=s.float("upstream_deadline", 1.8, min=0.1, max=10),
        max_ttl=s.int("cache_max_ttl", 86400, min=0),
        min_ttl=s.int("cache_min_ttl", 0, min=0, max=3600),
        negative_max_ttl=s.int("negative_max_ttl", 3600, min=0),
    )
    cache = CacheSettings(
        size=s.int("cache_size", 100_000, min=0),
        serve_stale=s.bool("serve_stale", True),
        stale_max=s.int("stale_max", 86400, min=0),
        prefetch=s.bool("prefetch", False),
    )
    acl = s.section("acl")
    workers, workers_auto = _workers(s)
    settings = DnsSettings(
        listen=listen,
        upstream=upstream,
        workers=workers,
        workers_auto=workers_auto,
        block=block,
        canaries=s.bool("canaries", True),
        cache=cache,
        answer_cache_size=s.int("answer_cache_size", 100_000, min=0),
        answer_cache_max_mb=s.float("answer_cache_max_mb", 16.0, min=0),
        tcp=_tcp_limits(s),
        acl_allow=acl.networks("allow", list(DEFAULT_ALLOW)),
        rate_limit_qps=acl.float("rate_limit_qps", 300.0, min=0),
        rate_limit_burst=acl.float("rate_limit_burst", 600.0, min=0),
        encrypted=parse_encrypted(
            s.section("tls"), s.section("https"), base,
            lambda sec, key, default, port: _addresses(sec, key, default, port, True)),
    )
    acl.done()
    s.done()
    return settings
