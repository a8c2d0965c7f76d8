"""Text in a worksheet: the lines of a Danish summary (:mod:`kmf.report.text`) one row each,
wrapped; and the sheet "Sammenfatning" that ``kmf run``'s workbook opens with."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from openpyxl.styles import Alignment, Font

from kmf.danish import keep_signs
from kmf.report.text import Line
from kmf.report.text_national import national_lines
from kmf.result import Result


def write_lines(
    ws: Any, lines: Sequence[Line], cell: Callable[..., Any], columns: int = 1, width: float = 110
) -> int:
    """Write ``lines`` from the top of the sheet ``ws``, one row each, wrapped over
    ``columns`` merged columns about ``width`` characters wide, through ``cell(ws, row,
    column, text)``, which stores text safely; return the next free row."""
    if columns == 1:
        ws.column_dimensions["A"].width = width
    row = 1
    for kind, text in lines:
        if kind == "heading" and row > 1:
            row += 1
        shown = keep_signs(f"• {text}" if kind == "item" else text)
        c = cell(ws, row, 1, shown)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        if columns > 1:
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=columns)
        if kind == "title":
            c.font = Font(name="Calibri", bold=True, size=13)
        elif kind == "heading":
            c.font = Font(name="Calibri", bold=True)
        else:
            # rows do not grow to their text in every program: room for the wrapped lines
            ws.row_dimensions[row].height = 15 * (len(shown) // int(width * 0.95) + 1)
        row += 1 + (kind == "title")
    return row


def summary_sheet(wb: Any, result: Result, cell: Callable[..., Any]) -> None:
    """The sheet "Sammenfatning", first in the workbook of ``kmf run``: the national text."""
    lines_sheet(wb, national_lines(result), cell)


def lines_sheet(wb: Any, lines: Sequence[Line], cell: Callable[..., Any]) -> None:
    """A sheet "Sammenfatning", first in the workbook ``wb``, holding ``lines``."""
    ws = wb.create_sheet("Sammenfatning", 0)
    write_lines(ws, lines, cell, width=100)
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
