"""The PDF form of the Code of Conduct annual report: A4, Albanian, for the provider to sign.

Built from the school report's parts (`reporting.report_pdf`: fonts, styles, tables, the
numbered pages, the PDF date; `report_charts` for the category bars), so the two look alike.
Sections: the provider, the lists applied and the hotline serials with their propagation to
the RPZ secondaries, blocked requests by category, the family filter, the filter validity
self-tests month by month, the feed's outages, a summary and the signature block. A year not
yet ended is a draft: "PROJEKT" across the top of every page and a notice on the first.
The same `IspReport` always gives the same bytes.
"""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    HRFlowable,
    KeepTogether,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from reporting.isp_data import IspReport
from reporting.plural import CHECK, DAY, LIST, REQUEST, count, form
from reporting.report_charts import horizontal_bars
from reporting.report_fonts import register_fonts
from reporting.report_labels import NO_VALUE
from reporting.report_pdf import (
    WIDTH,
    _bold,
    _counts,
    _esc,
    _markup,
    _numbered_canvas,
    _p,
    _table,
    num,
    pdf_date,
)

TITLE = "Raport vjetor për zbatimin e Kodit të Sjelljes"
SUBTITLE = "për sigurinë e fëmijëve në internet"
BASIS = ("Plani i Veprimit për Sigurinë e Fëmijëve Online 2018–2020, aktivitetet 3.2 (raporti "
         "vjetor i ofruesve që kanë nënshkruar Kodin e Sjelljes) dhe 3.3 (fëmijët e mbrojtur, "
         "produktet e sigurisë të përdorura).")
PRIVACY = ("Ky raport përmban vetëm numra: asnjë emër faqeje interneti, asnjë adresë apo "
           "identifikues abonenti.")
PER_SECONDARY_COLUMNS = 3  # past this many secondaries the serial table shows only the slowest
OUTAGE: tuple[str, str] = ("ndërprerje", "ndërprerje")
SERIAL: tuple[str, str] = ("seri", "seri")


def draft_mark(r: IspReport) -> str:
    """The line across every page of a draft ("" for a year that has ended)."""
    if r.header.complete:
        return ""
    return (f"PROJEKT – viti {r.header.year} nuk ka mbaruar; të dhënat deri më "
            f"{r.header.generated_at} / DRAFT")


def duration(seconds: int | None) -> str:
    """`45 s`, `12 min`, `3 orë 5 min`, `2 ditë 4 orë`; "pa të dhëna" for None."""
    if seconds is None:
        return "pa të dhëna"
    if seconds < 120:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} orë {minutes % 60} min"
    return f"{count(hours // 24, DAY)} {hours % 24} orë"


def hours_text(hours: float) -> str:
    return f"{hours:.1f}".replace(".", ",")


def render(r: IspReport) -> bytes:
    """The PDF's bytes."""
    register_fonts()
    out = io.BytesIO()
    h, p = r.header, r.provider
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=2 * cm, rightMargin=2 * cm,
                            topMargin=1.8 * cm, bottomMargin=2 * cm, title=f"{TITLE} {h.year}",
                            author=p.name, subject=f"{p.nipt} {h.year}", creator="Roja",
                            producer="Roja", invariant=1)
    footer = f"{p.name} · NIPT {p.nipt} · Raporti vjetor i Kodit të Sjelljes {h.year}"
    doc.build(_story(r), canvasmaker=_numbered_canvas(footer, pdf_date(h.generated_at),
                                                      draft_mark(r)))
    return out.getvalue()


def _story(r: IspReport) -> list[Flowable]:
    h, p = r.header, r.provider
    story: list[Flowable] = [
        _p(p.name, "school"), _p(f"NIPT {p.nipt} · {p.contact}", "centre"),
        HRFlowable(width="100%", thickness=0.8, color="#1f2933", spaceBefore=8, spaceAfter=6),
        _markup(f"{_esc(TITLE)}<br/>{_esc(SUBTITLE)}", "title"),
        _p(f"Viti {h.year} ({h.period_start} – {h.period_end})", "centre"), Spacer(1, 6),
        _p(BASIS, "small"), Spacer(1, 4),
    ]
    if not h.complete:
        story.append(_p(f"PROJEKT: viti {h.year} nuk ka mbaruar; të dhënat janë deri më "
                        f"{h.generated_at}. Raporti përfundimtar hartohet pas 31 dhjetorit.",
                        "alert"))
    story += [
        _p("1. Ofruesi", "h1"),
        _table(("Fusha", "Vlera"), [
            ["Ofruesi i shërbimit të internetit", p.name], ["NIPT", p.nipt],
            ["Kontakti", p.contact], ["Përfaqësuesi", f"{p.signatory} ({p.signatory_role})"],
            ["Periudha", f"{h.period_start} – {h.period_end}"],
            ["Data e hartimit", h.generated_at]], (5 * cm, WIDTH - 5 * cm)),
        _p(PRIVACY, "small")]
    for part in (_lists, _propagation, _blocked, _family, _selftests, _outages, _signature):
        story += part(r)
    return story


