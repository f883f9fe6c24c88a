"""The SMTP channel of the report outbox: one e-mail per recipient, PDF and CSV attached.

The cover text is Albanian first, then English: school, period and the report's totals, read
from the bundle's JSON. `Message-ID` is `<key@roja.report>` and the header
`X-Roja-Idempotency-Key` carries the idempotency key, so a receiver that sees the same message
twice (a retry after a crash) can count it once. STARTTLS (certificate checked) when configured,
login when a username is set. A 5xx answer is a permanent failure; 4xx, refused connections and
timeouts are retried by the outbox.
"""

from __future__ import annotations

import email.policy
import json
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from reporting.delivery_config import SmtpSettings
from reporting.outbox import Delivery, DeliveryError

MESSAGE_DOMAIN = "roja.report"
# The 64-hex-digit key makes `Message-ID` and `X-Roja-Idempotency-Key` longer than 78 columns; a
# wider limit (RFC 5322 allows 998) keeps them on one line instead of folded before the value.
POLICY = email.policy.SMTP.clone(max_line_length=998)


def cover(document: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of the e-mail for a report JSON document."""
    report = document["report"]
    h, b, m = report["header"], report["blocked"], report["manual"]
    kind_sq, kind_en = (("mujor", "Monthly") if h["period_kind"] == "month"
                        else ("vjetor", "Annual"))
    subject = (f"Raporti {kind_sq} i incidenteve / {kind_en} incident report — "
               f"{h['school_name']} ({h['school_code']}) — {h['period_label']}")
    addressed = [str(h["recipient"]), ""] if h.get("recipient") else []
    body = "\n".join([
        *addressed,
        "Përshëndetje,",
        "",
        f"Bashkëlidhur gjeni raportin {kind_sq} të incidenteve të sigurisë në internet për "
        f"shkollën {h['school_name']} (kodi {h['school_code']}), periudha {h['period_label']} "
        f"({h['period_start']}–{h['period_end']}).",
        "",
        f"Qarku: {h['qark']}; Bashkia: {h['municipality']}; Mësuesi i TIK-ut: "
        f"{h['ict_teacher']}.",
        f"Aksese të bllokuara: {b['total']}",
        f"Përpjekje për anashkalimin e filtrit: {b['circumvention_total']}",
        f"Incidente të regjistruara nga mësuesit: {m['total']}",
        "",
        "Raporti është në PDF (për lexim dhe nënshkrim) dhe në CSV (për Excel).",
        "",
        "---",
        "",
        f"Attached is the {kind_en.lower()} internet-safety incident report of "
        f"{h['school_name']} (code {h['school_code']}) for {h['period']} "
        f"({h['period_start']}–{h['period_end']}).",
        f"Blocked requests: {b['total']}; circumvention attempts: "
        f"{b['circumvention_total']}; incidents recorded by teachers: {m['total']}.",
        "The report is attached as PDF (to read and sign) and CSV (for spreadsheets).",
        "",
        f"Kontrolli i përmbajtjes / content SHA-256: {document.get('content_sha256', '')}",
        "",
        "-- ",
        "Roja",
    ])
    return subject, body + "\n"


def build_message(delivery: Delivery, from_addr: str, now: float | None = None) -> EmailMessage:
    """The e-mail for `delivery` (cover text, PDF and CSV attachments, idempotency headers)."""
    try:
        document = json.loads(delivery.files["json"].read_bytes())
        subject, body = cover(document)
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
    return msg


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
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as smtp:
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
            raise DeliveryError(f"{s.host}:{s.port}: lidhja me serverin SMTP dështoi / the SMTP "
                                f"connection failed: {type(exc).__name__}: {exc}") from exc
        if refused:
            code, text = next(iter(refused.values()))
            raise _answer(code, text)
        return f"smtp {s.host}:{s.port} accepted {msg['Message-ID']}"


def _answer(code: int, text: bytes | str) -> DeliveryError:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return DeliveryError(f"SMTP {code} {message}".strip(), permanent=500 <= code < 600)
