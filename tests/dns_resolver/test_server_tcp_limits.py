"""TCP that cannot be starved (issue 18, part B): a source outside the ACL and an allowed but
greedy source hold hundreds of idle connections while another allowed client is served.
Loopback addresses 127.0.0.x stand for different clients; a real appliance, real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from dns_resolver.testing import ask_tcp, make_query, parse
from filterd.testing import dns_address, running_appliance, write_lists

VICTIM = "127.0.0.3"


def config(lists_dir: Path, extra: str = "") -> str:
    return f"""
[state]
dir = "{{state}}"
[dns]
listen = ["127.0.0.1:0"]
upstreams = ["127.0.0.1:9"]
upstream_timeout = 0.3
{extra}
[dns.acl]
allow = ["127.0.0.1/32", "127.0.0.2/31", "127.0.0.4/30", "127.0.0.8/29", "127.0.0.16/28",
         "127.0.0.32/27"]
[[lists]]
id = "deny"
path = "{lists_dir}/deny.txt"
category = "gambling"
"""


@contextlib.contextmanager
def hold(server: tuple[str, int], source: str, count: int) -> Iterator[list[socket.socket]]:
    """`count` idle TCP connections from `source` to `server`, closed at the end."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind((source, 0))
            s.settimeout(2)
            s.connect(server)
        yield socks
    finally:
        for s in socks:
            s.close()


def closed_by_server(s: socket.socket) -> bool:
    """Has the server closed (or reset) this connection?"""
    s.settimeout(0.01)
    try:
        return s.recv(1) == b""
    except TimeoutError:
        return False
    except OSError as exc:
        return exc.errno in (errno.ECONNRESET, errno.EPIPE)


def victim_query(server: tuple[str, int]) -> int:
    """One query from the well-behaved client over TCP: its rcode (the name is listed)."""
    reply = ask_tcp(server, [make_query("www.blocked.test")], timeout=3, source=VICTIM)[0]
    return int(parse(reply).header.rcode)


def settle(seconds: float = 0.5) -> None:
    time.sleep(seconds)  # let the server accept (and judge) what waits in its backlog


async def test_refused_and_greedy_sources_cannot_starve_an_allowed_client(tmp_path):
    write_lists(tmp_path / "lists", {"deny.txt": "blocked.test\n"})
    async with running_appliance(tmp_path, config(tmp_path / "lists")) as app:
        addr = dns_address(app)

        def scenario() -> None:
            with hold(addr, "127.0.0.200", 300) as outsiders, \
                    hold(addr, "127.0.0.2", 300) as greedy:
                settle()
                assert victim_query(addr) == 3          # served: NXDOMAIN for the listed name
                assert all(closed_by_server(s) for s in outsiders)
                open_greedy = [s for s in greedy if not closed_by_server(s)]
                assert len(open_greedy) == 16           # the per-client cap (default)

        await asyncio.to_thread(scenario)
        closed = app.stats.tcp_closed
        assert closed["acl"] == 300 and closed["client_cap"] == 300 - 16


async def test_many_allowed_clients_beyond_the_total_cap(tmp_path):
    """More idle allowed connections than `tcp_max_connections`: the idle ones make room."""
    write_lists(tmp_path / "lists", {"deny.txt": "blocked.test\n"})
    extra = "tcp_max_connections = 64\ntcp_max_per_client = 8"
    async with running_appliance(tmp_path, config(tmp_path / "lists", extra)) as app:
        addr = dns_address(app)

        def scenario() -> None:
            with contextlib.ExitStack() as stack:
                for host in range(4, 30):   # 26 clients × 8 connections = 208 > 64
                    stack.enter_context(hold(addr, f"127.0.0.{host}", 8))
                settle()
                for _ in range(3):
                    assert victim_query(addr) == 3

        await asyncio.to_thread(scenario)
        assert app.stats.tcp_closed["idle_evicted"] >= 208 - 64


async def test_idle_connection_is_closed(tmp_path):
    write_lists(tmp_path / "lists", {"deny.txt": "blocked.test\n"})
    async with running_appliance(tmp_path, config(tmp_path / "lists",
                                                  "tcp_idle_timeout = 0.5")) as app:
        addr = dns_address(app)

        def scenario() -> None:
            with hold(addr, "127.0.0.2", 1) as (s,):
                time.sleep(1.5)
                assert closed_by_server(s)

        await asyncio.to_thread(scenario)
