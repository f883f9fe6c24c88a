"""The inbox over TLS with a certificate made for the test: the real delivery client verifies
it and uploads, and the session cookie is Secure."""

from __future__ import annotations

import asyncio
import json
import ssl
from pathlib import Path

from cert_kit import self_signed
from inbox_kit import form_csrf, running_inbox
from report_bundle import SCHOOL, T0, make_bundle

from reporting.delivery_config import HttpsSettings
from reporting.delivery_https import HttpsChannel
from reporting.inbox import auth
from reporting.inbox.registry import School
from reporting.outbox import Outbox


async def test_tls_upload_with_the_real_client_and_secure_cookie(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    (tmp_path / "school").mkdir()
    bundle = make_bundle(tmp_path / "school")
    async with running_inbox(tmp_path, tls_cert=cert, tls_key=key) as inbox:
        assert inbox.url.startswith("https://127.0.0.1:")
        inbox.store.put_schools([School(SCHOOL.code, SCHOOL.name, "korce", "Pogradec", "")])
        token = inbox.store.issue_token(SCHOOL.code)
        url = f"{inbox.url}/api/reports"
        channel = HttpsChannel(HttpsSettings(url, token, timeout=10.0), ssl_context=trust)

        def send() -> str:
            with Outbox(tmp_path / "outbox.sqlite") as box:
                box.enqueue(bundle, [("https", url)], T0)
                [row] = box.run_due(T0, {"https": channel})
                assert row.status == "sent", row.last_error
                return row.receipt
        receipt = json.loads(await asyncio.to_thread(send))
        assert receipt["server_sha256"] == bundle.content_sha256
        async with inbox.client(verify=trust) as c:
            page = await c.get("/hyr")
            r = await c.post("/hyr", data={"csrf": form_csrf(page.text), "name": "masr",
                                           "password": "fjalekalim-masr-01"})
            cookie = next(v for v in r.headers.get_list("set-cookie")
                          if v.startswith(auth.SESSION_COOKIE + "="))
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
            assert "max-age" in r.headers["strict-transport-security"]
