"""The network cards of the machine the installer runs on, with their addresses.

`cards()` reads them from the kernel of the current network namespace: `ip -j addr` (names,
state and every address) when iproute2 is there, else `socket.if_nameindex()` (names only).
`check_card(name, found)` refuses a card that is not there or is the loopback, with an
Albanian-first message that lists the cards that are there, so a typo (`eht1`, or the
internet card `eth0` instead of the LAN's `eth1`) is caught before anything is written.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from dataclasses import dataclass

from filterd.install import InstallError


@dataclass(frozen=True)
class Card:
    name: str
    up: bool
    addresses: tuple[str, ...] = ()      # "192.168.50.1/24", "fd00::1/64" (global scope)

    @property
    def loopback(self) -> bool:
        return self.name == "lo"

    @property
    def ips(self) -> tuple[str, ...]:
        """The addresses without their prefix length (what DNS listens on)."""
        return tuple(a.split("/", 1)[0] for a in self.addresses)

    def describe(self) -> str:
        state = "" if self.up else "  (e fikur / down)"
        return f"{self.name:<15} {', '.join(self.addresses) or 'pa adresë / no address'}{state}"


def _ip() -> str | None:
    return shutil.which("ip") or shutil.which("ip", path="/usr/sbin:/sbin")


def cards() -> tuple[Card, ...]:
    """Every card of this machine (its current network namespace), in kernel order."""
    ip = _ip()
    if ip is not None:
        result = subprocess.run([ip, "-j", "addr", "show"], capture_output=True, text=True,
                                check=False, timeout=10)
        if result.returncode == 0:
            return tuple(_card(link) for link in json.loads(result.stdout or "[]"))
    return tuple(Card(name, True) for _, name in socket.if_nameindex())


def _card(link: dict[str, object]) -> Card:
    addresses = []
    infos = link.get("addr_info", [])
    for info in infos if isinstance(infos, list) else []:
        if isinstance(info, dict) and info.get("scope") == "global" and info.get("local"):
            addresses.append(f"{info['local']}/{info.get('prefixlen', '')}".rstrip("/"))
    flags = link.get("flags", [])
    return Card(str(link.get("ifname", "")), isinstance(flags, list) and "UP" in flags,
                tuple(addresses))


def listing(found: tuple[Card, ...]) -> str:
    """The cards a teacher can choose from (not the loopback), one a line."""
    lines = [f"  {card.describe()}" for card in found if not card.loopback]
    return "\n".join(lines) or "  (asnjë / none)"


def check_card(name: str, found: tuple[Card, ...]) -> Card:
    """The card called `name`; InstallError when there is none or it is the loopback."""
    for card in found:
        if card.name == name and not card.loopback:
            return card
    if name == "lo":
        why = (f"{name!r} është karta loopback, jo karta e LAN-it / {name!r} is the loopback, "
               "not the LAN card")
    else:
        why = (f"Karta e rrjetit {name!r} nuk ekziston në këtë makinë / there is no network "
               f"card {name!r} on this machine")
    raise InstallError(f"{why}.\nKartat e kësaj makine / this machine's cards:\n"
                       f"{listing(found)}")
