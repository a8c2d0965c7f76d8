"""The waterfall of one kommune's report as a native chart of the sheet "Overblik", drawn
like :func:`kmf.report.figures.waterfall`: in pct. of the budget (budget = 100)."""

from __future__ import annotations

import math
from typing import Any

from openpyxl.chart import BarChart, Reference
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from kmf.report.excel_style import BOLD, chart_axes, number_format
from kmf.report.excel_style import text as _text
from kmf.report.figures import BLUE, GREY, RED
from kmf.report.labels import EFFECTS, MAIN_EFFECTS

#: the first of the hidden columns that hold the waterfall's stacked series
_HIDDEN = 20
STEPS = (*MAIN_EFFECTS, "oevrige")


def waterfall_chart(ws: Worksheet, top: int, row: dict[str, Any], name: str) -> None:
    """The waterfall of :func:`kmf.report.figures.waterfall` as a native chart, in pct. of
    the budget (budget = 100): a stacked bar chart whose invisible base carries each step.
    The steps are shown as a small table; the stacked series sit in hidden columns."""
    _text(ws, top, 1, "Fra budget til prognose, pct. af budgettet (budget = 100)", BOLD)
    _text(ws, top + 1, 1, "Trin", BOLD)
    _text(ws, top + 1, 2, "Pct.", BOLD)
    level = 100.0
    shown: list[tuple[str, float]] = [("Budget (ØA)", 100.0)]
    # on the axis a long step breaks after its hyphen, as in the figure; the table has
    # the whole word ("B. Aldersgrupper")
    axis = ["Budget (ØA)", *(EFFECTS[e].step.replace("\n", " ") for e in STEPS), "Prognose"]
    data: list[tuple[float, float, float, float]] = [(0.0, level, 0.0, 0.0)]
    for e in STEPS:
        delta = row[f"{e}_pct"]
        new = level + delta
        shown.append((EFFECTS[e].step.replace("-\n", "").replace("\n", " "), delta))
        data.append((min(level, new), 0.0, max(delta, 0.0), max(-delta, 0.0)))
        level = new
    shown.append(("Prognose", 100.0 + row["aendring_pct"]))
    data.append((0.0, 100.0 + row["aendring_pct"], 0.0, 0.0))
    for j, h in enumerate(["Grundlag", "Niveau", "Stigning", "Fald", "Akse"], start=_HIDDEN):
        _text(ws, top + 1, j, h)
        ws.column_dimensions[get_column_letter(j)].hidden = True
    for i, ((label, value), values) in enumerate(zip(shown, data, strict=True), start=top + 2):
        _text(ws, i, 1, label)
        ws.cell(row=i, column=2, value=value).number_format = number_format(value, 1)
        for j, v in enumerate(values, start=_HIDDEN):
            ws.cell(row=i, column=j, value=v)
        _text(ws, i, _HIDDEN + 4, axis[i - top - 2])
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.visible_cells_only = False  # the series are in hidden columns
    chart_axes(chart, f"{name}: fra budget til prognose", "Pct. af budgettet", "0")
    chart.legend = None
    last = top + 1 + len(data)
    chart.add_data(
        Reference(ws, min_col=_HIDDEN, max_col=_HIDDEN + 3, min_row=top + 1, max_row=last),
        titles_from_data=True,
    )
    chart.set_categories(Reference(ws, min_col=_HIDDEN + 4, min_row=top + 2, max_row=last))
    base, levels, up, down = chart.series
    base.graphicalProperties.noFill = True
    base.graphicalProperties.line.noFill = True
    for series, colour in ((levels, GREY), (up, BLUE), (down, RED)):
        series.graphicalProperties.solidFill = colour.lstrip("#")
        series.graphicalProperties.line.solidFill = colour.lstrip("#")
    lows = [d[0] or d[1] for d in data]
    highest = max(sum(d) for d in data)
    spread = highest - min(lows) or highest * 0.05
    chart.y_axis.scaling.min = max(0.0, math.floor(min(lows) - 1.5 * spread))
    chart.height, chart.width = 8, 18
    ws.add_chart(chart, f"D{top}")