def _lists(r: IspReport) -> list[Flowable]:
    rows: list[list[str | int]] = []
    for item in r.lists:
        change = "; ".join(x for x in (f"shtuar {item.added}" if item.added else "",
                                       f"hequr {item.removed}" if item.removed else "") if x)
        rows.append([item.id, item.kind_label, item.category_label,
                     NO_VALUE if item.entries is None else item.entries, change or NO_VALUE])
    out: list[Flowable] = [CondPageBreak(6 * cm), _p("2. Listat e zbatuara", "h1")]
    if not rows:
        return [*out, _p("Asnjë listë nuk është konfiguruar.", "body")]
    out.append(_table(("Lista", "Lloji", "Kategoria", "Hyrje", "Ndryshime gjatë vitit"), rows,
                      (3 * cm, 3 * cm, WIDTH - 13 * cm, 2 * cm, 5 * cm)))
    out.append(_p("Hyrjet janë ato në fuqi në datën e hartimit; shtimet dhe heqjet vijnë nga "
                  "regjistri i auditimit.", "small"))
    return out


def _propagation(r: IspReport) -> list[Flowable]:
    g = r.propagation
    serials = g.serials
    out: list[Flowable] = [
        CondPageBreak(8 * cm), _p("3. Seritë e listës së linjës dhe përhapja te resolverët", "h1"),
        _markup(f"Gjatë vitit {form(len(serials), 'ishte', 'ishin')} në fuqi "
                f"{count(len(serials), SERIAL, _bold)} {form(len(serials), 'e', 'të')} listës "
                "së linjës (ISIGURT.AL). "
                + (f"Roja kontrollon çdo {g.interval_seconds} s secilin resolver të ofruesit "
                   f"(sekondar RPZ); koha e përhapjes matet nga publikimi i serisë deri te "
                   f"kontrolli i parë që e gjeti të zbatuar (saktësia ±{g.interval_seconds} s)."
                   if g.monitored else "Nuk ka të dhëna për përhapjen: asnjë resolver i "
                   "ofruesit nuk u mbikëqyr këtë vit ([rpz] secondaries)."))]
    if g.monitored:
        out.append(_p("3.1 Sipas resolverit", "h2"))
        out.append(_table(("Resolveri (sekondar RPZ)", "Seri me kohë", "Pa të dhëna",
                           "Mediana", "Më e gjata"),
                          [[s.secondary, s.serials_reached, s.no_data,
                            duration(s.median_seconds), duration(s.max_seconds)]
                           for s in g.by_secondary],
                          (WIDTH - 11 * cm, 2.5 * cm, 2.5 * cm, 3 * cm, 3 * cm)))
    if not serials:
        return [*out, _p("Asnjë seri e listës së linjës në këtë vit.", "body")]
    out.append(_p("3.2 Sipas serisë", "h2"))
    per = g.monitored and len(g.secondaries) <= PER_SECONDARY_COLUMNS
    head = ["Seria", "Në fuqi nga", "Në RPZ nga", "Te të gjithë pas"]
    rows: list[list[str | int]] = []
    for s in serials:
        row: list[str | int] = [s.serial, s.enforced or NO_VALUE, s.published or "pa të dhëna",
                                duration(s.all_seconds)]
        if per:
            row += [duration(x.seconds) for x in s.reach]
        rows.append(row)
    if per:
        head += g.secondaries
    rest = WIDTH - 2.4 * cm - 2 * 3.1 * cm  # a date and time fits 3.1 cm whole
    widths = [2.4 * cm, 3.1 * cm, 3.1 * cm]
    columns = 1 + (len(g.secondaries) if per else 0)
    widths += [rest / columns] * columns
    out.append(_table(head, rows, widths))
    out.append(_p("“Pa të dhëna”: Roja nuk e pa atë resolver me këtë seri (nuk mbikëqyrej "
                  "ende, ishte jashtë pune, ose seria u publikua para se Roja të mbante këtë "
                  "histori).", "small"))
    return out


def _blocked(r: IspReport) -> list[Flowable]:
    total = r.blocked_total
    out: list[Flowable] = [
        CondPageBreak(8 * cm), _p("4. Aksesi i bllokuar sipas kategorisë", "h1"),
        _markup(f"Gjithsej {form(total, 'u bllokua', 'u bllokuan')} "
                f"{count(total, REQUEST, _bold)} (vetëm numra: asnjë abonent, asnjë adresë).")]
    out += _counts("4.1 Sipas kategorisë", r.blocked_by_category, WIDTH)
    if r.blocked_by_category:
        out.append(horizontal_bars(r.blocked_by_category, WIDTH))
    return out


def _family(r: IspReport) -> list[Flowable]:
    f = r.family
    share = NO_VALUE if f.percent is None else f"{hours_text(f.percent)} %"
    return [KeepTogether([
        _p("5. Filtri familjar për abonentët (aktiviteti 3.3)", "h1"),
        _table(("Tregues", "Vlera"), [
            ["Grupe abonentësh me filtrin familjar", f.groups],
            ["Rrjete abonentësh me filtrin familjar", f.networks],
            ["Adresa të veçanta me filtrin familjar", f.addresses],
            ["Rrjete dhe adresa në të gjitha grupet", f.all_networks],
            ["Pjesa me filtrin familjar", share]], (WIDTH - 4 * cm, 4 * cm)),
        _p("Sipas konfigurimit në datën e hartimit (grupet me family = true).", "small")])]


