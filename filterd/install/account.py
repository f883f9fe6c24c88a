"""The `roja` system user and the folders it owns (state, lists, logs; `/etc/roja` group).

The user comes from `sysusers.d/roja.conf` through `systemd-sysusers` (also with `--root`,
which edits that root's /etc/passwd); without it, `useradd --system` (with `--prefix` for a
root other than "/"). The folders are made here directly, owned by the uid/gid read from the
root's own /etc/passwd and /etc/group, so a test root never needs the host's user database.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from filterd.install import InstallError, Layout

USER = "roja"


def lookup(layout: Layout, name: str = USER) -> tuple[int, int] | None:
    """(uid, gid) of `name` in the root's /etc/passwd, or None."""
    passwd = layout.at("/etc/passwd")
    if not passwd.is_file():
        return None
    for line in passwd.read_text(encoding="utf-8", errors="replace").splitlines():
        fields = line.split(":")
        if len(fields) >= 4 and fields[0] == name:
            return int(fields[2]), int(fields[3])
    return None


def ensure_user(layout: Layout, sysusers_conf: Path) -> tuple[int, int]:
    """Create the system user if missing; idempotent. Returns (uid, gid)."""
    found = lookup(layout)
    if found is not None:
        return found
    layout.at("/etc").mkdir(parents=True, exist_ok=True)
    sysusers = shutil.which("systemd-sysusers")
    if sysusers is not None:
        args = [sysusers] + ([] if layout.real else [f"--root={layout.root}"])
        subprocess.run([*args, str(sysusers_conf)], capture_output=True, check=False)
    if lookup(layout) is None and (useradd := shutil.which("useradd")) is not None:
        args = [useradd, "--system", "--user-group", "--home-dir", "/var/lib/roja",
                "--no-create-home", "--shell", "/usr/sbin/nologin",
                "--comment", "Roja school network filter"]
        if not layout.real:
            args += ["--prefix", str(layout.root)]
        subprocess.run([*args, USER], capture_output=True, check=False)
    found = lookup(layout)
    if found is None:
        raise InstallError("Përdoruesi roja nuk u krijua / could not create the roja user "
                           "(neither systemd-sysusers nor useradd worked)")
    return found


def make_dirs(layout: Layout, owner: tuple[int, int]) -> None:
    """/var/lib/roja(/lists) and /var/log/roja 0750 roja:roja; /etc/roja 0770 root:roja.

    /etc/roja is group-writable because the console (its own unit, user roja) saves the
    config from the Groups and schedules page by writing a new file and renaming it over the
    old one; the DNS daemon's unit sees /etc read-only (ProtectSystem=strict)."""
    uid, gid = owner
    for path in (layout.state, layout.state / "lists", layout.logs):
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o750)
        _chown(path, uid, gid)
    layout.etc.mkdir(parents=True, exist_ok=True)
    layout.etc.chmod(0o770)
    _chown(layout.etc, 0, gid)


def make_state_dir(layout: Layout, state: Path, owner: tuple[int, int]) -> None:
    """`[state] dir` of roja.toml when it is not /var/lib/roja: created 0750 roja:roja if
    missing (the units' drop-ins name it in `ReadWritePaths=`, which systemd needs to exist;
    under `ProtectSystem=strict` the services could not create it). An existing folder is
    the school's: left as it is."""
    path = layout.at(str(state))
    if path.exists():
        return
    path.mkdir(parents=True)
    path.chmod(0o750)
    _chown(path, *owner)


def _chown(path: Path, uid: int, gid: int) -> None:
    if os.geteuid() == 0:
        os.chown(path, uid, gid)


def remove_data(layout: Layout) -> None:
    """`--purge`: the configuration, the state (incidents, reports) and the logs."""
    for path in (layout.etc, layout.state, layout.logs):
        shutil.rmtree(path, ignore_errors=True)
