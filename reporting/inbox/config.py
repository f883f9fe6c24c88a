"""The inbox's own config file (not the appliance's roja.toml): `roja inbox serve --config F`.

    [inbox]
    listen = "0.0.0.0:8443"              # address:port; [::]:8443 for IPv6
    tls_cert = "/etc/roja-inbox/cert.pem"  # required unless listen is a loopback address
    tls_key = "/etc/roja-inbox/key.pem"
    data_dir = "/var/lib/roja-inbox"     # inbox.sqlite (schools, reports, users, access log)
    max_upload_mb = 20                   # largest accepted upload (JSON + PDF + CSV)
    late_day = 10                        # a month's report is late after this day of the next
    session_hours = 10                   # staff stay logged in this long
    public_url = "https://inbox.example.al"  # printed in login links and token snippets

Command-line flags (`--listen`, `--tls-cert`, `--tls-key`, `--data-dir`, `--max-upload-mb`,
`--late-day`) override the file. Plain HTTP is allowed only on a loopback address (127.0.0.1,
::1): anywhere else the inbox refuses to start without a certificate and key, because tokens
and passwords would otherwise travel in clear.

The URLs the commands print (`token issue`, `user link`) come from `link_base(cfg)`: the
`public_url` when set, else the address a running `roja inbox serve` really listens on (it
records it in the data directory, `served-url`: this covers `--listen`, another config file
and port 0), else the config's `listen`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from configkit import ConfigError, Section, load_toml, parse_hostport
from reporting.delivery_config import is_loopback

DEFAULT_PORT = 8470
DEFAULT_DATA_DIR = Path("/var/lib/roja-inbox")
SERVED_FILE = "served-url"
WILDCARDS = ("0.0.0.0", "::")


class InboxConfigError(ValueError):
    """A setting that cannot work; the message says which and why."""


@dataclass(frozen=True)
class InboxConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    data_dir: Path = DEFAULT_DATA_DIR
    tls_cert: Path | None = None
    tls_key: Path | None = None
    max_upload_mb: int = 20
    late_day: int = 10
    session_hours: int = 10
    public_url: str = ""

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb << 20

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        if host in ("0.0.0.0", "[::]"):
            host = "localhost"
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"


def remember_served(cfg: InboxConfig, url: str) -> None:
    """Record where the inbox now listens (called by `serve` once it listens)."""
    path = cfg.data_dir / SERVED_FILE
    tmp = path.with_name(f".{SERVED_FILE}.new")
    tmp.write_text(url + "\n", encoding="utf-8")
    tmp.replace(path)


def link_base(cfg: InboxConfig) -> str:
    """The base of the URLs handed to schools and staff (see the module docstring)."""
    if cfg.public_url:
        return cfg.public_url.rstrip("/")
    try:
        served = (cfg.data_dir / SERVED_FILE).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        served = ""
    if not served.startswith(("http://", "https://")):
        return cfg.base_url
    scheme, rest = served.split("://", 1)
    host, _, port = rest.rpartition(":")
    if host.strip("[]") in WILDCARDS:
        host = "localhost"
    return f"{scheme}://{host}:{port}"


def only_local(cfg: InboxConfig, base: str) -> bool:
    """True when the inbox listens on every address but `base` (no public_url) can only
    name it as localhost: schools and staff elsewhere cannot open it."""
    return not cfg.public_url and "://localhost:" in base


def _listen(text: str) -> tuple[str, int]:
    return parse_hostport(text, DEFAULT_PORT, allow_zero=True)


def parse(section: Section) -> InboxConfig:
    """Read the `[inbox]` table; errors name the file, line and key."""
    listen = section.str("listen", f"127.0.0.1:{DEFAULT_PORT}")
    try:
        host, port = _listen(listen)
    except ValueError:
        raise section.error("listen", f"{listen!r} is not address:port, e.g. "
                                      "0.0.0.0:8443 or [::]:8443") from None
    cert, key = section.str("tls_cert", ""), section.str("tls_key", "")
    cfg = InboxConfig(
        host=host, port=port, data_dir=Path(section.str("data_dir", str(DEFAULT_DATA_DIR))),
        tls_cert=Path(cert) if cert else None, tls_key=Path(key) if key else None,
        max_upload_mb=section.int("max_upload_mb", 20, min=1, max=200),
        late_day=section.int("late_day", 10, min=1, max=28),
        session_hours=section.int("session_hours", 10, min=1, max=24 * 7),
        public_url=section.str("public_url", ""))
    section.done()
    if cfg.public_url and not cfg.public_url.startswith(("https://", "http://")):
        raise section.error("public_url", "must start with https://")
    return cfg


def load(path: Path) -> InboxConfig:
    """The config file's `[inbox]` table (ConfigError with file, line and key)."""
    data, source = load_toml(path)
    root = Section(data, "", source)
    cfg = parse(root.section("inbox"))
    root.done()
    return cfg


def override(cfg: InboxConfig, *, listen: str | None = None, tls_cert: Path | None = None,
             tls_key: Path | None = None, data_dir: Path | None = None,
             max_upload_mb: int | None = None, late_day: int | None = None) -> InboxConfig:
    """`cfg` with the given command-line values in place of the file's."""
    changes: dict[str, Any] = {}
    if listen is not None:
        try:
            changes["host"], changes["port"] = _listen(listen)
        except ValueError:
            raise InboxConfigError(f"--listen {listen!r}: use address:port, e.g. "
                                   "0.0.0.0:8443") from None
    for name, value in (("tls_cert", tls_cert), ("tls_key", tls_key), ("data_dir", data_dir),
                        ("max_upload_mb", max_upload_mb), ("late_day", late_day)):
        if value is not None:
            changes[name] = value
    return dataclasses.replace(cfg, **changes)


def check_serving(cfg: InboxConfig) -> None:
    """Refuse settings that would expose tokens or passwords: raises InboxConfigError."""
    if (cfg.tls_cert is None) != (cfg.tls_key is None):
        raise InboxConfigError("tls_cert dhe tls_key jepen bashkë / tls_cert and tls_key go "
                               "together: give both or neither")
    if cfg.tls_cert is None and not is_loopback(cfg.host):
        raise InboxConfigError(
            f"Adresa {cfg.host} nuk është lokale: duhet TLS (tls_cert, tls_key) që tokenat "
            f"dhe fjalëkalimet të mos kalojnë të hapur. / {cfg.host} is not a loopback "
            "address: TLS is required (tls_cert and tls_key, or --tls-cert/--tls-key) so that "
            "tokens and passwords never travel in clear; plain HTTP only on 127.0.0.1 or ::1.")
    for path in (cfg.tls_cert, cfg.tls_key):
        if path is not None and not path.is_file():
            raise InboxConfigError(f"{path}: skedari mungon / file not found")
    if not 1 <= cfg.late_day <= 28:
        raise InboxConfigError("late_day: 1..28")


__all__ = ["ConfigError", "InboxConfig", "InboxConfigError", "check_serving", "link_base",
           "load", "only_local", "override", "parse", "remember_served"]
