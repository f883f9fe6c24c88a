"""Test kit: run `roja install --root DIR` into a temporary root (never the real system), on a
gateway whose network cards are real kernel interfaces in a network namespace made here.

`gateway_cards({"eth0": "10.0.2.15/24", "eth1": "192.168.50.1/24"})` is that namespace: each
card is one end of a veth pair whose other end lives in a second namespace ("the wire"), so
the installer sees exactly these cards (and `lo`) through `ip -j addr`. `roja_install(root,
*args, cards=..., stdin=...)` runs the installer inside it; without `cards` it makes the card
the arguments name (`--lan-interface`, with its `--lan-address`), so an install with flags
passes the installer's check that the card exists. Needs root (`e2e.netns.require_netns`).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

from e2e.netns import Namespace, require_netns

from filterd.firewall.config import IFACE

REPO = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)
ROJA = str(Path(sys.executable).parent / "roja")
ANSWERS = ["--non-interactive", "--lan-interface", "eth1", "--lan-address", "192.168.50.1",
           "--school-code", "AL-TR-0042", "--school-name", "Shkolla \"Çajupi\"",
           "--recipient", "tik@shkolla.example.al", "--recipient", "dar@example.al"]
# A school gateway: the internet on eth0, the school's LAN on eth1.
GATEWAY = {"eth0": "10.0.2.15/24", "eth1": "192.168.50.1/24"}


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@contextlib.contextmanager
def gateway_cards(cards: Mapping[str, str | None]) -> Iterator[Namespace]:
    """A network namespace with these cards (name → "address/prefix" or None), all up."""
    require_netns()
    tag = uuid.uuid4().hex[:6]
    gateway, wire = Namespace(f"roja-inst-{tag}"), Namespace(f"roja-wire-{tag}")
    made: list[Namespace] = []
    try:
        for ns in (gateway, wire):
            _ip("netns", "add", ns.name)
            made.append(ns)
        for index, (name, address) in enumerate(cards.items()):
            _ip("link", "add", name, "netns", gateway.name, "type", "veth", "peer", "name",
                f"w{tag}{index}", "netns", wire.name)
            if address:
                gateway.run("ip", "addr", "add", address, "dev", name)
            gateway.run("ip", "link", "set", name, "up")
        yield gateway
    finally:
        for ns in reversed(made):
            subprocess.run(["ip", "netns", "del", ns.name], capture_output=True)


def _named_card(args: tuple[str, ...]) -> dict[str, str | None]:
    def flag(name: str) -> str | None:
        return args[args.index(name) + 1] if name in args[:-1] else None
    card, address = flag("--lan-interface"), flag("--lan-address")
    if card is None or not IFACE.match(card) or card == "lo":
        return {}
    return {card: f"{address}/{128 if ':' in address else 24}" if address else None}


def roja_install(root: Path, *args: str, cards: Mapping[str, str | None] | None = None,
                 stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`roja install --root ROOT --deps-from VENV ARGS` on a gateway with `cards`."""
    with gateway_cards(_named_card(args) if cards is None else cards) as ns:
        argv = ns.argv([ROJA, "install", "--root", str(root), "--deps-from", str(VENV),
                        *args])
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=REPO,
                              input=stdin or "")  # no stdin: a question meets end of file


def systemd_root(root: Path) -> None:
    """Give the test root what `systemd-analyze verify --root` resolves: systemd's own
    units and the binaries the units name besides ours (/bin/kill)."""
    system = root / "usr/lib/systemd/system"
    if not system.exists():
        system.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree("/usr/lib/systemd/system", system, symlinks=True)
        (root / "usr/bin").mkdir(parents=True, exist_ok=True)
        shutil.copy2(shutil.which("kill") or "/usr/bin/kill", root / "usr/bin/kill")
        for link in ("bin", "lib", "sbin"):
            if not (root / link).exists():
                (root / link).symlink_to(f"usr/{link}")
