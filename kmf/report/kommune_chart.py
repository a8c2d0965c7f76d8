"""The waterfall of one kommune's report as a native chart of the sheet "Overblik", drawn
like :func:`kmf.report.figures.waterfall`: in pct. of the budget (budget = 100)."""

from __future__ import annotations

import math
from typing import Any

from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.text import RichText
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties
from openpyxl.drawing.text import Font as DrawingFont
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from kmf.report.excel_style import BOLD, FONT_NAME, ITALIC, chart_axes, number_format
from kmf.report.excel_style import text as _text
from kmf.report.figures import BLUE, GREY, RED
from kmf.report.labels import EFFECTS, MAIN_EFFECTS

#: the first of the hidden columns that hold the waterfall's stacked series
_HIDDEN = 20
STEPS = (*MAIN_EFFECTS, "oevrige")
#: the number formats of the hidden series (base, level, rise, fall) and of their labels: a
#: rise signed "+", a fall (stored as its size) signed "-", and a zero (a bar the series does
#: not draw) shown as nothing
LABEL_FORMATS = ("0.0", "0.0;;;", '"+"0.0;;;', '"-"0.0;;;')


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
        for j, (v, fmt) in enumerate(zip(values, LABEL_FORMATS, strict=True), start=_HIDDEN):
            # the cells carry the labels' format too: a chart whose labels follow their
            # cells' format (LibreOffice) shows the same numbers
            ws.cell(row=i, column=j, value=v).number_format = fmt
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
    # every bar carries its number: the steps their pct.-points (signed), budget and
    # prognose their level; a series' zero (the bars it does not draw) shows nothing
    for series, fmt in zip((levels, up, down), LABEL_FORMATS[1:], strict=True):
        series.dLbls = _labels(fmt)
    lows = [d[0] or d[1] for d in data]
    highest = max(sum(d) for d in data)
    spread = highest - min(lows) or highest * 0.05
    start = max(0.0, math.floor(min(lows) - 1.5 * spread))
    chart.y_axis.scaling.min = start
    if start > 0:
        # a native chart has no break mark: the axis says where it starts, as the note above
        chart.y_axis.title = f"Pct. af budgettet (aksen starter ved {start:.0f})"
        _text(ws, top + 3 + len(data), 1, f"Aksen starter ved {start:.0f}, ikke ved 0.", ITALIC)
    chart.height, chart.width = 8, 18
    ws.add_chart(chart, f"D{top}")


def _labels(fmt: str) -> DataLabelList:
    """Data labels with the value in ``fmt``, in 9 pt bold, inside the end of each bar."""
    props = CharacterProperties(sz=900, b=True, latin=DrawingFont(typeface=FONT_NAME))
    labels = DataLabelList(numFmt=fmt, showVal=True, showSerName=False, showCatName=False,
                           showLegendKey=False, showPercent=False, dLblPos="inEnd")  # fmt: skip
    labels.txPr = RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=props), endParaRPr=props)])
    return labels
