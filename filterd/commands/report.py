"""`roja report build|send|status|due`: the monthly or annual report, its revisions and
where they went.

    roja report build --month 2026-10                 # raport-<kodi>-2026-10.{pdf,csv,json}
    roja report build --year 2025 --out /tmp --format pdf,json
    roja report build --draft --month 2026-12         # a preview of a month still running
    roja report build --month 2026-10 --date 01.11.2026   # fixed generation date

Reports of ended periods are revisions in the bundle store (`reporting.bundles`,
`state_dir/reports/<period>/r<N>/`) that `send` and the daemon use too: `build` makes (or
reuses) the period's latest revision and copies its files to `--out`. A period that has not
ended is refused by `build` and `send` (Albanian first); `build --draft` previews it, and so
do builds with options that override the configuration (`--school-name`, `--date`, ...): they
are written to `--out` only, never stored, never queued.

The incident database is `ctx.obj["state_dir"]/incidents.sqlite`; the school's name and code
come from `ctx.obj["config"].school` (its qark, municipality and ICT teacher too, once the config
has them) and the `--school-name/--school-code/--qark/--municipality/--teacher` options override
them. What is missing prints as "—". Files are written whole (temporary file, then rename).

    roja report send                   # last month's report to every configured recipient
    roja report send --month 2026-10
    roja report status [--month 2026-10]
    roja report due                    # what the service does every hour (see below)

`send` makes the period's revision (the latest one when the report built now is the same, so its
idempotency key stays the same; r2, r3 ... when anything changed: late incidents, incidents
teachers recorded, a corrected school name), queues it in `state_dir/outbox.sqlite` for every
recipient of `ctx.obj["config"].report` (reporting.delivery_config.ReportSettings), tries the
due deliveries at once and prints what went where; what fails is retried later by the daemon or
the next `send`. It exits 1 naming every delivery that did not go out (failed for good, or
queued for a retry, with the server's host:port and the cause). With `[report]
require_director_signature = true` it refuses (exit 1) a revision no director has signed in
the console (`filterd.report_signoff`), and `due` builds it but does not queue it. `status`
lists each period's revisions (what changed from the one before) and where each went, with
the receipts.
`due` is the service's hourly step (`reporting.delivery.tick`): on or after `[report]
send_day` it makes and queues last month's revision (a new one only when something changed),
then tries the deliveries that are
due; like `send` it exits 1 when a delivery it tried did not go out. The daemon runs it as a
child process, so the PDF and HTTPS libraries never stay in the DNS process's memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from filterd import report_signoff
from filterd.commands import report_status
from filterd.commands.report_files import generation_time, parse_formats, write_whole
from filterd.errors import RojaError
from reporting import delivery, offices, report_csv, report_json, report_pdf
from reporting.bundles import Made, PeriodNotEndedError
from reporting.config import IncidentSettings
from reporting.delivery_config import ReportSettings
from reporting.incidents import db_path
from reporting.outbox import Bundle, Delivery, SenderBusy
from reporting.report_data import TIRANE, ReportData, collect, parse_period

RENDERERS: dict[str, Callable[[ReportData], bytes]] = {
    "pdf": report_pdf.render, "csv": report_csv.render, "json": report_json.render}


@dataclass(frozen=True)
class _School:
    name: str
    code: str


file_name = delivery.file_name


def _config_school(obj: Any) -> Any:
    try:
        config = obj["config"]
    except KeyError:
        return None
    return getattr(config, "school", None)


def _configured_school(obj: Any) -> _School:
    """The school's name and code from the config ("" when none), as delivery needs them."""
    configured = _config_school(obj)
    return _School(str(getattr(configured, "name", "") or ""),
                   str(getattr(configured, "code", "") or ""))


# The daemon's step builds last month's report this long after the month ended, plus the
# incident writers' `[incidents] flush_interval` (see `reporting.delivery.tick`): what a writer
# holds at the month's end is normally written within milliseconds; the margin covers a busy
# machine.
SETTLE_MARGIN = 3.0


