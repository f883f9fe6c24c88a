"""Simple bar charts for the PDF report (reportlab.graphics), in the report's font and colours.

    horizontal_bars(counts, width)       # one bar per category, labels on the left
    vertical_bars(counts, width, height) # one bar per week or month, in time order
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors

from reporting.report_data import Count
from reporting.report_fonts import REGULAR

BAR = colors.HexColor("#1f4e79")
GRID = colors.HexColor("#d0d7de")
MAX_LABEL = 34


def _short(text: str, limit: int = MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


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
    label_width = 170.0
    row = 16.0
    height = row * len(counts) + 30
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = label_width, 18
    chart.width, chart.height = width - label_width - 30, row * len(counts)
    values = [c.count for c in reversed(counts)]
    chart.data = [values]
    chart.categoryAxis.categoryNames = [_short(c.label) for c in reversed(counts)]
    _style(chart, values)
    chart.categoryAxis.labels.dx = -4
    chart.categoryAxis.labels.boxAnchor = "e"
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
    return c.label[:3].capitalize()


def _style(chart: HorizontalBarChart | VerticalBarChart, values: Sequence[int]) -> None:
    top, step = _top(values)
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = top
    chart.valueAxis.valueStep = step
    chart.valueAxis.labels.fontName = REGULAR
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = GRID
    chart.valueAxis.gridStrokeWidth = 0.5
    chart.categoryAxis.labels.fontName = REGULAR
    chart.categoryAxis.labels.fontSize = 7
    chart.bars[0].fillColor = BAR
    chart.bars[0].strokeColor = None
    chart.barWidth = 8
    chart.groupSpacing = 6
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = REGULAR
    chart.barLabels.fontSize = 7
