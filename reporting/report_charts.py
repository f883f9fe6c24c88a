"""Simple bar charts for the PDF report (reportlab.graphics), in the report's font and colours.

    horizontal_bars(counts, width)       # one bar per category, labels on the left
    vertical_bars(counts, width, height) # one bar per week or month, in time order

Labels are never cut: a category label longer than the label column is wrapped at spaces onto
as many lines as it needs (each row grows to hold them), and months are written whole. A chart
never outgrows the page: past MOST_BARS categories the smallest are summed in one bar, "Të tjera
(N kategori)" (the table beside it lists them all).
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from reporting.plural import CATEGORY, count
from reporting.report_data import Count
from reporting.report_fonts import REGULAR, register_fonts

BAR = colors.HexColor("#1f4e79")
GRID = colors.HexColor("#d0d7de")
FONT_SIZE = 7
LEADING = 7.5  # a row holding two label lines is 18 pt high
MOST_BARS = 25
LABEL_WIDTH = 166.0  # the label column (170 pt) less the gap to the axis


def _greedy(words: list[str], width: float) -> list[str]:
    lines: list[str] = []
    for word in words:
        if lines and stringWidth(f"{lines[-1]} {word}", REGULAR, FONT_SIZE) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def wrap(text: str, width: float = LABEL_WIDTH) -> str:
    """`text` on as few lines ("\n") as fit `width`, broken only at spaces and balanced (no
    lone last word); a single word longer than `width` stays whole on its own line."""
    words = text.split()
    lines = _greedy(words, width)
    if len(lines) > 1:  # the narrowest width that needs no more lines
        low, high = max(stringWidth(w, REGULAR, FONT_SIZE) for w in words), width
        while high - low > 1:
            middle = (low + high) / 2
            low, high = (low, middle) if len(_greedy(words, middle)) == len(lines) else (
                middle, high)
        lines = _greedy(words, high)
    return "\n".join(lines) or text


def _top(values: Sequence[int]) -> tuple[int, int]:
    """A round axis maximum and step for the largest value."""
    peak = max([*values, 1])
    step = 1
    while peak / step > 5:
        for factor in (2, 5, 10):
            if peak / (step * factor) <= 5:
                step *= factor
                break
        else:
            step *= 10
    return step * -(-peak // step), step


def horizontal_bars(counts: Sequence[Count], width: float) -> Drawing:
    """Categories top to bottom in the given order, counts printed at the bar ends."""
    register_fonts()  # wrap() measures text in the report's font
    if len(counts) > MOST_BARS:
        rest = counts[MOST_BARS - 1:]
        counts = [*counts[:MOST_BARS - 1], Count(
            "", f"Të tjera ({count(len(rest), CATEGORY)})", sum(c.count for c in rest))]
    label_width = LABEL_WIDTH + 4
    names = [wrap(c.label) for c in reversed(counts)]
    lines = max([n.count("\n") + 1 for n in names] or [1])
    row = max(16.0, LEADING * lines + 3)
    height = row * len(counts) + 30
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = label_width, 18
    chart.width, chart.height = width - label_width - 30, row * len(counts)
    values = [c.count for c in reversed(counts)]
    chart.data = [values]
    chart.categoryAxis.categoryNames = names
    _style(chart, values)
    chart.categoryAxis.labels.dx = -4
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.textAnchor = "end"
    chart.categoryAxis.labels.leading = LEADING
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    drawing.add(chart)
    return drawing


def vertical_bars(counts: Sequence[Count], width: float, height: float = 150) -> Drawing:
    """Time buckets left to right; labels are the keys' short form (week or month)."""
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 36, 30
    chart.width, chart.height = width - 50, height - 50
    values = [c.count for c in counts]
    chart.data = [values]
    chart.categoryAxis.categoryNames = [_tick(c) for c in counts]
    _style(chart, values)
    chart.categoryAxis.labels.dy = -4
    chart.barLabels.boxAnchor = "s"
    chart.barLabels.dy = 2
    drawing.add(chart)
    if not any(values):
        drawing.add(String(width / 2, height / 2, "Asnjë e dhënë", fontName=REGULAR,
                           fontSize=8, textAnchor="middle", fillColor=colors.grey))
    return drawing


def _tick(c: Count) -> str:
    if "-W" in c.key:
        return "Java " + c.key.split("-W")[1].lstrip("0")
    return c.label  # the month's name, whole ("Shtator")


def _style(chart: HorizontalBarChart | VerticalBarChart, values: Sequence[int]) -> None:
    top, step = _top(values)
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = top
    chart.valueAxis.valueStep = step
    chart.valueAxis.labels.fontName = REGULAR
    chart.valueAxis.labels.fontSize = FONT_SIZE
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = GRID
    chart.valueAxis.gridStrokeWidth = 0.5
    chart.categoryAxis.labels.fontName = REGULAR
    chart.categoryAxis.labels.fontSize = FONT_SIZE
    chart.bars[0].fillColor = BAR
    chart.bars[0].strokeColor = None
    chart.barWidth = 8
    chart.groupSpacing = 6
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = REGULAR
    chart.barLabels.fontSize = FONT_SIZE
