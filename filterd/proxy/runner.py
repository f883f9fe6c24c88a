"""mitmproxy inside the appliance: a `Master` on the appliance's own asyncio loop (in-process,
no subprocess), with only the addons the filter needs and the Roja addon.

Why in-process: the addon asks the policy object the DNS server uses (`policy_ref.current`,
swapped on reload) and submits incidents to the same writer, with no IPC and one process to
supervise. `Master.run()` is not used: it installs mitmproxy's exception handler and eager
task factory on the whole loop; instead `start` brings up the listeners and sends `running`,
and `stop` closes them and sends `done`.

Listeners (mitmproxy modes):
- explicit proxy: `regular@<listen>` (also what the PAC file and WPAD point to);
- steering: `reverse:http://roja-steered.invalid@<steer address>:<port>` on the HTTP and
  the HTTPS port. Reverse mode takes origin-form requests and raw TLS on one port; the fixed
  target is a placeholder that is never connected to: the addon sets the real destination
  from the SNI (at ClientHello) or the Host header. `regular` needs absolute-form or CONNECT
  and `transparent` needs a firewall redirect, so neither serves DNS-steered clients;
- transparent: `transparent@<transparent_host>:<[firewall] proxy_http_port / _https_port>`
  (the nftables redirect comes from `roja firewall`; mitmproxy reads the original address,
  SO_ORIGINAL_DST for IPv4 and IP6T_SO_ORIGINAL_DST for IPv6). The default host "" gives
  `transparent@:<port>`, which asyncio binds on 0.0.0.0 and on :: (IPv6-only socket), so the
  redirected IPv4 and IPv6 connections both arrive; one address binds that family only.

Options: `connection_strategy = lazy` (nothing is connected before a decision),
`keep_host_header`, `upstream_cert = false` (a blocked host is never contacted),
`stream_large_bodies`, `tcp_timeout` = idle timeout, HTTP/3 off (QUIC cannot be filtered
here), upstream certificates checked against `[proxy] upstream_ca_file` when set. mitmproxy
has no limit on request-head size (a FIXME in its HTTP/1 reader), so `guard_header_size` adds
one: a head over `MAX_HEAD` bytes gets 431 and the connection closes. `widen_relay_reads` lets
its relay read up to 256 KiB per event instead of 64 KiB (measured; see `RELAY_READ`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Generator, Iterable
from typing import Any

from h11._receivebuffer import ReceiveBuffer
from mitmproxy import options
from mitmproxy.addons import disable_h2c, next_layer, proxyserver, tlsconfig
from mitmproxy.master import Master
from mitmproxy.proxy import commands, events, server
from mitmproxy.proxy.layers.http import _http1

from filterd.proxy.addon import PLACEHOLDER, RojaAddon
from filterd.proxy.config import ProxySettings

log = logging.getLogger("roja.proxy")
MAX_HEAD = 64 * 1024


def mode_specs(settings: ProxySettings, transparent_ports: tuple[int, int]) -> list[str]:
    s = settings
    out: list[str] = []
    if s.listen is not None:
        out.append(f"regular@{s.listen[0]}:{s.listen[1]}")
    if s.mode == "steering":
        for address in (s.steer_ipv4, s.steer_ipv6):
            if address:
                for port in (s.steer_http_port, s.steer_https_port):
                    out.append(f"reverse:http://{PLACEHOLDER}@{address}:{port}")
    elif s.mode == "transparent":
        for port in transparent_ports:
            out.append(f"transparent@{s.transparent_host}:{port}")
    return out


# mitmproxy's connection loop reads 64 KiB per event, and each event costs tens of µs of
# Python in its layer stack. Measured with bench/proxy (256 MiB through an allowed tunnel, 3
# rounds): reading up to 256 KiB at a time cut the relay's CPU per MB from 1.56 to 1.30 ms by
# SNI and from 2.35 to 1.42 ms by CONNECT (0.49× → 0.63× of direct, squid 0.56-0.63×).
RELAY_READ = 256 * 1024
MITMPROXY_READ = 65535  # the size mitmproxy's ConnectionHandler.handle_connection asks for


class _WideReader:
    """A StreamReader whose relay reads may return up to `RELAY_READ` bytes."""

    __slots__ = ("_reader",)

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def read(self, n: int = -1) -> Coroutine[Any, Any, bytes]:
        return self._reader.read(RELAY_READ if n == MITMPROXY_READ else n)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


def widen_relay_reads() -> None:
    """Wrap the asyncio readers mitmproxy keeps per connection (once per process)."""
    original = server.ConnectionIO.__init__
    if getattr(original, "roja_wide", False):
        return

    def init(self: Any, handler: Any = None, reader: Any = None, writer: Any = None) -> None:
        if isinstance(reader, asyncio.StreamReader):
            reader = _WideReader(reader)
        original(self, handler, reader, writer)

    init.roja_wide = True  # type: ignore[attr-defined]
    server.ConnectionIO.__init__ = init  # type: ignore[method-assign]


def guard_header_size() -> None:
    """Give mitmproxy's HTTP/1 server a bound on the request head (once per process)."""
    original = _http1.Http1Server.read_headers
    if getattr(original, "roja_guard", False):
        return

    def read_headers(self: Any, event: events.ConnectionEvent
                     ) -> Generator[commands.Command, Any, None]:
        if len(self.buf) > MAX_HEAD and b"\r\n\r\n" not in bytes(self.buf)[:MAX_HEAD + 4]:
            yield commands.SendData(self.conn, _http1.make_error_response(
                431, "Request header fields too large"))
            yield commands.CloseConnection(self.conn)
            self.buf = ReceiveBuffer()
            self.state = self.done
            return
        yield from original(self, event)

    read_headers.roja_guard = True  # type: ignore[attr-defined]
    _http1.Http1Server.read_headers = read_headers  # type: ignore[method-assign]


