"""`roja isp report`: the provider's Code of Conduct annual report (PDF, CSV, JSON; Albanian).

    roja isp report --year 2026                      # kodi-sjelljes-<NIPT>-2026.{pdf,csv,json}
    roja isp report --year 2025 --out /tmp --format pdf,json
    roja isp report --year 2026 --date 31.12.2026    # fixed generation date

The provider and who signs come from `[isp]` (`reporting.isp_config`); without it the command
refuses. The lists are the configured ones and the hotline feed, with the additions and
removals the audit log recorded in the year (`filterd.audit`) and the entries in force now
(`enforced.json`); the serials, their propagation to `[rpz] secondaries`, blocks, self-tests
and feed outages come from the incident database (`reporting.isp_data`); the family filter
counts the `[[groups]]` marked `family = true`. A year that has not ended is a draft: its
files end in `-projekt` and every PDF page says so. Files are written whole (temporary file,
then rename). Exit 1, Albanian first, when the report cannot be made: no `[isp]`, a year not
begun, an incident database that cannot be read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from blocklists.rpz_fleet import target_text
from filterd import audit
from filterd.commands.report_files import generation_time, parse_formats, write_whole
from filterd.config import RojaConfig
from filterd.errors import RojaError
from filterd.hotline import LIST_ID
from filterd.list_apply import read_enforced
from reporting import isp_csv, isp_json, isp_pdf
from reporting.incidents import db_path
from reporting.isp_data import IspReport, ListInForce, collect_isp, list_row
from reporting.report_data import TIRANE, AuditHead, parse_period

RENDERERS: dict[str, Callable[[IspReport], bytes]] = {
    "pdf": isp_pdf.render, "csv": isp_csv.render, "json": isp_json.render}
EXAMPLE = ('[isp]\n  name = "Rrjeti Shembull sh.p.k."\n  nipt = "L12345678A"\n'
           '  contact = "abuse@rrjeti.example"\n  signatory = "Elira Hoxha"')


def file_name(nipt: str, year: str, fmt: str, draft: bool) -> str:
    return f"kodi-sjelljes-{nipt}-{year}{'-projekt' if draft else ''}.{fmt}"


@click.group("isp", short_help="Për ofruesit e internetit / for internet providers.")
def isp() -> None:
    """Për ofruesit e internetit / for internet providers."""


def _audit_lists(state_dir: Path, lo: float, hi: float
                 ) -> tuple[dict[str, str], dict[str, str], dict[str, tuple[str, str]]]:
    """Lists added and removed in [lo, hi) by the audit log (id → DD.MM.YYYY HH:MM), and the
    kind and category each addition named."""
    added: dict[str, str] = {}
    removed: dict[str, str] = {}
    kinds: dict[str, tuple[str, str]] = {}
    for entry in audit.read(state_dir):
        words = entry.what.split()
        if len(words) < 3 or words[0] != "list" or words[1] not in ("added", "removed"):
            continue
        try:
            at = datetime.fromisoformat(entry.time)
        except ValueError:
            continue
        list_id = words[2]
        if words[1] == "added" and len(words) >= 5:
            kinds[list_id] = (words[3].strip("(,"), words[4].strip(")"))
        if lo <= at.timestamp() < hi:
            (added if words[1] == "added" else removed)[list_id] = at.astimezone(
                TIRANE).strftime("%d.%m.%Y %H:%M")
    return added, removed, kinds


def lists_in_force(cfg: RojaConfig, lo: float, hi: float) -> list[ListInForce]:
    """The configured lists and the hotline feed, then lists the year removed."""
    added, removed, kinds = _audit_lists(cfg.state_dir, lo, hi)
    counts = (read_enforced(cfg.state_dir) or {}).get("lists") or {}
    rules: list[tuple[str, str, str]] = [(lc.rule.id, lc.rule.kind, lc.rule.category)
                                         for lc in cfg.policy.lists]
    if cfg.feed.enabled:
        rules.append((LIST_ID, "legal", "other"))
    out = []
    for list_id, kind, category in rules:
        entries = counts.get(list_id)
        out.append(list_row(list_id, kind, category,
                            entries if isinstance(entries, int) else None,
                            added.get(list_id), removed.get(list_id)))
    current = {row.id for row in out}
    for list_id in sorted(set(removed) - current):
        kind, category = kinds.get(list_id, ("deny", ""))
        out.append(list_row(list_id, kind, category, None, added.get(list_id),
                            removed[list_id]))
    return out


@isp.command("report", short_help="Raporti vjetor i Kodit / Code of Conduct report.")
@click.option("--year", required=True, metavar="YYYY", help="Viti / the year, e.g. 2026")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True, help="Dosja / output folder")
@click.option("--format", "format_text", default="pdf,csv,json", show_default=True,
              help="pdf,csv,json")
@click.option("--date", "date_text", metavar="DD.MM.YYYY",
              help="Data e hartimit / generation date (default: now)")
@click.pass_obj
def report(obj: Any, year: str, out_dir: Path, format_text: str,
           date_text: str | None) -> None:
    """Raporti vjetor për zbatimin e Kodit të Sjelljes / the Code of Conduct annual report."""
    cfg: RojaConfig = obj["config"]
    if cfg.isp is None:
        raise RojaError(f"Raporti i Kodit të Sjelljes nuk hartohet: mungon tabela [isp] në "
                        f"{cfg.path}", f"the Code of Conduct report cannot be built: {cfg.path} "
                        "has no [isp] table (the provider, its NIPT, contact and signatory)",
                        EXAMPLE)
    try:
        period = parse_period(year)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--year") from None
    if period.kind != "year":
        raise click.BadParameter(f"{year!r}: jepni një vit si 2026 / give a year such as 2026",
                                 param_hint="--year")
    formats = parse_formats(format_text, RENDERERS)
    now = generation_time(date_text)
    if now < period.start:
        raise RojaError(f"Viti {year} nuk ka filluar ende: nuk ka asgjë për të raportuar",
                        f"the year {year} has not begun: there is nothing to report")
    state_dir = cfg.state_dir
    database = db_path(state_dir)
    if not database.is_file():
        click.echo(f"Kujdes: nuk ka bazë incidentesh {database}; raporti del pa bllokime, "
                   f"kontrolle e seri / warning: no incident database {database}: the report "
                   "shows no blocks, checks or serials", err=True)
    found = audit.anchor(state_dir)
    try:
        data = collect_isp(
            database, period.key, cfg.isp, lists_in_force(cfg, period.start.timestamp(),
                                                          period.end.timestamp()),
            cfg.policy.groups, [target_text(t) for t in cfg.rpz.secondaries],
            int(cfg.rpz.check_interval), cfg.feed.enabled, cfg.feed.stale_hours, now,
            AuditHead(found.length, found.head) if found else None)
    except sqlite3.Error as exc:
        raise RojaError(f"Baza e incidenteve {database} nuk lexohet: raporti nuk u hartua",
                        f"the incident database {database} cannot be read: no report built",
                        str(exc)) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    draft = not data.header.complete
    for fmt in formats:
        path = out_dir / file_name(cfg.isp.nipt, period.key, fmt, draft)
        write_whole(path, RENDERERS[fmt](data))
        click.echo(str(path))
    if draft:
        click.echo(f"PROJEKT: viti {period.key} nuk ka mbaruar; të dhënat janë deri më "
                   f"{data.header.generated_at}. / DRAFT: the year has not ended.")
