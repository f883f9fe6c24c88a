"""A re-run of `roja install` with corrected answers: old → new, then roja.toml updated in place.

The installer owns a few keys of `/etc/roja/roja.toml`: `[school] name, code`, `[dns] listen`,
`[firewall] lan_interface` and `[report.smtp] to` (the whole `[report.smtp]` table only when
it adds one). Everything else in the file is the school's: `plan()` compares the answers with
the file and lists each owned value that would change, plus `/etc/roja/lan.env`; the command
shows that list (and, interactively, asks) before doing anything. `apply()` then changes only
those keys with `tomledit` (every other key, comment and blank line stays, proven by parsing
the result again), checks that the result is a valid Roja config, keeps the previous file as
`roja.toml.bak-YYYYmmdd-HHMMSS` (same mode and owner) and replaces the file atomically.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from configkit import ConfigError
from filterd.config import parse_config_text
from filterd.install import InstallError, Layout, configfile, tomledit
from filterd.install.tomledit import EditError

Key = tuple[str, ...]
LAN = ("firewall", "lan_interface")
LISTEN = ("dns", "listen")
SMTP = ("report", "smtp")
ABSENT = "(mungon / absent)"


@dataclass(frozen=True)
class Change:
    what: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.what}: {self.old} → {self.new}"


@dataclass(frozen=True)
class Plan:
    values: dict[Key, object] = field(default_factory=dict)  # roja.toml keys to set
    lan_interface: str = ""                                   # what lan.env will name
    changes: tuple[Change, ...] = ()


def current(layout: Layout) -> dict[str, Any]:
    """The existing roja.toml as data (InstallError when it cannot be read)."""
    try:
        return tomllib.loads(layout.config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InstallError(f"{layout.config} nuk lexohet / cannot be read: {exc}. "
                           "Ndreqeni (roja config check) dhe provoni përsëri / fix it "
                           "(roja config check) and run the installer again.") from None


def get(data: Mapping[str, Any], key: Key) -> object:
    node: object = data
    for part in key:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def relisten(data: Mapping[str, Any], addresses: tuple[str, ...]) -> list[str]:
    """`[dns] listen` for a new LAN card: the loopback entries stay, the old LAN's go."""
    old = get(data, LISTEN)
    kept = [e for e in old if isinstance(e, str) and _loopback(e)] if isinstance(old, list) \
        else []
    return (kept or list(configfile.LOOPBACK_LISTEN)) + configfile.lan_listen(addresses)


def _loopback(entry: str) -> bool:
    host = entry.rsplit(":", 1)[0].strip("[]") if ":" in entry else entry
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True  # a name: not one the installer wrote, so it is kept


def wanted(data: Mapping[str, Any], *, lan_interface: str | None, school_code: str | None,
           school_name: str | None, recipients: tuple[str, ...],
           addresses: tuple[str, ...] | None) -> dict[Key, object]:
    """The owned keys as the answers want them; what was not answered (None, no recipients,
    `addresses` None: [dns] listen) stays as it is."""
    out: dict[Key, object] = {}
    if lan_interface is not None:
        out[LAN] = lan_interface
    if school_code is not None:
        out["school", "code"] = school_code
    if school_name is not None:
        out["school", "name"] = school_name
    if addresses is not None:
        out[LISTEN] = relisten(data, addresses)
    if recipients:
        if isinstance(get(data, SMTP), Mapping):
            out[(*SMTP, "to")] = list(recipients)
        else:
            out.update({(*SMTP, k): v for k, v in configfile.smtp_table(recipients).items()})
    return out


def plan(layout: Layout, data: Mapping[str, Any], values: Mapping[Key, object]) -> Plan:
    changed = {key: value for key, value in values.items() if get(data, key) != value}
    changes = [Change(_label(key), _shown(get(data, key)), _shown(value))
               for key, value in changed.items()]
    card = str(values.get(LAN) or get(data, LAN) or "")
    env = configfile.lan_env(layout)
    if card and env != card:
        changes.append(Change(f"{layout.etc / 'lan.env'} {configfile.LAN_ENV_KEY}",
                              env or ABSENT, card))
    return Plan(changed, card, tuple(changes))


def _label(key: Key) -> str:
    return f"[{'.'.join(key[:-1])}] {key[-1]}"


def _shown(value: object) -> str:
    return ABSENT if value is None else tomledit.render(value)


def apply(layout: Layout, the_plan: Plan, now: datetime | None = None) -> Path | None:
    """Write the plan's roja.toml keys; returns the backup of the previous file."""
    if not the_plan.values:
        return None
    config = layout.config
    text = config.read_text(encoding="utf-8")
    try:
        new = tomledit.set_values(text, the_plan.values)
    except EditError as exc:
        by_hand = "\n".join(f"  {_label(k)} = {tomledit.render(the_plan.values[k])}"
                            for k in exc.paths)
        raise InstallError(f"{config} nuk u ndryshua: këta çelësa nuk mund të ndryshohen me "
                           f"siguri ({exc}); vendosini me dorë / not changed: these keys "
                           f"cannot be changed safely; set them by hand:\n{by_hand}") from None
    try:
        parse_config_text(new, Path("/etc/roja/roja.toml"))
    except ConfigError as exc:
        raise InstallError(f"{config} nuk u ndryshua: me këto vlera nuk do të ishte i "
                           f"vlefshëm / not changed: with these values it would not be "
                           f"valid:\n{exc}") from None
    return replace_config(config, text, new, now or datetime.now())


def replace_config(config: Path, text: str, new: str, now: datetime) -> Path:
    """Keep `text` (the file as it is) as `roja.toml.bak-YYYYmmdd-HHMMSS`, then replace the
    file with `new` atomically (a temporary file renamed over it); returns the backup.
    Also used by the console's Grupet dhe oraret page."""
    backup = _backup_name(config, now)
    _write_like(config, backup, text)
    tmp = config.with_suffix(".toml.new")
    tmp.unlink(missing_ok=True)
    _write_like(config, tmp, new)
    tmp.rename(config)
    return backup


def _write_like(original: Path, path: Path, text: str) -> None:
    """Write `path` with `original`'s mode and owner, never readable by others meanwhile
    (roja.toml may hold the SMTP password)."""
    stat = original.stat()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    if os.geteuid() == 0:
        os.chown(path, stat.st_uid, stat.st_gid)
    path.chmod(stat.st_mode & 0o777)


def _backup_name(config: Path, now: datetime) -> Path:
    stem = f"{config.name}.bak-{now:%Y%m%d-%H%M%S}"
    backup, n = config.with_name(stem), 1
    while backup.exists():
        backup, n = config.with_name(f"{stem}.{n}"), n + 1
    return backup
