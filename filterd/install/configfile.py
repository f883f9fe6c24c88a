"""The first `/etc/roja/roja.toml`, from the commented template `gateway.toml`.

Only three answers are asked (or given as flags): the LAN interface, the school code and
the report recipients; each is checked here (`check_*`). The LAN address for DNS comes from
the card (`cards`) or `--lan-address`. A later run never rewrites the file (`update` changes
only the installer's keys in place). Also kept here: `/etc/roja/lan.env` (the bypass watch's
interface, always the configured LAN card) and the school's own empty lists `bllokuar.txt`
and `lejuar.txt`.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from filterd.config import parse_config_text
from filterd.firewall.config import IFACE
from filterd.install import InstallError, Layout, tomledit

EMAIL = re.compile(r"^[^@\s<>\",]+@[^@\s<>\",]+$")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
STARTER_LISTS = {
    "bllokuar.txt": "# Domenet e bllokuara nga shkolla, një për rresht / the school's own "
                    "blocked domains, one per line\n",
    "lejuar.txt": "# Domenet gjithmonë të lejuara / domains always allowed, one per line\n",
}


@dataclass(frozen=True)
class Answers:
    lan_interface: str
    school_code: str
    recipients: tuple[str, ...] = ()
    school_name: str = ""
    lan_addresses: tuple[str, ...] = ()


def check_answers(a: Answers) -> None:
    """InstallError naming the first answer that cannot be right."""
    check_card_name(a.lan_interface)
    check_code(a.school_code)
    check_recipients(a.recipients)
    check_addresses(a.lan_addresses)


def check_card_name(name: str) -> None:
    if not IFACE.match(name):
        raise InstallError(f"Karta e rrjetit {name!r} nuk është e vlefshme / not a network "
                           "interface name")


def check_code(code: str) -> None:
    if not CODE.match(code):
        raise InstallError(f"Kodi i shkollës {code!r}: vetëm shkronja, shifra, '-', '_', '.' "
                           "/ school code: letters, digits, '-', '_', '.' only")


def check_recipients(recipients: tuple[str, ...]) -> None:
    for r in recipients:
        if not EMAIL.match(r):
            raise InstallError(f"{r!r} nuk është adresë e-mail / is not an e-mail address")


def check_addresses(addresses: tuple[str, ...]) -> None:
    for address in addresses:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise InstallError(f"{address!r} nuk është adresë IP / is not an IP address") \
                from None


def _toml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


LOOPBACK_LISTEN = ["127.0.0.1:53", "[::1]:53"]


def lan_listen(addresses: tuple[str, ...]) -> list[str]:
    """`[dns] listen` entries for the LAN card's addresses (port 53)."""
    out = []
    for address in addresses:
        ip = ipaddress.ip_address(address)
        out.append(f"[{ip}]:53" if ip.version == 6 else f"{ip}:53")
    return out


def smtp_table(recipients: tuple[str, ...]) -> dict[str, object]:
    """A new `[report.smtp]`: the gateway's own mail server, to the given recipients."""
    host = socket.gethostname() or "roja"
    return {"host": "localhost", "port": 25, "starttls": False, "from_addr": f"roja@{host}",
            "to": list(recipients)}


def render(a: Answers) -> str:
    listen = LOOPBACK_LISTEN + lan_listen(a.lan_addresses)
    if a.recipients:
        smtp = "[report.smtp]\n" + "\n".join(f"{key} = {tomledit.render(value)}" for key, value
                                             in smtp_table(a.recipients).items())
    else:
        smtp = ("# [report.smtp]\n# host = \"smtp.example.al\"\n# from_addr = "
                "\"roja@shkolla.example.al\"\n# to = [\"incidente@dar.example.al\"]")
    template = files("filterd.install").joinpath("gateway.toml").read_text(encoding="utf-8")
    return (template.replace("@SCHOOL_NAME@", _toml_str(a.school_name)[1:-1])
            .replace("@SCHOOL_CODE@", _toml_str(a.school_code)[1:-1])
            .replace("@DNS_LISTEN@", ", ".join(_toml_str(x) for x in listen))
            .replace("@LAN_INTERFACE@", a.lan_interface)
            .replace("@REPORT_SMTP@", smtp))


def write_config(layout: Layout, a: Answers, gid: int) -> bool:
    """Write roja.toml (0640 root:roja) unless one exists; True when written."""
    if layout.config.exists():
        return False
    text = render(a)
    parse_config_text(text, Path("/etc/roja/roja.toml"))  # the template must always parse
    tmp = layout.config.with_suffix(".toml.new")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(0o640)
    if os.geteuid() == 0:
        os.chown(tmp, 0, gid)
    tmp.rename(layout.config)
    return True


LAN_ENV_KEY = "ROJA_LAN_INTERFACE"


def lan_env(layout: Layout) -> str | None:
    """The card in /etc/roja/lan.env (None when the file or the line is missing)."""
    try:
        text = (layout.etc / "lan.env").read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    for line in text.splitlines():
        if line.startswith(f"{LAN_ENV_KEY}="):
            return line.split("=", 1)[1].strip()
    return None


def write_extras(layout: Layout, lan_interface: str, owner: tuple[int, int]) -> None:
    """lan.env names `lan_interface` (its other lines stay); the school's lists exist."""
    env = layout.etc / "lan.env"
    if lan_env(layout) != lan_interface:
        lines = env.read_text(encoding="utf-8").splitlines() if env.exists() else [
            "# Karta e LAN-it për roja-bypass-watch / the bypass watch's LAN card"]
        lines = [line for line in lines if not line.startswith(f"{LAN_ENV_KEY}=")]
        tmp = env.with_suffix(".env.new")
        tmp.write_text("\n".join([*lines, f"{LAN_ENV_KEY}={lan_interface}"]) + "\n",
                       encoding="utf-8")
        tmp.chmod(0o644)
        tmp.rename(env)
    for name, text in STARTER_LISTS.items():
        path = layout.state / "lists" / name
        if not path.exists():
            path.write_text(text, encoding="utf-8")
            path.chmod(0o640)
            if os.geteuid() == 0:
                os.chown(path, *owner)

