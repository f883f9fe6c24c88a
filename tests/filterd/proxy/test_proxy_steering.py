"""DNS steering end to end: the resolver answers names with URL entries with the proxy's
address, the steering listener decides by SNI and per URL, and fronting is caught."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
from dnslib import DNSRecord
from proxy_kit import ORIGIN_IP, Rig, curl, rig

from dns_resolver.testing import ask_udp, make_query
from filterd.unblock_requests import list_requests


def answer_a(r: Rig, name: str) -> list[str]:
    reply = ask_udp(("127.0.0.1", r.ports["dns"]), make_query(name, "A"))
    assert reply is not None
    return [str(rr.rdata) for rr in DNSRecord.parse(reply).rr]


def via_steer(r: Rig, host: str, tls: bool) -> list[str]:
    port = r.origin.https_port if tls else r.origin.http_port
    listener = r.ports["steer_https" if tls else "steer_http"]
    return ["--connect-to", f"{host}:{port}:127.0.0.2:{listener}"]


async def test_resolver_steers_only_names_with_url_entries(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        assert await asyncio.to_thread(answer_a, r, "listed.roja-proxy.test") == ["127.0.0.2"]
        assert await asyncio.to_thread(answer_a, r, "www.listed.roja-proxy.test") == \
            ["127.0.0.2"]
        assert await asyncio.to_thread(answer_a, r, "origin.roja-proxy.test") == [ORIGIN_IP]


async def test_steered_http_and_https_decided_per_url(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        host = "listed.roja-proxy.test"
        ok = await curl(*via_steer(r, host, False), r.url(host, "/tjeter"))
        blocked = await curl(*via_steer(r, host, False), r.url(host, "/shembull/a"))
        assert ok.status == 200 and "origin: /tjeter" in ok.body, ok
        assert blocked.status == 403 and "Kjo faqe u bllokua" in blocked.body
        tls_ok = await curl(*via_steer(r, host, True), "--cacert", str(r.both_cas()),
                            r.url(host, "/tjeter", tls=True))
        tls_blocked = await curl(*via_steer(r, host, True), "--cacert", str(r.both_cas()),
                                 r.url(host, "/shembull/a", tls=True))
        assert tls_ok.status == 200, tls_ok
        assert tls_blocked.status == 403 and "Pornografi" in tls_blocked.body


async def test_unlisted_sni_on_the_steering_listener_is_passed_through(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        host = "origin.roja-proxy.test"
        res = await curl(*via_steer(r, host, True), "--cacert", str(r.certs.ca),
                         r.url(host, "/salut", tls=True))
        assert res.status == 200 and "origin: /salut" in res.body, res
        # a large download passes through whole (the relay reads in 256 KiB steps)
        big = await curl(*via_steer(r, host, True), "--cacert", str(r.certs.ca),
                         r.url(host, "/big", tls=True))
        assert big.status == 200 and len(big.body) == 8 * 2**20 and set(big.body) == {"x"}


async def test_fronting_and_blocked_sni_are_refused(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        host = "listed.roja-proxy.test"
        fronted = await curl(*via_steer(r, host, True), "--cacert", str(r.both_cas()),
                             "-H", f"Host: blocked.roja-proxy.test:{r.origin.https_port}",
                             r.url(host, "/tjeter", tls=True))
        assert fronted.status == 403 and "Bixhoz" in fronted.body
        blocked_sni = await curl(*via_steer(r, "blocked.roja-proxy.test", True), "--cacert",
                                 str(r.both_cas()),
                                 r.url("blocked.roja-proxy.test", "/", tls=True))
        assert blocked_sni.status == 0 and blocked_sni.code != 0  # refused, nothing decrypted
        no_sni = await curl("--cacert", str(r.both_cas()), "-k",
                            f"https://127.0.0.2:{r.ports['steer_https']}/")
        assert no_sni.status == 0
        ok = await curl(*via_steer(r, host, False), r.url(host, "/tjeter"))
        assert ok.status == 200


async def test_blocked_sni_with_the_school_ca_shows_the_page(tmp_path: Path) -> None:
    async with rig(tmp_path, ca_installed=True) as r:
        host = "blocked.roja-proxy.test"
        res = await curl(*via_steer(r, host, True), "--cacert", str(r.mitm_ca),
                         r.url(host, "/", tls=True))
        assert res.status == 403 and "Bixhoz" in res.body


async def test_blocked_by_mistake_form_records_an_unblock_request(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        host = "listed.roja-proxy.test"
        page = await curl(*via_steer(r, host, False), r.url(host, "/shembull/a"))
        action = re.search(r'action="([^"]+)"', page.body)
        token = re.search(r'name="token" value="([^"]+)"', page.body)
        assert action and token
        assert action.group(1) == f"http://127.0.0.1:{r.ports['page']}/unblock"
        async with httpx.AsyncClient() as client:
            sent = await client.post(action.group(1), data={
                "token": token.group(1).replace("&#34;", '"'), "note": "Për detyrën e shtëpisë"})
            forged = await client.post(action.group(1), data={"token": "x.y", "note": "n"})
        assert sent.status_code == 200 and "kërkesa u dërgua" in sent.text
        assert forged.status_code == 400
        found = await asyncio.to_thread(list_requests, r.state)
        assert [(q.group_id, q.host, q.category, q.list_id, q.note) for q in found] == [
            ("nxenesit", "listed.roja-proxy.test", "pornography", "urls",
             "Për detyrën e shtëpisë")]
        assert found[0].client and found[0].client != "127.0.0.1"  # a pseudonym
