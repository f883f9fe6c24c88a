"""`roja console serve|user`: the teacher's console in a browser, and its accounts.

    roja console serve                                  # HTTPS on [console] listen
    roja console user add a.hoxha --role teacher        # asks for the password twice
    echo "$PASSWORD" | roja console user add drejtori --role director --password-stdin
    roja console user list
    roja console user reset a.hoxha [--password-stdin]  # a new password; sessions end
    roja console user remove drejtori

Accounts live in `<state_dir>/console.sqlite` (filterd.console.accounts); every account change
goes into the audit log under the name of who ran the command.
"""

from __future__ import annotations

import getpass
import os
import sys
import time
from typing import Any

import click

from filterd import audit
from filterd.errors import RojaError


def _who() -> str:
    return os.environ.get("SUDO_USER") or getpass.getuser()


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Fjalëkalimi / password", hide_input=True,
                            confirmation_prompt="Përsëriteni / repeat"))


@click.group("console", short_help="Konsola e mësuesit / the teacher's console.")
def console() -> None:
    """Konsola e mësuesit në shfletues / the teacher's console in a browser."""


@console.command("serve", short_help="Nis konsolën / serve the console.")
@click.pass_obj
def serve(obj: dict[str, Any]) -> None:
    """Nis konsolën (HTTPS) / serve the console over HTTPS until Ctrl-C."""
    from filterd.console.app import serve as run

    cfg = obj["config"]

    def ready(url: str) -> None:
        click.echo(f"Konsola po punon / the console is running: {url}/\n"
                   f"CA e shkollës / the school CA: {cfg.proxy.ca_path(cfg.state_dir)}")

    try:
        run(cfg, ready)
    except OSError as exc:
        host, port = cfg.console.address(cfg.dns.listen)
        raise RojaError(f"Konsola nuk u nis në {host}:{port}",
                        f"the console could not start on {host}:{port}",
                        str(exc.strerror or exc)) from None


@console.group("user")
def user() -> None:
    """Llogaritë e konsolës / console accounts."""


def _accounts(obj: dict[str, Any]) -> Any:
    from filterd.console.accounts import Accounts

    return Accounts(obj["state_dir"])


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["teacher", "director"]), required=True,
              help="teacher: gjithçka / everything; director: lexon dhe nënshkruan raportet / "
                   "reads and signs reports")
@click.option("--password-stdin", is_flag=True, help="Lexo fjalëkalimin nga hyrja / read "
              "the password from standard input")
@click.pass_obj
def add(obj: dict[str, Any], name: str, role: str, password_stdin: bool) -> None:
    """Shto një llogari / add an account."""
    from filterd.console.accounts import AccountError

    password = _password(password_stdin)
    with _accounts(obj) as accounts:
        try:
            accounts.add(name, role, password, time.time())
        except AccountError as exc:
            raise RojaError("Llogaria nuk u shtua", "the account was not added",
                            str(exc)) from None
    audit.append(obj["state_dir"], who=_who(), what=f"console user add {name} ({role})")
    click.echo(f"U shtua / added: {name} ({role})")


@user.command("list")
@click.pass_obj
def list_(obj: dict[str, Any]) -> None:
    """Listo llogaritë / list the accounts."""
    from datetime import datetime

    with _accounts(obj) as accounts:
        users = accounts.users()
    if not users:
        click.echo("Asnjë llogari. / No accounts (roja console user add NAME --role teacher).")
    for u in users:
        since = datetime.fromtimestamp(u.created_at, audit.TIRANE).strftime("%d.%m.%Y")
        click.echo(f"{u.name}  {u.role_label}  (që nga / since {since})")


@user.command("remove", short_help="Hiq një llogari / remove an account.")
@click.argument("name")
@click.pass_obj
def remove(obj: dict[str, Any], name: str) -> None:
    """Hiq një llogari / remove an account (its sessions end)."""
    with _accounts(obj) as accounts:
        if not accounts.remove(name):
            raise RojaError(f"Nuk ka llogari {name!r}", f"no account {name!r}")
    audit.append(obj["state_dir"], who=_who(), what=f"console user remove {name}")
    click.echo(f"U hoq / removed: {name}")


@user.command("reset", short_help="Fjalëkalim i ri / set a new password.")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Lexo fjalëkalimin nga hyrja / read "
              "the password from standard input")
@click.pass_obj
def reset(obj: dict[str, Any], name: str, password_stdin: bool) -> None:
    """Vendos një fjalëkalim të ri / set a new password (its sessions end)."""
    from filterd.console.accounts import AccountError

    with _accounts(obj) as accounts:
        if accounts.user(name) is None:
            raise RojaError(f"Nuk ka llogari {name!r}", f"no account {name!r}")
        try:
            accounts.reset(name, _password(password_stdin))
        except AccountError as exc:
            raise RojaError("Fjalëkalimi nuk u ndryshua", "the password was not changed",
                            str(exc)) from None
    audit.append(obj["state_dir"], who=_who(), what=f"console user reset {name}")
    click.echo(f"Fjalëkalimi u ndryshua / password changed: {name}")
