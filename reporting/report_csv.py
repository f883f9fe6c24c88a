"""The CSV form of a report, for Excel: UTF-8 with BOM, `,`-separated, Albanian headers.

One long table with the columns `seksioni,kodi,emërtimi,vlera` (section, id, label, value):
every section of the report (header, filter status, blocked access by category/week/group,
circumvention, manual incidents, monthly trends) is a run of rows with the same `seksioni`.
A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'` so
that a spreadsheet never runs it as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from reporting.report_data import Count, ReportData
from reporting.report_labels import NO_VALUE

COLUMNS = ("seksioni", "kodi", "emërtimi", "vlera")
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")

Row = tuple[str, str, str, str | int | float | None]


def neutralise(cell: str) -> str:
    """`'=1+1` for `=1+1`: a spreadsheet shows the text instead of computing it."""
    return "'" + cell if cell.startswith(_DANGEROUS) else cell


def render(data: ReportData) -> bytes:
    """The file's bytes (BOM included, CRLF line ends as RFC 4180 says)."""
    return write(rows(data))


def write(found: Iterable[Row]) -> bytes:
    """`COLUMNS` and `found` as the file's bytes, every cell neutralised (the ISP report's CSV,
    `reporting.isp_csv`, is written by this too)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in found:
        writer.writerow([neutralise(_text(cell)) for cell in row])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _text(value: str | int | float | None) -> str:
    if value is None:
        return NO_VALUE
    if isinstance(value, bool):
        return "po" if value else "jo"
    return str(value)


def counts(section: str, found: tuple[Count, ...]) -> Iterator[Row]:
    """A row per count of a section (`seksioni`): its key, label and number."""
    for c in found:
        yield section, c.key, c.label, c.count


def rows(data: ReportData) -> Iterator[Row]:
    """Every row after the header row, in report order."""
    h, f, b, m = data.header, data.filter_status, data.blocked, data.manual
    s = "Të dhënat e raportit"
    yield s, "school_name", "Shkolla", h.school_name
    yield s, "school_code", "Kodi i shkollës", h.school_code
    yield s, "qark", "Qarku", h.qark
    yield s, "municipality", "Bashkia", h.municipality
    yield s, "ict_teacher", "Mësuesi i TIK-ut", h.ict_teacher
    yield s, "period", "Periudha", h.period
    yield s, "period_start", "Nga data", h.period_start
    yield s, "period_end", "Deri më", h.period_end
    yield s, "period_complete", "Periudhë e plotë", h.period_complete
    yield s, "generated", "Data e hartimit", h.generated
    yield s, "generated_at", "Hartuar më", h.generated_at
    s = "Gjendja e filtrit"
    yield s, "last_serial", "Seria e fundit e listave", f.last_serial
    yield s, "last_sync", "Përditësimi i fundit", f.last_sync
    yield s, "list_age_days", "Mosha e listave (ditë)", f.list_age_days
    yield s, "sync_ok", "Përditësime të suksesshme", f.sync_ok
    yield s, "sync_failures", "Përditësime të dështuara", f.sync_failures
    yield s, "lists_held_back", "Lista të mbajtura mbrapa", f.lists_held_back
    yield s, "list_trust_first_use", "Pranuar pa gjendje të mëparshme", f.list_trust_first_use
    yield s, "uptime_percent", "Koha në punë (%)", f.uptime_percent
    yield s, "selftest_runs", "Kontrolle të vlefshmërisë", f.selftest_runs
    yield s, "selftest_pass", "Kontrolle të kaluara", f.selftest_pass
    yield s, "selftest_fail", "Kontrolle të dështuara", f.selftest_fail
    yield s, "no_validity_checks", "Asnjë kontroll në këtë periudhë", f.no_validity_checks
    yield s, "incidents_dropped", "Incidente të humbura (radha plot)", f.incidents_dropped
    for serial in f.list_serials:
        yield "Seritë e listave", serial.serial, "Instaluar më", serial.first_seen
    yield "Aksesi i bllokuar", "total", "Gjithsej kërkesa të bllokuara", b.total
    yield "Aksesi i bllokuar", "incidents", "Incidente", b.incidents
    yield from counts("Aksesi i bllokuar sipas kategorisë", b.by_category)
    unit = "javës" if h.period_kind == "month" else "muajit"
    yield from counts(f"Aksesi i bllokuar sipas {unit}", b.by_period)
    yield from counts("Aksesi i bllokuar sipas grupit", b.by_group)
    yield "Përpjekje anashkalimi", "total", "Gjithsej", b.circumvention_total
    yield from counts(f"Përpjekje anashkalimi sipas {unit}", b.circumvention_by_period)
    yield "Incidente të regjistruara nga mësuesit", "total", "Gjithsej", m.total
    yield from counts("Incidente sipas kategorisë", m.by_category)
    yield from counts("Incidente sipas platformës", m.by_platform)
    yield from counts("Incidente sipas moshës", m.by_age_band)
    yield from counts("Incidente sipas gjinisë", m.by_gender)
    yield from counts("Referime", m.by_referral)
    yield from counts("Incidente sipas statusit", m.by_status)
    for t in data.trends:
        s = f"Prirja mujore: {t.label}"
        yield s, t.month, "Kërkesa të bllokuara", t.blocked
        yield s, t.month, "Përpjekje anashkalimi", t.circumvention
        yield s, t.month, "Incidente të regjistruara", t.manual
        yield s, t.month, "Kontrolle të vlefshmërisë", t.selftest_runs
