"""The kernel's neighbour table (ARP for IPv4, NDP for IPv6) as an address → MAC snapshot.

Groups with `macs` need it: the policy maps a client's address to its MAC through the snapshot
it is given, never reading the table itself. The appliance refreshes it off the DNS hot path
(every `REFRESH_SECONDS`, in a thread) and swaps in a new policy only when it changed.
Sources: `ip -j neigh` (both families), else `/proc/net/arp` (IPv4 only). Entries that are
FAILED/INCOMPLETE or carry no MAC are left out.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from configkit import client_address
from policy.engine import normalize_mac

REFRESH_SECONDS = 30.0
PROC_ARP = Path("/proc/net/arp")


def parse_ip_json(text: str) -> dict[str, str]:
    """`ip -j neigh` output → {address: mac}."""
    out: dict[str, str] = {}
    try:
        rows = json.loads(text or "[]")
    except ValueError:
        return out
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        states = row.get("state") or []
        if any(s in ("FAILED", "INCOMPLETE") for s in states):
            continue
        address = client_address(str(row.get("dst", "")))
        mac = normalize_mac(str(row.get("lladdr", "")))
        if address is not None and mac is not None:
            out[str(address)] = mac
    return out


def parse_proc_arp(text: str) -> dict[str, str]:
    """`/proc/net/arp` → {address: mac} (flags 0x0 means incomplete)."""
    out: dict[str, str] = {}
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 4 or parts[2] == "0x0":
            continue
        address = client_address(parts[0])
        mac = normalize_mac(parts[3])
        if address is not None and mac is not None and mac != "00:00:00:00:00:00":
            out[str(address)] = mac
    return out


def read_neighbours() -> Mapping[str, str]:
    """The current table, read-only. Never raises: an unreadable table is empty."""
    table: dict[str, str] = {}
    with contextlib.suppress(OSError):
        table.update(parse_proc_arp(PROC_ARP.read_text(encoding="ascii", errors="replace")))
    try:
        done = subprocess.run(["ip", "-j", "neigh", "show"], capture_output=True, text=True,
                              timeout=5, check=False)
        if done.returncode == 0:
            table.update(parse_ip_json(done.stdout))
    except (OSError, subprocess.SubprocessError):
        pass
    return MappingProxyType(table)
