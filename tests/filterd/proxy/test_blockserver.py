"""The block-page server: the page for names DNS sent here (HTTP and HTTPS with a certificate
from the school CA), PAC/WPAD and the CA download page."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import httpx
from cryptography import x509
from proxy_kit import rig


async def test_block_page_for_a_blocked_host_and_a_plain_page_otherwise(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        base = f"http://127.0.0.1:{r.ports['page']}"
        async with httpx.AsyncClient() as client:
            blocked = await client.get(base + "/any/path",
                                       headers={"Host": "www.blocked.roja-proxy.test"})
            other = await client.get(base + "/", headers={"Host": "origin.roja-proxy.test"})
            pac = await client.get(base + "/proxy.pac")
            wpad = await client.get(base + "/wpad.dat")
            ca_page = await client.get(base + "/ca")
            pem = await client.get(base + "/ca/roja-ca.pem")
            cer = await client.get(base + "/ca/roja-ca.cer")
        assert blocked.status_code == 403 and "Bixhoz dhe lojëra fati" in blocked.text
        assert blocked.headers["content-type"] == "text/html; charset=utf-8"
        assert "Mësuesi i TIK-ut, dhoma 12" in blocked.text
        assert other.status_code == 200 and "filtri i shkollës" in other.text
        assert f'PROXY 127.0.0.1:{r.ports["explicit"]}' in pac.text
        assert pac.headers["content-type"].startswith("application/x-ns-proxy-autoconfig")
        assert wpad.text == pac.text
        for words in ("Windows", "Android", "iOS", "ChromeOS", "Instalo", "SHA-256"):
            assert words in ca_page.text
        assert pem.content == r.mitm_ca.read_bytes()
        subject = x509.load_der_x509_certificate(cer.content).subject.rfc4514_string()
        assert "CN=Roja CA – Shkolla Test" in subject


async def test_https_block_page_has_a_certificate_for_the_name_from_the_school_ca(
        tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        ctx = ssl.create_default_context(cafile=str(r.mitm_ca))
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", r.ports["page_tls"], ssl=ctx,
            server_hostname="blocked.roja-proxy.test")
        writer.write(b"GET / HTTP/1.1\r\nHost: blocked.roja-proxy.test\r\n"
                     b"Connection: close\r\n\r\n")
        data = await reader.read()
        writer.close()
        assert data.startswith(b"HTTP/1.1 403")
        assert b"Kjo faqe u bllokua" in data
