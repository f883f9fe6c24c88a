"""The CSV form of the Code of Conduct annual report: the school report's CSV conventions
(`reporting.report_csv.write`: UTF-8 with BOM, `seksioni,kodi,emërtimi,vlera`, formula-safe
cells), one run of rows per section. Durations are whole seconds (empty: no data), so a
spreadsheet can sum and sort them; the PDF writes them for people.
"""

from __future__ import annotations

from collections.abc import Iterator

from reporting.isp_data import IspReport
from reporting.report_csv import Row, counts, write


def render(r: IspReport) -> bytes:
    """The file's bytes."""
    return write(rows(r))


def rows(r: IspReport) -> Iterator[Row]:
    """Every row after the header row, in report order."""
    h, p = r.header, r.provider
    s = "Ofruesi"
    yield s, "name", "Ofruesi", p.name
    yield s, "nipt", "NIPT", p.nipt
    yield s, "contact", "Kontakti", p.contact
    yield s, "signatory", "Përfaqësuesi", p.signatory
    yield s, "signatory_role", "Detyra", p.signatory_role
    s = "Të dhënat e raportit"
    yield s, "year", "Viti", h.year
    yield s, "period_start", "Nga data", h.period_start
    yield s, "period_end", "Deri më", h.period_end
    yield s, "complete", "Vit i plotë (jo projekt)", h.complete
    yield s, "generated_at", "Hartuar më", h.generated_at
    for item in r.lists:
        s = f"Lista: {item.id}"
        yield s, "kind", item.kind_label, item.kind
        yield s, "category", item.category_label, item.category
        yield s, "entries", "Hyrje", item.entries
        yield s, "added", "Shtuar më", item.added or ""
        yield s, "removed", "Hequr më", item.removed or ""
    g = r.propagation
    yield "Përhapja", "interval_seconds", "Kontrolli çdo (s)", g.interval_seconds
    for summary in g.by_secondary:
        s = f"Resolveri: {summary.secondary}"
        yield s, "serials_reached", "Seri me kohë", summary.serials_reached
        yield s, "no_data", "Pa të dhëna", summary.no_data
        yield s, "median_seconds", "Mediana (s)", _seconds(summary.median_seconds)
        yield s, "max_seconds", "Më e gjata (s)", _seconds(summary.max_seconds)
    for row in g.serials:
        s = f"Seria {row.serial}"
        yield s, "enforced", "Në fuqi nga", row.enforced or ""
        yield s, "published", "Në RPZ nga", row.published or ""
        yield s, "all_seconds", "Te të gjithë pas (s)", _seconds(row.all_seconds)
        for reach in row.reach:
            yield s, reach.secondary, "Arriti pas (s)", _seconds(reach.seconds)
    yield "Aksesi i bllokuar", "total", "Gjithsej kërkesa të bllokuara", r.blocked_total
    yield from counts("Aksesi i bllokuar sipas kategorisë", r.blocked_by_category)
    f = r.family
    s = "Filtri familjar"
    yield s, "groups", "Grupe me filtrin familjar", f.groups
    yield s, "networks", "Rrjete abonentësh me filtrin familjar", f.networks
    yield s, "addresses", "Adresa të veçanta me filtrin familjar", f.addresses
    yield s, "all_networks", "Rrjete dhe adresa në të gjitha grupet", f.all_networks
    yield s, "percent", "Pjesa me filtrin familjar (%)", f.percent
    t = r.selftests
    s = "Kontrollet e vlefshmërisë"
    yield s, "runs", "Kontrolle të kryera", t.runs
    yield s, "passed", "Kontrolle të kaluara", t.passed
    yield s, "failed", "Kontrolle të dështuara", t.failed
    yield s, "uptime_percent", "Koha në punë (%)", t.uptime_percent
    for m in r.months:
        yield f"Muaji: {m.label}", m.month, "Kërkesa të bllokuara", m.blocked
        yield f"Muaji: {m.label}", m.month, "Kontrolle të filtrit", m.selftest_runs
    feed = r.feed
    s = "Lista e linjës"
    yield s, "configured", "E konfiguruar", feed.configured
    yield s, "sync_ok", "Sinkronizime të suksesshme", feed.sync_ok
    yield s, "sync_failures", "Sinkronizime të dështuara", feed.sync_failures
    yield s, "outage_hours", "Orë ndërprerjeje gjithsej", feed.outage_hours
    for i, o in enumerate(feed.outages, start=1):
        s = f"Ndërprerja {i}"
        yield s, "start", "Nga", o.start
        yield s, "end", "Deri", o.end or "vazhdon"
        yield s, "hours", "Orë", o.hours
        yield s, "failures", "Sinkronizime të dështuara", o.failures
        yield s, "stale", "E vjetëruar", o.stale


def _seconds(value: int | None) -> str | int:
    return "" if value is None else value
