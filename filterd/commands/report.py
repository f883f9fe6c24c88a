"""`roja report build`: the monthly or annual report as PDF, CSV and JSON files.

    roja report build --month 2026-10                 # raport-<kodi>-2026-10.{pdf,csv,json}
    roja report build --year 2026 --out /tmp --format pdf,json
    roja report build --month 2026-10 --date 01.11.2026   # fixed generation date

The incident database is `ctx.obj["state_dir"]/incidents.sqlite`; the school's name and code
come from `ctx.obj["config"].school` (its qark, municipality and ICT teacher too, once the config
has them) and the `--school-name/--school-code/--qark/--municipality/--teacher` options override
them. What is missing prints as "—". Files are written whole (temporary file, then rename).

    roja report send                   # last month's report to every configured recipient
    roja report send --month 2026-10
    roja report status [--month 2026-10]
    roja report due                    # what the service does every hour (see below)

`send` builds the bundle in `state_dir/reports/` when it is not there yet (an existing one is
reused, so its idempotency key stays the same), queues it in `state_dir/outbox.sqlite` for every
recipient of `ctx.obj["config"].report` (reporting.delivery_config.ReportSettings), tries the
due deliveries at once and prints what went where; what fails is retried later by the daemon
or the next `send`. It exits 1 naming every delivery that did not go out (failed for good, or
queued for a retry, with the server's host:port and the cause). `status` lists the outbox.
`due` is the service's hourly step (`reporting.delivery.tick`): on or after `[report]
send_day` it builds and queues last month's report once, then tries the deliveries that are
due; like `send` it exits 1 when a delivery it tried did not go out. The daemon runs it as a
child process, so the PDF and HTTPS libraries never stay in the DNS process's memory.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, time
from pathlib import Path
from typing import Any

import click

from filterd.errors import RojaError
from reporting import delivery, offices, report_csv, report_json, report_pdf
from reporting.delivery_config import ReportSettings
from reporting.incidents import db_path
from reporting.outbox import Delivery, Outbox
from reporting.report_data import TIRANE, ReportData, collect, parse_period

RENDERERS: dict[str, Callable[[ReportData], bytes]] = {
    "pdf": report_pdf.render, "csv": report_csv.render, "json": report_json.render}


@dataclass(frozen=True)
class _School:
    name: str
    code: str


file_name = delivery.file_name


def _formats(text: str) -> list[str]:
    chosen = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = sorted(set(chosen) - set(RENDERERS))
    if unknown or not chosen:
        raise click.BadParameter(f"{', '.join(unknown) or '(bosh)'}: zgjidhni nga / choose "
                                 "from pdf, csv, json", param_hint="--format")
    return list(dict.fromkeys(chosen))


def _now(date_text: str | None) -> datetime:
    if date_text is None:
        return datetime.now(TIRANE)
    try:
        day = datetime.strptime(date_text, "%d.%m.%Y").date()
    except ValueError:
        raise click.BadParameter("përdorni / use DD.MM.YYYY", param_hint="--date") from None
    return datetime.combine(day, time(23, 59, 59), TIRANE)


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


STATUS_LABELS = {"queued": "në pritje / queued", "sending": "po dërgohet / sending",
                 "sent": "dërguar / sent", "failed_permanent": "dështoi / failed"}


def _write(path: Path, content: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)


def _warn_without_incidents(state_dir: Path) -> None:
    """A report with no incident database is empty: say so (a wrong [state] dir looks alike)."""
    if not db_path(state_dir).is_file():
        click.echo(f"Kujdes: nuk ka bazë incidentesh {db_path(state_dir)}; raporti del pa "
                   f"incidente / warning: no incident database {db_path(state_dir)}: the report "
                   "shows no incidents", err=True)


@click.group("report")
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
@click.pass_obj
def build(obj: Any, month: str | None, year: str | None, out_dir: Path, format_text: str,
          date_text: str | None, school_name: str | None, school_code: str | None,
          qark: str | None, municipality: str | None, teacher: str | None,
          zva: str | None) -> None:
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
    formats = _formats(format_text)
    configured = _config_school(obj)

    settings = _settings(obj)

    def pick(option: str | None, attribute: str) -> str:
        if option is not None:
            return option
        return str(getattr(configured, attribute, "") or getattr(settings, attribute, "") or "")

    school = _School(pick(school_name, "name"), pick(school_code, "code"))
    _warn_without_incidents(Path(obj["state_dir"]))
    if zva is not None and offices.load().zva_of(zva) is None:
        raise click.BadParameter(f"{zva!r} nuk është ZVA e njohur / not a known ZVA",
                                 param_hint="--zva")
    addressee = replace(settings, qark=pick(qark, "qark"),
                        municipality=pick(municipality, "municipality"),
                        zva=settings.zva if zva is None else zva).addressee()
    data = collect(db_path(Path(obj["state_dir"])), period, school, pick(qark, "qark"),
                   pick(municipality, "municipality"), pick(teacher, "ict_teacher"),
                   _now(date_text), addressee.line,
                   delivery.audit_head(Path(obj["state_dir"])))
    out_dir.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        path = out_dir / file_name(school.code, period.key, fmt)
        _write(path, RENDERERS[fmt](data))
        click.echo(str(path))


@report.command("send")
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
    bundle = delivery.ensure_bundle(state_dir, period, school, settings, now)
    for path in bundle.files.values():
        click.echo(str(path))
    if not settings.recipients():
        click.echo("Asnjë marrës në konfigurim ([report.smtp], [report.https]): raporti u "
                   "hartua, por nuk u dërgua.\nNo recipients configured: built, not sent.")
        return
    rows = delivery.send(state_dir, bundle, settings, now)
    for row in rows:
        if row.status == "sent":
            click.echo(_line(row))
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


@report.command("due")
@click.pass_obj
def due(obj: Any) -> None:
    """Bëj atë që duhet tani (shërbimi e bën çdo orë) / do what is due now (hourly by the
    service): last month's report after send_day, retries."""
    school = _configured_school(obj)
    rows = delivery.tick(Path(obj["state_dir"]), school, _settings(obj), datetime.now(TIRANE))
    for row in rows:
        if row.status == "sent":
            click.echo(f"{row.period} {_line(row)}")
    if not rows:
        click.echo("Asgjë për të dërguar tani. / Nothing due now.")
    _fail_unsent(rows)


@report.command("status")
@click.option("--month", metavar="YYYY-MM", help="Vetëm ky muaj / only this month")
@click.pass_obj
def status(obj: Any, month: str | None) -> None:
    """Gjendja e dërgimeve / where each report went and when."""
    path = delivery.outbox_path(Path(obj["state_dir"]))
    if not path.is_file():
        click.echo("Asnjë raport i dërguar ende. / No report has been sent yet.")
        return
    with Outbox(path) as outbox:
        rows = outbox.deliveries(period=month)
    if not rows:
        click.echo("Asnjë dërgim për këtë periudhë. / No deliveries for this period.")
        return
    table = [("Periudha / period", "Kanali / channel", "Marrësi / recipient",
              "Gjendja / status", "Prova / attempts", "Dërguar / sent (Tiranë)",
              "Gabimi i fundit / last error")]
    table += [(r.period, r.channel, r.recipient, STATUS_LABELS.get(r.status, r.status),
               str(r.attempts), _when(r.sent_at), r.last_error[:80] or "—") for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
                   .rstrip())
