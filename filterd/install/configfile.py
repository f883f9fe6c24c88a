"""`/etc/roja/roja.toml` from the commented template `gateway.toml`, never overwritten.

Only three answers are asked (or given as flags): the LAN interface, the school code and
the report recipients. The LAN address for DNS comes from `ip -j addr show dev IFACE` (or
`--lan-address`). Also written when missing: `/etc/roja/lan.env` (the bypass watch's
interface) and the school's own empty lists `bllokuar.txt` and `lejuar.txt`.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from filterd.config import parse_config_text
from filterd.firewall.config import IFACE
from filterd.install import InstallError, Layout

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
    if not IFACE.match(a.lan_interface):
        raise InstallError(f"Karta e rrjetit {a.lan_interface!r} nuk është e vlefshme / "
                           "not a network interface name")
    if not CODE.match(a.school_code):
        raise InstallError(f"Kodi i shkollës {a.school_code!r}: vetëm shkronja, shifra, '-', "
                           "'_', '.' / school code: letters, digits, '-', '_', '.' only")
    for r in a.recipients:
        if not EMAIL.match(r):
            raise InstallError(f"{r!r} nuk është adresë e-mail / is not an e-mail address")
    for address in a.lan_addresses:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise InstallError(f"{address!r} nuk është adresë IP / is not an IP address") \
                from None


def interface_addresses(iface: str) -> tuple[str, ...]:
    """The interface's global IPv4/IPv6 addresses, from `ip -j addr show dev IFACE`."""
    ip = shutil.which("ip") or shutil.which("ip", path="/usr/sbin:/sbin")
    if ip is None:
        return ()
    result = subprocess.run([ip, "-j", "addr", "show", "dev", iface], capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        return ()
    out = []
    for link in json.loads(result.stdout or "[]"):
        for info in link.get("addr_info", []):
            if info.get("scope") == "global" and info.get("local"):
                out.append(str(info["local"]))
    return tuple(out)


def _toml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def render(a: Answers) -> str:
    listen = ["127.0.0.1:53", "[::1]:53"]
    for address in a.lan_addresses:
        ip = ipaddress.ip_address(address)
        listen.append(f"[{ip}]:53" if ip.version == 6 else f"{ip}:53")
    if a.recipients:
        host = socket.gethostname() or "roja"
        smtp = ("[report.smtp]\nhost = \"localhost\"\nport = 25\nstarttls = false\n"
                f"from_addr = {_toml_str(f'roja@{host}')}\n"
                f"to = [{', '.join(_toml_str(r) for r in a.recipients)}]")
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


def write_extras(layout: Layout, lan_interface: str, owner: tuple[int, int]) -> None:
    env = layout.etc / "lan.env"
    if not env.exists():
        env.write_text(f"# Karta e LAN-it për roja-bypass-watch / the bypass watch's LAN card\n"
                       f"ROJA_LAN_INTERFACE={lan_interface}\n", encoding="utf-8")
        env.chmod(0o644)
    for name, text in STARTER_LISTS.items():
        path = layout.state / "lists" / name
        if not path.exists():
            path.write_text(text, encoding="utf-8")
            path.chmod(0o640)
            if os.geteuid() == 0:
                os.chown(path, *owner)


def configured_interface(layout: Layout) -> str:
    """The LAN interface of an existing config (for a re-install without answers)."""
    try:
        from filterd.config import load_config

        return load_config(layout.config).firewall.lan_interface
    except Exception:  # an unreadable config is reported by `roja config check`, not here
        return ""