def _settle(obj: Any) -> float:
    incidents = getattr(obj.get("config"), "incidents", None)
    if not isinstance(incidents, IncidentSettings):
        incidents = IncidentSettings()
    return incidents.flush_interval + SETTLE_MARGIN


def _settings(obj: Any) -> ReportSettings:
    try:
        config = obj["config"]
    except KeyError:
        return ReportSettings()
    found = getattr(config, "report", None)
    return found if isinstance(found, ReportSettings) else ReportSettings()


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "—"
    return datetime.fromtimestamp(timestamp, TIRANE).strftime("%d.%m.%Y %H:%M")


STATUS_LABELS = report_status.STATUS_LABELS


def _warn_without_incidents(state_dir: Path) -> None:
    """A report with no incident database is empty: say so (a wrong [state] dir looks alike)."""
    if not db_path(state_dir).is_file():
        click.echo(f"Kujdes: nuk ka bazë incidentesh {db_path(state_dir)}; raporti del pa "
                   f"incidente / warning: no incident database {db_path(state_dir)}: the report "
                   "shows no incidents", err=True)


@click.group("report", short_help="Raportet mujore, vjetore / monthly, annual reports.")
def report() -> None:
    """Raportet mujore dhe vjetore / monthly and annual reports."""


@report.command("build")
@click.option("--month", metavar="YYYY-MM", help="Muaji / the month, e.g. 2026-10")
@click.option("--year", metavar="YYYY", help="Viti / the year, e.g. 2026")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True, help="Dosja / output folder")
@click.option("--format", "format_text", default="pdf,csv,json", show_default=True,
              help="pdf,csv,json")
@click.option("--date", "date_text", metavar="DD.MM.YYYY",
              help="Data e hartimit / generation date (default: today)")
@click.option("--school-name", help="Emri i shkollës / school name")
@click.option("--school-code", help="Kodi i shkollës / school code")
@click.option("--qark", default=None, help="Qarku / county")
@click.option("--municipality", default=None, help="Bashkia / municipality")
@click.option("--teacher", default=None, help="Mësuesi i TIK-ut / ICT teacher")
@click.option("--zva", default=None, help="Zyra Vendore Arsimore / the local education office "
              "(default: the municipality's, from reporting/offices.toml)")
@click.option("--draft", is_flag=True, help="Paraparje, edhe e një periudhe që s'ka mbaruar; "
              "nuk ruhet, nuk dërgohet / preview, also of a period still running; not stored, "
              "never sent")
