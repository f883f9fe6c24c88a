"""Headless Chromium through the explicit proxy renders the Albanian block page; the CA page
renders from the block-page server. Chromium is a peer: missing → skip (fail when CI=true)."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from peers.nsd import require_peer
from proxy_kit import rig


async def chromium_dom(url: str, *extra: str) -> str:
    binary = require_peer("chromium")
    with tempfile.TemporaryDirectory() as profile:
        proc = await asyncio.create_subprocess_exec(
            binary, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--no-first-run",
            f"--user-data-dir={profile}", *extra, "--dump-dom", url,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return out.decode("utf-8", "replace")


async def test_chromium_shows_the_albanian_block_page_and_the_ca_page(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        proxy = f"--proxy-server={r.proxy_url}"
        dom = await chromium_dom(r.url("listed.roja-proxy.test", "/shembull/faqe"), proxy)
        assert "Kjo faqe u bllokua" in dom and "This page was blocked" in dom
        assert "Pornografi" in dom and "ALO 116 111" in dom and "RAPORTO" in dom
        assert "Bllokuar gabimisht" in dom
        passed = await chromium_dom(r.url("listed.roja-proxy.test", "/tjeter"), proxy)
        assert "origin: /tjeter" in passed
        ca_dom = await chromium_dom(f"http://127.0.0.1:{r.ports['page']}/ca")
        assert "Certifikata e shkollës" in ca_dom and "ChromeOS" in ca_dom
