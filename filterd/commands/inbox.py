"""`roja inbox`: the education office's report inbox (server, schools, tokens, staff, demo).

    roja inbox serve --config /etc/roja/inbox.toml          # or flags: --listen, --tls-cert...
    roja inbox schools import schools.csv     # code,name,qark,municipality,email[,zva]
    roja inbox schools list [--qark Berat]
    roja inbox token issue BR-001                            # printed once, stored hashed
    roja inbox token revoke BR-001
    roja inbox user add drap.durres --role office --drap durres     # a DRAP: its qarqe
    roja inbox user add zva.kavaje --role office --zva kavaje       # one ZVA
    roja inbox user add zyra.berat --role office --qark Berat [--municipality Kuçovë]
    roja inbox user add masr --role ministry --password-file pw.txt
    roja inbox user link zyra.berat                          # one-time login link (15 min)
    roja inbox log [--limit 50]                              # logins, exports, uploads
    roja inbox demo                                          # try it on this computer

The inbox has its own config file and data directory, separate from the appliance's roja.toml:
`--config FILE` (default $ROJA_INBOX_CONFIG, then /etc/roja/inbox.toml when it exists) and
`--data-dir DIR` on every command; see reporting.inbox.config for the keys.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from filterd.errors import RojaError, describe, hostport
from reporting import offices
from reporting.inbox import auth, registry
from reporting.inbox.app import serve as serve_forever
from reporting.inbox.app import start
from reporting.inbox.config import (
    ConfigError,
    InboxConfig,
    InboxConfigError,
    check_serving,
    link_base,
    load,
    only_local,
    override,
    remember_served,
)
from reporting.inbox.dashboard import scope_label
from reporting.inbox.qarqe import QARQE, qark_id, qark_name
from reporting.inbox.store import DB_FILE, Store, User
from reporting.inbox.submissions import TIRANE
from reporting.plural import SCHOOL, count, form

DEFAULT_CONFIG = Path("/etc/roja/inbox.toml")


def _options[F: Callable[..., Any]](command: F) -> F:
    command = click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
                           help="Dosja e të dhënave / data directory")(command)
    return click.option("--config", "config_file", metavar="FILE",
                        type=click.Path(dir_okay=False, path_type=Path),
                        help="inbox.toml (default /etc/roja/inbox.toml)")(command)


def _config(config_file: Path | None, data_dir: Path | None, **flags: Any) -> InboxConfig:
    path = config_file or (Path(os.environ["ROJA_INBOX_CONFIG"])
                           if os.environ.get("ROJA_INBOX_CONFIG") else None)
    if path is None and DEFAULT_CONFIG.is_file():
        path = DEFAULT_CONFIG
    try:
        cfg = load(path) if path is not None else InboxConfig()
        return override(cfg, data_dir=data_dir, **flags)
    except (ConfigError, InboxConfigError) as exc:
        click.echo(f"Gabim në konfigurim / Config error:\n  {exc}", err=True)
        sys.exit(2)


def _store(cfg: InboxConfig) -> Store:
    try:
        return Store(cfg.data_dir / DB_FILE)
    except (OSError, RuntimeError) as exc:
        click.echo(f"Baza e të dhënave nuk hapet / cannot open the database in "
                   f"{cfg.data_dir}: {exc}", err=True)
        sys.exit(1)


def _with_store(command: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(command)
    def wrapper(config_file: Path | None, data_dir: Path | None, **kwargs: Any) -> None:
        cfg = _config(config_file, data_dir)
        with _store(cfg) as store:
            command(cfg, store, **kwargs)
    return wrapper


@click.group("inbox", short_help="Kutia e raporteve të zyrës / the office's inbox.")
def inbox() -> None:
    """Kutia e raporteve për zyrat arsimore / the education office's report inbox."""


