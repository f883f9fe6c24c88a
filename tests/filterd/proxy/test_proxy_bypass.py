"""Issue 18, the proxy: nothing it connects to escapes the policy. Explicit and DNS-steered
mode with real clients (curl, raw sockets) through `proxy_kit`'s rig; NSD serves the CNAME
aliases (`alias CNAME blocked`, `urlalias CNAME listed`) and `gw A 127.0.0.1` (the gateway's
own loopback, where the block-page server listens). Transparent mode: tests/e2e/
test_transparent_proxy.py."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

from proxy_kit import ORIGIN_IP, Rig, curl, rig, wait_for_incidents

PAGE_TEXT = "Kjo faqe u bllokua"
H = "roja-proxy.test"


async def raw(host: str, port: int, request: str) -> tuple[int, str]:
    """Send one raw HTTP/1.1 request; (status, whole reply text)."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(request.encode())
    await writer.drain()
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        body = await asyncio.wait_for(reader.readexactly(length), 10) if length else b""
    except (asyncio.IncompleteReadError, ConnectionError):
        return 0, ""
    finally:
        writer.close()
    return int(head.split()[1]), (head + body).decode("utf-8", "replace")


def ip_forms(address: str) -> list[str]:
    """`address` as typed: dotted, decimal, hex and octal (all one host to a browser)."""
    a, b, c, d = (int(x) for x in address.split("."))
    n = (a << 24) | (b << 16) | (c << 8) | d
    return [address, str(n), hex(n), f"0{a:o}.{b}.{c}.0{d:o}"]


# -- addresses typed as hosts --

