"""`roja report build`: the monthly or annual report as PDF, CSV and JSON files.

    roja report build --month 2026-10                 # raport-<kodi>-2026-10.{pdf,csv,json}
    roja report build --year 2026 --out /tmp --format pdf,json
    roja report build --month 2026-10 --date 01.11.2026   # fixed generation date

The incident database is `ctx.obj["state_dir"]/incidents.sqlite`; the school's name and code
come from `ctx.obj["config"].school` (its qark, municipality and ICT teacher too, once the config
has them) and the `--school-name/--school-code/--qark/--municipality/--teacher` options override
them. What is missing prints as "—". Files are written whole (temporary file, then rename).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any

import click

from reporting import report_csv, report_json, report_pdf
from reporting.incidents import db_path
from reporting.report_data import TIRANE, ReportData, collect, parse_period

RENDERERS: dict[str, Callable[[ReportData], bytes]] = {
    "pdf": report_pdf.render, "csv": report_csv.render, "json": report_json.render}


@dataclass(frozen=True)
class _School:
    name: str
    code: str


def file_name(code: str, period: str, fmt: str) -> str:
    """`raport-<code>-<period>.<fmt>`, the code reduced to letters, digits, `-` and `_`."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", code).strip("_") or "pa-kod"
    return f"raport-{safe}-{period}.{fmt}"


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


def _write(path: Path, content: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)


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
@click.pass_obj
def build(obj: Any, month: str | None, year: str | None, out_dir: Path, format_text: str,
          date_text: str | None, school_name: str | None, school_code: str | None,
          qark: str | None, municipality: str | None, teacher: str | None) -> None:
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

    def pick(option: str | None, attribute: str) -> str:
        if option is not None:
            return option
        return str(getattr(configured, attribute, "") or "")

    school = _School(pick(school_name, "name"), pick(school_code, "code"))
    data = collect(db_path(Path(obj["state_dir"])), period, school, pick(qark, "qark"),
                   pick(municipality, "municipality"), pick(teacher, "ict_teacher"),
                   _now(date_text))
    out_dir.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        path = out_dir / file_name(school.code, period.key, fmt)
        _write(path, RENDERERS[fmt](data))
        click.echo(str(path))