@inbox.command("serve")
@_options
@click.option("--listen", metavar="ADDR:PORT", help="p.sh. / e.g. 0.0.0.0:8443")
@click.option("--tls-cert", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--tls-key", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--max-upload-mb", type=click.IntRange(1, 200))
@click.option("--late-day", type=click.IntRange(1, 28))
def serve(config_file: Path | None, data_dir: Path | None, listen: str | None,
          tls_cert: Path | None, tls_key: Path | None, max_upload_mb: int | None,
          late_day: int | None) -> None:
    """Nis kutinë e raporteve / run the inbox server."""
    cfg = _config(config_file, data_dir, listen=listen, tls_cert=tls_cert, tls_key=tls_key,
                  max_upload_mb=max_upload_mb, late_day=late_day)
    try:
        check_serving(cfg)
    except InboxConfigError as exc:
        click.echo(f"Nuk niset / Not starting: {exc}", err=True)
        sys.exit(2)
    _store(cfg).close()  # creates or migrates the database before listening

    def ready(url: str) -> None:
        try:
            remember_served(cfg, url)  # the links `token issue`/`user link` print use it
        except OSError as exc:
            click.echo(f"Kujdes / Warning: {cfg.data_dir}: adresa nuk u shënua, lidhjet e "
                       f"shtypura mund të jenë gabim / the address was not recorded, printed "
                       f"links may be wrong: {exc}", err=True)
        click.echo(f"Kutia e raporteve punon në / inbox listening on {url}  "
                   f"(të dhënat / data: {cfg.data_dir})")
    try:
        serve_forever(cfg, ready)
    except OSError as exc:
        raise RojaError("Nuk u nis kutia e raporteve", "the inbox could not start",
                        f"{hostport(cfg.host, cfg.port)}: {describe(exc)}") from None


@inbox.group("schools")
def schools() -> None:
    """Regjistri i shkollave / the school registry."""