@click.pass_obj
def build(obj: Any, month: str | None, year: str | None, out_dir: Path, format_text: str,
          date_text: str | None, school_name: str | None, school_code: str | None,
          qark: str | None, municipality: str | None, teacher: str | None,
          zva: str | None, draft: bool) -> None:
    """Harto raportin / build the report files."""
    if (month is None) == (year is None):
        raise click.UsageError("jepni --month YYYY-MM ose --year YYYY / give --month or --year")
    text = month if month is not None else str(year)
    try:
        period = parse_period(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--month/--year") from None
    if (period.kind == "month") != (month is not None):
        raise click.BadParameter(f"{text!r}", param_hint="--month YYYY-MM / --year YYYY")
    formats = parse_formats(format_text, RENDERERS)
    configured = _config_school(obj)

    settings = _settings(obj)

    def pick(option: str | None, attribute: str) -> str:
        if option is not None:
            return option
        return str(getattr(configured, attribute, "") or getattr(settings, attribute, "") or "")

    school = _School(pick(school_name, "name"), pick(school_code, "code"))
    state_dir = Path(obj["state_dir"])
    _warn_without_incidents(state_dir)
    now = generation_time(date_text)
    if not draft and now < period.end:
        raise _not_ended(period.key, period.end, "build")
    overrides = (school_name, school_code, qark, municipality, teacher, zva, date_text)
    if not draft and all(option is None for option in overrides):
        _copy_revision(delivery.make_revision(state_dir, period.key, school, settings, now),
                       out_dir, formats)
        return
    if zva is not None and offices.load().zva_of(zva) is None:
        raise click.BadParameter(f"{zva!r} nuk është ZVA e njohur / not a known ZVA",
                                 param_hint="--zva")
    addressee = replace(settings, qark=pick(qark, "qark"),
                        municipality=pick(municipality, "municipality"),
                        zva=settings.zva if zva is None else zva).addressee()
    data = collect(db_path(Path(obj["state_dir"])), period, school, pick(qark, "qark"),
                   pick(municipality, "municipality"), pick(teacher, "ict_teacher"),
                   now, addressee.line, settings.group_names,
                   delivery.audit_head(Path(obj["state_dir"])))
    out_dir.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        path = out_dir / file_name(school.code, period.key, fmt)
        write_whole(path, RENDERERS[fmt](data))
        click.echo(str(path))
    click.echo("Paraparje: nuk ruhet dhe nuk dërgohet. / Preview: not stored, never sent."
               if draft else "Me opsione që ndryshojnë konfigurimin: nuk ruhet dhe nuk "
               "dërgohet. / With options overriding the configuration: not stored, never sent.")


def _not_ended(period: str, ends: datetime, command: str) -> RojaError:
    end = ends.astimezone(TIRANE).strftime("%d.%m.%Y %H:%M")
    verb_sq, verb_en = ("hartohet", "built") if command == "build" else ("dërgohet", "sent")
    return RojaError(f"Raporti i periudhës {period} nuk {verb_sq}: periudha nuk ka mbaruar "
                     f"(mbaron më {end})",
                     f"the report for {period} cannot be {verb_en}: the period has not ended "
                     f"(it ends {end} Tirana time)",
                     f"Paraparje / preview: roja report build --draft "
                     f"{'--year' if len(period) == 4 else '--month'} {period}")


def _revision_line(made: Made) -> str:
    r = made.revision
    if not made.created:
        return (f"Rishikimi r{r.number} i {r.bundle.period}: i pandryshuar / revision "
                f"r{r.number} of {r.bundle.period}: unchanged")
    changed = "" if made.previous is None else (
        "\n  ndryshime / changes: " + "; ".join(r.changes))
    return (f"Rishikimi r{r.number} i {r.bundle.period}: i ri / revision r{r.number} of "
            f"{r.bundle.period}: new{changed}")


def _copy_revision(made: Made, out_dir: Path, formats: list[str]) -> None:
    """The revision's files in `out_dir` (byte for byte what is sent)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        source = made.revision.bundle.files[fmt]
        path = out_dir / source.name
        if path.resolve() != source.resolve():
            write_whole(path, source.read_bytes())
        click.echo(str(path))
    click.echo(_revision_line(made))


@report.command("send", short_help="Dërgo raportin / send the report.")
@click.option("--month", metavar="YYYY-MM", help="Muaji / the month (default: last month)")
@click.pass_obj
def send(obj: Any, month: str | None) -> None:
    """Dërgo raportin / send the report to the configured recipients."""
    now = datetime.now(TIRANE)
    period = month or delivery.previous_month(now)
    try:
        if parse_period(period).kind != "month":
            raise ValueError(f"{period!r}: jepni një muaj si 2026-10 / use YYYY-MM")
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--month") from None
    school = _configured_school(obj)
    settings = _settings(obj)
    state_dir = Path(obj["state_dir"])
    _warn_without_incidents(state_dir)
    try:
        made = delivery.make_revision(state_dir, period, school, settings, now)
    except PeriodNotEndedError as exc:
        raise _not_ended(period, exc.ends, "send") from None
    bundle = made.revision.bundle
    for path in bundle.files.values():
        click.echo(str(path))
    click.echo(_revision_line(made))
    if not settings.recipients():
        click.echo("Asnjë marrës në konfigurim ([report.smtp], [report.https]): raporti u "
                   "hartua, por nuk u dërgua.\nNo recipients configured: built, not sent.")
        return
    report_signoff.require_signature(state_dir, settings, made.revision)
    wait = delivery.sender_wait(settings)
    try:
        rows = delivery.send(state_dir, bundle, settings, now, wait=wait,
                             waiting=lambda: click.echo(
                                 f"Një dërgues tjetër po dërgon raportet tani; pritet deri në "
                                 f"{wait:.0f} s që të mbarojë… / another sender is delivering "
                                 f"reports right now; waiting up to {wait:.0f} s for it…"))
    except SenderBusy as busy:
        click.echo(f"Një dërgues tjetër (shërbimi roja-report ose një `roja report send` "
                   f"tjetër) po e dërgon raportin tani, edhe pas {busy.waited:.0f} s: ai e "
                   "çon deri në fund. Përfundimi: roja report status / Another sender (the "
                   "roja-report service or another `roja report send`) is still delivering "
                   f"the report after {busy.waited:.0f} s and will finish it. The outcome: "
                   "roja report status")
        return
    for row in rows:
        if row.status == "sent":
            before = row.sent_at is not None and row.sent_at < now.timestamp()
            click.echo(_line(row) + (" — asgjë e re për të dërguar / nothing new to send"
                                     if before else ""))
    _fail_unsent(rows)


def _fail_unsent(rows: list[Delivery]) -> None:
    """Exit 1 naming every delivery that did not go out now (and when it is tried again)."""
    unsent = [row for row in rows if row.status != "sent"]
    if not unsent:
        return
    lines = [f"{row.period} {_line(row)}" for row in unsent]
    if any(row.status == "queued" for row in unsent):
        lines.append("Dërgimet në pritje provohen përsëri vetë (roja report status) / queued "
                     "deliveries are retried by the service (roja report status).")
    raise RojaError(f"Raporti nuk u dërgua te {len(unsent)} nga {len(rows)} marrës",
                    f"the report was not delivered to {len(unsent)} of {len(rows)} "
                    "recipients", "\n  ".join(lines))


def _line(row: Delivery) -> str:
    text = f"{row.channel} → {row.recipient}: {STATUS_LABELS.get(row.status, row.status)}"
    if row.status == "sent":
        return f"{text} ({_when(row.sent_at)})"
    if row.status == "queued":
        text += f", provë tjetër / next attempt {_when(row.next_attempt_at)}"
    return f"{text}: {row.last_error}" if row.last_error else text


@report.command("due", short_help="Bëj atë që duhet tani / do what is due now.")
@click.pass_obj
def due(obj: Any) -> None:
    """Bëj atë që duhet tani (shërbimi e bën çdo orë) / do what is due now (hourly by the
    service): last month's report after send_day, retries."""
    school = _configured_school(obj)
    state_dir, settings, now = Path(obj["state_dir"]), _settings(obj), datetime.now(TIRANE)
    waiting: list[Bundle] = []

    def approved(bundle: Bundle) -> bool:
        if report_signoff.signed(state_dir, settings, bundle):
            return True
        waiting.append(bundle)
        return False

    rows = delivery.tick(state_dir, school, settings, now, approved, _settle(obj))
    for bundle in waiting:
        click.echo(f"Raporti i {bundle.period} pret nënshkrimin e drejtorit (konsola: "
                   f"Raportet → Nënshkruaj) / the report for {bundle.period} waits for the "
                   "director's signature ([report] require_director_signature)", err=True)
    for row in rows:
        if row.status == "sent":
            click.echo(f"{row.period} {_line(row)}")
    if not rows:
        click.echo("Asgjë për të dërguar tani. / Nothing due now.")
    _fail_unsent(rows)


@report.command("status", short_help="Gjendja e dërgimeve / delivery status.")
@click.option("--month", metavar="YYYY-MM", help="Vetëm ky muaj / only this month")
@click.pass_obj
def status(obj: Any, month: str | None) -> None:
    """Rishikimet dhe dërgimet / each report's revisions, where they went and when."""
    lines = report_status.lines(Path(obj["state_dir"]), _configured_school(obj).code, month)
    for line in lines:
        click.echo(line)
