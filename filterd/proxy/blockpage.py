"""The block page (Albanian first, English second) and the signed "blocked by mistake" form.

`Pages.block(info)` renders `templates/blockpage.html` (jinja2, autoescaped, UTF-8): what
happened, the category's Albanian and English names, the host (never for a confidential
entry: then only the category), the school's contact, ALO 116 111 and the ISIGURT.AL
"RAPORTO" link, and a form that POSTs a signed token to the block-page server's `/unblock`.
The token is `base64url(json).hmac` (HMAC-SHA256, key `<state>/proxy-form.key`) over the
group, host, category, list id and issue time, valid for a day; the server records the
request only with a token it signed (so a page elsewhere cannot forge requests).

The response headers of a block are the constant `BLOCK_HEADERS`: they never depend on which
list, entry or category blocked (same-response rule; only the page body differs).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import jinja2

from policy.categories import CATEGORIES, canonical_category

KEY_FILE = "proxy-form.key"
TOKEN_SECONDS = 86400
MAX_TOKEN = 2048
ISIGURT = "https://www.isigurt.al"
BLOCK_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy",
     "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action *"),
)
# Bypass endpoints are refused with the category the hotline taxonomy does not have.
_EXTRA = {"filter_bypass": ("Anashkalim i filtrit (DNS i koduar)",
                            "Filter bypass (encrypted DNS)")}

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("filterd.proxy", "templates"),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class BlockInfo:
    """What the page and the unblock request may know. `host` is "" when confidential."""

    group_id: str
    host: str
    category: str
    list_id: str
    confidential: bool = False


def category_names(cid: str) -> tuple[str, str]:
    """(Shqip, English) names of a category id; an unknown id is shown as itself."""
    if cid in _EXTRA:
        return _EXTRA[cid]
    found = CATEGORIES.get(canonical_category(cid))
    if found is None:
        return (cid or "e pacaktuar", cid or "unspecified")
    return found.sq, found.en


def load_key(state_dir: Path) -> bytes:
    """The form-signing key, created (0600) on first use."""
    path = state_dir / KEY_FILE
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    state_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    os.replace(tmp, path)
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class Pages:
    def __init__(self, key: bytes, form_url: str, contact: str = "") -> None:
        self.key = key
        self.form_url = form_url.rstrip("/")
        self.contact = contact

    # -- the signed token --

    def token(self, info: BlockInfo, now: float | None = None) -> str:
        body = json.dumps({"g": info.group_id, "h": "" if info.confidential else info.host,
                           "c": info.category, "l": info.list_id, "x": info.confidential,
                           "t": int(time.time() if now is None else now)},
                          separators=(",", ":"), sort_keys=True).encode()
        mac = hmac.new(self.key, body, hashlib.sha256).digest()
        return f"{_b64(body)}.{_b64(mac)}"

    def verify(self, token: str, now: float | None = None) -> BlockInfo | None:
        """The BlockInfo a token was issued for, or None (forged, expired, malformed)."""
        if len(token) > MAX_TOKEN or token.count(".") != 1:
            return None
        body_text, mac_text = token.split(".")
        try:
            body = base64.urlsafe_b64decode(body_text + "=" * (-len(body_text) % 4))
            mac = base64.urlsafe_b64decode(mac_text + "=" * (-len(mac_text) % 4))
        except ValueError:
            return None
        if not hmac.compare_digest(mac, hmac.new(self.key, body, hashlib.sha256).digest()):
            return None
        try:
            data = json.loads(body)
            issued = int(data["t"])
            info = BlockInfo(str(data["g"]), str(data["h"]), str(data["c"]), str(data["l"]),
                             bool(data["x"]))
        except (ValueError, KeyError, TypeError):
            return None
        at = time.time() if now is None else now
        if not at - TOKEN_SECONDS <= issued <= at + 300:
            return None
        return info

    # -- pages --

    def block(self, info: BlockInfo, doh: bool = False) -> bytes:
        sq, en = category_names(info.category)
        return _env.get_template("blockpage.html").render(
            host="" if info.confidential else info.host, category_sq=sq, category_en=en,
            contact=self.contact, isigurt=ISIGURT, doh=doh,
            form_url=f"{self.form_url}/unblock" if self.form_url else "",
            token=self.token(info)).encode("utf-8")

    def sent(self, recorded: bool) -> bytes:
        return _env.get_template("sent.html").render(
            recorded=recorded, contact=self.contact, isigurt=ISIGURT).encode("utf-8")

    def ca(self, fingerprint: str) -> bytes:
        return _env.get_template("ca.html").render(fingerprint=fingerprint).encode("utf-8")

    def index(self) -> bytes:
        return _env.get_template("index.html").render(contact=self.contact).encode("utf-8")
