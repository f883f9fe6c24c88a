"""`roja install` / `roja install --uninstall [--purge]`: set up (or remove) the appliance.

    sudo ./run install                              # asks three questions
    sudo ./run install --non-interactive --lan-interface enp2s0 --school-code AL-TR-0042 \\
        --recipient incidente@dar-tirane.example.al
    sudo roja install --uninstall [--purge]         # --purge also deletes /etc/roja, state

Runs the steps of `filterd.install` in order. The LAN card must be one of this machine's
cards (they are listed with their addresses when asked; a typo is refused). Running it again
refreshes the application and the units; with answers (flags, or the questions, which then
offer the current values) it first shows each value of roja.toml and lan.env that changes,
old → new, then changes only those keys in place and keeps a backup of the previous file.
`--root DIR` installs the whole tree under DIR
(tests, images) without touching the running system; `--deps-from VENV` takes the
dependencies from an existing environment instead of pip (offline, tests).
Exit status: 0 done, 1 a step failed (the message says which), 2 bad answers or not root.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import click

from filterd.install import InstallError, Layout, account, appdir, cards, configfile, units, update


def _fail(exc: InstallError | str, code: int = 1) -> NoReturn:
    click.echo(f"Instalimi dështoi / install failed: {exc}", err=True)
    sys.exit(code)


@click.command("install", short_help="Instalo Rojën në portë / install on this gateway.")
@click.option("--lan-interface", help="Karta e LAN-it / the LAN network card, e.g. enp2s0")
@click.option("--lan-address", multiple=True,
              help="Adresa e portës në LAN (parazgjedhur: nga karta) / the gateway's LAN "
                   "address (default: read from the card)")
@click.option("--school-code", help="Kodi i shkollës / school code")
@click.option("--school-name", help="Emri i shkollës / school name")
@click.option("--recipient", multiple=True,
              help="Marrësi i raportit (e-mail), mund të përsëritet / report recipient")
@click.option("--non-interactive", is_flag=True, help="Mos pyet / never prompt")
@click.option("--uninstall", is_flag=True, help="Hiq Rojën / remove Roja (keeps config, state)")
@click.option("--purge", is_flag=True, help="Me --uninstall: fshi edhe konfigurimin dhe "
              "gjendjen / with --uninstall: delete /etc/roja, /var/lib/roja, /var/log/roja too")
@click.option("--root", "--prefix", "root", type=click.Path(file_okay=False, path_type=Path),
              default=Path("/"), show_default=True,
              help="Instalo nën këtë dosje / install under this folder (tests, images)")
@click.option("--deps-from", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Merr varësitë nga ky venv / take dependencies from this venv (no pip)")
@click.option("--source", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Kopja e Rojës që instalohet / the Roja release to install")
def install(lan_interface: str | None, lan_address: tuple[str, ...], school_code: str | None,
            school_name: str | None, recipient: tuple[str, ...], non_interactive: bool,
            uninstall: bool, purge: bool, root: Path, deps_from: Path | None,
            source: Path | None) -> None:
    """Instalo Rojën në portë / install Roja on this gateway (systemd, firewall)."""
    layout = Layout(root.resolve())
    if layout.real and os.geteuid() != 0:
        _fail("duhet root: sudo ./run install / root is required: sudo ./run install", 2)
    if uninstall:
        _uninstall(layout, purge)
        return
    if purge:
        _fail("--purge shkon vetëm me --uninstall / --purge needs --uninstall", 2)
    found = cards.cards()
    flags = Flags(lan_interface, lan_address, school_code, school_name, recipient)
    try:
        if layout.config.exists():
            the_plan = _rerun(layout, flags, found, non_interactive)
            answers = None
        else:
            answers, the_plan = _answers(flags, found, non_interactive), None
    except InstallError as exc:
        _fail(exc, 2)
    try:
        _install(layout, answers, the_plan, deps_from, source or appdir.source_root())
    except InstallError as exc:
        _fail(exc)


@dataclass(frozen=True)
class Flags:
    lan_interface: str | None
    lan_address: tuple[str, ...]
    school_code: str | None
    school_name: str | None
    recipients: tuple[str, ...]


def _ask_card(found: tuple[cards.Card, ...], default: str | None) -> cards.Card:
    """Show this machine's cards and ask until the answer names one of them."""
    click.echo("Kartat e rrjetit të kësaj makine / this machine's network cards:\n"
               + cards.listing(found))
    while True:
        name = click.prompt("Karta e rrjetit të shkollës (LAN) / the school LAN's network card",
                            default=default)
        try:
            return _card(name, found)
        except InstallError as exc:
            click.echo(str(exc), err=True)


