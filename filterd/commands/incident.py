"""`roja incident add|list|update`: incidents a teacher records by hand (reporting.manual).

The automatic incidents (blocks) are `roja incidents`; this group is for what happened outside
the filter. `add` asks for every field it was not given, in Albanian and English, with numbered
choices; scripts pass every field as a flag. Phone numbers, e-mail addresses and personal
numbers in the description are masked before it is stored, with a warning; names cannot be
masked, so the prompt (and the console's form, `description_note`) asks for none and says the
text stays on the gateway and is deleted `[incidents] free_text_days` after the case is closed
(`reporting.retention`). Dates are shown as DD.MM.YYYY and read as DD.MM.YYYY or YYYY-MM-DD.
The state directory comes from `ctx.obj["state_dir"]`.

    roja incident add
    roja incident add --date 14.10.2026 --category stalking_threats --platform instagram \\
        --age-band 11_14 --gender female --referral alo116 --referral parents \\
        --status open --description "Kërcënime në mesazhe private" --by "A. Hoxha"
    roja incident list --month 2026-10
    roja incident update 3 --status resolved --referral police_cyber
    roja incident update 5 --category cyberbullying     # an old "Tjetër" case, reclassified
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from filterd.errors import RojaError
from filterd.incident_text import CSAM_NOTE as CSAM_NOTE
from filterd.incident_text import (
    DATE_FORMAT,
    TIRANE,
    description_note,
    hidden_kinds,
    parse_date,
    today,
)
from reporting import manual
from reporting.incidents import IncidentStoreError, db_path
from reporting.manual import VOCABULARIES, ManualIncident, ManualIncidentError
from reporting.plural import INCIDENT, count
from reporting.retention import DEFAULT_FREE_TEXT_DAYS
from reporting.sqlite_store import StoreLockedError

NONE = {"none", "asnje", "askund"}  # `--referral none`: referred nowhere (yet)


# (header, width cap) of the `list` table; cells are Albanian labels.
COLUMNS: tuple[tuple[str, int], ...] = (
    ("Nr. / No.", 9), ("Data / Date", 11), ("Kategoria / Category", 32),
    ("Platforma / Platform", 20), ("Mosha / Age", 12), ("Gjinia / Gender", 15),
    ("Referuar te / Referred to", 40), ("Statusi / Status", 16), ("Përshkrimi / Description", 40),
)


def parse_month(text: str) -> tuple[date, date]:
    """`2026-10` or `10.2026` → its first and last day."""
    match = re.fullmatch(r"(\d{4})-(\d{1,2})|(\d{1,2})\.(\d{4})", text.strip())
    if match is None or not 1 <= int(match[2] or match[3]) <= 12:
        raise ValueError(f"{text!r}: muaji duhet si 2026-10 ose 10.2026 / "
                         "the month must look like 2026-10 or 10.2026")
    year, month = int(match[1] or match[4]), int(match[2] or match[3])
    first = date(year, month, 1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _date_option(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def _choice_option(field: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """A callback turning a flag's id or label into the id. A multiple flag gives a tuple of
    ids, `none` (`asnjë`) for an empty one, or None when the flag was not given at all."""

    def convert(ctx: click.Context, param: click.Parameter,
                value: str | tuple[str, ...] | None) -> str | tuple[str, ...] | None:
        try:
            if isinstance(value, tuple):
                if not value:
                    return None
                return tuple(manual.parse_choice(field, v) for v in value
                             if manual.fold(v) not in NONE)
            return None if value is None else manual.parse_choice(field, value)
        except ManualIncidentError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None

    return convert


def _menu(field: str) -> list[str]:
    (sq, en), vocabulary = VOCABULARIES[field]
    click.echo(f"\n{sq} / {en}:")
    for n, (lsq, len_) in enumerate(vocabulary.values(), 1):
        click.echo(f"  {n:>2}. {lsq} / {len_}")
    return list(vocabulary)


def _pick(field: str, ids: Sequence[str], text: str) -> str:
    if text.strip().isdigit():
        n = int(text)
        if 1 <= n <= len(ids):
            return ids[n - 1]
        raise ManualIncidentError(f"zgjidhni një numër nga 1 deri në {len(ids)} / "
                                  f"choose a number from 1 to {len(ids)}")
    return manual.parse_choice(field, text)


def _ask_choice(field: str, default: str | None = None) -> str:
    ids = _menu(field)
    shown = str(ids.index(default) + 1) if default else None
    while True:
        text: str = click.prompt("Zgjidhni numrin / choose a number", default=shown)
        try:
            return _pick(field, ids, text)
        except ManualIncidentError as exc:
            click.echo(f"Gabim / Error: {exc}", err=True)


def _ask_referrals() -> tuple[str, ...]:
    ids = _menu("referrals")
    while True:
        text: str = click.prompt("Numrat, të ndarë me presje (bosh = askund) / numbers, "
                                 "separated by commas (empty = nowhere)", default="",
                                 show_default=False)
        try:
            return tuple(_pick("referrals", ids, part) for part in text.split(",")
                         if part.strip())
        except ManualIncidentError as exc:
            click.echo(f"Gabim / Error: {exc}", err=True)


def _ask_date() -> date:
    while True:
        text: str = click.prompt("\nData e incidentit / date of the incident",
                                 default=today().strftime(DATE_FORMAT))
        try:
            return parse_date(text)
        except ValueError as exc:
            click.echo(f"Gabim / Error: {exc}", err=True)


def _warn_masked(original: str) -> None:
    masked, kinds = hidden_kinds(original)
    if not kinds:
        return
    click.echo(f"Kujdes: u fshehën të dhëna personale / Warning: personal data was hidden: "
               f"{kinds}.\nTeksti që ruhet / text stored: {masked}", err=True)


def _db(ctx: click.Context) -> Path:
    state_dir: Path = ctx.obj["state_dir"]
    return db_path(state_dir)


def _free_text_days(ctx: click.Context) -> int:
    """`[incidents] free_text_days` of the config (`roja` loads it for the state directory
    anyway), or the default when the caller gave only a state directory."""
    try:
        days: int = ctx.obj["config"].incidents.free_text_days
    except KeyError:
        return DEFAULT_FREE_TEXT_DAYS
    return days


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(f"Baza e incidenteve / incident database: {exc}")


@click.group("incident", short_help="Incidente nga mësuesit / incidents teachers record.")
def incident() -> None:
    """Incidente të regjistruara nga mësuesi / incidents recorded by a teacher.

    \b
    Raste që një nxënës ose mësues raportoi (bullizëm online, kërcënim, lojë e rrezikshme...)
    dhe mësuesi i regjistron me dorë; nuk kalojnë nga filtri. Bllokimet e filtrit janë te
    `roja incidents`.
    Cases a pupil or teacher reported (cyberbullying, threats, a dangerous game...) that the
    teacher records by hand; they did not pass the filter. The filter's blocks are in
    `roja incidents`.
    """


@incident.command("add", short_help="Regjistro një incident / record an incident.")
@click.option("--date", "occurred_on", callback=_date_option, metavar="DATA/DATE",
              help="Data / date: 14.10.2026 ose / or 2026-10-14.")
@click.option("--category", callback=_choice_option("category"),
              help=f"Kategoria / category: {manual.accepted_values('category')}.")
@click.option("--platform", callback=_choice_option("platform"),
              help=f"Platforma / platform: {', '.join(manual.PLATFORMS)}.")
@click.option("--age-band", callback=_choice_option("age_band"),
              help=f"Mosha / age band: {', '.join(manual.AGE_BANDS)}.")
@click.option("--gender", callback=_choice_option("gender"),
              help=f"Gjinia / gender: {', '.join(manual.GENDERS)}.")
@click.option("--referral", "referrals", multiple=True, callback=_choice_option("referrals"),
              help=f"Referuar te / referred to (repeatable, or none): "
                   f"{', '.join(manual.REFERRALS)}.")
@click.option("--status", callback=_choice_option("status"),
              help=f"Statusi / status: {manual.accepted_values('status')}.")
@click.option("--description", help="Përshkrimi, pa emra nxënësish / description, no pupils' "
                                    "names.")
@click.option("--by", "recorded_by", help="Kush e regjistroi / recorded by (teacher).")
@click.pass_context
def add(ctx: click.Context, occurred_on: date | None, category: str | None,
        platform: str | None, age_band: str | None, gender: str | None,
        referrals: tuple[str, ...] | None, status: str | None, description: str | None,
        recorded_by: str | None) -> None:
    """Regjistro një incident / record an incident (asks for what is missing)."""
    occurred_on = occurred_on or _ask_date()
    category = category or _ask_choice("category")
    platform = platform or _ask_choice("platform")
    age_band = age_band or _ask_choice("age_band", "unknown")
    gender = gender or _ask_choice("gender", "unknown")
    if referrals is None:
        referrals = _ask_referrals()
    status = status or _ask_choice("status", "open")
    if description is None:
        click.echo(f"\n{description_note(_free_text_days(ctx))}")
        description = click.prompt("Përshkrimi / description", default="", show_default=False)
    if recorded_by is None:
        user = os.environ.get("SUDO_USER") or os.environ.get("USER") or ""
        recorded_by = click.prompt("Regjistroi / recorded by (emri ose inicialet e mësuesit / "
                                   "teacher's name or initials)", default=user,
                                   show_default=bool(user))
    _warn_masked(description)
    try:
        new_id = manual.add(_db(ctx), ManualIncident(
            occurred_on, category, platform, age_band, gender, referrals, status, description,
            recorded_by or ""))
    except StoreLockedError as exc:
        raise RojaError("Incidenti nuk u regjistrua", "the incident was not recorded",
                        f"{exc.sq} / {exc.en}") from None
    except (ManualIncidentError, IncidentStoreError, sqlite3.Error, OSError) as exc:
        raise _fail(exc) from None
    click.echo(f"U regjistrua incidenti nr. {new_id} / incident {new_id} recorded.")
    if category == "csam":
        click.echo(CSAM_NOTE)


def _cells(inc: ManualIncident) -> list[str]:
    def label(field: str, value: str) -> str:
        return manual.short_label(field, value)

    return [str(inc.id), inc.occurred_on.strftime(DATE_FORMAT), label("category", inc.category),
            label("platform", inc.platform), label("age_band", inc.age_band),
            label("gender", inc.gender),
            ", ".join(label("referrals", r) for r in inc.referrals) or "–",
            label("status", inc.status), inc.description]


def render_table(rows: Sequence[ManualIncident]) -> list[str]:
    """Lines of a table with Albanian-first headers; long cells end in `…`."""
    cells = [[c if len(c) <= cap else c[:cap - 1] + "…"
              for c, (_, cap) in zip(_cells(r), COLUMNS, strict=True)] for r in rows]
    widths = [max([len(h), *(len(c[i]) for c in cells)]) for i, (h, _) in enumerate(COLUMNS)]

    def line(parts: Sequence[str]) -> str:
        return "  ".join(p.ljust(w) for p, w in zip(parts, widths, strict=True)).rstrip()

    return [line([h for h, _ in COLUMNS]), "  ".join("-" * w for w in widths),
            *(line(c) for c in cells)]


def _json(inc: ManualIncident) -> dict[str, object]:
    data = asdict(inc)
    data["occurred_on"] = inc.occurred_on.isoformat()
    data["referrals"] = list(inc.referrals)
    for key in ("created_at", "updated_at"):
        value = data[key]
        if isinstance(value, float):
            data[key] = datetime.fromtimestamp(value, TIRANE).isoformat()
    return data


@incident.command("list", short_help="Listo incidentet / list recorded incidents.")
@click.option("--month", metavar="YYYY-MM", help="Muaji / month: 2026-10.")
@click.option("--since", callback=_date_option, metavar="DATA/DATE",
              help="Që nga / from this date: 01.10.2026.")
@click.option("--until", callback=_date_option, metavar="DATA/DATE",
              help="Deri më / up to this date: 31.10.2026.")
@click.option("--status", callback=_choice_option("status"),
              help=f"Vetëm / only: {manual.accepted_values('status')}.")
@click.option("--json", "as_json", is_flag=True, help="Nxirr JSON / print JSON.")
@click.pass_context
def list_incidents(ctx: click.Context, month: str | None, since: date | None,
                   until: date | None, status: str | None, as_json: bool) -> None:
    """Listo incidentet e regjistruara / list recorded incidents."""
    if month is not None:
        if since is not None or until is not None:
            raise click.UsageError("--month nuk shkon me --since/--until / "
                                   "--month cannot be combined with --since/--until")
        try:
            since, until = parse_month(month)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param_hint="'--month'") from None
    try:
        rows = manual.list_(_db(ctx), since=since, until=until, status=status)
    except (IncidentStoreError, sqlite3.Error, OSError) as exc:
        raise _fail(exc) from None
    if as_json:
        click.echo(json.dumps([_json(r) for r in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("Nuk ka incidente të regjistruara për këtë periudhë. / "
                   "No recorded incidents for this period.")
        return
    for line in render_table(rows):
        click.echo(line)
    click.echo(f"\n{count(len(rows), INCIDENT)} / {count(len(rows), ("incident", "incidents"))}")


@incident.command("update", short_help="Ndrysho një incident / change an incident.")
@click.argument("incident_id", metavar="NR", type=click.IntRange(min=1))
@click.option("--status", callback=_choice_option("status"),
              help=f"Statusi i ri / new status: {manual.accepted_values('status')}.")
@click.option("--category", callback=_choice_option("category"),
              help=f"Kategoria e re / new category: {manual.accepted_values('category')}.")
@click.option("--referral", "referrals", multiple=True, callback=_choice_option("referrals"),
              help="Shto një referim / add a referral (repeatable).")
@click.option("--remove-referral", "removed", multiple=True,
              callback=_choice_option("referrals"),
              help="Hiq një referim / remove a referral (repeatable).")
@click.option("--description", help="Përshkrimi i ri, pa emra nxënësish / new description, no "
                                    "pupils' names.")
@click.pass_context
def update(ctx: click.Context, incident_id: int, status: str | None, category: str | None,
           referrals: tuple[str, ...] | None, removed: tuple[str, ...] | None,
           description: str | None) -> None:
    """Ndrysho statusin, kategorinë, referimet ose përshkrimin / change the status, category,
    referrals or description."""
    if (status is None and category is None and not referrals and not removed
            and description is None):
        raise click.UsageError("jepni të paktën një nga --status, --category, --referral, "
                               "--remove-referral, --description / give at least one of them")
    path = _db(ctx)
    try:
        current = manual.get(path, incident_id)
        if current is None:
            raise click.ClickException(f"Nuk ka incident të regjistruar nr. {incident_id} / "
                                       f"there is no recorded incident {incident_id}")
        fields: dict[str, Any] = {}
        if status is not None:
            fields["status"] = status
        if category is not None:
            fields["category"] = category
        if referrals or removed:
            fields["referrals"] = tuple(r for r in (*current.referrals, *(referrals or ()))
                                        if r not in (removed or ()))
        if description is not None:
            _warn_masked(description)
            fields["description"] = description
        inc = manual.update(path, incident_id, **fields)
    except StoreLockedError as exc:
        raise RojaError("Incidenti nuk u përditësua", "the incident was not updated",
                        f"{exc.sq} / {exc.en}") from None
    except (ManualIncidentError, IncidentStoreError, sqlite3.Error, OSError) as exc:
        raise _fail(exc) from None
    sent = ", ".join(manual.short_label("referrals", r) for r in inc.referrals) or "–"
    click.echo(f"U përditësua incidenti nr. {inc.id} / incident {inc.id} updated: "
               f"{manual.short_label('category', inc.category)} / "
               f"{manual.CATEGORIES[inc.category][1]}; "
               f"{manual.short_label('status', inc.status)} / "
               f"{manual.STATUSES[inc.status][1]}; referuar te / referred to: {sent}")
    if category == "csam":
        click.echo(CSAM_NOTE)
