"""The `[report]` table of roja.toml: report header fields, the send day and the recipients.

    [report]
    qark = "Korçë"
    municipality = "Pogradec"
    ict_teacher = "Drita Çela"
    zva = "pogradec"             # optional: the ZVA, when it is not the municipality's own
    office_type = "drap"         # optional: "dar" for a region that still says DAR/ZVA
    send_day = 1                 # day of the month the daemon builds and sends last month's report
    check_every = 3600           # seconds between the daemon's report steps (due report, retries)
    require_director_signature = false  # true: a revision is sent only once a director
                                 # signed it in the console (a new revision, a new signature)

    [report.smtp]                # optional: e-mail with the PDF, CSV and JSON attached
    host = "smtp.example.al"
    port = 587
    starttls = true
    username = "shkolla"         # optional; login only when set
    password = "..."
    from_addr = "roja@shkolla.example.al"
    to = ["zva@example.al"]
    timeout = 60                 # seconds for the connection and each command
    data_timeout = 600           # seconds for the answer to the end of DATA (RFC 5321 4.5.3.2)

    [report.https]               # optional: JSON + PDF + CSV to the education-office inbox
    url = "https://inbox.example.al/api/reports"
    token = "..."
    ca_file = ""                 # optional: PEM of the office's own CA (default: the system's)

The report is addressed ("Drejtuar: DRAP Korçë / ZVA Pogradec") to the offices that
`reporting/offices.toml` gives for the qark and municipality (`zva` overrides the latter; an
unknown `zva` is an error naming the line). No recipients at all is valid: the report is
then only built. `https://` is required for the upload URL; plain `http://` is accepted only
for a loopback host (127.0.0.1, ::1, localhost), for the demo and the tests.
`starttls = false` together with a username (a password sent in clear) is likewise accepted
only for a loopback SMTP host.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from configkit import Section
from reporting import offices

_ADDRESS = re.compile(r"^[^@\s<>\",]+@[^@\s<>\",]+$")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    from_addr: str
    to: tuple[str, ...]
    port: int = 587
    starttls: bool = True
    username: str = ""
    password: str = ""
    timeout: float = 60.0
    # RFC 5321 4.5.3.2.6: a client waits 10 minutes for the answer to the end of DATA, since
    # the server may be working on the message; giving up earlier and retrying duplicates it.
    data_timeout: float = 600.0


@dataclass(frozen=True)
class HttpsSettings:
    url: str
    token: str
    timeout: float = 60.0
    ca_file: str = ""  # PEM bundle to trust instead of the system's CAs


@dataclass(frozen=True)
class ReportSettings:
    qark: str = ""
    municipality: str = ""
    ict_teacher: str = ""
    send_day: int = 1
    smtp: SmtpSettings | None = None
    https: HttpsSettings | None = None
    zva: str = ""  # ZVA id, when it is not the municipality's own
    office_type: str = "drap"  # or "dar"
    check_every: float = 3600.0  # seconds between the daemon's report steps
    require_director_signature: bool = False  # filterd.report_signoff
    # Not a [report] key: the [[groups]] names by id, which filterd.config fills in so that
    # reports show "Nxënësit" where the incidents say `nxenesit`.
    group_names: Mapping[str, str] = field(default_factory=dict)

    def addressee(self) -> offices.Recipient:
        """The education offices this school's report is addressed to."""
        return offices.recipient(offices.load(), self.qark, self.municipality, self.zva,
                                 self.office_type)

    def recipients(self) -> list[tuple[str, str]]:
        """(channel, recipient) pairs: one per SMTP address, plus the upload URL."""
        out = [("smtp", to) for to in self.smtp.to] if self.smtp else []
        if self.https:
            out.append(("https", self.https.url))
        return out


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str | None:
    """Why `url` is not an acceptable upload URL, or None when it is."""
    parts = urlsplit(url)
    if not parts.hostname:
        return "must be a URL such as https://inbox.example.al/api/reports"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and is_loopback(parts.hostname):
        return None
    return "must start with https:// (http:// only for 127.0.0.1, ::1 or localhost)"


def parse(section: Section) -> ReportSettings:
    """Read `[report]` (and its `smtp` and `https` tables); errors name file, line and key."""
    qark = section.str("qark", "")
    municipality = section.str("municipality", "")
    teacher = section.str("ict_teacher", "")
    send_day = section.int("send_day", 1, min=1, max=28)
    zva_text = section.str("zva", "")
    office_type = section.choice("office_type", offices.OFFICE_TYPES, "drap")
    check_every = section.float("check_every", 3600.0, min=1.0, max=86400.0)
    signature = section.bool("require_director_signature", False)
    zva = ""
    if zva_text:
        found = offices.load().zva_of(zva_text)
        if found is None:
            raise section.error("zva", f"{zva_text!r} is not a ZVA in reporting/offices.toml "
                                       "(give its id, e.g. \"kavaje\", or its bashki)")
        zva = found.id
    smtp = _smtp(section.section("smtp")) if section.has("smtp") else None
    https = _https(section.section("https")) if section.has("https") else None
    section.done()
    return ReportSettings(qark, municipality, teacher, send_day, smtp, https, zva, office_type,
                          check_every, signature)


def _smtp(s: Section) -> SmtpSettings:
    host = s.str("host")
    port = s.int("port", 587, min=1, max=65535)
    starttls = s.bool("starttls", True)
    username = s.str("username", "")
    password = s.str("password", "")
    from_addr = s.str("from_addr")
    to = s.str_list("to", [])
    timeout = s.float("timeout", 60.0, min=1.0, max=600.0)
    data_timeout = s.float("data_timeout", 600.0, min=1.0, max=3600.0)
    s.done()
    for name, addresses in (("from_addr", (from_addr,)), ("to", to)):
        for address in addresses:
            if not _ADDRESS.match(address):
                raise s.error(name, f"{address!r} is not an e-mail address")
    if len(set(to)) != len(to):
        raise s.error("to", "lists an address twice")
    if username and not starttls and not is_loopback(host):
        raise s.error("starttls", "must be true when a username is set (the password would "
                                  "travel in clear); false is accepted only for a loopback host")
    if password and not username:
        raise s.error("password", "is set but username is not")
    return SmtpSettings(host, from_addr, to, port, starttls, username, password, timeout,
                        data_timeout)


def _https(s: Section) -> HttpsSettings:
    url = s.str("url")
    token = s.str("token")
    timeout = s.float("timeout", 60.0, min=1.0, max=600.0)
    ca_file = s.str("ca_file", "")
    if ca_file and not Path(ca_file).is_file():
        raise s.error("ca_file", f"{ca_file!r}: no such file")
    s.done()
    if (why := check_url(url)) is not None:
        raise s.error("url", why)
    if not token.strip() or any(c.isspace() for c in token):
        raise s.error("token", "must be the token the inbox issued (no spaces)")
    return HttpsSettings(url, token, timeout, ca_file)
