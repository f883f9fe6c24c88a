"""The whole-filter part of the proxy benchmark: one request mix over many hosts, 2% of
which have URL entries, sent as a school's browsers send it: through squid + squidGuard (every
request, one kept-alive connection to the proxy), or the Roja way (ask Roja's DNS once per
host, as a browser's DNS cache does; straight to the origin for most hosts; through Roja's
steering listener for the hosts with URL entries, one kept-alive connection per host)."""

from __future__ import annotations

import http.client
import random
import socket
from collections.abc import Callable

import dnslib

ZONE = "bench.test"
# The origin is not on 127.0.0.1: that is the gateway's own address, which Roja's proxy never
# connects to (issue 18); roja_config allows ORIGIN_IP with [policy] allow_private.
ORIGIN_IP, STEER_IP = "127.0.0.80", "127.0.0.2"


def dataset(hosts: int, domains: int, steered_share: float,
            paths_per_host: int) -> tuple[list[str], list[str], list[str], set[str]]:
    names = [f"h{i}.{ZONE}" for i in range(hosts)]
    steered = set(names[:max(1, int(hosts * steered_share))])
    blocked = [f"x{i}.blocked.test" for i in range(domains)]
    urls = [f"{h}/bad/{k}/" for h in sorted(steered) for k in range(paths_per_host)]
    return names, blocked, urls, steered


def request_mix(names: list[str], steered: set[str], n: int, seed: int) -> list[tuple[str, str]]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        host = rnd.choice(names)
        if host in steered and rnd.random() < 1 / 3:
            path = f"/bad/{rnd.randrange(20)}/page{i}"
        else:
            path = f"/ok/{i}"
        out.append((host, path))
    return out


class Pool:
    """Keep-alive HTTP/1.1 connections per (address, port, host), as a browser keeps them."""

    def __init__(self) -> None:
        self.conns: dict[tuple[str, int, str], http.client.HTTPConnection] = {}

    def get(self, address: str, port: int, target: str, host: str, keep: bool = True,
            per_host: bool = True) -> int:
        for attempt in range(2):
            key = (address, port, host if per_host else "")  # a proxy's connection: shared
            conn = self.conns.get(key)
            if conn is None:
                conn = self.conns[key] = http.client.HTTPConnection(
                    address, port, timeout=30)
            try:
                conn.request("GET", target, headers={"Host": host})
                resp = conn.getresponse()
                resp.read()
                if not keep:
                    conn.close()
                    del self.conns[key]
                return resp.status
            except (http.client.HTTPException, OSError):
                conn.close()
                del self.conns[key]
                if attempt:
                    raise
        return 0

    def close(self) -> None:
        for conn in self.conns.values():
            conn.close()


def resolve(port: int, name: str, sock: socket.socket) -> str:
    q = dnslib.DNSRecord.question(name, "A")
    sock.sendto(q.pack(), ("127.0.0.1", port))
    reply = dnslib.DNSRecord.parse(sock.recv(4096))
    return next((str(rr.rdata) for rr in reply.rr if rr.rtype == 1), "")


def count(statuses: dict[str, int], status: int) -> None:
    statuses[str(status)] = statuses.get(str(status), 0) + 1


def via_proxy(port: int, mix: list[tuple[str, str]]) -> tuple[int, int]:
    """Every request of `mix` through the explicit proxy on 127.0.0.1:`port`."""
    pool, statuses = Pool(), {}  # type: ignore[var-annotated]
    for host, path in mix:
        count(statuses, pool.get("127.0.0.1", port, f"http://{host}{path}", host,
                                 per_host=False))
    pool.close()
    return len(mix), _bad(statuses)


def roja_school(dns_port: int, mix: list[tuple[str, str]],
                ask: Callable[[int, str, socket.socket], str] = resolve) -> tuple[int, int]:
    """`mix` the Roja way: DNS once per host (`ask`), then origin or steering listener."""
    pool, statuses = Pool(), {}  # type: ignore[var-annotated]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        cache: dict[str, str] = {}
        for host, path in mix:
            address = cache.get(host) or cache.setdefault(host, ask(dns_port, host, s))
            count(statuses, pool.get(address, 80, path, host))
    pool.close()
    return len(mix), _bad(statuses)


def _bad(statuses: dict[str, int]) -> int:
    """Answers that are neither 200 (allowed) nor a block (403 Roja, 302 squidGuard)."""
    return sum(n for code, n in statuses.items() if code not in ("200", "302", "403"))
