"""Headless Chromium (Debian `chromium`) driven over the DevTools protocol, for the console's
browser tests: `chromium(spki)` starts one trusting only the key whose SPKI hash is given
(`spki_hash(ca_file)`, the school CA), and yields a `Tab` that goes to pages, fills and submits
forms as a click does, evaluates scripts and takes screenshots (checking that the page is no
wider than the screen). Fails instead of skipping when CI=true and chromium is missing."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from peers.nsd import require_peer


def spki_hash(ca_file: Path) -> str:
    cert = x509.load_pem_x509_certificate(ca_file.read_bytes())
    der = cert.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


class Tab:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws, self.n = ws, 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.n += 1
        await self.ws.send_str(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            msg = json.loads((await self.ws.receive(timeout=60)).data)
            if msg.get("id") == self.n:
                assert "error" not in msg, msg
                return dict(msg.get("result", {}))

    async def eval(self, script: str) -> Any:
        found = await self.call("Runtime.evaluate", expression=script, returnByValue=True,
                                awaitPromise=True)
        assert "exceptionDetails" not in found, found["exceptionDetails"]
        return found["result"].get("value")

    async def go(self, url: str) -> str:
        await self.call("Page.navigate", url=url)
        return await self.settle()

    async def settle(self) -> str:
        for _ in range(100):
            await asyncio.sleep(0.2)
            if await self.eval("document.readyState") == "complete":
                return str(await self.eval("document.body ? document.body.innerText : ''"))
        raise AssertionError("the page did not load")

    async def submit(self, selector: str, fields: dict[str, str]) -> str:
        """Fill `fields` (name → value) in the form `selector` and submit it as a click does."""
        script = (f"(() => {{ const f = document.querySelector({json.dumps(selector)});"
                  f" const v = {json.dumps(fields)};"
                  " for (const [k, x] of Object.entries(v)) f.elements[k].value = x;"
                  " f.requestSubmit(); return true; })()")
        assert await self.eval(script)
        await asyncio.sleep(0.5)
        return await self.settle()

    async def unlabelled(self) -> list[str]:
        """The names (or ids) of the page's inputs, selects and text areas that have neither a
        label nor an aria-label: what a screen reader could not name."""
        found: list[str] = await self.eval(
            "[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]"
            ".filter(e => !e.labels.length && !e.getAttribute('aria-label'))"
            ".map(e => e.name || e.id)")
        return found

    async def card_labels(self) -> list[str]:
        """The label each cell of a `table.cards` shows when the table is drawn as cards
        (its `::before` content); every cell has one."""
        labels: list[str] = await self.eval(
            "[...document.querySelectorAll('table.cards tbody td')].map("
            "td => getComputedStyle(td, '::before').content)")
        assert labels and all(x.startswith('"') and len(x) > 2 for x in labels), labels
        return labels

    async def shot(self, path: Path, width: int, full: bool = True) -> None:
        """The whole page (`full`), or what the screen shows: an embedded PDF viewer is drawn
        only in the latter (headless Chromium leaves it dark in a whole-page capture)."""
        await self.call("Emulation.setDeviceMetricsOverride", width=width, height=900,
                        deviceScaleFactor=1, mobile=width < 600)
        await asyncio.sleep(0.3 if full else 2.0)
        data = await self.call("Page.captureScreenshot", format="png",
                               captureBeyondViewport=full)
        await asyncio.to_thread(path.write_bytes, base64.b64decode(data["data"]))
        wide = await self.eval("document.documentElement.scrollWidth")
        assert wide <= width, f"{path.name}: the page is {wide} px wide at {width} px"


@asynccontextmanager
async def chromium(spki: str) -> AsyncIterator[Tab]:
    binary = require_peer("chromium")
    with tempfile.TemporaryDirectory() as profile:
        proc = await asyncio.create_subprocess_exec(
            binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update",
            f"--ignore-certificate-errors-spki-list={spki}", "--remote-debugging-port=0",
            f"--user-data-dir={profile}", "about:blank",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        try:
            assert proc.stderr is not None
            port = ""
            while not port:
                line = (await asyncio.wait_for(proc.stderr.readline(), 60)).decode()
                assert line, "chromium ended before it listened"
                if m := re.search(r"ws://127\.0\.0\.1:(\d+)/", line):
                    port = m[1]
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/json/list") as r:
                    page = next(t for t in await r.json() if t["type"] == "page")
                async with http.ws_connect(page["webSocketDebuggerUrl"],
                                           max_msg_size=64 << 20) as ws:
                    tab = Tab(ws)
                    await tab.call("Page.enable")
                    yield tab
        finally:
            proc.kill()
            await proc.wait()
