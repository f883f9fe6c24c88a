"""The mitmproxy addon: a thin adapter between mitmproxy's hooks and `gate` (which asks the
policy). It guards, asks, records the incident and serves the block page; it holds no rules.

Per client connection it remembers the names it decided to let through; `server_connect`
connects only to one of those (domain fronting: CONNECT target, SNI and Host are each
decided, any block blocks, and the connection goes to the decided name, resolved through the
appliance's upstream, never to the client's choice of address or to the proxy itself).

Hooks: `client_connected` (connection limit), `http_connect` (explicit proxy: the CONNECT
target), `tls_clienthello` (by SNI: pass through undecrypted, intercept, block or refuse),
`requestheaders` (per URL: the block page or the request on its way, with safe search),
`responseheaders` (drops Alt-Svc so clients stay on TCP), `server_connect`/`_connected`.
A blocked and an unlisted path on a listed host take the same path through here; the block
response's headers are constant (`blockpage.BLOCK_HEADERS`).

Everything the proxy connects to is decided (issue 18): an IP-literal host is a policy
decision like a name (`policy.addresses`); the name the proxy resolves is decided again
through its CNAME chain before anything is sent (`_aliases`, `gate.request_aliases`); the
address it connects to must pass `gate.destination` (no private ranges not allowed, never the
gateway itself); CONNECT goes only to `[proxy] connect_ports`; and an absolute-form request
target decides and routes, a Host header that disagrees with it is 400 (RFC 9112 3.2.2).

A steered or transparent connection serves one host: the SNI's name (intercepted TLS) or the
first Host decided (plain HTTP). A later request for another host on it is decided like any
other (a block is the block page) and otherwise answered `421 Misdirected Request`, which
tells the client to open a new connection for that host (RFC 9110 15.5.20); the connection
stays open for its own host. The explicit proxy serves any host on one connection.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from mitmproxy import connection, http
from mitmproxy.proxy import mode_specs, server_hooks
from mitmproxy.tls import ClientHelloData

from filterd.proxy.blockpage import BLOCK_HEADERS, BlockInfo, Pages
from filterd.proxy.gate import Gate, Outcome, canonical_names, record, safe_search_param
from filterd.proxy.resolve import UpstreamResolver
from policy import Group
from policy.addresses import host_address
from reporting.incidents import IncidentSink

log = logging.getLogger("roja.proxy")
# The reverse-mode target of the steering listener: never connected to (server_connect
# refuses it); every real destination comes from the SNI or the Host header.
PLACEHOLDER = "roja-steered.invalid"
REFUSED_TEXT = ("Roja: lidhja u refuzua nga filtri i shkollës / "
                "the connection was refused by the school's filter\n")
PORT_TEXT = ("Roja: CONNECT lejohet vetëm në portat e lejuara ([proxy] connect_ports) / "
             "CONNECT is allowed only to the permitted ports\n")
CONFLICT_TEXT = ("Roja: kërkesë e pavlefshme: Host nuk përputhet me adresën e kërkesës / "
                 "bad request: the Host header does not match the request target\n")
MISDIRECTED_TEXT = ("Roja: kërkesë e drejtuar gabim: kjo lidhje shërben një faqe tjetër; "
                    "hapeni në një lidhje të re / misdirected request: this connection serves "
                    "another site; open it on a new connection\n")
TEXT_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
)


@dataclass
class ClientState:
    decided: set[str] = field(default_factory=set)  # names this connection may reach
    refused: str = ""                               # why the connection is refused
    block: Outcome | None = None                    # a blocked host intercepted for the page
    bound: str = ""                                 # the one host a steered/transparent
                                                    # connection serves (SNI or first Host)


def _mode(client: connection.Client) -> str:
    mode = client.proxy_mode
    if isinstance(mode, mode_specs.RegularMode):
        return "explicit"
    if isinstance(mode, mode_specs.ReverseMode):
        return "steering"
    return "transparent"


class RojaAddon:
    def __init__(self, gate: Gate, pages: Pages, resolver: UpstreamResolver,
                 incidents: IncidentSink | None, *, ca_installed: bool = False,
                 max_connections: int = 2000, steer_tls_port: int = 443,
                 connect_ports: frozenset[int] = frozenset({443})) -> None:
        self.gate = gate
        self.pages = pages
        self.resolver = resolver
        self.incidents = incidents
        self.ca_installed = ca_installed
        self.max_connections = max_connections
        self.steer_tls_port = steer_tls_port  # the origins' TLS port (tests use their own)
        self.connect_ports = connect_ports
        self.clients: dict[str, ClientState] = {}
        self._names: dict[str, tuple[str, int]] = {}
        self.own: set[tuple[str, int]] = set()  # the proxy's listeners: never an upstream
        self.counts = {"blocked": 0, "doh_refused": 0, "passed_through": 0, "intercepted": 0,
                       "refused": 0, "bad_request": 0, "too_many": 0,
                       "misdirected": 0}

    # -- connections --

    def client_connected(self, client: connection.Client) -> None:
        if len(self.clients) >= self.max_connections:
            self.counts["too_many"] += 1
            client.error = "too many connections"
            return
        self.clients[client.id] = ClientState()

    def client_disconnected(self, client: connection.Client) -> None:
        self.clients.pop(client.id, None)

    def _state(self, client: connection.Client) -> ClientState:
        return self.clients.setdefault(client.id, ClientState())

    def _who(self, client: connection.Client) -> tuple[str, Group]:
        ip = str(client.peername[0]) if client.peername else ""
        return ip, self.gate.group(ip)

    def _stop(self, outcome: Outcome, ip: str, group: Group) -> None:
        record(self.incidents, outcome, ip, group)
        self.counts["doh_refused" if outcome.kind == "doh" else "blocked"] += 1

    async def _aliases(self, name: str) -> tuple[str, ...]:
        """The CNAME chain of a name the proxy will connect to (() for an address, or when
        it cannot be resolved: `server_connect` then fails with the reason)."""
        if not name or host_address(name) is not None:
            return ()
        try:
            return (await self.resolver.resolve(name)).aliases
        except LookupError:
            return ()

    async def _listed(self, group: Group, outcome: Outcome) -> Outcome:
        """`outcome`, or a block when the address its name resolves to is in an address list
        for `group` (the same answer `server_connect` will connect to, from the cache)."""
        if not self.gate.policy.current.address_lists or host_address(outcome.host) is not None:
            return outcome
        try:
            resolved = await self.resolver.resolve(outcome.host)
        except LookupError:
            return outcome
        found = self.gate.listed_destination(group, resolved.address, outcome.host)
        return outcome if found is None else Outcome("block", outcome.host, found)

    async def _follow(self, group: Group, outcome: Outcome, names: list[str | None],
                      dest: str) -> Outcome:
        """`outcome` decided again with the CNAME chain of `dest` (the name connected to)."""
        aliases = await self._aliases(dest)
        return self.gate.connection(group, [*names, *aliases]) if aliases else outcome

    # -- explicit proxy: CONNECT --

    async def http_connect(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or not flow.live:
            return
        ip, group = self._who(flow.client_conn)
        if flow.request.port not in self.connect_ports:
            self.counts["refused"] += 1
            flow.response = http.Response.make(403, PORT_TEXT, dict(TEXT_HEADERS))
            return
        outcome = self.gate.connection(group, [flow.request.host])
        if not outcome.stops:
            outcome = await self._follow(group, outcome, [flow.request.host], outcome.host)
        if outcome.kind == "bad":
            self.counts["bad_request"] += 1
            flow.response = http.Response.make(400, "Roja: adresë e pavlefshme / bad address\n")
        elif outcome.stops:
            self._stop(outcome, ip, group)
            if outcome.kind == "block" and self.ca_installed:
                self._state(flow.client_conn).block = outcome  # intercept to show the page
            else:
                flow.response = http.Response.make(403, REFUSED_TEXT)
        else:
            self._state(flow.client_conn).decided.add(outcome.host)

    # -- TLS, by SNI --

    async def tls_clienthello(self, data: ClientHelloData) -> None:
        client = data.context.client
        st = self._state(client)
        if st.block is not None:
            return  # a blocked CONNECT with the school CA: intercept, the page follows
        ip, group = self._who(client)
        mode = _mode(client)
        sni = data.client_hello.sni
        target = data.context.server.address
        names: list[str | None] = [sni]
        if mode == "explicit" and target:
            names.append(str(target[0]))
        elif not sni:
            if mode == "steering" or not target:
                return self._refuse(data, st, "no SNI: destination unknown")
            names = [str(target[0])]  # transparent without SNI: the address is all we have
        outcome = self.gate.connection(group, names)
        if not outcome.stops:
            sni_name = canonical_names([sni]) if sni else None
            dest = sni_name[0] if sni_name else outcome.host
            outcome = await self._follow(group, outcome, names, dest)
        if outcome.kind == "bad":
            return self._refuse(data, st, "unreadable SNI")
        if outcome.stops:
            self._stop(outcome, ip, group)
            if outcome.kind == "block" and self.ca_installed:
                st.block = outcome
                return
            return self._refuse(data, st, f"{outcome.kind}: {outcome.host}")
        if outcome.kind == "intercept":
            self.counts["intercepted"] += 1
            if sni and mode != "explicit":
                st.bound = outcome.host  # the SNI's name: the only Host served here
            return
        # Allowed, no URL entries: forward the encrypted bytes to the name decided on.
        self.counts["passed_through"] += 1
        data.ignore_connection = True
        port = self.steer_tls_port if mode == "steering" or not target else int(target[1])
        dest = (canonical_names([sni]) or [outcome.host])[0] if sni else outcome.host
        st.decided.add(dest)
        data.context.server.address = (dest, port)

    def _refuse(self, data: ClientHelloData, st: ClientState, why: str) -> None:
        self.counts["refused"] += 1
        st.refused = why
        data.ignore_connection = True  # nothing is decrypted; server_connect closes it

    # -- requests (plain HTTP, and HTTPS that was intercepted) --

    async def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or not flow.live or flow.request.method == "CONNECT":
            return
        client = flow.client_conn
        st = self._state(client)
        ip, group = self._who(client)
        mode = _mode(client)
        req = flow.request
        scheme = "https" if client.tls else "http"
        host_header = req.host_header or ""
        others: list[str | None] = [client.sni]
        port = 0
        if mode == "explicit" and not client.tls:
            # Absolute-form: the request target decides and routes (RFC 9112 3.2.2); a Host
            # header that names another authority is refused, never followed. (mitmproxy has
            # put the target in req.host and cleared req.authority; an origin-form request
            # got req.host from the Host header, so the two agree.)
            primary, port = req.host, req.port
            if host_header and not _same_authority(host_header, req.host, port, scheme):
                self.counts["bad_request"] += 1
                flow.response = http.Response.make(400, CONFLICT_TEXT, dict(TEXT_HEADERS))
                return
        else:
            if mode == "explicit":
                others.append(req.host)  # the CONNECT target of an intercepted tunnel
            # (transparent: req.host is the original address the client's own DNS answer
            # gave; the proxy connects to the Host name instead, so it is not decided.)
            primary = host_header or (req.host if mode == "explicit" else client.sni) or ""
        outcome = st.block or self.gate.request(group, scheme, primary, req.path, others)
        if outcome.kind == "bad" or not primary:
            self.counts["bad_request"] += 1
            flow.response = http.Response.make(
                400, "Roja: kërkesë e pavlefshme / bad request\n", dict(TEXT_HEADERS))
            return
        if not outcome.stops:
            aliases = await self._aliases(outcome.host)
            if aliases:
                outcome = self.gate.request_aliases(group, scheme, req.path, aliases) or outcome
                if outcome.kind == "bad":
                    self.counts["bad_request"] += 1
                    flow.response = http.Response.make(
                        400, "Roja: kërkesë e pavlefshme / bad request\n", dict(TEXT_HEADERS))
                    return
            outcome = await self._listed(group, outcome)
        if outcome.stops:
            if st.block is None:
                self._stop(outcome, ip, group)
            flow.response = self.block_response(outcome, group)
            return
        dest = outcome.host
        if mode != "explicit":
            if not st.bound:
                st.bound = dest
            elif dest != st.bound:
                self.counts["misdirected"] += 1
                flow.response = http.Response.make(421, MISDIRECTED_TEXT, dict(TEXT_HEADERS))
                return
        port = port or _port_of(host_header) or (req.port if mode != "steering" else 0) \
            or (443 if client.tls else 80)
        st.decided.add(dest)
        req.data.host, req.data.port, req.scheme = dest, port, scheme
        param = safe_search_param(group, dest, req.path)
        if param is not None:
            req.query[param[0]] = param[1]
        level = self.gate.youtube_level(group, dest)
        if level is not None:
            req.headers["YouTube-Restrict"] = level

    def block_response(self, outcome: Outcome, group: Group) -> http.Response:
        d = outcome.decision
        assert d is not None
        info = BlockInfo(group.id, outcome.host, d.category, d.list_id, d.confidential)
        return http.Response.make(403, self.pages.block(info, doh=outcome.kind == "doh"),
                                  dict(BLOCK_HEADERS))

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None:
            flow.response.headers.pop("alt-svc", None)  # stay on TCP, where the filter is

    # -- upstream connections --

    async def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        st = self.clients.get(data.client.id)
        address = data.server.address
        if st is None or st.refused or address is None:
            data.server.error = st.refused if st is not None and st.refused else \
                "destination unknown"
            return
        host, port = str(address[0]), int(address[1])
        name = (canonical_names([host]) or [""])[0]
        if host == PLACEHOLDER or name not in st.decided:
            data.server.error = f"{host} was not decided on"
            return
        try:
            resolved = await self.resolver.resolve(name)
        except LookupError as exc:
            data.server.error = f"cannot resolve {host}: {exc}"
            return
        ip = resolved.address
        if (ip, port) in self.own:
            data.server.error = f"{host} leads back to the proxy"
            return
        if resolved.aliases:  # decided in the hooks before; a changed answer is caught here
            _, group = self._who(data.client)
            again = self.gate.connection(group, resolved.aliases)
            if again.stops:
                data.server.error = f"{host} is an alias of {again.host} ({again.kind})"
                return
        refused = self.gate.destination(ip)
        if refused is not None:
            self.counts["refused"] += 1
            data.server.error = f"{host}: {refused.reason}"
            return
        client_ip, group = self._who(data.client)
        listed = self.gate.listed_destination(group, ip, name)
        if listed is not None:  # an address list names it (a tunnel not decrypted, say)
            self._stop(Outcome("block", name, listed), client_ip, group)
            data.server.error = f"{host}: {listed.reason}"
            return
        self._names[data.server.id] = (host, port)
        data.server.address = (ip, port)

    def server_connected(self, data: server_hooks.ServerConnectionHookData) -> None:
        named = self._names.pop(data.server.id, None)
        if named is not None:
            # Back to the name the HTTP layer matches connections on, so later requests on
            # this client connection reuse it (peername keeps the address). mitmproxy's
            # setter refuses changes on open connections, hence the direct write.
            data.server.__dict__["address"] = named

    def server_connect_error(self, data: server_hooks.ServerConnectionHookData) -> None:
        self._names.pop(data.server.id, None)


def _same_authority(host_header: str, host: str, port: int, scheme: str) -> bool:
    """Does the Host header name the request target's host and port (default ports equal)?"""
    named = canonical_names([host_header])
    if not named or named != canonical_names([host]):
        return False
    return (_port_of(host_header) or (443 if scheme == "https" else 80)) == port


def _port_of(host_header: str) -> int:
    """The port of a Host header (`name:8080`, `[::1]:8080`), or 0 when it has none."""
    head, sep, tail = host_header.rpartition(":")
    if not sep or not tail.isdigit() or (head.count(":") and not head.endswith("]")):
        return 0
    port = int(tail)
    return port if 0 < port < 65536 else 0
