"""The `roja` command. Messages a teacher reads are Albanian first, English second."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

import click

from filterd.config import DEFAULT_PATH, ConfigError, RojaConfig, load_config

DEMO_CONFIG = Path("var/demo/roja.toml")


def config_path(explicit: str | None) -> Path:
    """--config, then $ROJA_CONFIG, then /etc/roja/roja.toml, then the demo's config."""
    if explicit:
        return Path(explicit)
    if os.environ.get("ROJA_CONFIG"):
        return Path(os.environ["ROJA_CONFIG"])
    if not DEFAULT_PATH.exists() and DEMO_CONFIG.exists():
        return DEMO_CONFIG
    return DEFAULT_PATH


def load_or_exit(path: Path) -> RojaConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        click.echo(f"Gabim në konfigurim / Config error:\n  {exc}", err=True)
        sys.exit(2)


class LazyState(dict[str, Any]):
    """ctx.obj: the config (and its state dir) is loaded only by commands that need it."""

    def __missing__(self, key: str) -> Any:
        if key == "config":
            self[key] = load_or_exit(self["config_path"])
            return self[key]
        if key == "state_dir":
            return self["config"].state_dir
        raise KeyError(key)


# Subcommands live in filterd/commands/<module>.py and are imported only when called: `roja
# serve` then carries none of the PDF, inbox or proxy-tooling libraries, which keeps the
# daemon's memory and start-up small (click's documented lazy-loading pattern).
LAZY_COMMANDS = {
    "audit": "audit:audit",
    "bypass-watch": "bypasswatch:bypass_watch",
    "demo": "demo:demo",
    "firewall": "firewall:firewall",
    "inbox": "inbox:inbox",
    "incident": "incident:incident",
    "incidents": "incidents:incidents",
    "install": "install:install",
    "lists": "lists:lists",
    "policy": "policy:policy",
    "reload": "reload:reload",
    "report": "report:report",
    "selftest": "selftest:selftest",
    "status": "status:status",
    "unblock": "unblock:unblock",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in LAZY_COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, attr = LAZY_COMMANDS[cmd_name].split(":")
        command = getattr(importlib.import_module(f"filterd.commands.{module}"), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"filterd.commands.{module}.{attr} is not a click command")
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_opt", metavar="FILE",
              help="Skedari i konfigurimit / config file (default /etc/roja/roja.toml)")
@click.pass_context
def main(ctx: click.Context, config_opt: str | None) -> None:
    """Roja: filtri i rrjetit për shkollat / network filter for schools."""
    ctx.obj = LazyState(config_path=config_path(config_opt))


@main.command()
@click.option("--config", "config_opt", metavar="FILE", help="= roja --config FILE serve")
@click.pass_obj
def serve(obj: LazyState, config_opt: str | None) -> None:
    """Nis shërbimin (DNS, metrika) / run the appliance in the foreground."""
    from filterd.app import run
    from filterd.journal import setup_logging
    from filterd.sdnotify import notify

    cfg: RojaConfig = load_or_exit(Path(config_opt)) if config_opt else obj["config"]
    setup_logging(cfg.log_level)  # journald fields under systemd, plain lines elsewhere

    async def ready() -> None:
        notify("READY=1\nSTATUS=DNS po shërben / serving")

    try:
        run(cfg, ready)
    except PermissionError as exc:
        click.echo(f"Nuk lejohet / Permission denied: {exc}. Portat nën 1024 duan root ose "
                   "CAP_NET_BIND_SERVICE / ports below 1024 need root or CAP_NET_BIND_SERVICE.",
                   err=True)
        sys.exit(1)
    except OSError as exc:
        click.echo(f"Nuk u nis / Could not start: {exc}", err=True)
        sys.exit(1)
    except (FileNotFoundError, RuntimeError) as exc:
        click.echo(f"Nuk u nis / Could not start: {exc}", err=True)
        sys.exit(1)


@main.group()
def config() -> None:
    """Konfigurimi / configuration."""


@config.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def config_check(file: Path) -> None:
    """Kontrollo një skedar konfigurimi / check a config file."""
    cfg = load_or_exit(file)
    missing = [lc for lc in cfg.policy.lists if not lc.path.is_file()]
    for lc in missing:
        click.echo(f"Kujdes / Warning: lista {lc.rule.id!r}: skedari mungon / file missing: "
                   f"{lc.path}", err=True)
    click.echo(f"Në rregull / OK: {file} ({len(cfg.policy.lists)} lista / lists, "
               f"{len(cfg.policy.groups)} grupe / groups)")
    if missing:
        sys.exit(1)


