"""The PDF form of a report: an A4 document in Albanian for the director to sign.

Layout: the school and the recipient ("Drejtuar: DRAP Durrës / ZVA Kavajë", from
`reporting.offices`) on top, the title ("Raport mujor ..." or
"Raport vjetor ..."), the general data, then the sections: filter validity checks, blocked
access (by category, by week or month, by group, with bar charts), circumvention attempts,
incidents recorded by teachers, the month-by-month trend (annual report only) and the
signature block. Every page ends with "Faqja X nga Y".

Text uses DejaVu Sans (`report_fonts`) so that ë and ç print correctly. reportlab's invariant
mode is on (no random document id), and the PDF's creation and modification dates are the
report's own build time (`header.generated_at`), not the clock nor reportlab's invariant
2000-01-01: the same `ReportData` always gives the same bytes, and a viewer shows when the
report was built.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    HRFlowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from reporting.offices import GENERIC
from reporting.plural import ATTEMPT, CHECK, INCIDENT, REQUEST, count, form
from reporting.report_charts import horizontal_bars, vertical_bars
from reporting.report_data import TIRANE, Count, ReportData
from reporting.report_filter import ListSerial
from reporting.report_fonts import BOLD, REGULAR, register_fonts
from reporting.report_labels import NO_VALUE

rl_config.invariant = 1

TITLE = {"month": "Raport mujor për incidentet e sigurisë së fëmijëve në internet",
         "year": "Raport vjetor për incidentet e sigurisë së fëmijëve në internet"}
RECIPIENT = GENERIC  # when the report names no office (qark and bashki unknown)
PRIVACY = ("Ky raport përmban vetëm numra: asnjë emër faqeje interneti, asnjë identifikues "
           "nxënësi dhe asnjë përshkrim të lirë të incidenteve.")
INK = colors.HexColor("#1f2933")
HEAD = colors.HexColor("#dce6f0")
LINE = colors.HexColor("#8a99a8")
DRAFT = colors.HexColor("#9b1c1c")
WIDTH = A4[0] - 4 * cm

_S = {
    "body": ParagraphStyle("body", fontName=REGULAR, fontSize=9.5, leading=13, textColor=INK),
    "small": ParagraphStyle("small", fontName=REGULAR, fontSize=8, leading=10.5,
                            textColor=colors.HexColor("#52606d"), spaceBefore=3),
    "school": ParagraphStyle("school", fontName=BOLD, fontSize=12, leading=15,
                             alignment=TA_CENTER, textColor=INK),
    "centre": ParagraphStyle("centre", fontName=REGULAR, fontSize=9.5, leading=13,
                             alignment=TA_CENTER, textColor=INK),
    "recipient": ParagraphStyle("recipient", fontName=BOLD, fontSize=10, leading=13,
                                alignment=TA_CENTER, textColor=INK),
    "title": ParagraphStyle("title", fontName=BOLD, fontSize=15, leading=19,
                            alignment=TA_CENTER, textColor=INK, spaceBefore=10, spaceAfter=4),
    "h1": ParagraphStyle("h1", fontName=BOLD, fontSize=11.5, leading=15, textColor=INK,
                         spaceBefore=12, spaceAfter=5),
    "h2": ParagraphStyle("h2", fontName=BOLD, fontSize=9.5, leading=12, textColor=INK,
                         spaceBefore=6, spaceAfter=3),
    "cell": ParagraphStyle("cell", fontName=REGULAR, fontSize=8.5, leading=10.5,
                           textColor=INK),
    "alert": ParagraphStyle("alert", fontName=BOLD, fontSize=9.5, leading=13,
                            textColor=colors.HexColor("#9b1c1c"), borderPadding=5,
                            borderColor=colors.HexColor("#9b1c1c"), borderWidth=0.8,
                            spaceBefore=4, spaceAfter=8),
}


def render(data: ReportData) -> bytes:
    """The PDF's bytes."""
    register_fonts()
    out = io.BytesIO()
    h = data.header
    title = TITLE[h.period_kind]
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=2 * cm, rightMargin=2 * cm,
                            topMargin=1.8 * cm, bottomMargin=2 * cm, title=title,
                            author=h.school_name, subject=f"{h.school_code} {h.period}",
                            creator="Roja", producer="Roja", invariant=1)
    footer = f"{h.school_name} · kodi {h.school_code} · {title.split(' për')[0]} {h.period_label}"
    doc.build(_story(data), canvasmaker=_numbered_canvas(footer, pdf_date(h.generated_at)))
    return out.getvalue()


