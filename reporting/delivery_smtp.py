"""The SMTP channel of the report outbox: one e-mail per recipient, PDF, CSV and JSON attached.

The JSON is the machine-readable report (roja.report/1): an office that receives the mail
uploads it on the inbox's form „Ngarko raport” and gets the same revision as an HTTPS upload
would (same content hash, same idempotency key). The cover text is Albanian first, then English:
school, period, revision (from r2 on) and the report's totals, read from the bundle's JSON, and
the content hash. `Message-ID` is `<key@roja.report>` and the header
`X-Roja-Idempotency-Key` carries the idempotency key, so a receiver that sees the same message
twice (a retry after a crash) can count it once. STARTTLS (certificate checked) when configured,
login when a username is set. A 5xx answer is a permanent failure; 4xx, refused connections and
timeouts are retried by the outbox.

Exactly once, as far as SMTP allows: after the message's final `.` the channel waits
`data_timeout` (RFC 5321's 10 minutes by default) for the server's answer, not the shorter
command `timeout`, since a slow server may still be storing it. When that answer never comes
(timeout, connection lost) the server may or may not have the message: the attempt fails with
`DeliveryError(unknown=True)`, which the outbox retries at most once, with the same Message-ID
and idempotency key (`reporting.outbox`).
"""

from __future__ import annotations

import email.policy
import json
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from reporting.bundles import revision_of
from reporting.delivery_config import SmtpSettings
from reporting.outbox import Delivery, DeliveryError

MESSAGE_DOMAIN = "roja.report"
# The 64-hex-digit key makes `Message-ID` and `X-Roja-Idempotency-Key` longer than 78 columns; a
# wider limit (RFC 5322 allows 998) keeps them on one line instead of folded before the value.
POLICY = email.policy.SMTP.clone(max_line_length=998)


def cover(document: dict[str, Any], revision: int = 1) -> tuple[str, str]:
    """(subject, body) of the e-mail for a report JSON document (and its revision)."""
    report = document["report"]
    h, b, m = report["header"], report["blocked"], report["manual"]
    kind_sq, kind_en = (("mujor", "Monthly") if h["period_kind"] == "month"
                        else ("vjetor", "Annual"))
    again_sq, again_en = (f", rishikimi {revision}", f", revision {revision}") if revision > 1 \
        else ("", "")
    subject = (f"Raporti {kind_sq} i incidenteve / {kind_en} incident report — "
               f"{h['school_name']} ({h['school_code']}) — {h['period_label']}"
               + (f" — rishikimi {revision} / revision {revision}" if revision > 1 else ""))
    addressed = [str(h["recipient"]), ""] if h.get("recipient") else []
    body = "\n".join([
        *addressed,
        "Përshëndetje,",
        "",
        f"Bashkëlidhur gjeni raportin {kind_sq} të incidenteve të sigurisë në internet për "
        f"shkollën {h['school_name']} (kodi {h['school_code']}), periudha {h['period_label']} "
        f"({h['period_start']}–{h['period_end']}){again_sq}.",
        *(["Ky rishikim zëvendëson raportin e dërguar më parë për këtë periudhë."]
          if revision > 1 else []),
        "",
        f"Qarku: {h['qark']}; Bashkia: {h['municipality']}; Mësuesi i TIK-ut: "
        f"{h['ict_teacher']}.",
        f"Aksese të bllokuara: {b['total']}",
        f"Përpjekje për anashkalimin e filtrit: {b['circumvention_total']}",
        f"Incidente të regjistruara nga mësuesit: {m['total']}",
        "",
        "Raporti është në PDF (për lexim dhe nënshkrim), në CSV (për Excel) dhe në JSON (për "
        "ta ngarkuar në kutinë e raporteve, faqja „Ngarko raport”).",
        "",
        "---",
        "",
        f"Attached is the {kind_en.lower()} internet-safety incident report of "
        f"{h['school_name']} (code {h['school_code']}) for {h['period']} "
        f"({h['period_start']}–{h['period_end']}){again_en}."
        + (" It replaces the report sent before for this period." if revision > 1 else ""),
        f"Blocked requests: {b['total']}; circumvention attempts: "
        f"{b['circumvention_total']}; incidents recorded by teachers: {m['total']}.",
        "The report is attached as PDF (to read and sign), CSV (for spreadsheets) and JSON "
        "(to upload to the report inbox, page „Ngarko raport”).",
        "",
        f"Kontrolli i përmbajtjes / content SHA-256: {document.get('content_sha256', '')}",
        "",
        "-- ",
        "Roja",
    ])
    return subject, body + "\n"


