"""Test kit: run `roja install --root DIR` into a temporary root (never the real system)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)
ROJA = str(Path(sys.executable).parent / "roja")
ANSWERS = ["--non-interactive", "--lan-interface", "eth1", "--lan-address", "192.168.50.1",
           "--school-code", "AL-TR-0042", "--school-name", "Shkolla \"Çajupi\"",
           "--recipient", "tik@shkolla.example.al", "--recipient", "dar@example.al"]


def roja_install(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ROJA, "install", "--root", str(root), "--deps-from", str(VENV),
                           *args], capture_output=True, text=True, timeout=120, cwd=REPO)


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
