"""One kept-alive connection to the steering listener, several Hosts on it (raw sockets): the
connection serves its first host (plain HTTP) or its SNI (intercepted TLS); a request for
another host is decided (a block stays a block) and otherwise answered 421, never left
hanging and never connected to; the connection keeps serving its own host afterwards."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

from proxy_kit import Rig, rig

LISTED, ORIGIN, BLOCKED = ("listed.roja-proxy.test", "origin.roja-proxy.test",
                           "blocked.roja-proxy.test")


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str,
                   path: str) -> tuple[int, dict[str, str], str]:
    """One GET on the open connection; (status, headers, body). Fails on a hang (10 s)."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in
               (line.partition(":") for line in lines[1:] if line)}
    body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 10)
    return int(lines[0].split()[1]), headers, body.decode("utf-8")


def origins_seen(r: Rig) -> int:
    assert r.app.proxy is not None and r.app.proxy.addon is not None
    return r.app.proxy.addon.counts["misdirected"]


async def test_plain_http_host_switch_is_421_and_the_connection_keeps_serving(
        tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        port = r.origin.http_port
        reader, writer = await asyncio.open_connection("127.0.0.2", r.ports["steer_http"])
        status, _, body = await exchange(reader, writer, f"{LISTED}:{port}", "/tjeter")
        assert status == 200 and "origin: /tjeter" in body
        status, _, body = await exchange(reader, writer, f"{LISTED}:{port}", "/tjeter2")
        assert status == 200 and "origin: /tjeter2" in body  # same host: keep-alive works
        status, headers, body = await exchange(reader, writer, f"{ORIGIN}:{port}", "/x")
        assert status == 421 and "origin:" not in body
        assert body.startswith("Roja: kërkesë e drejtuar gabim") and "misdirected" in body
        assert headers["content-type"] == "text/plain; charset=utf-8"
        assert "x-origin" not in headers
        # A blocked host asked on the same connection is still a block (and an incident).
        status, _, body = await exchange(reader, writer, f"{BLOCKED}:{port}", "/")
        assert status == 403 and "Bixhoz" in body
        status, _, body = await exchange(reader, writer, f"{LISTED}:{port}", "/shembull/a")
        assert status == 403 and "Kjo faqe u bllokua" in body
        status, _, body = await exchange(reader, writer, f"{LISTED}:{port}", "/tjeter3")
        assert status == 200 and "origin: /tjeter3" in body
        writer.close()
        await writer.wait_closed()
        assert origins_seen(r) == 1
        # A new connection for the other host is served (what the client does after 421).
        reader, writer = await asyncio.open_connection("127.0.0.2", r.ports["steer_http"])
        status, _, body = await exchange(reader, writer, f"{ORIGIN}:{port}", "/x")
        assert status == 200 and "origin: /x" in body
        writer.close()


async def test_intercepted_tls_host_other_than_the_sni_is_421_or_a_block(
        tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        port = r.origin.https_port
        ctx = ssl.create_default_context(cafile=str(r.both_cas()))
        reader, writer = await asyncio.open_connection(
            "127.0.0.2", r.ports["steer_https"], ssl=ctx, server_hostname=LISTED)
        status, _, body = await exchange(reader, writer, f"{LISTED}:{port}", "/a")
        assert status == 200 and "origin: /a" in body
        status, _, body = await exchange(reader, writer, f"{ORIGIN}:{port}", "/x")
        assert status == 421 and "origin:" not in body  # an allowed host, not the SNI's
        status, _, body = await exchange(reader, writer, f"{BLOCKED}:{port}", "/")
        assert status == 403 and "Bixhoz" in body       # fronting to a blocked host
        status, _, body = await exchange(reader, writer, f"{LISTED}:{port}", "/b")
        assert status == 200 and "origin: /b" in body
        writer.close()
        assert origins_seen(r) == 1


async def test_explicit_proxy_still_serves_many_hosts_on_one_connection(
        tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        reader, writer = await asyncio.open_connection("127.0.0.1", r.ports["explicit"])
        for host in (LISTED, ORIGIN, LISTED):
            url = f"http://{host}:{r.origin.http_port}/p"
            writer.write(f"GET {url} HTTP/1.1\r\nHost: {host}:{r.origin.http_port}\r\n\r\n"
                         .encode())
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            assert head.startswith(b"HTTP/1.1 200"), head
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length"))
            assert f"host: {host}" in (await reader.readexactly(length)).decode()
        writer.close()
        assert origins_seen(r) == 0