def build_message(delivery: Delivery, from_addr: str, now: float | None = None) -> EmailMessage:
    """The e-mail for `delivery` (cover text, PDF, CSV and JSON attachments, idempotency
    headers)."""
    try:
        report = delivery.files["json"].read_bytes()
        document = json.loads(report)
        subject, body = cover(document, revision_of(delivery.files["json"]))
        pdf = delivery.files["pdf"].read_bytes()
        csv = delivery.files["csv"].read_bytes()
    except (KeyError, OSError, ValueError, TypeError) as exc:
        raise DeliveryError(f"paketa e raportit nuk lexohet / report bundle unreadable: {exc}",
                            permanent=True) from exc
    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = subject
    msg["From"] = from_addr
    msg["To"] = delivery.recipient
    msg["Date"] = formatdate(now, localtime=False)
    msg["Message-ID"] = f"<{delivery.key}@{MESSAGE_DOMAIN}>"
    msg["X-Roja-Idempotency-Key"] = delivery.key
    msg.set_content(body, charset="utf-8")
    msg.add_attachment(pdf, maintype="application", subtype="pdf",
                       filename=delivery.files["pdf"].name)
    msg.add_attachment(csv, maintype="text", subtype="csv", params={"charset": "utf-8"},
                       filename=delivery.files["csv"].name)
    msg.add_attachment(report, maintype="application", subtype="json",
                       filename=delivery.files["json"].name)
    return msg


class _Smtp(smtplib.SMTP):
    """smtplib.SMTP that waits `data_timeout` for the answer to the end of DATA and knows
    whether it was waiting for it when the connection failed."""

    def __init__(self, host: str, port: int, timeout: float, data_timeout: float) -> None:
        self.data_timeout = data_timeout
        self.in_data = False
        self.awaiting_data_answer = False
        super().__init__(host, port, timeout=timeout)

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.in_data = True
        try:
            answer = super().data(msg)
        finally:
            self.in_data = False
        self.awaiting_data_answer = False  # answered: the outcome is known
        return answer

    def send(self, s: Any) -> None:
        super().send(s)
        if self.in_data and isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.awaiting_data_answer = True  # the message is out: its fate is the server's
            if self.sock is not None:
                self.sock.settimeout(self.data_timeout)


class SmtpChannel:
    """Sends to the addresses in `settings.to` through `settings.host:port`."""

    def __init__(self, settings: SmtpSettings, ssl_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self.ssl_context = ssl_context or ssl.create_default_context()

    def accepts(self, recipient: str) -> bool:
        return recipient in self.settings.to

    def send(self, delivery: Delivery) -> str:
        s = self.settings
        msg = build_message(delivery, s.from_addr)
        smtp: _Smtp | None = None
        try:
            with _Smtp(s.host, s.port, s.timeout, s.data_timeout) as smtp:
                smtp.ehlo()
                if s.starttls:
                    smtp.starttls(context=self.ssl_context)
                    smtp.ehlo()
                if s.username:
                    smtp.login(s.username, s.password)
                refused = smtp.send_message(msg, s.from_addr, [delivery.recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            raise _answer(*next(iter(exc.recipients.values()))) from exc
        except smtplib.SMTPResponseException as exc:
            raise _answer(exc.smtp_code, exc.smtp_error) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"serveri SMTP nuk e mbështet / the SMTP server does not "
                                f"support this: {exc}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            if smtp is not None and smtp.awaiting_data_answer:
                raise DeliveryError(
                    f"{s.host}:{s.port}: serveri nuk u përgjigj pas mesazhit; mund ta ketë marrë "
                    f"/ no answer after the message was sent, the server may have it "
                    f"({type(exc).__name__}: {exc})", unknown=True) from exc
            raise DeliveryError(f"{s.host}:{s.port}: lidhja me serverin SMTP dështoi / the SMTP "
                                f"connection failed: {type(exc).__name__}: {exc}") from exc
        if refused:
            code, text = next(iter(refused.values()))
            raise _answer(code, text)
        return f"smtp {s.host}:{s.port} accepted {msg['Message-ID']}"


def _answer(code: int, text: bytes | str) -> DeliveryError:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return DeliveryError(f"SMTP {code} {message}".strip(), permanent=500 <= code < 600)