class ProxyRunner:
    def __init__(self, settings: ProxySettings, addon: RojaAddon, ca_dir: str,
                 transparent_ports: tuple[int, int] = (8080, 8443),
                 extra_options: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self.addon = addon
        self.ca_dir = ca_dir
        self.modes = mode_specs(settings, transparent_ports)
        self.extra_options = extra_options or {}
        self.master: Master | None = None
        self._proxyserver: proxyserver.Proxyserver | None = None

    async def start(self) -> None:
        guard_header_size()
        widen_relay_reads()
        master = Master(options.Options(), event_loop=asyncio.get_running_loop())
        self._proxyserver = proxyserver.Proxyserver()  # type: ignore[no-untyped-call]
        master.addons.add(  # type: ignore[no-untyped-call]
            self._proxyserver, next_layer.NextLayer(), tlsconfig.TlsConfig(),
            disable_h2c.DisableH2C(), self.addon)
        s = self.settings
        upstream_ca = {} if s.upstream_ca_file is None else {
            "ssl_verify_upstream_trusted_ca": str(s.upstream_ca_file)}
        master.options.update(  # type: ignore[no-untyped-call]
            confdir=self.ca_dir, mode=self.modes, connection_strategy="lazy",
            keep_host_header=True, upstream_cert=False, http3=False, rawtcp=False,
            stream_large_bodies=s.stream_large_bodies, tcp_timeout=s.idle_timeout,
            **{**upstream_ca, **self.extra_options})
        self.master = master
        if not await self._proxyserver.setup_servers():
            await self.stop()
            raise OSError(f"the proxy could not listen on all of: {', '.join(self.modes)} "
                          "(see the log above)")
        await master.running()
        self.addon.own = set(self.listen_addrs)
        log.info("proxy listening: %s", ", ".join(self.modes))

    @property
    def listen_addrs(self) -> list[tuple[str, int]]:
        if self._proxyserver is None:
            return []
        return [(str(a[0]), int(a[1])) for a in self._proxyserver.listen_addrs()]

    def address_of(self, kind: str) -> Iterable[tuple[str, int]]:
        """Bound addresses of listeners of `kind` ("regular", "reverse", "transparent")."""
        if self._proxyserver is None:
            return []
        return [(str(a[0]), int(a[1])) for server in self._proxyserver.servers
                if server.mode.type_name == kind for a in server.listen_addrs]

    async def stop(self) -> None:
        if self._proxyserver is not None:
            await self._proxyserver.servers.update([])
            for handler in list(self._proxyserver.connections.values()):
                try:
                    handler.close_connection(handler.client)
                except (KeyError, AssertionError):  # already closing
                    continue
        if self.master is not None:
            await self.master.done()
            self.master = None
