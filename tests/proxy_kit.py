"""Test kit for the proxy: a test CA and origin certificate, a real HTTP and HTTPS origin
(aiohttp on ORIGIN_IP, 127.0.0.3), NSD answering the origin's names (with CNAME aliases of a
blocked and a URL-listed name, and `gw` pointing at the gateway's loopback), an appliance
with `[proxy]` on, and curl run as a subprocess (a peer: missing → skip, or fail when
CI=true). The config allows the proxy to reach ORIGIN_IP (`[policy] allow_private`) and
CONNECT to the origin's TLS port (`[proxy] connect_ports`); the gateway's own 127.0.0.1
stays refused."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from peers.nsd import NsdServer, require_peer, start_nsd

from filterd.app import Appliance
from filterd.testing import free_port, running_appliance

ZONE = "roja-proxy.test."
ORIGIN_IP = "127.0.0.3"
NAMES = ("origin.roja-proxy.test", "listed.roja-proxy.test", "blocked.roja-proxy.test",
         "www.youtube.com", "www.google.com", "dns.google", "alias.roja-proxy.test",
         "urlalias.roja-proxy.test")
SCHOOL_CONTACT = "Mësuesi i TIK-ut, dhoma 12"


def _zone(origin: str, body: str) -> str:
    return (f"$TTL 300\n@ SOA ns1.{origin} hostmaster.{origin} 1 3600 600 86400 60\n"
            f"@ NS ns1.{origin}\nns1 A 127.0.0.1\n{body}")


ZONES = {
    ZONE: _zone(ZONE, f"origin A {ORIGIN_IP}\nlisted A {ORIGIN_IP}\nblocked A {ORIGIN_IP}\n"
                      f"www.listed A {ORIGIN_IP}\nalias CNAME blocked\nurlalias CNAME listed\n"
                      "gw A 127.0.0.1\n"),
    "youtube.com.": _zone("youtube.com.", f"www A {ORIGIN_IP}\n"),
    "google.com.": _zone("google.com.", f"www A {ORIGIN_IP}\n"),
    "dns.google.": _zone("dns.google.", f"@ A {ORIGIN_IP}\n"),
}


@dataclass
class Certs:
    ca: Path
    cert: Path
    key: Path

    def der(self) -> bytes:
        return x509.load_pem_x509_certificate(self.cert.read_bytes()).public_bytes(
            serialization.Encoding.DER)


def make_certs(directory: Path, names: tuple[str, ...] = NAMES) -> Certs:
    """A test CA and an origin certificate it signs for `names`."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Origin Test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(n) for n in names]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = Certs(directory / "origin-ca.pem", directory / "origin.pem",
                  directory / "origin-key.pem")
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                            serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    return paths


async def _origin_handler(request: web.Request) -> web.StreamResponse:
    if request.path == "/big":
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.content_length = 8 * 2**20
        await response.prepare(request)
        chunk = b"x" * 2**16
        for _ in range(128):
            await response.write(chunk)
        await response.write_eof()
        return response
    body = (f"origin: {request.path_qs}\nhost: {request.host}\n"
            f"youtube-restrict: {request.headers.get('YouTube-Restrict', '')}\n")
    return web.Response(text=body, headers={"X-Origin": "yes", "Alt-Svc": 'h3=":443"'})


@dataclass
class Origin:
    http_port: int
    https_port: int


@contextlib.asynccontextmanager
async def origin(certs: Certs, host: str = ORIGIN_IP) -> AsyncIterator[Origin]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _origin_handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.cert, certs.key)
    ports = Origin(free_port(), free_port())
    await web.TCPSite(runner, host, ports.http_port).start()
    await web.TCPSite(runner, host, ports.https_port, ssl_context=context).start()
    try:
        yield ports
    finally:
        await runner.cleanup()


LISTS = {
    "urls.txt": "listed.roja-proxy.test/shembull/\nwww.youtube.com/shembull/\n"
                "www.google.com/shembull/\n",
    "bixhoz.txt": "blocked.roja-proxy.test\n",
}


