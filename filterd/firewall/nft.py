"""Run `nft`: check (`-c -f`), load (`-f`), remove and read Roja's table. Optional
`netns` runs the same inside a network namespace (`ip netns exec NS nft ...`), for tests.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from filterd.firewall.render import TABLE


class NftError(Exception):
    """nft is missing or refused the ruleset; the message is nft's own."""


def _command(args: list[str], netns: str | None) -> list[str]:
    nft = shutil.which("nft") or ("/usr/sbin/nft" if Path("/usr/sbin/nft").exists() else None)
    if nft is None:
        raise NftError("nft not found: apt-get install nftables")
    base = [nft, *args]
    return ["ip", "netns", "exec", netns, *base] if netns else base


def _run(args: list[str], netns: str | None = None, stdin: str | None = None) -> str:
    proc = subprocess.run(_command(args, netns), input=stdin, capture_output=True, text=True,
                          check=False, timeout=60)
    if proc.returncode != 0:
        raise NftError((proc.stderr or proc.stdout).strip() or f"nft exited {proc.returncode}")
    return proc.stdout


def check(ruleset: str, netns: str | None = None) -> None:
    """`nft -c -f -`: parse and check against the kernel without changing anything."""
    _run(["-c", "-f", "-"], netns, ruleset)


def apply(ruleset: str, netns: str | None = None) -> None:
    """Load the ruleset in one transaction (replacing only `table inet roja`)."""
    _run(["-f", "-"], netns, ruleset)


def remove(netns: str | None = None) -> bool:
    """Delete `table inet roja`; False when it was not there."""
    if not exists(netns):
        return False
    _run(["delete", "table", "inet", TABLE], netns)
    return True


def exists(netns: str | None = None) -> bool:
    out = _run(["-j", "list", "tables", "inet"], netns)
    return any(item.get("table", {}).get("name") == TABLE
               for item in json.loads(out or '{"nftables": []}').get("nftables", []))


def listing(netns: str | None = None) -> str:
    return _run(["list", "table", "inet", TABLE], netns)


def counters(netns: str | None = None) -> dict[str, int]:
    """Packets per named counter of the table (empty when it is not loaded)."""
    return {name: packets for name, (packets, _) in counter_values(netns).items()}


def counter_values(netns: str | None = None) -> dict[str, tuple[int, int]]:
    """(packets, bytes) per named counter of the table (empty when it is not loaded), for
    `render(carried=...)` to start the next table's counters where these are."""
    if not exists(netns):
        return {}
    out = json.loads(_run(["-j", "list", "counters", "table", "inet", TABLE], netns))
    return {c["counter"]["name"]: (int(c["counter"]["packets"]), int(c["counter"]["bytes"]))
            for c in out.get("nftables", []) if "counter" in c}