def _card(name: str, found: tuple[cards.Card, ...]) -> cards.Card:
    configfile.check_card_name(name)
    return cards.check_card(name, found)


def _ask_recipients(default: tuple[str, ...]) -> tuple[str, ...]:
    text = click.prompt("Marrësit e raportit (e-mail, të ndarë me presje; bosh: asnjë) "
                        "/ report recipients (comma-separated; empty: none)",
                        default=", ".join(default), show_default=bool(default))
    return tuple(r.strip() for r in text.split(",") if r.strip())


def _answers(flags: Flags, found: tuple[cards.Card, ...],
             non_interactive: bool) -> configfile.Answers:
    """The first install's answers, checked (InstallError: refused, nothing written)."""
    lan_interface, school_code, recipients = flags.lan_interface, flags.school_code, \
        flags.recipients
    if non_interactive:
        missing = [flag for flag, value in (("--lan-interface", lan_interface),
                                            ("--school-code", school_code)) if not value]
        if missing:
            raise InstallError(f"mungon / missing {' '.join(missing)} (--non-interactive)")
    else:
        if lan_interface is None:
            lan_interface = _ask_card(found, None).name
        school_code = school_code or click.prompt("Kodi i shkollës / school code")
        recipients = recipients or _ask_recipients(())
    assert lan_interface is not None and school_code is not None
    answers = configfile.Answers(lan_interface, school_code, tuple(recipients),
                                 flags.school_name or "", flags.lan_address)
    configfile.check_answers(answers)
    card = cards.check_card(lan_interface, found)
    addresses = flags.lan_address or card.ips
    if not addresses:
        _warn_no_address(lan_interface)
    return dataclasses.replace(answers, lan_addresses=tuple(addresses))


def _warn_no_address(card: str) -> None:
    click.echo(f"Kujdes / Warning: karta {card} nuk ka adresë; DNS dëgjon vetëm në loopback "
               "derisa ta shtoni te [dns] listen / the card has no address yet; add the LAN "
               "address to [dns] listen", err=True)


def _rerun(layout: Layout, flags: Flags, found: tuple[cards.Card, ...],
           non_interactive: bool) -> update.Plan:
    """A re-run: the answers given (or asked, the current values offered) against roja.toml,
    shown old → new before anything is done."""
    data = update.current(layout)
    old_card = str(update.get(data, update.LAN) or "")
    old_code = str(update.get(data, ("school", "code")) or "")
    old_to = update.get(data, (*update.SMTP, "to"))
    old_recipients = tuple(str(r) for r in old_to) if isinstance(old_to, list) else ()
    lan_interface, school_code, recipients = flags.lan_interface, flags.school_code, \
        flags.recipients
    if non_interactive:
        if lan_interface is None and old_card and old_card not in {c.name for c in found}:
            click.echo(f"Kujdes / Warning: karta {old_card!r} e roja.toml nuk ekziston në këtë "
                       "makinë / the card in roja.toml is not on this machine; correct it with "
                       "--lan-interface. Kartat / cards:\n" + cards.listing(found), err=True)
    else:
        if lan_interface is None:
            lan_interface = _ask_card(found, old_card or None).name
        school_code = school_code or click.prompt("Kodi i shkollës / school code",
                                                  default=old_code or None)
        recipients = recipients or _ask_recipients(old_recipients)
    if school_code is not None:
        configfile.check_code(school_code)
    configfile.check_recipients(recipients)
    configfile.check_addresses(flags.lan_address)
    addresses: tuple[str, ...] | None = None
    if lan_interface is not None:
        card = _card(lan_interface, found)
        if flags.lan_address or card.name != old_card:
            addresses = flags.lan_address or card.ips
            if not addresses:
                _warn_no_address(card.name)
    the_plan = update.plan(layout, data, update.wanted(
        data, lan_interface=lan_interface, school_code=school_code,
        school_name=flags.school_name, recipients=tuple(recipients), addresses=addresses))
    if the_plan.changes:
        click.echo("Ndryshimet / changes:\n"
                   + "\n".join(f"  {change}" for change in the_plan.changes))
        if not non_interactive and not click.confirm(
                "Të zbatohen? / Apply these changes?", default=True):
            click.echo("Instalimi u anulua, asgjë nuk u ndryshua / install cancelled, nothing "
                       "was changed", err=True)
            sys.exit(1)
    return the_plan


