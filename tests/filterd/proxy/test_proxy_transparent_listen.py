"""Transparent listeners on real sockets: the default `transparent_host = ""` binds every
address of both families (0.0.0.0 and ::), so connections the firewall redirects over IPv4
and over IPv6 both arrive; an explicit address binds that one only. (The redirect itself and
the original address over IPv6 are tested end to end in `tests/e2e/test_transparent_proxy.py`.)
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import cast

from filterd.proxy.addon import RojaAddon
from filterd.proxy.blockpage import Pages
from filterd.proxy.config import ProxySettings
from filterd.proxy.gate import Gate, PolicySource
from filterd.proxy.resolve import UpstreamResolver
from filterd.proxy.runner import ProxyRunner
from filterd.testing import free_port


def runner(tmp_path: Path, host: str, ports: tuple[int, int]) -> ProxyRunner:
    settings = ProxySettings(enabled=True, mode="transparent", listen=None,
                             transparent_host=host, blockpage_listen=None)
    # Nothing is decided here: only which sockets the listeners bind.
    addon = RojaAddon(Gate(cast(PolicySource, object())), Pages(b"k" * 32, ""),
                      UpstreamResolver([("127.0.0.1", 9)]), None)
    return ProxyRunner(settings, addon, str(tmp_path / "ca"), ports)


async def connects(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
    except OSError:
        return False
    writer.close()
    return True


async def test_default_listeners_take_ipv4_and_ipv6(tmp_path: Path) -> None:
    ports = (free_port(), free_port())
    proxy = runner(tmp_path, "", ports)
    assert proxy.modes == [f"transparent@:{ports[0]}", f"transparent@:{ports[1]}"]
    await proxy.start()
    try:
        assert set(proxy.address_of("transparent")) == {
            (host, port) for host in ("0.0.0.0", "::") for port in ports}
        for port in ports:
            assert await connects("127.0.0.1", port) and await connects("::1", port)
    finally:
        await proxy.stop()


async def test_an_explicit_address_binds_only_that_one(tmp_path: Path) -> None:
    ports = (free_port(), free_port())
    proxy = runner(tmp_path, "127.0.0.1", ports)
    await proxy.start()
    try:
        assert set(proxy.address_of("transparent")) == {("127.0.0.1", p) for p in ports}
        assert await connects("127.0.0.1", ports[0])
        assert not await connects("::1", ports[0])
    finally:
        await proxy.stop()
