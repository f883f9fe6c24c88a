"""The block-page server (aiohttp): where DNS sends blocked names (`block_answer =
"blockpage"`), the unblock form's target, the PAC file and the CA download page.

    GET  any host, any path  → the block page (403) when the Host is blocked for the client's
                                group, else a short page about the filter (200); a Host that
                                is an address (this server's own) is never "blocked" here:
                                the address rules are about where the proxy connects
    POST /unblock            → records a "blocked by mistake" request (signed token only)
    GET  /proxy.pac, /wpad.dat → proxy auto-configuration for the explicit proxy
    GET  /ca, /ca/roja-ca.pem, /ca/roja-ca.cer → the school CA and how to install it

HTTP on `[proxy] blockpage_listen`; HTTPS on `blockpage_tls_listen` with a certificate for the
requested name issued by the school CA (so a device with the CA sees the page, not a warning).
The DNS answer already recorded the incident, so a page view records nothing more.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from pathlib import Path

from aiohttp import web

from filterd.proxy import ca
from filterd.proxy.blockpage import BLOCK_HEADERS, BlockInfo, Pages
from filterd.proxy.config import ProxySettings
from filterd.proxy.gate import Gate
from filterd.unblock_requests import add_request
from policy.addresses import IP_LITERAL, PRIVATE
from reporting.pseudonym import load_or_create_key, pseudonym

log = logging.getLogger("roja.proxy")
MAX_BODY = 8192
REQUESTS_PER_HOUR = 20
PAC_TYPE = "application/x-ns-proxy-autoconfig"
ADDRESS_RULES = (IP_LITERAL, PRIVATE)

PAC = """function FindProxyForURL(url, host) {
  if (isPlainHostName(host) || host == "localhost" || dnsDomainIs(host, ".local"))
    return "DIRECT";
  if (/^[0-9.]+$/.test(host) && (isInNet(host, "10.0.0.0", "255.0.0.0") ||
      isInNet(host, "172.16.0.0", "255.240.0.0") || isInNet(host, "192.168.0.0", "255.255.0.0") ||
      isInNet(host, "127.0.0.0", "255.0.0.0")))
    return "DIRECT";
  return "PROXY %s";
}
"""


class BlockServer:
    def __init__(self, settings: ProxySettings, state_dir: Path, gate: Gate, pages: Pages,
                 school: str = "") -> None:
        self.settings = settings
        self.state_dir = state_dir
        self.gate = gate
        self.pages = pages
        self.ca_dir = settings.ca_path(state_dir)
        self.school = school
        self._runner: web.AppRunner | None = None
        self._counts: dict[str, tuple[float, int]] = {}
        self.bound: list[tuple[str, int]] = []

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_get("/proxy.pac", self.pac)
        app.router.add_get("/wpad.dat", self.pac)
        app.router.add_get("/ca", self.ca_page)
        app.router.add_get("/ca/roja-ca.pem", self.ca_pem)
        app.router.add_get("/ca/roja-ca.cer", self.ca_cer)
        app.router.add_post("/unblock", self.unblock)
        app.router.add_route("GET", "/{tail:.*}", self.page)
        return app

    async def start(self) -> None:
        s = self.settings
        self._runner = web.AppRunner(self.app(), access_log=None, handler_cancellation=True)
        await self._runner.setup()
        sites: list[web.TCPSite] = []
        if s.blockpage_listen is not None:
            host, port = s.blockpage_listen
            sites.append(web.TCPSite(self._runner, host, port, reuse_address=True))
        if s.blockpage_tls_listen is not None:
            host, port = s.blockpage_tls_listen
            contexts = await asyncio.to_thread(ca.SniContexts, self.ca_dir, host)
            sites.append(web.TCPSite(self._runner, host, port, ssl_context=contexts.default,
                                     reuse_address=True))
        for site in sites:
            await site.start()
            server = site._server
            if server is not None and isinstance(server, asyncio.base_events.Server):
                self.bound += [sock.getsockname()[:2] for sock in server.sockets]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- handlers --

    async def page(self, request: web.Request) -> web.StreamResponse:
        host = request.host or ""
        group = self.gate.group(request.remote or "")
        outcome = self.gate.connection(group, [host]) if host else None
        if outcome is not None and outcome.decision is not None and outcome.stops \
                and outcome.decision.list_id not in ADDRESS_RULES:
            d = outcome.decision
            body = self.pages.block(BlockInfo(group.id, outcome.host, d.category, d.list_id,
                                              d.confidential), doh=outcome.kind == "doh")
            return web.Response(status=403, body=body, headers=dict(BLOCK_HEADERS))
        return web.Response(body=self.pages.index(), headers=dict(BLOCK_HEADERS))

    async def unblock(self, request: web.Request) -> web.StreamResponse:
        try:
            form = await request.post()
        except (web.HTTPRequestEntityTooLarge, ValueError):
            return web.Response(status=413, text="Shumë e madhe / too large\n")
        token, note = form.get("token"), form.get("note", "")
        info = self.pages.verify(token) if isinstance(token, str) else None
        client = request.remote or ""
        if info is None or not isinstance(note, str) or not self._allow(client):
            return web.Response(status=400, body=self.pages.sent(False),
                                headers=dict(BLOCK_HEADERS))
        key = await asyncio.to_thread(load_or_create_key, self.state_dir)
        await asyncio.to_thread(
            add_request, self.state_dir, group_id=info.group_id, host=info.host,
            category=info.category, list_id=info.list_id,
            client=pseudonym(key, client) if client else "", note=note,
            confidential=info.confidential)
        return web.Response(body=self.pages.sent(True), headers=dict(BLOCK_HEADERS))

    def _allow(self, client: str) -> bool:
        """At most REQUESTS_PER_HOUR form posts per client (memory bounded)."""
        now = time.monotonic()
        if len(self._counts) > 10000:
            self._counts.clear()
        start, n = self._counts.get(client, (now, 0))
        if now - start > 3600:
            start, n = now, 0
        self._counts[client] = (start, n + 1)
        return n < REQUESTS_PER_HOUR

    async def pac(self, request: web.Request) -> web.StreamResponse:
        listen = self.settings.listen
        if listen is None:
            return web.Response(status=404, text="Pa proxy të shprehur / no explicit proxy\n")
        host, port = listen
        if ipaddress.ip_address(host).is_unspecified:
            host = (request.host or "").rsplit(":", 1)[0] or host
        shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
        return web.Response(text=PAC % f"{shown}:{port}", content_type=PAC_TYPE)

    async def ca_page(self, request: web.Request) -> web.StreamResponse:
        fp = await asyncio.to_thread(ca.fingerprint, self.ca_dir)
        body = self.pages.ca(fp)
        return web.Response(body=body, headers=dict(BLOCK_HEADERS))

    async def ca_pem(self, request: web.Request) -> web.StreamResponse:
        data = await asyncio.to_thread(ca.ca_cert_pem, self.ca_dir)
        return web.Response(body=data, headers={
            "Content-Type": "application/x-x509-ca-cert",
            "Content-Disposition": 'attachment; filename="roja-ca.pem"'})

    async def ca_cer(self, request: web.Request) -> web.StreamResponse:
        data = await asyncio.to_thread(ca.ca_cert_der, self.ca_dir)
        return web.Response(body=data, headers={
            "Content-Type": "application/pkix-cert",
            "Content-Disposition": 'attachment; filename="roja-ca.cer"'})
