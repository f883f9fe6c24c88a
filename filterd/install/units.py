"""Install the unit files, sysusers.d and tmpfiles.d entries; enable and start them.

Units go to `/etc/systemd/system` (admin-installed, not a package). The shipped
roja-firewall-lists.path watches `/var/lib/roja/enforced.json`; the installer adds a drop-in
(`roja-firewall-lists.path.d/state-dir.conf`) that points it at `[state] dir` of roja.toml,
so a school that keeps its state elsewhere still gets its firewall sets refreshed. Likewise
every service that writes state (STATE_SERVICES) gets `<service>.d/state-dir.conf` adding that
dir to `ReadWritePaths=` (the shipped units allow only /var/lib/roja under
`ProtectSystem=strict`) and making it the `WorkingDirectory=`; with the default dir no such
drop-in is written, and a re-install or uninstall removes the ones left from an earlier dir.
Each unit is installed only when the `roja` command it runs exists (`roja selftest`,
`roja bypass-watch`), and the firewall only when `[firewall] lan_interface` is set. With
systemd as PID 1 (and the real root) they are enabled and started; in a `--root` tree they are
enabled offline with `systemctl --root`; in a container without systemd the installer prints
what to run.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filterd.install import InstallError, Layout

UNITS = ("roja.service", "roja-firewall.service", "roja-firewall-lists.service",
         "roja-firewall-lists.path", "roja-report.service", "roja-report.timer",
         "roja-selftest.service", "roja-selftest.timer", "roja-bypass-watch.service",
         "roja-console.service")
# What `systemctl enable` gets (a timer or path unit enables its service's runs).
ENABLE = ("roja-firewall.service", "roja-firewall-lists.path", "roja.service",
          "roja-report.timer", "roja-selftest.timer", "roja-bypass-watch.service",
          "roja-console.service")
NEEDS_COMMAND = {"roja-selftest": "selftest", "roja-bypass-watch": "bypass-watch",
                 "roja-console": "console"}
PATH_UNIT = "roja-firewall-lists.path"
STATE_DROPIN = "state-dir.conf"
# The services that write under [state] dir (the firewall ones only read it, with a capability).
STATE_SERVICES = ("roja.service", "roja-report.service", "roja-selftest.service",
                  "roja-bypass-watch.service", "roja-console.service")
CONFIG_DIR = Path("/etc/roja")  # where roja.toml is on the gateway: relative dirs start here
DEFAULT_STATE = Path("/var/lib/roja")
ENFORCED_NAME = "enforced.json"  # filterd.list_apply's (not imported: it loads the daemon)


def state_dir(data: Mapping[str, Any]) -> Path:
    """`[state] dir` of roja.toml's data as a path on the gateway (what `filterd.config` reads:
    the default /var/lib/roja, a relative dir below the config's folder)."""
    state = data.get("state")
    value = state.get("dir") if isinstance(state, Mapping) else None
    path = Path(value) if isinstance(value, str) and value else DEFAULT_STATE
    return path if path.is_absolute() else CONFIG_DIR / path


HEADER = ("# Roja: shkruar nga `roja install` sipas [state] dir në /etc/roja/roja.toml / "
          "written by `roja install` from [state] dir of /etc/roja/roja.toml.\n")


def _unit_path(state: Path, name: str = "") -> str:
    """`state` (or a file `name` in it) as a unit-file value; refused when systemd could not
    read it back as that path (relative, a line break or a backslash)."""
    path = str(state / name) if name else str(state)
    if not state.is_absolute() or any(c in path for c in "\n\r\\"):
        raise InstallError(f"[state] dir {str(state)!r} nuk mund t'i jepet systemd-së / "
                           "cannot be given to systemd: use an absolute path on one line")
    return path.replace("%", "%%")


def path_dropin(state: Path) -> str:
    """The drop-in that makes roja-firewall-lists.path watch `<state>/enforced.json` (the
    empty `PathChanged=` first clears the shipped /var/lib/roja one)."""
    watched = _unit_path(state, ENFORCED_NAME)
    return HEADER + "[Path]\nPathChanged=\nPathChanged=" + watched + "\n"


def service_dropin(state: Path) -> str:
    """The drop-in that lets a service write `state` under `ProtectSystem=strict` and run in
    it (`ReadWritePaths=` adds to the shipped list; `WorkingDirectory=` replaces it). A path
    with spaces is quoted for ReadWritePaths (a space-separated list)."""
    path = _unit_path(state)
    if '"' in path:
        raise InstallError(f"[state] dir {str(state)!r} nuk mund t'i jepet systemd-së / "
                           "cannot be given to systemd: a double quote in the path")
    listed = f'"{path}"' if any(c.isspace() for c in path) else path
    return (HEADER + "[Service]\nReadWritePaths=" + listed + "\nWorkingDirectory=" + path
            + "\n")


