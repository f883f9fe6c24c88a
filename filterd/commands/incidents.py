"""`roja incidents list|tail`: the blocks Roja recorded, as a table a teacher can read.

Clients appear only as pseudonyms; times are Europe/Tirane local time (`DD.MM.YYYY HH:MM:SS`).
The state directory comes from `ctx.obj["state_dir"]`, which the main `roja` group provides.

    roja incidents list --since 2h        # the last two hours
    roja incidents list --since 01.11.2024 --json
    roja incidents tail                   # follow new incidents until Ctrl-C
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from reporting.incidents import (
    IncidentRow,
    IncidentStore,
    IncidentStoreError,
    NoIncidentStoreError,
    db_path,
)
from reporting.plural import INCIDENT, TIMES, count

TIRANE = ZoneInfo("Europe/Tirane")
NO_INCIDENTS = "Nuk ka ende incidente. / No incidents yet."
TIME_FORMAT = "%d.%m.%Y %H:%M:%S"

# (header, IncidentRow field, minimum width used by `tail`, right-aligned)
COLUMNS: tuple[tuple[str, str, int, bool], ...] = (
    ("Koha / Time", "last_at", 19, False),
    ("Klienti / Client", "client", 16, False),
    ("Grupi / Group", "group", 13, False),
    ("Emri / Name", "name", 32, False),
    ("Kategoria / Category", "category", 20, False),
    ("Lista / List", "list_id", 14, False),
    ("Herë / Count", "count", 12, True),
)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(?:\d+[smhdw])+")
_DATE_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y")


def parse_since(text: str, now: float) -> float:
    """`30m`, `1h`, `2d`, `1w`, `1h30m` (before `now`), or a Tirane date/time such as
    `01.11.2024`, `01.11.2024 08:00` or `2024-11-01T08:00` → unix time. Raises ValueError."""
    value = text.strip().lower()
    if _DURATION.fullmatch(value):
        seconds = sum(int(n) * _UNITS[u] for n, u in re.findall(r"(\d+)([smhdw])", value))
        if seconds <= 0:
            raise ValueError("the duration must be longer than zero")
        return now - seconds
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=TIRANE).timestamp()
        except ValueError:
            pass
    try:
        moment = datetime.fromisoformat(value.upper())
    except ValueError:
        raise ValueError("use a duration such as 30m, 1h, 2d or 1w, or a date such as "
                         "01.11.2024 or 2024-11-01") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=TIRANE)
    return moment.timestamp()


def local_time(unix: float) -> str:
    return datetime.fromtimestamp(unix, TIRANE).strftime(TIME_FORMAT)


def _since_option(ctx: click.Context, param: click.Parameter, value: str) -> float:
    try:
        return parse_since(value, time.time())
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: {exc}", ctx=ctx, param=param) from None


def _cells(row: IncidentRow) -> list[str]:
    return [local_time(row.last_at) if field == "last_at" else str(getattr(row, field))
            for _, field, _, _ in COLUMNS]


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    parts = [cell.rjust(width) if right else cell.ljust(width)
             for cell, width, (_, _, _, right) in zip(cells, widths, COLUMNS, strict=True)]
    return "  ".join(parts).rstrip()


def _header(widths: Sequence[int]) -> list[str]:
    return [_line([h for h, _, _, _ in COLUMNS], widths), "  ".join("-" * w for w in widths)]


def render_table(rows: Sequence[IncidentRow]) -> list[str]:
    """The lines of a table with Albanian-first headers, columns as wide as their content."""
    cells = [_cells(r) for r in rows]
    widths = [max([len(header), *(len(c[i]) for c in cells)])
              for i, (header, _, _, _) in enumerate(COLUMNS)]
    return [*_header(widths), *(_line(c, widths) for c in cells)]


def _row_json(row: IncidentRow) -> dict[str, object]:
    data: dict[str, object] = asdict(row)
    data["first_time"] = datetime.fromtimestamp(row.first_at, TIRANE).isoformat()
    data["last_time"] = datetime.fromtimestamp(row.last_at, TIRANE).isoformat()
    return data


def _open_store(ctx: click.Context) -> IncidentStore | None:
    state_dir: Path = ctx.obj["state_dir"]
    try:
        return IncidentStore(db_path(state_dir))
    except NoIncidentStoreError:
        return None
    except IncidentStoreError as exc:
        raise click.ClickException(f"Nuk lexohen incidentet / cannot read incidents: {exc}"
                                   ) from None


@click.group("incidents", short_help="Bllokimet e filtrit / the filter's blocked access.")
def incidents() -> None:
    """Bllokimet e filtrit / the filter's blocked access.

    \b
    Çdo kërkesë që filtri bllokoi (DNS ose proxy), me klientin me pseudonim. Rastet që
    raportoi një nxënës ose mësues (bullizëm, kërcënim...) regjistrohen me `roja incident`.
    Every request the filter blocked (DNS or proxy), the client as a pseudonym. Cases a pupil
    or teacher reported (bullying, threats...) are recorded with `roja incident`.
    """


@incidents.command("list", short_help="Listo bllokimet / list the blocks.")
@click.option("--since", "since", default="24h", show_default=True, callback=_since_option,
              metavar="KOHA/WHEN",
              help="Sa kohë prapa / how far back: 30m, 1h, 2d, 1w, or a date 01.11.2024.")
@click.option("--limit", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Sa rreshta më së shumti / at most this many rows (the newest).")
@click.option("--json", "as_json", is_flag=True, help="Nxirr JSON / print JSON.")
@click.pass_context
def list_incidents(ctx: click.Context, since: float, limit: int, as_json: bool) -> None:
    """Listo incidentet / list incidents."""
    store = _open_store(ctx)
    if store is None:
        if as_json:
            click.echo("[]")
            click.echo(NO_INCIDENTS, err=True)
        else:
            click.echo(NO_INCIDENTS)
        return
    with store:
        rows = _read(store.list_since, since, limit)
    if as_json:
        click.echo(json.dumps([_row_json(r) for r in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(f"Nuk ka incidente që nga {local_time(since)}. / "
                   f"No incidents since {local_time(since)}.")
        return
    for line in render_table(rows):
        click.echo(line)
    total = sum(r.count for r in rows)
    click.echo(f"\n{count(len(rows), INCIDENT)}, {count(total, TIMES)} gjithsej / "
               f"{count(len(rows), ('incident', 'incidents'))}, "
               f"{count(total, ('time', 'times'))} in all (ora e Tiranës / Tirane time)")


@incidents.command("tail", short_help="Ndiq bllokimet e reja / follow new blocks.")
@click.option("--interval", type=click.FloatRange(min=0.05), default=1.0, show_default=True,
              help="Sekonda mes kontrolleve / seconds between checks.")
@click.option("-n", "--lines", type=click.IntRange(min=0), default=10, show_default=True,
              help="Sa incidente të fundit të shfaqen fillimisht / how many recent to show first.")
@click.option("--once", is_flag=True,
              help="Shfaq një herë dhe dil / print once and exit (no following).")
@click.pass_context
def tail_incidents(ctx: click.Context, interval: float, lines: int, once: bool) -> None:
    """Ndiq incidentet e reja / follow new incidents (Ctrl-C to stop)."""
    store = _open_store(ctx)
    if store is None:
        click.echo(NO_INCIDENTS)
        return
    widths = [max(len(header), width) for header, _, width, _ in COLUMNS]
    with store:
        rows = _read(store.latest, lines)
        last_id = rows[-1].id if rows else _read(store.max_id)
        for line in _header(widths):
            click.echo(line)
        for row in rows:
            click.echo(_line(_cells(row), widths))
        if once:
            return
        try:
            while True:
                time.sleep(interval)
                for row in _read(store.after_id, last_id):
                    click.echo(_line(_cells(row), widths))
                    last_id = row.id
        except KeyboardInterrupt:
            pass


def _read[**P, R](fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    try:
        return fn(*args, **kwargs)
    except IncidentStoreError as exc:
        raise click.ClickException(f"Nuk lexohen incidentet / cannot read incidents: {exc}"
                                   ) from None
