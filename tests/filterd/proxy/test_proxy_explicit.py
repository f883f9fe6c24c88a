"""The explicit proxy with real clients (curl, httpx): URL decisions, the undecrypted tunnel,
DoH refused, incidents written, safe search and YouTube-Restrict, same-response rule."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import httpx
from proxy_kit import curl, rig, wait_for_incidents


async def test_plain_http_listed_path_blocked_other_paths_pass(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        ok = await curl("-x", r.proxy_url, r.url("listed.roja-proxy.test", "/tjeter"))
        assert ok.status == 200, ok
        assert "origin: /tjeter" in ok.body and "x-origin: yes" in ok.headers.lower()
        assert "alt-svc" not in ok.headers.lower()  # clients stay on TCP, where we filter
        for spelling in ("/shembull/faqe?x=1", "/SHEMBULL/../shembull/faqe", "/%73hembull/"):
            blocked = await curl("-x", r.proxy_url, "--path-as-is",
                                 r.url("listed.roja-proxy.test", spelling))
            assert blocked.status == 403, (spelling, blocked)
            assert "Kjo faqe u bllokua" in blocked.body and "Pornografi" in blocked.body
            assert "ALO 116 111" in blocked.body and "isigurt.al" in blocked.body
        other = await curl("-x", r.proxy_url, r.url("origin.roja-proxy.test", "/shembull/"))
        assert other.status == 200  # the same path on an unlisted host passes
        whole = await curl("-x", r.proxy_url, r.url("blocked.roja-proxy.test", "/"))
        assert whole.status == 403 and "Bixhoz" in whole.body
        found = await wait_for_incidents(r, 2)
        assert ("http://listed.roja-proxy.test/shembull/faqe", "pornography", "urls",
                "blocked", "proxy") in found
        assert any(f[2] == "bixhoz" and f[4] == "proxy" for f in found)


async def test_tls_to_unlisted_host_is_a_tunnel_with_the_origins_certificate(
        tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        url = r.url("origin.roja-proxy.test", "/salut", tls=True)
        # Trusting only the origin's CA: works only if nothing is decrypted.
        ok = await curl("-x", r.proxy_url, "--cacert", str(r.certs.ca), url)
        assert ok.status == 200, ok
        reader, writer = await asyncio.open_connection("127.0.0.1", r.ports["explicit"])
        writer.write(f"CONNECT origin.roja-proxy.test:{r.origin.https_port} HTTP/1.1\r\n"
                     f"Host: origin.roja-proxy.test:{r.origin.https_port}\r\n\r\n".encode())
        await writer.drain()
        assert b" 200 " in await reader.readuntil(b"\r\n\r\n")
        ctx = ssl.create_default_context(cafile=str(r.certs.ca))
        await writer.start_tls(ctx, server_hostname="origin.roja-proxy.test")
        tls = writer.get_extra_info("ssl_object")
        assert tls.getpeercert(binary_form=True) == r.certs.der()
        writer.close()


async def test_tls_to_a_host_with_url_entries_is_intercepted_and_decided_per_url(
        tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        ctx = ssl.create_default_context(cafile=str(r.both_cas()))
        async with httpx.AsyncClient(proxy=r.proxy_url, verify=ctx) as client:
            ok = await client.get(r.url("listed.roja-proxy.test", "/tjeter", tls=True))
            blocked = await client.get(r.url("listed.roja-proxy.test", "/shembull/x",
                                             tls=True))
            blocked2 = await client.get(r.url("listed.roja-proxy.test", "/shembull/y",
                                              tls=True))
        assert ok.status_code == 200 and "origin: /tjeter" in ok.text
        assert blocked.status_code == 403 and "Kjo faqe u bllokua" in blocked.text
        # Same-response rule: block headers are constant, whatever was blocked.
        assert list(blocked.headers.items()) == list(blocked2.headers.items())
        assert "x-origin" not in blocked.headers


async def test_doh_endpoints_are_refused_and_recorded_as_bypass(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        res = await curl("-x", r.proxy_url, "--cacert", str(r.certs.ca),
                         f"https://dns.google:{r.origin.https_port}/dns-query?dns=AAAB")
        assert res.status != 200 and "origin:" not in res.body
        found = await wait_for_incidents(r, 1)
        assert found[0][1:] == ("filter_bypass", "doh", "doh-refused", "proxy")


async def test_safe_search_and_youtube_restrict_on_intercepted_hosts(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        ctx = ssl.create_default_context(cafile=str(r.both_cas()))
        async with httpx.AsyncClient(proxy=r.proxy_url, verify=ctx) as client:
            yt = await client.get(r.url("www.youtube.com", "/watch?v=abc", tls=True))
            google = await client.get(r.url("www.google.com", "/search?q=test", tls=True))
        assert "youtube-restrict: Strict" in yt.text  # the group's safe_search is strict
        assert "safe=active" in google.text


async def test_malformed_and_oversize_requests_get_errors_and_the_proxy_keeps_serving(
        tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        for raw in (b"GARBAGE\r\n\r\n", b"GET http://x y z HTTP/1.1\r\n\r\n",
                    b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"y" * 100_000 + b"\r\n\r\n"):
            reader, writer = await asyncio.open_connection("127.0.0.1", r.ports["explicit"])
            writer.write(raw)
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(200), 5)
            assert answer.startswith((b"HTTP/1.1 400", b"HTTP/1.1 431")), answer
            writer.close()
        bad_host = await curl("-x", r.proxy_url, "http://exa mple.test/")
        assert bad_host.status in (0, 400)
        ok = await curl("-x", r.proxy_url, r.url("origin.roja-proxy.test", "/pas"))
        assert ok.status == 200


async def test_bad_upstream_tls_and_unknown_names_are_clear_errors(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        assert r.app.proxy is not None and r.app.proxy.runner is not None
        master = r.app.proxy.runner.master
        assert master is not None
        master.options.update(ssl_verify_upstream_trusted_ca=str(r.mitm_ca))  # wrong CA
        ctx = ssl.create_default_context(cafile=str(r.both_cas()))
        async with httpx.AsyncClient(proxy=r.proxy_url, verify=ctx) as client:
            bad = await client.get(r.url("listed.roja-proxy.test", "/tjeter", tls=True))
            missing = await client.get("http://nowhere.roja-proxy.test/")
        assert bad.status_code == 502 and "certificate" in bad.text.lower()
        assert missing.status_code == 502 and "resolve" in missing.text.lower()
        ok = await curl("-x", r.proxy_url, r.url("origin.roja-proxy.test", "/pas"))
        assert ok.status == 200


async def test_large_bodies_stream_through(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        total = 0
        async with httpx.AsyncClient(proxy=r.proxy_url) as client, \
                client.stream("GET", r.url("listed.roja-proxy.test", "/big")) as res:
            async for chunk in res.aiter_bytes():
                total += len(chunk)
        assert res.status_code == 200 and total == 8 * 2**20
