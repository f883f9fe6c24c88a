"""The inbox over TLS with a certificate made for the test: the real delivery client verifies
it and uploads, and the session cookie is Secure."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from inbox_kit import form_csrf, running_inbox
from report_bundle import SCHOOL, T0, make_bundle

from reporting.delivery_config import HttpsSettings
from reporting.delivery_https import HttpsChannel
from reporting.inbox import auth
from reporting.inbox.registry import School
from reporting.outbox import Outbox


def certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


async def test_tls_upload_with_the_real_client_and_secure_cookie(tmp_path: Path) -> None:
    cert, key = certificate(tmp_path)
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