def pdf_date(generated_at: str) -> str:
    """`02.11.2026 09:30` (Tirane) → `D:20261102093000+01'00'`, the PDF date format."""
    local = datetime.strptime(generated_at, "%d.%m.%Y %H:%M").replace(tzinfo=TIRANE)
    offset = int((local.utcoffset() or timedelta()).total_seconds()) // 60
    sign = "+" if offset >= 0 else "-"
    return f"D:{local:%Y%m%d%H%M%S}{sign}{abs(offset) // 60:02d}'{abs(offset) % 60:02d}'"


def _numbered_canvas(footer: str, created: str, mark: str = "") -> type[Canvas]:
    class NumberedCanvas(Canvas):  # type: ignore[misc]
        """Holds the pages back until the end, to print "Faqja X nga Y" on each; dates the
        document `created` (CreationDate and ModDate); `mark` (a draft's "PROJEKT ...") is
        printed across the top of every page."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.setDateFormatter(lambda *_ignored: created)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, page in enumerate(self._pages, start=1):
                self.__dict__.update(page)
                self.setStrokeColor(LINE)
                self.setLineWidth(0.5)
                self.line(2 * cm, 1.5 * cm, A4[0] - 2 * cm, 1.5 * cm)
                self.setFont(REGULAR, 7.5)
                self.setFillColor(INK)
                page_text = f"Faqja {number} nga {total}"
                room = WIDTH - stringWidth(page_text, REGULAR, 7.5) - 12
                self.drawString(2 * cm, 1.1 * cm, fit(footer, room, 7.5))
                self.drawRightString(A4[0] - 2 * cm, 1.1 * cm, page_text)
                if mark:
                    self.setFont(BOLD, 9)
                    self.setFillColor(DRAFT)
                    self.drawCentredString(A4[0] / 2, A4[1] - 1.1 * cm, mark)
                super().showPage()
            super().save()

    return NumberedCanvas


def fit(text: str, width: float, size: float) -> str:
    """`text`, cut with "…" to `width` points in the regular font (a long name in the footer
    must not run into the page number)."""
    if stringWidth(text, REGULAR, size) <= width:
        return text
    while text and stringWidth(text + "…", REGULAR, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def num(n: int) -> str:
    """A count as people write it: `2 374` (a no-break space between thousands)."""
    return f"{n:,}".replace(",", "\u00a0")


def _bold(n: int) -> str:
    return f"<b>{num(n)}</b>"


def _esc(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _p(text: str, style: str = "cell") -> Paragraph:
    """A paragraph of plain text (escaped; a newline breaks the line)."""
    return Paragraph(_esc(text).replace("\n", "<br/>"), _S[style])


def _markup(text: str, style: str = "body") -> Paragraph:
    """A paragraph of reportlab markup; escape the values put into it with `_esc`."""
    return Paragraph(text, _S[style])


def _table(header: Sequence[str], rows: Sequence[Sequence[str | int]],
           widths: Sequence[float], *, total: bool = False) -> Table:
    body = [[_p(num(c) if isinstance(c, int) else str(c)) for c in row] for row in rows]
    head = [Paragraph(f"<b>{h}</b>", _S["cell"]) for h in header]
    table = Table([head, *body], colWidths=list(widths), repeatRows=1, hAlign="LEFT")
    style = [
        ("BACKGROUND", (0, 0), (-1, 0), HEAD),
        ("GRID", (0, 0), (-1, -1), 0.4, LINE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    if total:
        style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f1f4f7")))
    table.setStyle(TableStyle(style))
    return table


def _count_block(title: str, counts: Sequence[Count], width: float,
                 total: str = "Gjithsej") -> list[Flowable]:
    """A heading and a two-column table (label, number), or a line saying there is none."""
    if not counts:
        return [_p(title, "h2"), _p("Asnjë rast në këtë periudhë.", "body")]
    rows: list[list[str | int]] = [[c.label, c.count] for c in counts]
    rows.append([total, sum(c.count for c in counts)])
    return [_p(title, "h2"), _table(("Emërtimi", "Numri"), rows, (width - 55, 55), total=True)]


def _counts(title: str, counts: Sequence[Count], width: float, total: str = "Gjithsej",
            note: str = "") -> list[Flowable]:
    """`_count_block` kept on one page, with its footnote (if any) under it."""
    block = _count_block(title, counts, width, total)
    return [KeepTogether([*block, _p(note, "small")] if note else block)]


def _side_by_side(left: list[Flowable], right: list[Flowable]) -> Table:
    table = Table([[left, right]], colWidths=[WIDTH / 2, WIDTH / 2], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (0, -1), 10)]))
    return table


def _story(data: ReportData) -> list[Flowable]:
    h = data.header
    story: list[Flowable] = [
        _p(h.school_name, "school"),
        _p(f"Kodi {h.school_code} · Bashkia {h.municipality} · Qarku {h.qark}", "centre"),
        Spacer(1, 4), _p(h.recipient or RECIPIENT, "recipient"),
        HRFlowable(width="100%", thickness=0.8, color=INK, spaceBefore=8, spaceAfter=6),
        _markup(_esc(TITLE[h.period_kind]).replace(" për ", "<br/>për ", 1), "title"),
        _p(f"Periudha: {h.period_label} ({h.period_start} – {h.period_end})", "centre"),
        Spacer(1, 10),
        _p("1. Të dhënat e përgjithshme", "h1"),
        _table(("Fusha", "Vlera"), [
            ["Shkolla", h.school_name], ["Kodi i shkollës", h.school_code],
            ["Qarku", h.qark], ["Bashkia", h.municipality],
            ["Mësuesi i TIK-ut", h.ict_teacher],
            ["Periudha", f"{h.period_label} ({h.period_start} – {h.period_end})"],
            ["Data e hartimit", h.generated]], (5 * cm, WIDTH - 5 * cm)),
    ]
    if not h.period_complete:
        story.append(_p(f"Periudha nuk ka përfunduar: të dhënat janë deri më {h.generated}.",
                        "small"))
    story.append(_p(PRIVACY, "small"))
    story += _filter_section(data)
    story += _blocked_section(data)
    story += _manual_section(data)
    if data.trends:
        story += _trend_section(data)
    story += _signatures(data)
    return story


def _filter_section(data: ReportData) -> list[Flowable]:
    f = data.filter_status
    uptime = NO_VALUE if f.uptime_percent is None else f"{f.uptime_percent:.1f} %".replace(
        ".", ",")
    serials = _serials(f.list_serials)
    rows: list[list[str | int]] = [
        ["Kontrolle të vlefshmërisë së filtrit (gjithsej)", f.selftest_runs],
        ["prej tyre të kaluara me sukses", f.selftest_pass],
        ["prej tyre të dështuara", f.selftest_fail],
        ["Seritë e listave të instaluara në periudhë", serials],
        ["Seria në fuqi në fund të periudhës", f.last_serial or NO_VALUE],
        ["Përditësimi i fundit i listave", f.last_sync or NO_VALUE],
        ["Mosha e listave në fund të periudhës (ditë)",
         NO_VALUE if f.list_age_days is None else f.list_age_days],
        ["Përditësime të suksesshme / të dështuara", f"{f.sync_ok} / {f.sync_failures}"],
        ["Lista të mbajtura mbrapa (ndryshim i dyshimtë)", f.lists_held_back],
        ["Lista e linjës e pranuar pa gjendje të mëparshme (besim në përdorimin e parë)",
         f.list_trust_first_use],
        ["Koha në punë e filtrit (vlerësim)", uptime],
        ["Incidente të humbura nga filtri (radha plot)", f.incidents_dropped],
    ]
    out: list[Flowable] = [CondPageBreak(6 * cm),
                           _p("2. Kontrollet e vlefshmërisë së filtrit", "h1")]
    if f.no_validity_checks:
        out.append(_p("Në këtë periudhë nuk u krye asnjë kontroll i vlefshmërisë së filtrit.",
                      "alert"))
    out.append(_table(("Tregues", "Vlera"), rows, (WIDTH - 6 * cm, 6 * cm)))
    return out


def _serials(found: Sequence[ListSerial], most: int = 6) -> str:
    """One line per serial installed, or, past `most` (a year of daily updates), how many and
    the first and last: a table row must never outgrow the page."""
    lines = [f"{s.serial} ({s.first_seen})" for s in found]
    if len(lines) > most:
        return f"{len(lines)} seri, nga {lines[0]} deri te {lines[-1]}"
    return "\n".join(lines) or NO_VALUE


def _blocked_section(data: ReportData) -> list[Flowable]:
    b, kind = data.blocked, data.header.period_kind
    unit = "javë" if kind == "month" else "muaj"
    out: list[Flowable] = [
        CondPageBreak(8 * cm), _p("3. Aksesi i bllokuar", "h1"),
        _markup(f"Gjithsej {form(b.total, 'u bllokua', 'u bllokuan')} "
                f"{count(b.total, REQUEST, _bold)} ({count(b.incidents, INCIDENT, num)} "
                f"{form(b.incidents, 'i regjistruar', 'të regjistruara')}; përsëritjet e së "
                f"njëjtës kërkesë brenda pak minutash numërohen bashkë). Përpjekje për "
                f"anashkalimin e filtrit: {_bold(b.circumvention_total)}.")]
    out += _counts("3.1 Sipas kategorisë", b.by_category, WIDTH)
    if b.by_category:
        out.append(horizontal_bars(b.by_category, WIDTH))
    out.append(KeepTogether([
        _p(f"3.2 Sipas {'javës' if kind == 'month' else 'muajit'}", "h2"),
        vertical_bars(b.by_period, WIDTH),
        _table((unit.capitalize(), "Kërkesa të bllokuara", "Përpjekje anashkalimi"),
               [[c.label, c.count, a.count]
                for c, a in zip(b.by_period, b.circumvention_by_period, strict=True)],
               (WIDTH - 7 * cm, 3.5 * cm, 3.5 * cm))]))
    out += _counts("3.3 Sipas grupit", b.by_group, WIDTH)
    return out


def _manual_section(data: ReportData) -> list[Flowable]:
    m = data.manual
    half = WIDTH / 2 - 10
    out: list[Flowable] = [
        CondPageBreak(8 * cm), _p("4. Incidentet e regjistruara nga mësuesit", "h1"),
        _markup(f"Incidente të ndodhura jashtë filtrit dhe të regjistruara nga stafi i "
                f"shkollës: {_bold(m.total)}.")]
    out += _counts("4.1 Sipas kategorisë (klasifikimi ISIGURT.AL / ALO 116 111)",
                   m.by_category, WIDTH)
    out.append(_side_by_side(_count_block("4.2 Sipas platformës", m.by_platform, half),
                             _count_block("4.3 Sipas moshës", m.by_age_band, half)))
    out.append(_side_by_side(_count_block("4.4 Sipas gjinisë", m.by_gender, half),
                             _count_block("4.5 Sipas statusit", m.by_status, half)))
    out += _counts("4.6 Referimet", m.by_referral, WIDTH, "Gjithsej referime",
                   "Një incident mund të referohet te më shumë se një institucion.")
    return out


def _trend_section(data: ReportData) -> list[Flowable]:
    rows: list[list[str | int]] = [[t.label, t.blocked, t.circumvention, t.manual,
                                    t.selftest_runs] for t in data.trends]
    rows.append(["Gjithsej", *(sum(int(r[i]) for r in rows) for i in range(1, 5))])
    w = (WIDTH - 3.5 * cm) / 4
    return [CondPageBreak(10 * cm), _p("5. Prirja muaj pas muaji", "h1"),
            _table(("Muaji", "Kërkesa të bllokuara", "Përpjekje anashkalimi",
                    "Incidente të regjistruara", "Kontrolle të filtrit"), rows,
                   (3.5 * cm, w, w, w, w), total=True)]


def _signatures(data: ReportData) -> list[Flowable]:
    h = data.header
    line = "_" * 30

    def block(role: str, name: str) -> list[Flowable]:
        return [_p(role, "h2"), Spacer(1, 4), _p(f"Emri: {name}", "body"), Spacer(1, 16),
                _p(f"Nënshkrimi: {line}", "body"), Spacer(1, 10),
                _p("Data: ____ . ____ . ________", "body")]

    who = h.ict_teacher if h.ict_teacher != NO_VALUE else line
    table = Table([[block("Hartoi: Mësuesi i TIK-ut", who),
                    block("Miratoi: Drejtori i shkollës", line)]],
                  colWidths=[WIDTH / 2, WIDTH / 2])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    f, b = data.filter_status, data.blocked
    runs = f.selftest_runs
    checks = ("nuk u krye asnjë kontroll i vlefshmërisë së filtrit" if f.no_validity_checks
              else f"{form(runs, 'u krye', 'u kryen')} {count(runs, CHECK, num)} "
              f"{form(runs, 'i vlefshmërisë', 'të vlefshmërisë')} së filtrit "
              f"({num(f.selftest_pass)} {form(f.selftest_pass, 'i kaluar', 'të kaluara')}, "
              f"{num(f.selftest_fail)} {form(f.selftest_fail, 'i dështuar', 'të dështuara')})")
    circ = b.circumvention_total
    summary = (f"Në periudhën {_esc(h.period_label)} ({h.period_start} – {h.period_end}) "
               f"filtri bllokoi {count(b.total, REQUEST, _bold)}, ku "
               f"{form(circ, 'përfshihet', 'përfshihen')} {count(circ, ATTEMPT, _bold)} "
               f"anashkalimi; stafi regjistroi {count(data.manual.total, INCIDENT, _bold)}; "
               f"{checks}.")
    return [KeepTogether([Spacer(1, 18), _p("Përmbledhje dhe nënshkrimet", "h1"),
                          _markup(summary), Spacer(1, 4),
                          _p(f"Hartuar më {h.generated}.", "body"), Spacer(1, 8), table,
                          Spacer(1, 14), _p("V.V. (vendi i vulës)", "small")])]
