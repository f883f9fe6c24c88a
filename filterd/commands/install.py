"""`roja install` / `roja install --uninstall [--purge]`: set up (or remove) the appliance.

    sudo ./run install                              # asks three questions
    sudo ./run install --non-interactive --lan-interface enp2s0 --school-code AL-TR-0042 \\
        --recipient incidente@dar-tirane.example.al
    sudo roja install --uninstall [--purge]         # --purge also deletes /etc/roja, state

Runs the steps of `filterd.install` in order; running it again refreshes the application
and the units and keeps the existing config. `--root DIR` installs the whole tree under DIR
(tests, images) without touching the running system; `--deps-from VENV` takes the
dependencies from an existing environment instead of pip (offline, tests).
Exit status: 0 done, 1 a step failed (the message says which), 2 bad answers or not root.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from filterd.install import InstallError, Layout, account, appdir, configfile, units


def _fail(exc: InstallError | str, code: int = 1) -> None:
    click.echo(f"Instalimi dështoi / install failed: {exc}", err=True)
    sys.exit(code)


@click.command("install")
@click.option("--lan-interface", help="Karta e LAN-it / the LAN network card, e.g. enp2s0")
@click.option("--lan-address", multiple=True,
              help="Adresa e portës në LAN (parazgjedhur: nga karta) / the gateway's LAN "
                   "address (default: read from the card)")
@click.option("--school-code", help="Kodi i shkollës / school code")
@click.option("--school-name", default="", help="Emri i shkollës / school name")
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
            school_name: str, recipient: tuple[str, ...], non_interactive: bool,
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
    answers = None
    if not layout.config.exists():
        answers = _answers(lan_interface, lan_address, school_code, school_name, recipient,
                           non_interactive)
    try:
        _install(layout, answers, deps_from, source or appdir.source_root())
    except InstallError as exc:
        _fail(exc)


def _answers(lan_interface: str | None, lan_address: tuple[str, ...], school_code: str | None,
             school_name: str, recipients: tuple[str, ...],
             non_interactive: bool) -> configfile.Answers:
    if non_interactive:
        missing = [flag for flag, value in (("--lan-interface", lan_interface),
                                            ("--school-code", school_code)) if not value]
        if missing:
            _fail(f"mungon / missing {' '.join(missing)} (--non-interactive)", 2)
    else:
        lan_interface = lan_interface or click.prompt(
            "Karta e rrjetit të shkollës (LAN) / the school LAN's network card")
        school_code = school_code or click.prompt("Kodi i shkollës / school code")
        if not recipients:
            text = click.prompt("Marrësit e raportit (e-mail, të ndarë me presje; bosh: asnjë) "
                                "/ report recipients (comma-separated; empty: none)",
                                default="", show_default=False)
            recipients = tuple(r.strip() for r in text.split(",") if r.strip())
    assert lan_interface is not None and school_code is not None
    addresses = lan_address or configfile.interface_addresses(lan_interface)
    answers = configfile.Answers(lan_interface, school_code, tuple(recipients), school_name,
                                 tuple(addresses))
    try:
        configfile.check_answers(answers)
    except InstallError as exc:
        _fail(exc, 2)
    if not addresses:
        click.echo(f"Kujdes / Warning: karta {lan_interface} nuk ka adresë; DNS dëgjon vetëm në "
                   "loopback derisa ta shtoni te [dns] listen / the card has no address yet; add "
                   "the LAN address to [dns] listen", err=True)
    return answers


def _install(layout: Layout, answers: configfile.Answers | None, deps_from: Path | None,
             source: Path) -> None:
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
    if answers is not None and configfile.write_config(layout, answers, owner[1]):
        click.echo("    u shkrua / written")
    else:
        click.echo("    ekziston, nuk preket / exists, left as it is")
    lan = answers.lan_interface if answers else configfile.configured_interface(layout)
    configfile.write_extras(layout, lan, owner)
    click.echo(f"4/4 Njësitë systemd / systemd units → {layout.unit_dir}")
    wanted = units.wanted(set(main.list_commands(click.Context(main))), firewall=bool(lan))
    units.install_files(layout, layout.app / "systemd", wanted)
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
