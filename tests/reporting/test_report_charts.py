"""Tests for reporting.report_charts: category labels are wrapped whole, never cut."""

from __future__ import annotations

from reportlab.graphics.charts.barcharts import BarChart
from reportlab.pdfbase.pdfmetrics import stringWidth

from reporting.report_charts import LABEL_WIDTH, MOST_BARS, horizontal_bars, vertical_bars
from reporting.report_data import Count
from reporting.report_fonts import REGULAR, register_fonts
from reporting.report_labels import BLOCK_CATEGORIES, MONTHS


def chart(drawing: object) -> BarChart:
    found = [c for c in drawing.contents if isinstance(c, BarChart)]  # type: ignore[attr-defined]
    assert len(found) == 1
    return found[0]


def test_every_category_label_is_whole_and_fits() -> None:
    register_fonts()
    labels = [*list(dict.fromkeys(BLOCK_CATEGORIES.values()))[:MOST_BARS - 2],
              "Një kategori shumë e gjatë që një listë e re mund ta sjellë një ditë në raport",
              "=cmd|' /C calc'!A0"]
    counts = [Count(str(i), text, 10 + i) for i, text in enumerate(labels)]
    names = list(reversed(chart(horizontal_bars(counts, 480)).categoryAxis.categoryNames))
    for original, shown in zip(labels, names, strict=True):
        assert "…" not in shown and shown.replace("\n", " ") == original
        for line in shown.split("\n"):
            assert stringWidth(line, REGULAR, 7) <= LABEL_WIDTH, line
    assert "\n" in names[labels.index("Programe keqdashëse, hakim dhe anashkalim i filtrit")]


def test_months_are_written_whole() -> None:
    counts = [Count(f"2026-{m:02d}", name.capitalize(), m) for m, name in enumerate(MONTHS, 1)]
    names = chart(vertical_bars(counts, 480)).categoryAxis.categoryNames
    assert names == [m.capitalize() for m in MONTHS]


def test_past_the_most_bars_the_smallest_are_summed() -> None:
    counts = [Count(f"c{i}", f"Kategoria {i}", 100 - i) for i in range(40)]
    bars = chart(horizontal_bars(counts, 480))
    names = list(reversed(bars.categoryAxis.categoryNames))
    assert len(names) == MOST_BARS and names[-1] == "Të tjera (16 kategori)"
    assert list(reversed(bars.data[0]))[-1] == sum(100 - i for i in range(24, 40))