def _selftests(r: IspReport) -> list[Flowable]:
    t = r.selftests
    uptime = NO_VALUE if t.uptime_percent is None else f"{hours_text(t.uptime_percent)} %"
    out: list[Flowable] = [CondPageBreak(8 * cm),
                           _p("6. Kontrollet e vlefshmërisë së filtrit", "h1")]
    if t.runs == 0:
        out.append(_p("Këtë vit nuk u krye asnjë kontroll i vlefshmërisë së filtrit.", "alert"))
    out.append(_table(("Tregues", "Vlera"), [
        ["Kontrolle të kryera", t.runs], ["prej tyre të kaluara", t.passed],
        ["prej tyre të dështuara", t.failed],
        ["Koha në punë e filtrit (vlerësim)", uptime]], (WIDTH - 4 * cm, 4 * cm)))
    if r.months:
        rows: list[list[str | int]] = [[m.label, m.blocked, m.selftest_runs] for m in r.months]
        rows.append(["Gjithsej", sum(m.blocked for m in r.months),
                     sum(m.selftest_runs for m in r.months)])
        out += [_p("6.1 Muaj pas muaji", "h2"),
                _table(("Muaji", "Kërkesa të bllokuara", "Kontrolle të filtrit"), rows,
                       (WIDTH - 8 * cm, 4 * cm, 4 * cm), total=True)]
    return out


def _outages(r: IspReport) -> list[Flowable]:
    f = r.feed
    out: list[Flowable] = [CondPageBreak(6 * cm),
                           _p("7. Ndërprerjet e listës së linjës", "h1")]
    if not f.configured:
        return [*out, _p("Lista e linjës nuk është konfiguruar ([feed]): nuk ka të dhëna për "
                         "ndërprerjet.", "body")]
    n = len(f.outages)
    out.append(_markup(
        f"Sinkronizime të suksesshme: {_bold(f.sync_ok)}; të dështuara: {_bold(f.sync_failures)}."
        f" {form(n, 'U regjistrua', 'U regjistruan')} {count(n, OUTAGE, _bold)} "
        f"(gjithsej {hours_text(f.outage_hours)} orë). Lista quhet e vjetëruar pas "
        f"{f.stale_hours} orësh pa sinkronizim të suksesshëm."))
    if n:
        out.append(_table(("Nga", "Deri", "Orë", "Sinkronizime të dështuara", "E vjetëruar"),
                          [[o.start, o.end or "vazhdon", hours_text(o.hours), o.failures,
                            "po" if o.stale else "jo"] for o in f.outages],
                          (3.3 * cm, 3.3 * cm, 2 * cm, WIDTH - 11.1 * cm, 2.5 * cm)))
    return out


def _signature(r: IspReport) -> list[Flowable]:
    h, p, t = r.header, r.provider, r.selftests
    line = "_" * 30
    checks = (f"{form(t.runs, 'u krye', 'u kryen')} {count(t.runs, CHECK, _bold)} "
              f"{form(t.runs, 'i vlefshmërisë', 'të vlefshmërisë')} së filtrit "
              f"({num(t.failed)} {form(t.failed, 'i dështuar', 'të dështuara')})")
    lists = len(r.lists)
    summary = (f"Në vitin {h.year} {_esc(p.name)} zbatoi {count(lists, LIST, _bold)} dhe "
               f"{count(len(r.propagation.serials), SERIAL, _bold)} "
               f"{form(len(r.propagation.serials), 'e', 'të')} listës së linjës; "
               f"filtri bllokoi {count(r.blocked_total, REQUEST, _bold)}; {checks}; "
               f"{count(r.family.networks, ('rrjet', 'rrjete'), _bold)} abonentësh "
               f"{form(r.family.networks, 'kishte', 'kishin')} filtrin familjar; lista e "
               f"linjës pati "
               f"{count(len(r.feed.outages), OUTAGE, _bold)}.")
    table = Table([[[_p(f"Për ofruesin: {p.name}", "h2"), Spacer(1, 4),
                     _p(f"{p.signatory_role}: {p.signatory}", "body"), Spacer(1, 16),
                     _p(f"Nënshkrimi: {line}", "body"), Spacer(1, 10),
                     _p("Data: ____ . ____ . ________", "body")]]], colWidths=[WIDTH])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [KeepTogether([Spacer(1, 14), _p("8. Përmbledhje dhe nënshkrimi", "h1"),
                          _markup(summary), Spacer(1, 4), _p(f"Hartuar më {h.generated_at}.",
                                                             "body"),
                          Spacer(1, 8), table, Spacer(1, 14), _p("V.V. (vendi i vulës)",
                                                                 "small")])]