def config(dns_up: NsdServer, lists: Path, ports: dict[str, int], mode: str = "steering",
           ca_installed: bool = False, origin_tls_port: int = 443, group_keys: str = "",
           extra: str = "") -> str:
    return f"""
[state]
dir = "{{state}}"
[school]
name = "Shkolla Test"
[dns]
listen = ["127.0.0.1:{ports['dns']}"]
upstreams = ["{dns_up.host}:{dns_up.port}"]
[[lists]]
id = "urls"
path = "{lists}/urls.txt"
format = "urls"
category = "pornography"
[[lists]]
id = "bixhoz"
path = "{lists}/bixhoz.txt"
category = "gambling"
[[groups]]
id = "nxenesit"
name = "Nxënësit"
networks = ["127.0.0.0/8"]
safe_search = "strict"
{group_keys}
[policy]
default_group = "nxenesit"
allow_private = ["{ORIGIN_IP}/32"]
[proxy]
enabled = true
mode = "{mode}"
listen = "127.0.0.1:{ports['explicit']}"
steer_ipv4 = "127.0.0.2"
steer_http_port = {ports['steer_http']}
steer_https_port = {ports['steer_https']}
blockpage_listen = "127.0.0.1:{ports['page']}"
blockpage_tls_listen = "127.0.0.1:{ports['page_tls']}"
school_contact = "{SCHOOL_CONTACT}"
ca_installed = {str(ca_installed).lower()}
stream_large_bodies = "256k"
connect_ports = [443, {origin_tls_port}]
{extra}"""


@dataclass
class Rig:
    app: Appliance
    origin: Origin
    certs: Certs
    ports: dict[str, int]
    state: Path

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['explicit']}"

    @property
    def mitm_ca(self) -> Path:
        return self.state / "ca" / "mitmproxy-ca-cert.pem"

    def both_cas(self) -> Path:
        path = self.state / "both-cas.pem"
        path.write_bytes(self.certs.ca.read_bytes() + self.mitm_ca.read_bytes())
        return path

    def url(self, host: str, path: str, tls: bool = False) -> str:
        port = self.origin.https_port if tls else self.origin.http_port
        return f"{'https' if tls else 'http'}://{host}:{port}{path}"


@contextlib.asynccontextmanager
async def rig(tmp_path: Path, mode: str = "steering", ca_installed: bool = False, *,
              lists_extra: dict[str, str] | None = None, group_keys: str = "",
              extra: str = "") -> AsyncIterator[Rig]:
    """The rig; `lists_extra` adds list files, `group_keys` keys of the pupils' group, `extra`
    TOML after the config (more `[[lists]]`, say)."""
    certs = make_certs(tmp_path)
    nsd = await asyncio.to_thread(start_nsd, tmp_path / "nsd", ZONES)
    lists = tmp_path / "lists"
    lists.mkdir()
    for name, text in (LISTS | (lists_extra or {})).items():
        (lists / name).write_text(text, encoding="utf-8")
    ports = {k: free_port() for k in ("dns", "explicit", "steer_http", "steer_https", "page",
                                      "page_tls")}
    try:
        async with origin(certs) as org, running_appliance(
                tmp_path, config(nsd, lists, ports, mode, ca_installed, org.https_port,
                                  group_keys, extra.replace("{lists}", str(lists)))) as app:
            assert app.proxy is not None and app.proxy.runner is not None
            assert app.proxy.runner.master is not None and app.proxy.addon is not None
            app.proxy.runner.master.options.update(  # type: ignore[no-untyped-call]
                ssl_verify_upstream_trusted_ca=str(certs.ca))
            app.proxy.addon.steer_tls_port = org.https_port
            yield Rig(app, org, certs, ports, tmp_path / "state")
    finally:
        await asyncio.to_thread(nsd.stop)


def incidents(r: Rig) -> list[tuple[str, str, str, str, str]]:
    """(name, category, list_id, action, source) of every incident so far."""
    db = sqlite3.connect(r.state / "incidents.sqlite")
    try:
        return db.execute("SELECT name, category, list_id, action, source FROM incidents "
                          "ORDER BY id").fetchall()
    finally:
        db.close()


async def wait_for_incidents(r: Rig, n: int) -> list[tuple[str, str, str, str, str]]:
    for _ in range(100):
        found = await asyncio.to_thread(incidents, r)
        if len(found) >= n:
            return found
        await asyncio.sleep(0.05)
    return await asyncio.to_thread(incidents, r)


@dataclass
class CurlResult:
    code: int
    status: int
    headers: str
    body: str
    stderr: str


async def curl(*args: str) -> CurlResult:
    """Run curl; `status` is the HTTP status (0 when none), headers as received."""
    binary = require_peer("curl")
    proc = await asyncio.create_subprocess_exec(
        binary, "-sS", "--max-time", "10", "-D", "-", "-o", "-", "-w", "\n%{http_code}",
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    text = out.decode("utf-8", "replace")
    text, _, status = text.rpartition("\n")
    head, _, body = text.partition("\r\n\r\n")
    while head.startswith("HTTP/") and " 200 Connection established" in head.split("\r\n")[0]:
        head, _, body = body.partition("\r\n\r\n")
    return CurlResult(proc.returncode or 0, int(status or 0), head, body,
                      err.decode("utf-8", "replace"))
