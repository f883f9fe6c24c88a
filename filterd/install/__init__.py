"""`roja install`: from a fresh Debian gateway to a running, hardened appliance.

One module a job, run in this order by `filterd.commands.install`:

- `appdir`: copies the release files to `/opt/roja/app` and builds `/opt/roja/venv` (the
  pinned dependencies from `requirements.lock`; the application itself through a `.pth` file
  and a small `roja` launcher), so the units never point into a developer's checkout;
- `account`: the `roja` system user (`systemd-sysusers`, else `useradd --system`) and the
  state and log folders;
- `cards`: the machine's network cards with their addresses; a LAN card that is not there is
  refused;
- `configfile`: the first `/etc/roja/roja.toml` from the commented template `gateway.toml`,
  `/etc/roja/lan.env`, the school's own (empty) lists;
- `update` (with `tomledit`): a re-run's corrected answers shown old → new, then only the
  installer's keys changed in place (the school's edits and comments stay, a backup is kept);
- `units`: the unit files, sysusers.d and tmpfiles.d entries; `systemctl daemon-reload`,
  enable and start when systemd runs, otherwise a note on what to do.

`Layout(root)` holds every path; `root` is "/" on a real gateway and a temporary folder in
the tests (`--root DIR`), which then receives the whole tree without touching the system.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    root: Path = Path("/")

    def at(self, path: str) -> Path:
        """`path` (absolute, as on the gateway) inside `root`."""
        return self.root / path.lstrip("/")

    @property
    def real(self) -> bool:
        return self.root.resolve() == Path("/")

    @property
    def opt(self) -> Path:
        return self.at("/opt/roja")

    @property
    def app(self) -> Path:
        return self.at("/opt/roja/app")

    @property
    def venv(self) -> Path:
        return self.at("/opt/roja/venv")

    @property
    def etc(self) -> Path:
        return self.at("/etc/roja")

    @property
    def config(self) -> Path:
        return self.at("/etc/roja/roja.toml")

    @property
    def state(self) -> Path:
        return self.at("/var/lib/roja")

    @property
    def logs(self) -> Path:
        return self.at("/var/log/roja")

    @property
    def unit_dir(self) -> Path:
        return self.at("/etc/systemd/system")

    @property
    def sysusers(self) -> Path:
        return self.at("/etc/sysusers.d/roja.conf")

    @property
    def tmpfiles(self) -> Path:
        return self.at("/etc/tmpfiles.d/roja.conf")


class InstallError(Exception):
    """A step failed; the message says what and what to do (Albanian / English)."""
