"""The HTTPS channel of the report outbox: upload of the JSON, PDF and CSV to the education
office (the same three files the e-mail carries).

    POST <url>
    Authorization: Bearer <token>
    Idempotency-Key: <key>
    Content-Type: multipart/form-data; boundary=...
      part "report": raport-<code>-<period>.json (application/json)
      part "pdf":    raport-<code>-<period>.pdf  (application/pdf)
      part "csv":    raport-<code>-<period>.csv  (text/csv; a bundle without one sends none)

The inbox answers 200 or 201 with `{"receipt": "...", "server_sha256": "..."}`; the
`server_sha256` must equal the report's content hash (or the SHA-256 of the JSON file), else
the upload is tried again. TLS certificates are verified; redirects are not followed (the
token must not travel to another address). A 4xx answer other than 408 and 429 is a permanent
failure carrying the server's message; 408, 429, 5xx, refused connections and timeouts are
retried by the outbox.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import ssl
import urllib.error
import urllib.parse
import urllib.request
from email.message import Message
from typing import Any

from reporting.delivery_config import HttpsSettings, check_url
from reporting.outbox import Delivery, DeliveryError

RETRY_4XX = (408, 429)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: Message, newurl: str) -> None:
        return None


def multipart(parts: list[tuple[str, str, str, bytes]]) -> tuple[str, bytes]:
    """(content type, body) of a multipart/form-data request from (name, file name, type,
    bytes) parts."""
    boundary = "roja-" + secrets.token_hex(16)
    out = bytearray()
    for name, filename, ctype, data in parts:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; "
                f"filename=\"{filename}\"\r\nContent-Type: {ctype}\r\n\r\n").encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", bytes(out)


class HttpsChannel:
    """Uploads to `settings.url` with the school's token."""

    def __init__(self, settings: HttpsSettings, ssl_context: ssl.SSLContext | None = None) -> None:
        if (why := check_url(settings.url)) is not None:
            raise ValueError(f"{settings.url}: {why}")
        self.settings = settings
        self.opener = urllib.request.build_opener(
            _NoRedirect(), urllib.request.HTTPSHandler(
                context=ssl_context or ssl.create_default_context(
                    cafile=settings.ca_file or None)))

    def accepts(self, recipient: str) -> bool:
        return recipient == self.settings.url

    def send(self, delivery: Delivery) -> str:
        try:
            report = delivery.files["json"].read_bytes()
            pdf = delivery.files["pdf"].read_bytes()
            csv = delivery.files["csv"].read_bytes() if "csv" in delivery.files else None
            content_hash = str(json.loads(report)["content_sha256"])
        except (KeyError, OSError, ValueError, TypeError) as exc:
            raise DeliveryError(f"paketa e raportit nuk lexohet / report bundle unreadable: "
                                f"{exc}", permanent=True) from exc
        uploads = [("report", delivery.files["json"].name, "application/json", report),
                   ("pdf", delivery.files["pdf"].name, "application/pdf", pdf)]
        if csv is not None:
            uploads.append(("csv", delivery.files["csv"].name, "text/csv; charset=utf-8", csv))
        ctype, body = multipart(uploads)
        request = urllib.request.Request(self.settings.url, data=body, method="POST", headers={
            "Authorization": f"Bearer {self.settings.token}",
            "Idempotency-Key": delivery.key,
            "Content-Type": ctype,
            "Accept": "application/json",
            "User-Agent": "roja-report/1"})
        try:
            with self.opener.open(request, timeout=self.settings.timeout) as response:
                status, answer = int(response.status), response.read(1 << 20)
        except urllib.error.HTTPError as exc:
            text = _server_message(exc.read(1 << 16) if exc.fp else b"")
            message = f"HTTP {exc.code}: {text or exc.reason}"
            permanent = 300 <= exc.code < 500 and exc.code not in RETRY_4XX
            raise DeliveryError(message, permanent=permanent) from exc
        except (urllib.error.URLError, OSError) as exc:
            parts = urllib.parse.urlsplit(self.settings.url)  # host:port, never a userinfo
            where = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
            raise DeliveryError(f"{where}: lidhja me kutinë e raporteve dështoi / the connection "
                                f"to the report inbox failed: {type(exc).__name__}: "
                                f"{exc}") from exc
        if status not in (200, 201):
            raise DeliveryError(f"HTTP {status}: unexpected answer (expected 200 or 201)")
        try:
            receipt = json.loads(answer)
            receipt_id, server_hash = str(receipt["receipt"]), str(receipt["server_sha256"])
        except (ValueError, KeyError, TypeError) as exc:
            raise DeliveryError(f"HTTP {status}: the answer is not a receipt "
                                f"({answer[:200]!r})") from exc
        if server_hash not in (content_hash, hashlib.sha256(report).hexdigest()):
            raise DeliveryError(f"server_sha256 {server_hash} differs from the report's "
                                f"{content_hash}")
        return json.dumps({"receipt": receipt_id, "server_sha256": server_hash},
                          ensure_ascii=False)


def _server_message(body: bytes) -> str:
    """The `error`/`message`/`detail` of a JSON error answer, else the text (shortened)."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:300]
    if isinstance(data, dict):
        for field in ("error", "message", "detail"):
            if isinstance(data.get(field), str):
                return str(data[field])[:300]
    return text[:300]