@schools.command("import", short_help="Importo shkollat nga CSV / import schools (CSV).")
@_options
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_with_store
def schools_import(cfg: InboxConfig, store: Store, csv_file: Path) -> None:
    """Importo shkollat nga CSV / import schools (code,name,qark,municipality,email)."""
    try:
        found = registry.parse(csv_file.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        click.echo(f"{csv_file}: skedari nuk është UTF-8 / the file is not UTF-8", err=True)
        sys.exit(1)
    except registry.RegistryError as exc:
        click.echo(f"{csv_file}: asgjë nuk u importua / nothing imported:", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    added, updated = store.put_schools(found)
    store.audit("cli", "schools_import", f"{csv_file.name}: +{added} ~{updated}")
    click.echo(f"{form(added, 'U shtua', 'U shtuan')} {count(added, SCHOOL)}, "
               f"{form(updated, 'u përditësua', 'u përditësuan')} {count(updated, SCHOOL)} / "
               f"{count(added, ('school', 'schools'))} added, {updated} updated.")


@schools.command("list")
@_options
@click.option("--qark", help="Vetëm ky qark / only this qark")
@_with_store
def schools_list(cfg: InboxConfig, store: Store, qark: str | None) -> None:
    """Listo shkollat / list the schools."""
    from reporting.inbox.store import Scope

    scope = Scope(_qark(qark)) if qark else Scope()
    for s in store.schools(scope):
        click.echo(f"{s.code}\t{s.name}\t{qark_name(s.qark)}\t{s.municipality}\t{s.email}")


def _office(found: str | None, text: str, option: str, known: Mapping[str, Any]) -> str:
    if found is None:
        raise click.BadParameter(f"{text!r} nuk njihet; të njohura / known: "
                                 f"{', '.join(known)}", param_hint=option)
    return found


def _qark(text: str) -> str:
    qid = qark_id(text)
    if qid is None:
        raise click.BadParameter(f"{text!r}: zgjidhni / choose one of "
                                 f"{', '.join(QARQE.values())}", param_hint="--qark")
    return qid


@inbox.group("token", short_help="Tokenat e ngarkimit / the upload tokens.")
def token() -> None:
    """Tokenat e ngarkimit të shkollave / the schools' upload tokens."""


@token.command("issue", short_help="Krijo një token / issue an upload token.")
@_options
@click.argument("school")
@_with_store
def token_issue(cfg: InboxConfig, store: Store, school: str) -> None:
    """Krijo një token për shkollën / issue an upload token (shown only now)."""
    try:
        value = store.issue_token(school)
    except KeyError:
        click.echo(f"Shkolla {school!r} nuk është në regjistër / unknown school "
                   "(roja inbox schools import ...)", err=True)
        sys.exit(1)
    store.audit("cli", "token_issue", school)
    click.echo(f"Tokeni i shkollës {school} (shfaqet vetëm tani / shown only now):\n{value}\n\n"
               f"Në roja.toml të shkollës / in the school's roja.toml:\n[report.https]\n"
               f"url = \"{_link_base(cfg)}/api/reports\"\ntoken = \"{value}\"")


@token.command("revoke", short_help="Anulo tokenat / revoke a school's tokens.")
@_options
@click.argument("school")
@_with_store
def token_revoke(cfg: InboxConfig, store: Store, school: str) -> None:
    """Anulo tokenat e shkollës / revoke the school's tokens."""
    if store.school(school) is None:
        raise RojaError(f"Shkolla {school!r} nuk është në regjistër", "unknown school",
                        "roja inbox schools list")
    count = store.revoke_tokens(school)
    store.audit("cli", "token_revoke", f"{school}: {count}")
    click.echo(f"{form(count, 'U anulua', 'U anuluan')} {count} {form(count, 'token', 'tokena')}"
               f" / {count} {form(count, 'token', 'tokens')} revoked.")


@inbox.group("user")
def user() -> None:
    """Llogaritë e stafit / staff accounts."""


@user.command("add", short_help="Shto ose ndrysho përdorues / add or change a user.")
@_options
@click.argument("name")
@click.option("--role", type=click.Choice(auth.ROLES), required=True,
              help="office = zyrë arsimore (DRAP, qark ose ZVA); ministry = të gjitha")
@click.option("--drap", help="DRAP-i i zyrës / the office's DRAP: durres, fier, korce, lezhe")
@click.option("--qark", help="Qarku i zyrës / the office's qark, e.g. Berat")
@click.option("--zva", help="ZVA e zyrës / the office's ZVA, e.g. kavaje")
@click.option("--municipality", default="", help="Vetëm kjo bashki / only this district")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_with_store
def user_add(cfg: InboxConfig, store: Store, name: str, role: str, drap: str | None,
             qark: str | None, zva: str | None, municipality: str,
             password_file: Path | None) -> None:
    """Shto ose ndrysho një përdorues / add or change a staff account."""
    if not registry.CODE.match(name.replace(".", "_")):
        raise click.BadParameter("shkronja, shifra, '.', '-', '_'", param_hint="NAME")
    given = [o for o, v in (("--drap", drap), ("--qark", qark), ("--zva", zva)) if v]
    if role == "office" and len(given) != 1:
        raise click.UsageError("një zyrë ka një zonë: jepni njërën nga --drap, --qark, --zva / "
                               "an office needs exactly one of --drap, --qark, --zva")
    if role == "ministry" and (given or municipality):
        raise click.UsageError("ministria sheh të gjitha qarqet; pa --drap/--qark/--zva / the "
                               "ministry sees every qark: no --drap/--qark/--zva")
    if municipality and not qark:
        raise click.UsageError("--municipality shkon vetëm me --qark / --municipality goes "
                               "with --qark only")
    qid = _qark(qark) if qark else ""
    did = _office(offices.load().drap_id(drap), drap, "--drap", offices.load().draps) \
        if drap else ""
    zid = _office(z.id if (z := offices.load().zva_of(zva)) else None, zva, "--zva",
                  offices.load().zvas) if zva else ""
    if password_file is not None:
        password = password_file.read_text(encoding="utf-8").rstrip("\r\n")
    else:
        password = click.prompt("Fjalëkalimi / password", hide_input=True,
                                confirmation_prompt=True)
    try:
        hashed = auth.hash_password(password)
    except ValueError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    user = User(name, role, qid, municipality.strip(), hashed, did, zid)
    store.put_user(user)
    store.audit("cli", "user_add", f"{name} {role} {user.scope.query()}".strip())
    where = "të gjitha qarqet / every qark" if role == "ministry" else \
        scope_label(user.scope)
    click.echo(f"Përdoruesi {name} ({role}: {where}) u ruajt / saved.")


@user.command("link", short_help="Lidhje hyrjeje (15 min) / one-time login link.")
@_options
@click.argument("name")
@_with_store
def user_link(cfg: InboxConfig, store: Store, name: str) -> None:
    """Lidhje hyrjeje një-përdorimshe (15 min) / one-time login link (15 minutes)."""
    try:
        value = auth.new_link(store, name, time.time())
    except KeyError:
        click.echo(f"Nuk ka përdorues {name!r} / no such user", err=True)
        sys.exit(1)
    store.audit("cli", "login_link_issue", name)
    click.echo(f"{_link_base(cfg)}/hyr/lidhje/{value}")


def _link_base(cfg: InboxConfig) -> str:
    """Where the inbox is really served (see reporting.inbox.config.link_base)."""
    base = link_base(cfg)
    if only_local(cfg, base):
        click.echo("Kujdes / Warning: kjo adresë vlen vetëm në këtë server; vendosni public_url "
                   "te inbox.toml / this address works on this server only; set public_url in "
                   "inbox.toml", err=True)
    return base


@inbox.command("log", short_help="Regjistri i hyrjeve / the access log.")
@_options
@click.option("--limit", type=click.IntRange(1, 100000), default=50, show_default=True)
@_with_store
def log(cfg: InboxConfig, store: Store, limit: int) -> None:
    """Regjistri i hyrjeve, eksporteve dhe ngarkimeve / the access log."""
    for at, actor, action, detail, address in reversed(store.audit_rows(limit)):
        when = datetime.fromtimestamp(at, TIRANE).strftime("%d.%m.%Y %H:%M:%S")
        click.echo(f"{when}  {actor:<18} {action:<18} {address:<15} {detail}".rstrip())


@inbox.command("demo", short_help="Provo kutinë këtu / try the inbox on this computer.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("var/inbox-demo"), show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8470, show_default=True,
              help="0 = çdo portë e lirë / any free port")
def demo(data_dir: Path, port: int) -> None:
    """Provo kutinë e raporteve në këtë kompjuter / try the inbox on this computer."""
    from reporting.inbox import demo as demo_mod

    now = time.time()
    try:
        setup = demo_mod.prepare(data_dir, now)
    except FileExistsError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    # The demo school's report is on time whatever the day (see demo_period).
    cfg = InboxConfig(host="127.0.0.1", port=port, data_dir=data_dir,
                      late_day=demo_mod.LATE_DAY)
    try:
        asyncio.run(_demo(cfg, setup, now))
    except KeyboardInterrupt:
        click.echo("U ndal / stopped.")
    except OSError as exc:
        click.echo(f"Nuk u nis / Could not start: {exc}", err=True)
        sys.exit(1)


async def _demo(cfg: InboxConfig, setup: Any, now: float) -> None:
    from reporting.inbox import demo as demo_mod

    runner, url = await start(cfg)
    try:
        click.echo(f"Kutia e raporteve (demo) punon në / inbox (demo) listening on {url}")
        rows = await asyncio.to_thread(demo_mod.send_report, setup, url, now)
        for row in rows:
            click.echo(f"Shkolla {demo_mod.DEMO_SCHOOL.code} dërgoi raportin e {setup.period} / "
                       f"sent its report: {row.status} {row.receipt or row.last_error}")
        with Store(cfg.data_dir / DB_FILE) as store:
            link = auth.new_link(store, "zyra.berat", time.time())
        board = f"{url}/muaji/{setup.period}"
        click.echo(f"\nPaneli / dashboard: {board}\n"
                   f"  Zyra arsimore e Beratit / Berat office: emri zyra.berat, fjalëkalimi "
                   f"{setup.passwords['zyra.berat']}\n"
                   f"  DRAP Durrës: emri drap.durres, fjalëkalimi "
                   f"{setup.passwords['drap.durres']}\n"
                   f"  ZVA Kavajë: emri zva.kavaje, fjalëkalimi "
                   f"{setup.passwords['zva.kavaje']}\n"
                   f"  Ministria / ministry: emri ministria, fjalëkalimi "
                   f"{setup.passwords['ministria']}\n"
                   f"  Hyrje me një klikim (një herë, 15 min) / one-time login link:\n"
                   f"  {url}/hyr/lidhje/{link}?next=/muaji/{setup.period}\n"
                   f"BR-001 shfaqet „Dorëzuar”, të tjerat „Mungon”. / BR-001 shows as "
                   f"submitted, the others as missing.\nCtrl+C për ta ndalur / to stop.")
        sys.stdout.flush()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