def systemd_running(layout: Layout) -> bool:
    """systemd is PID 1 (its runtime directory exists) and we install into the real root."""
    return layout.real and Path("/run/systemd/system").is_dir()


def wanted(commands: set[str], firewall: bool) -> list[str]:
    out = []
    for unit in UNITS:
        stem = unit.rsplit(".", 1)[0]
        if stem in NEEDS_COMMAND and NEEDS_COMMAND[stem] not in commands:
            continue
        if stem.startswith("roja-firewall") and not firewall:
            continue
        out.append(unit)
    return out


def install_files(layout: Layout, systemd_dir: Path, units: list[str],
                  state: Path = DEFAULT_STATE) -> None:
    """Copy `units` (and the `state` dir's drop-ins, removing stale ones), sysusers.d and
    tmpfiles.d."""
    layout.unit_dir.mkdir(parents=True, exist_ok=True)
    for unit in units:
        shutil.copyfile(systemd_dir / unit, layout.unit_dir / unit)
        (layout.unit_dir / unit).chmod(0o644)
    _write_dropin(layout, PATH_UNIT, path_dropin(state) if PATH_UNIT in units else None)
    for service in STATE_SERVICES:
        wanted_here = service in units and state != DEFAULT_STATE
        _write_dropin(layout, service, service_dropin(state) if wanted_here else None)
    for src, dst in ((systemd_dir / "sysusers.d" / "roja.conf", layout.sysusers),
                     (systemd_dir / "tmpfiles.d" / "roja.conf", layout.tmpfiles)):
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        dst.chmod(0o644)


def _write_dropin(layout: Layout, unit: str, text: str | None) -> None:
    """Write `<unit>.d/state-dir.conf`, or with None remove it (and its folder once empty)."""
    dropin = layout.unit_dir / f"{unit}.d" / STATE_DROPIN
    if text is not None:
        dropin.parent.mkdir(parents=True, exist_ok=True)
        dropin.write_text(text, encoding="utf-8")
        dropin.chmod(0o644)
        return
    dropin.unlink(missing_ok=True)
    if dropin.parent.is_dir() and not any(dropin.parent.iterdir()):
        dropin.parent.rmdir()


@dataclass(frozen=True)
class Activation:
    enabled: tuple[str, ...]
    started: bool
    note: str


def activate(layout: Layout, units: list[str]) -> Activation:
    """daemon-reload + enable (+ start when systemd runs)."""
    enable = [u for u in ENABLE if u in units]
    systemctl = shutil.which("systemctl")
    if systemctl is None:
        return Activation((), False, "systemctl mungon / systemctl is missing: start "
                          "`roja firewall apply` and `roja serve` yourself")
    if systemd_running(layout):
        _run([systemctl, "daemon-reload"])
        if shutil.which("systemd-tmpfiles"):
            _run(["systemd-tmpfiles", "--create", str(layout.tmpfiles)])
        _run([systemctl, "enable", *enable])
        _run([systemctl, "restart", *[u for u in enable if u.endswith(".service")]])
        _run([systemctl, "start", *[u for u in enable if u.endswith((".timer", ".path"))]])
        return Activation(tuple(enable), True, "")
    root = [] if layout.real else [f"--root={layout.root}"]
    _run([systemctl, *root, "enable", *enable])
    return Activation(tuple(enable), False, (
        "systemd nuk po punon këtu (kontejner?): njësitë u aktivizuan për nisjen e ardhshme. "
        "Për ta nisur tani / systemd is not running here (a container?): the units are "
        "enabled for the next boot. To run now: `roja firewall apply` (as root) and "
        "`roja serve --config /etc/roja/roja.toml`."))


def deactivate_and_remove(layout: Layout) -> None:
    present = [u for u in UNITS if (layout.unit_dir / u).exists()]
    systemctl = shutil.which("systemctl")
    if present and systemctl is not None:
        if systemd_running(layout):
            subprocess.run([systemctl, "disable", "--now", *present], capture_output=True,
                           check=False)
        else:
            root = [] if layout.real else [f"--root={layout.root}"]
            subprocess.run([systemctl, *root, "disable", *present], capture_output=True,
                           check=False)
    for unit in present:
        (layout.unit_dir / unit).unlink(missing_ok=True)
    for unit in (PATH_UNIT, *STATE_SERVICES):
        _write_dropin(layout, unit, None)
    layout.sysusers.unlink(missing_ok=True)
    layout.tmpfiles.unlink(missing_ok=True)
    if present and systemctl is not None and systemd_running(layout):
        subprocess.run([systemctl, "daemon-reload"], capture_output=True, check=False)


def _run(args: list[str]) -> None:
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise InstallError(f"{' '.join(args)} dështoi / failed:\n"
                           f"{(result.stderr or result.stdout).strip()}")
