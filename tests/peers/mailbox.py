"""Real receivers for report delivery tests: an SMTP server (aiosmtpd) and an HTTP inbox.

`smtp_sink(...)` runs aiosmtpd's Controller on 127.0.0.1 at a free port and keeps every message
it accepted (`.messages`, parsed) and how many distinct `X-Roja-Idempotency-Key`s it saw
(`.counted()`, what a receiver that deduplicates would count). `hold_first=True` makes it wait
inside DATA for the first message until `.release` is set (`.in_data` is set when it arrives),
which gives a crash test the moment to kill the sender mid-send. `delay` makes it keep the
message and wait that many seconds before answering the end of DATA (a slow mail server; the
first `delayed` messages, all by default). `refuse` answers RCPT with an SMTP error; `login`
requires AUTH with that (user, password).

`http_inbox(answers)` is a ThreadingHTTPServer on 127.0.0.1 that answers POSTs with the scripted
status codes (then 200 for ever), keeps each request (headers, multipart parts) and returns the
same receipt for the same Idempotency-Key, like the education-office inbox.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from dns_resolver.testing import free_port


@dataclass
class SmtpSink:
    hold_first: bool = False
    refuse: str = ""
    delay: float = 0.0
    delayed: int = 1 << 30
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    in_data: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        first = not self.messages
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.in_data.set()
        if first and self.hold_first:
            for _ in range(600):
                if self.release.is_set():
                    break
                await asyncio.sleep(0.05)
        if self.delay and len(self.messages) <= self.delayed:
            await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"

    def counted(self) -> int:
        return len({str(m["X-Roja-Idempotency-Key"]) for m in self.messages})


@contextmanager
def smtp_sink(*, hold_first: bool = False, refuse: str = "",
              login: tuple[str, str] | None = None, delay: float = 0.0,
              delayed: int = 1 << 30) -> Iterator[SmtpSink]:
    sink = SmtpSink(hold_first=hold_first, refuse=refuse, delay=delay, delayed=delayed,
                    port=free_port())
    kwargs: dict[str, Any] = {}
    if login is not None:
        def check(server: Any, session: Any, envelope: Any, mechanism: str,
                  data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
                login[0].encode(), login[1].encode())
            return AuthResult(success=ok, handled=False)
        kwargs = {"authenticator": check, "auth_required": True, "auth_require_tls": False}
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port, **kwargs)
    controller.start()
    try:
        yield sink
    finally:
        sink.release.set()
        controller.stop()


@dataclass
class Upload:
    headers: dict[str, str]
    parts: dict[str, tuple[str, bytes]]  # name -> (file name, bytes)


@dataclass
class HttpInbox:
    answers: list[int]
    url: str = ""
    uploads: list[Upload] = field(default_factory=list)
    receipts: dict[str, str] = field(default_factory=dict)

    def counted(self) -> int:
        return len(self.receipts)


def _parse_multipart(ctype: str, body: bytes) -> dict[str, tuple[str, bytes]]:
    message = email.message_from_bytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body,
                                       policy=email.policy.default)
    out = {}
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        out[str(part.get_param("name", header="content-disposition"))] = (
            str(part.get_filename()), payload)
    return out


@contextmanager
def http_inbox(answers: list[int] | None = None) -> Iterator[HttpInbox]:
    inbox = HttpInbox(list(answers or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            upload = Upload(dict(self.headers.items()),
                            _parse_multipart(self.headers["Content-Type"], body))
            inbox.uploads.append(upload)
            status = inbox.answers.pop(0) if inbox.answers else 200
            if status >= 300:
                self._reply(status, {"error": f"gabim {status}: raporti nuk u pranua"})
                return
            key = self.headers["Idempotency-Key"]
            document = json.loads(upload.parts["report"][1])
            inbox.receipts.setdefault(key, f"R-{len(inbox.receipts) + 1}")
            self._reply(status, {"receipt": inbox.receipts[key],
                                 "server_sha256": document["content_sha256"],
                                 "pdf_sha256": hashlib.sha256(upload.parts["pdf"][1]).hexdigest()})

        def _reply(self, status: int, data: dict[str, str]) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    inbox.url = f"http://127.0.0.1:{server.server_address[1]}/api/reports"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield inbox
    finally:
        server.shutdown()
        server.server_close()
