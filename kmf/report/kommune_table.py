"""The tables of a kommune's workbook (a header row and rows, zero shown black) and its
sheet "Bidrag": each method's contributions in its own table with its sum row."""

from __future__ import annotations

from typing import Any

from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from kmf import codes
from kmf.compute.kommune_tables import KommuneTables
from kmf.report.excel_style import (
    BOLD,
    HEADER_FILL,
    ITALIC,
    MIO,
    NOTE_FONT,
    ONE_DECIMAL,
    TITLE_FONT,
    chart_axes,
    lines_needed,
    number_format,
    page_break,
    print_setup,
)
from kmf.report.excel_style import text as _text
from kmf.report.labels import EFFECTS, MAIN_EFFECTS


def _zero_black(fmt: str, value: Any) -> str:
    """``fmt``, but a value that shows as zero gets ``0,0`` in black, never a red ``-0,0``."""
    base = fmt.split(";")[0]
    if ";" not in fmt or value is None:
        return fmt
    mio = base.endswith(",,")
    decimals = len(base.rstrip(",").partition(".")[2])
    return number_format(value, decimals, base.startswith("#,##0"), mio)


def sheet_table(
    ws: Worksheet,
    top: int,
    rows: list[dict[str, Any]],
    columns: list[tuple[str, str, str | None]],
    bold: set[int] = frozenset(),  # type: ignore[assignment]
) -> int:
    """A header and rows from ``top``; column A is text; return the next free row."""
    for j, (_, header, _) in enumerate(columns, start=1):
        cell = _text(ws, top, j, header)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
    widths = [
        ws.column_dimensions[get_column_letter(j)].width or 10 for j in range(1, len(columns) + 1)
    ]
    wrapped = max(lines_needed(h, w - 2) for (_, h, _), w in zip(columns, widths, strict=True))
    ws.row_dimensions[top].height = 15 * max(2, wrapped) + 2
    for i, row in enumerate(rows, start=top + 1):
        for j, (name, _, fmt) in enumerate(columns, start=1):
            value = row.get(name)
            if isinstance(value, str) or fmt is None:
                cell = _text(ws, i, j, None if value is None else str(value))
            else:
                cell = ws.cell(row=i, column=j, value=value)
                cell.number_format = _zero_black(fmt, value)
            if i - top - 1 in bold:
                cell.font = BOLD
    return top + len(rows) + 2


#: what "largest first" in the sheet "Bidrag" ranks by (the order of ``contributions``)
RANK_NOTE = (
    "Rækkerne står efter bidragets størrelse: den numeriske værdi af A + B + C (kolonnen "
    "I alt), største først."
)


def _contribution_block(
    ws: Worksheet,
    top: int,
    title: str,
    rows: list[dict[str, Any]],
    keys: list[str],
    by_area: bool,
    note: str = "",
) -> int:
    """One method's contributions from ``top``: a heading (and a note under it), a row per
    age group (or cell) with its total A + B + C, and a bold sum row that gives the kommune's
    effects. Returns the next free row."""
    _text(ws, top, 1, title, BOLD)
    if note:
        top += 1
        _text(ws, top, 1, note, NOTE_FONT)
    shown = [dict(r) for r in rows]
    for r in shown:
        for unit in ("pct", "kr"):
            r[f"i_alt_{unit}"] = sum(r[f"{e}_{unit}"] for e in MAIN_EFFECTS)
    total: dict[str, Any] = {"aldersgruppe": "I alt", "sundhedsomraade": ""}
    for key in (*keys, "i_alt"):
        for unit in ("pct", "kr"):
            total[f"{key}_{unit}"] = sum(r[f"{key}_{unit}"] for r in shown)
    letters = {**{e: EFFECTS[e].letter for e in keys}, "i_alt": "I alt"}
    columns: list[tuple[str, str, str | None]] = [
        ("aldersgruppe", "Aldersgruppe", None),
        *([("sundhedsomraade", "Sundhedsområde", None)] if by_area else []),
        *((f"{k}_pct", f"{letters[k]}, pct.-point", ONE_DECIMAL) for k in (*keys, "i_alt")),
        *((f"{k}_kr", f"{letters[k]}, mio. kr.", MIO) for k in (*keys, "i_alt")),
    ]
    return sheet_table(ws, top + 1, [*shown, total], columns, {len(shown)})


def contributions_sheet(ws: Worksheet, t: KommuneTables) -> None:
    """Each method in its own table with its sum row, so a column's total is the
    kommune's effect once: the ministry's method by age group, LMDI by cell."""
    _text(ws, 1, 1, f"Bidrag til effekterne, {t.navn}, {t.aar}").font = TITLE_FONT
    _text(ws, 2, 1, f"Pct.-point af budgettet og mio. kr. {RANK_NOTE}").font = ITALIC
    rows = [
        {
            **r,
            "aldersgruppe": codes.AGE_LABELS[r["aldersgruppe"]],
            "sundhedsomraade": codes.AREA_LABELS.get(r["sundhedsomraade"] or "", ""),
        }
        for r in t.bidrag.to_dicts()
    ]
    ministry = [r for r in rows if r["metode"] == "ministeriet"]
    cells = [r for r in rows if r["metode"] == "lmdi"]
    for j, w in enumerate([16, 16] + [13] * 12, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    first = 4
    after = _contribution_block(
        ws, first, "Ministeriets metode: bidrag pr. aldersgruppe (summerer præcist til "
        "kommunens A, B og C; I alt er A + B + C, uden Øvrige)", ministry, list(MAIN_EFFECTS),
        by_area=False,
    )  # fmt: skip
    chart_top = after
    after = _contribution_block(
        ws, after + 17, "En anden beregning (LMDI): bidrag pr. aldersgruppe og sundhedsområde",
        cells, [*MAIN_EFFECTS, "omraademikseffekt", "andelseffekt"], by_area=True,
        note="Den fordeler hele ændringen celle for celle uden rest og giver derfor lidt andre "
        "tal for A, B og C end ministeriets metode ovenfor; C er delt i områdemiks (C1) og "
        "KMF-andel (C2). Teksterne og Overblik bruger ministeriets metode.",
    )  # fmt: skip
    chart = BarChart()
    chart.type = "bar"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart_axes(chart, "Bidrag pr. aldersgruppe (ministeriets metode), pct.-point")
    chart.add_data(Reference(ws, min_col=2, max_col=4, min_row=first + 1,
                             max_row=first + 1 + len(ministry)), titles_from_data=True)  # fmt: skip
    chart.set_categories(Reference(ws, min_col=1, min_row=first + 2,
                                   max_row=first + 1 + len(ministry)))  # fmt: skip
    for series, e in zip(chart.series, MAIN_EFFECTS, strict=True):
        series.graphicalProperties.solidFill = EFFECTS[e].colour.lstrip("#")
    chart.height, chart.width = 7.5, 16
    ws.add_chart(chart, f"A{chart_top}")
    print_setup(ws, None)
    page_break(ws, chart_top + 15)
