"""The `roja` command. Messages a teacher reads are Albanian first, English second."""

from __future__ import annotations

import errno
import importlib
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from filterd.config import DEFAULT_PATH, ConfigError, RojaConfig, load_config, missing_files
from filterd.errors import RojaError, describe, unexpected, usage_error
from reporting.plural import GROUP, LIST, count

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
    "console": "console:console",
    "demo": "demo:demo",
    "firewall": "firewall:firewall",
    "inbox": "inbox:inbox",
    "incident": "incident:incident",
    "incidents": "incidents:incidents",
    "install": "install:install",
    "isp": "isp:isp",
    "lists": "lists:lists",
    "policy": "policy:policy",
    "reload": "reload:reload",
    "rpz": "rpz:rpz",
    "report": "report:report",
    "selftest": "selftest:selftest",
    "status": "status:status",
    "unblock": "unblock:unblock",
}


def _command_path(exc: BaseException) -> str:
    """`roja audit list`: the deepest click context on the way to the error."""
    path = "roja"
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        ctx = frame.f_locals.get("ctx")
        if isinstance(ctx, click.Context):
            path = ctx.command_path
    return path


class LazyGroup(click.Group):
    """The `roja` group: loads subcommands when called, and is the one place where what a
    command did not catch becomes a message Albanian first, naming what failed (see
    filterd.errors), instead of a Python traceback."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise  # `roja` alone: the help text
        except click.UsageError as exc:
            raise usage_error(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.NoArgsIsHelpError, RojaError):
            raise
        except click.Abort as exc:  # a prompt met Ctrl+C or the end of its input
            click.echo(err=True)  # off the prompt's line
            raise RojaError(f"`{_command_path(exc)}` u ndërpre",
                            "was interrupted (Ctrl+C, or no more input)") from None
        except click.UsageError as exc:
            raise usage_error(exc) from None
        except click.ClickException as exc:
            raise RojaError.wrap(exc) from None
        except Exception as exc:
            if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
                raise  # `roja ... | head`: click closes quietly
            if os.environ.get("ROJA_TRACEBACK"):
                raise
            obj = ctx.obj if isinstance(ctx.obj, dict) else {}
            state_dir = obj["config"].state_dir if "config" in obj else None
            raise unexpected(exc, _command_path(exc), state_dir) from exc

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


@main.command(short_help="Nis shërbimin / run the appliance.")
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
        raise RojaError("Nuk u nis: portat nën 1024 duan root ose CAP_NET_BIND_SERVICE",
                        "could not start: ports below 1024 need root or CAP_NET_BIND_SERVICE",
                        describe(exc)) from None
    except (OSError, RuntimeError) as exc:
        raise RojaError("Nuk u nis", "could not start", describe(exc)) from None


@main.group()
def config() -> None:
    """Konfigurimi / configuration."""


@config.command("check", short_help="Kontrollo konfigurimin / check a config file.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def config_check(file: Path) -> None:
    """Kontrollo një skedar konfigurimi / check a config file."""
    cfg = load_or_exit(file)
    problems = missing_files(cfg)  # the console's Grupet dhe oraret checks the same
    if problems:
        raise RojaError(f"{file}: konfigurimi lexohet, por i mungojnë skedarët",
                        "the config reads, but files it names are missing",
                        "\n  ".join(problems))
    from filterd.report_signoff import directors

    if cfg.report.require_director_signature and not directors(cfg.state_dir):
        click.echo("Kujdes: [report] require_director_signature = true, por konsola nuk ka "
                   "llogari drejtori: asnjë raport nuk dërgohet pa nënshkrimin e tij (roja "
                   "console user add EMRI --role director) / warning: no director account in "
                   "the console: no report is sent until a director signs it", err=True)
    lists, groups = len(cfg.policy.lists), len(cfg.policy.groups)
    click.echo(f"Në rregull / OK: {file} ({count(lists, LIST)} / "
               f"{count(lists, ('list', 'lists'))}, {count(groups, GROUP)} / "
               f"{count(groups, ('group', 'groups'))})")
    workers = cfg.dns.workers
    click.echo(f"DNS: {count(workers, ('proces', 'procese'))} / "
               f"{count(workers, ('worker', 'workers'))} ("
               + (f"auto: {count(workers, ('bërthamë', 'bërthama'))} / "
                  f"{count(workers, ('core', 'cores'))})" if cfg.dns.workers_auto
                  else "dns.workers)"))


