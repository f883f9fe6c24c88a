"""The proxy as one service of the appliance: the school CA, the gate, the mitmproxy runner
and the block-page server, started and stopped together (`Appliance.start/stop`).

The policy is read from the appliance's `PolicyRef` at every decision, so a reload (or an
unblock, or a schedule boundary) applies to the next connection with nothing to restart.
Changes to `[proxy]` itself need a restart (`systemctl restart roja`); reload says so.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from filterd.proxy.addon import RojaAddon
from filterd.proxy.blockpage import Pages, load_key
from filterd.proxy.blockserver import BlockServer
from filterd.proxy.ca import ensure_ca
from filterd.proxy.config import ProxySettings
from filterd.proxy.gate import Gate, PolicySource
from filterd.proxy.resolve import UpstreamResolver
from filterd.proxy.runner import ProxyRunner
from reporting.incidents import IncidentSink

log = logging.getLogger("roja.proxy")


class ProxyService:
    def __init__(self, settings: ProxySettings, state_dir: Path, policy: PolicySource,
                 incidents: IncidentSink | None, upstreams: tuple[tuple[str, int], ...],
                 *, school: str = "", transparent_ports: tuple[int, int] = (8080, 8443),
                 extra_options: dict[str, Any] | None = None,
                 steer_tls_port: int = 443) -> None:
        self.settings = settings
        self.state_dir = state_dir
        self.ca_dir = settings.ca_path(state_dir)
        self.school = school
        self.gate = Gate(policy, settings.youtube_restrict)
        own = [settings.steer_ipv4, settings.steer_ipv6]
        self.resolver = UpstreamResolver(upstreams, refuse=own)
        self.pages: Pages | None = None
        self.addon: RojaAddon | None = None
        self.runner: ProxyRunner | None = None
        self.blockserver: BlockServer | None = None
        self.incidents = incidents
        self.transparent_ports = transparent_ports
        self.extra_options = extra_options
        self.steer_tls_port = steer_tls_port

    async def start(self) -> None:
        s = self.settings
        await asyncio.to_thread(ensure_ca, self.ca_dir, self.school)
        key = await asyncio.to_thread(load_key, self.state_dir)
        self.pages = Pages(key, s.page_url(), s.school_contact)
        self.addon = RojaAddon(self.gate, self.pages, self.resolver, self.incidents,
                               ca_installed=s.ca_installed, max_connections=s.max_connections,
                               steer_tls_port=self.steer_tls_port,
                               connect_ports=s.connect_ports)
        self.blockserver = BlockServer(s, self.state_dir, self.gate, self.pages, self.school)
        await self.blockserver.start()
        self.gateway_addresses()
        self.runner = ProxyRunner(s, self.addon, str(self.ca_dir), self.transparent_ports,
                                  self.extra_options)
        try:
            await self.runner.start()
        except Exception:
            await self.blockserver.stop()
            raise
        log.info("block page at %s", s.page_url() or "(no block-page server)")

    def gateway_addresses(self) -> None:
        """The gateway's own addresses (every card, read from /proc/net): never a
        destination of the proxy, whatever `[policy] allow_private` says."""
        from filterd.bypasswatch.watch import local_addresses  # reads /proc/net only
        self.gate.gateway = frozenset(local_addresses())
        log.info("proxy: the gateway's own addresses are refused as destinations: %s",
                 ", ".join(sorted(map(str, self.gate.gateway))))

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.stop()
        if self.blockserver is not None:
            await self.blockserver.stop()