def _install(layout: Layout, answers: configfile.Answers | None, the_plan: update.Plan | None,
             deps_from: Path | None, source: Path) -> None:
    from filterd.cli import main

    python = appdir.base_python()
    if (warning := appdir.home_python_warning(python)) is not None:
        if layout.real:
            raise InstallError(warning)
        click.echo(f"Kujdes / Warning: {warning}", err=True)
    click.echo(f"1/4 Aplikacioni / application → {layout.app}, {layout.venv}")
    layout.opt.mkdir(parents=True, exist_ok=True)
    appdir.copy_release(layout, source)
    appdir.build_venv(layout, python, deps_from)
    click.echo("2/4 Përdoruesi roja dhe dosjet / the roja user and folders")
    owner = account.ensure_user(layout, layout.app / "systemd" / "sysusers.d" / "roja.conf")
    account.make_dirs(layout, owner)
    click.echo(f"3/4 Konfigurimi / configuration → {layout.config}")
    if answers is not None:
        configfile.write_config(layout, answers, owner[1])
        click.echo("    u shkrua / written")
        lan = answers.lan_interface
    else:
        assert the_plan is not None
        backup = update.apply(layout, the_plan)
        if backup is not None:
            click.echo(f"    u ndryshuan {len(the_plan.values)} vlera / {len(the_plan.values)} "
                       f"values changed; kopja e mëparshme / previous file: {backup}")
        else:
            click.echo("    ekziston, nuk preket / exists, left as it is")
        lan = the_plan.lan_interface
    configfile.write_extras(layout, lan, owner)
    click.echo(f"4/4 Njësitë systemd / systemd units → {layout.unit_dir}")
    wanted = units.wanted(set(main.list_commands(click.Context(main))), firewall=bool(lan))
    state = units.state_dir(update.current(layout))
    if state != units.DEFAULT_STATE:
        account.make_state_dir(layout, state, owner)
        click.echo(f"    [state] dir {state}: njësitë shkruajnë atje / the units write there")
    units.install_files(layout, layout.app / "systemd", wanted, state)
    result = units.activate(layout, wanted)
    click.echo(f"    aktivizuar / enabled: {', '.join(result.enabled) or '-'}")
    if result.note:
        click.echo(result.note)
    click.echo("Gati / done. Kontrolloni / check: roja status")


def _uninstall(layout: Layout, purge: bool) -> None:
    units.deactivate_and_remove(layout)
    appdir.remove(layout)
    if purge:
        account.remove_data(layout)
        click.echo("U hoq gjithçka / everything removed (the roja user stays: userdel roja)")
    else:
        click.echo(f"U hoq / removed: units, {layout.opt}. Mbeten / kept: {layout.etc}, "
                   f"{layout.state} (--purge i fshin / deletes them)")
