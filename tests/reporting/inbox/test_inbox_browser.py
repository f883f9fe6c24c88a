"""Headless Chromium (Debian `chromium`) opens the dashboard the way a person does: through a
one-time login link (`roja inbox user link`), and the test reads what is on the page (the
Albanian qark names, the "Dorëzuar"/"Mungon" counts) and takes screenshots at laptop and phone
widths. Fails instead of skipping when CI=true and chromium is missing."""

from __future__ import annotations

import asyncio
import re
import tempfile
from pathlib import Path

from inbox_kit import report_file, running_inbox, upload
from peers.nsd import require_peer

from reporting.inbox import auth


async def chromium(url: str, *args: str) -> str:
    binary = require_peer("chromium")
    with tempfile.TemporaryDirectory() as profile:
        proc = await asyncio.create_subprocess_exec(
            binary, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--no-first-run",
            f"--user-data-dir={profile}", *args, url,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=90)
    return out.decode("utf-8", "replace")


def text_of(dom: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))


async def test_dashboard_in_chromium(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox:
        async with inbox.client() as c:
            for code in ("BR-001", "VL-001"):
                r = await upload(c, inbox.tokens[code], report_file(code, blocked={"drugs": 2}))
                assert r.status_code == 201
        link = auth.new_link(inbox.store, "masr", inbox.clock[0])
        dom = await chromium(f"{inbox.url}/hyr/lidhje/{link}?next=/muaji/2026-10",
                             "--dump-dom")
        text = text_of(dom)
        assert "Raportet e muajit tetor 2026" in text, text[:500]
        for qark in ("Berat", "Dibër", "Durrës", "Elbasan", "Fier", "Gjirokastër", "Korçë",
                     "Kukës", "Lezhë", "Shkodër", "Tiranë", "Vlorë"):
            assert qark in text
        assert re.search(r"4 Shkolla gjithsej 2 Dorëzuar në afat 0 Me vonesë 2 Mungon", text)
        assert "<script>" not in dom  # the Vlorë school's name is shown as text
        for width in (1280, 390):
            shot = tmp_path / f"paneli-{width}.png"
            link = auth.new_link(inbox.store, "berat", inbox.clock[0])
            await chromium(f"{inbox.url}/hyr/lidhje/{link}?next=/muaji/2026-10",
                           f"--screenshot={shot}", f"--window-size={width},1800")
            assert shot.read_bytes().startswith(b"\x89PNG")


async def test_berat_office_in_chromium_sees_only_berat(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox:
        link = auth.new_link(inbox.store, "berat", inbox.clock[0])
        text = text_of(await chromium(f"{inbox.url}/hyr/lidhje/{link}?next=/muaji/2026-10",
                                      "--dump-dom"))
        assert "Qarku Berat" in text and "Shkollat që mungojnë (2)" in text
        assert "Vlorë" not in text and "Tiranë" not in text