async def test_ip_literal_hosts_in_every_notation_get_the_block_page(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        by_name = await curl("-x", r.proxy_url, r.url(f"origin.{H}", "/x"))
        assert by_name.status == 200  # the same origin by its name passes
        for form in ip_forms(ORIGIN_IP):
            res = await curl("-x", r.proxy_url, r.url(form, "/x"))
            assert res.status == 403, (form, res)
            assert PAGE_TEXT in res.body and "origin:" not in res.body
        found = await wait_for_incidents(r, 1)
        assert any(f[2] == "ip-literal" and f[1] == "filter_bypass" for f in found), found


async def test_connect_to_an_address_is_refused_with_or_without_sni(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        port = r.origin.https_port
        for form in ip_forms(ORIGIN_IP)[:2]:
            status, _ = await raw("127.0.0.1", r.ports["explicit"],
                                  f"CONNECT {form}:{port} HTTP/1.1\r\nHost: {form}:{port}\r\n\r\n")
            assert status == 403, form
        # With a name in the SNI, curl's --connect-to keeps the address as the CONNECT target.
        res = await curl("-x", r.proxy_url, "--cacert", str(r.certs.ca), "-p",
                         "--connect-to", f"origin.{H}:{port}:{ORIGIN_IP}:{port}",
                         r.url(f"origin.{H}", "/salut", tls=True))
        assert res.status != 200 and "origin:" not in res.body, res


# -- the gateway itself --

async def test_the_gateways_own_services_are_not_reachable_through_the_proxy(
        tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        page = r.ports["page"]
        direct = await curl(f"http://127.0.0.1:{page}/proxy.pac")
        assert direct.status == 200  # the block-page server is there ...
        for url in (f"http://127.0.0.1:{page}/proxy.pac", f"http://2130706433:{page}/proxy.pac",
                    f"http://[::1]:{page}/proxy.pac", f"http://gw.{H}:{page}/proxy.pac",
                    f"http://localhost.:{page}/proxy.pac"):
            res = await curl("-x", r.proxy_url, url)
            assert res.status in (403, 502), (url, res)  # ... but not through the proxy
            assert "FindProxyForURL" not in res.body, url


async def test_connect_only_to_the_configured_ports(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        for port in (22, 25, r.ports["page"]):
            status, text = await raw(
                "127.0.0.1", r.ports["explicit"],
                f"CONNECT origin.{H}:{port} HTTP/1.1\r\nHost: origin.{H}:{port}\r\n\r\n")
            assert status == 403 and "connect_ports" in text, port
        ok = await curl("-x", r.proxy_url, "--cacert", str(r.certs.ca),
                        r.url(f"origin.{H}", "/salut", tls=True))
        assert ok.status == 200, ok


# -- routing: the request target decides --

async def test_the_absolute_form_target_wins_and_a_conflicting_host_is_400(
        tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        target = r.url(f"origin.{H}", "/x")
        others = (f"127.0.0.1:{r.ports['page']}", f"blocked.{H}:{r.origin.http_port}",
                  f"origin.{H}:{r.ports['page']}", f"listed.{H}:{r.origin.http_port}")
        for host in others:
            status, text = await raw("127.0.0.1", r.ports["explicit"],
                                     f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n")
            assert status == 400 and "origin:" not in text, (host, status, text)
        for host in (f"origin.{H}:{r.origin.http_port}", f"ORIGIN.{H}.:{r.origin.http_port}"):
            status, text = await raw("127.0.0.1", r.ports["explicit"],
                                     f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n")
            assert status == 200 and "origin: /x" in text, (host, text)


# -- aliases: the proxy's own resolution decides every name of the chain --

async def test_an_alias_of_a_blocked_name_is_blocked(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        res = await curl("-x", r.proxy_url, r.url(f"alias.{H}", "/"))
        assert res.status == 403 and "Bixhoz" in res.body and "origin:" not in res.body, res
        tls = await curl("-x", r.proxy_url, "--cacert", str(r.certs.ca),
                         r.url(f"alias.{H}", "/", tls=True))
        assert tls.status != 200 and "origin:" not in tls.body, tls


async def test_an_alias_of_a_url_listed_name_is_decided_per_url(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        host = f"urlalias.{H}"
        blocked = await curl("-x", r.proxy_url, r.url(host, "/shembull/a"))
        assert blocked.status == 403 and "Pornografi" in blocked.body, blocked
        ok = await curl("-x", r.proxy_url, r.url(host, "/tjeter"))
        assert ok.status == 200 and "origin: /tjeter" in ok.body, ok
        # Over TLS the alias is intercepted (not passed through) and decided per URL.
        cas = str(r.both_cas())
        tls_blocked = await curl("-x", r.proxy_url, "--cacert", cas,
                                 r.url(host, "/shembull/a", tls=True))
        assert tls_blocked.status == 403 and "Pornografi" in tls_blocked.body, tls_blocked
        tls_ok = await curl("-x", r.proxy_url, "--cacert", cas, r.url(host, "/tjeter", tls=True))
        assert tls_ok.status == 200, tls_ok


# -- the same on the DNS-steered listener --

def _steer(r: Rig, host: str, tls: bool) -> list[str]:
    port = r.origin.https_port if tls else r.origin.http_port
    listener = r.ports["steer_https" if tls else "steer_http"]
    return ["--connect-to", f"{host}:{port}:127.0.0.2:{listener}"]


async def test_steered_listener_decides_addresses_the_gateway_and_aliases(
        tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        listener = r.ports["steer_http"]
        for host in (f"127.0.0.1:{r.ports['page']}", f"{ORIGIN_IP}:{r.origin.http_port}",
                     f"2130706433:{r.ports['page']}"):
            status, text = await raw("127.0.0.2", listener,
                                     f"GET /proxy.pac HTTP/1.1\r\nHost: {host}\r\n\r\n")
            assert status == 403 and PAGE_TEXT in text, (host, text)
        gw = f"gw.{H}:{r.ports['page']}"
        status, text = await raw("127.0.0.2", listener,
                                 f"GET /proxy.pac HTTP/1.1\r\nHost: {gw}\r\n\r\n")
        assert status == 502 and "FindProxyForURL" not in text, text
        urlalias = f"urlalias.{H}"
        blocked = await curl(*_steer(r, urlalias, False), r.url(urlalias, "/shembull/a"))
        assert blocked.status == 403 and "Pornografi" in blocked.body, blocked
        # An alias of a blocked name in the SNI is refused, never passed through.
        ctx = ssl.create_default_context(cafile=str(r.certs.ca))
        try:
            _, writer = await asyncio.open_connection(
                "127.0.0.2", r.ports["steer_https"], ssl=ctx, server_hostname=f"alias.{H}")
        except (ssl.SSLError, ConnectionError):
            return
        writer.close()
        raise AssertionError("the alias of a blocked name was passed through")
