"""The workbook's look, written once: fonts (Calibri everywhere, so no cell falls back to a
serif font), fills, number formats that never show a red ``-0``, text cells, source and
note lines, print setup. Read by :mod:`kmf.report.excel` and :mod:`kmf.report.excel_pages`.
"""

from __future__ import annotations

import math
from copy import copy
from datetime import date
from typing import Any
from weakref import WeakKeyDictionary

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart._chart import ChartBase
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import (
    CharacterProperties,
    Paragraph,
    ParagraphProperties,
    RegularTextRun,
)
from openpyxl.drawing.text import Font as DrawingFont
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.workbook import Workbook
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

#: plain number formats (negatives in red) for writers that format a column at once
KR = "#,##0;[Red]-#,##0"
#: an amount held in kr. and shown in mio. kr. with one decimal, as the texts write it (each
#: "," at the end of a format divides by 1000, in Excel and in LibreOffice alike)
MIO = "#,##0.0,,;[Red]-#,##0.0,,"
ONE_DECIMAL = "0.0;[Red]-0.0"
#: every date in every workbook: a real date cell shown the Danish way, "10. april 2018", with
#: Danish month names whatever the reader's Excel language ([$-406] is Danish), as the texts
#: and the figures write it (:func:`kmf.danish.format_date`)
DATE_FORMAT = "[$-406]d. mmmm yyyy"
#: a column wide enough for the longest date in that form ("30. september 2018")
DATE_WIDTH = 19
FONT_NAME = "Calibri"
TITLE_FONT = Font(name=FONT_NAME, size=13, bold=True)
BODY = Font(name=FONT_NAME, size=11)
BOLD = Font(name=FONT_NAME, size=11, bold=True)
ITALIC = Font(name=FONT_NAME, size=11, italic=True)
NOTE_FONT = Font(name=FONT_NAME, size=9)
SMALL = Font(name=FONT_NAME, size=9)
HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
LAND_FILL = PatternFill("solid", fgColor="F2F2F2")
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
#: points per line of 11 pt text, and characters of a wrapped line per unit of column width
LINE_HEIGHT = 15.0
CHARS_PER_WIDTH = 1.1


def number_format(value: Any, decimals: int, thousands: bool = False, mio: bool = False) -> str:
    """The format of a number cell: negatives in red, except a value that shows as zero,
    which shows as ``0`` (``0,0``) in black: Excel shows ``-0`` for a small negative
    value under a one-part format, so such a value gets a format whose negative part has
    no minus sign. ``mio``: an amount in kr. shown in mio. kr. (thousands separators too)."""
    base = ("#,##0" if thousands or mio else "0") + ("." + "0" * decimals if decimals else "")
    base += ",," if mio else ""
    shown = value / 1e6 if mio and isinstance(value, int | float) else value
    if isinstance(shown, int | float) and abs(shown) < 0.5 * 10.0**-decimals:
        return f"{base};{base}"
    return f"{base};[Red]-{base}"


# per workbook: the style of each combination of font, fill, format and alignment used so
# far. Styling a cell through openpyxl's attributes hashes the style objects every time;
# copying the ready index array makes the workbook several times quicker to fill. The
# objects are kept with their array, so their ids (the key) stay theirs.
_STYLES: WeakKeyDictionary[Workbook, dict[tuple[Any, ...], tuple[StyleArray, Any]]] = (
    WeakKeyDictionary()
)


def style(
    cell: Any,
    font: Font | None = None,
    fill: PatternFill | None = None,
    fmt: str | None = None,
    align: Alignment | None = None,
    quote: bool = False,
) -> Any:
    """Give ``cell`` these styles (``None``: the default) and return it."""
    cache = _STYLES.setdefault(cell.parent.parent, {})
    key = (id(font), id(fill), fmt, id(align), quote)
    found = cache.get(key)
    if found is None:
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        if fmt is not None:
            cell.number_format = fmt
        if align is not None:
            cell.alignment = align
        if quote:
            cell.quotePrefix = True
        cache[key] = found = (copy(cell._style), (font, fill, align))
    else:
        cell._style = copy(found[0])
    return cell


def text(
    ws: Worksheet,
    row: int,
    col: int,
    value: str | None,
    font: Font = BODY,
    align: Alignment | None = None,
    fill: PatternFill | None = None,
) -> Any:
    """A text cell that Excel never reads as a formula; control characters, which a
    workbook cannot hold, are shown as '?'."""
    if value is not None:
        value = ILLEGAL_CHARACTERS_RE.sub("?", value)
    cell = ws.cell(row=row, column=col, value=value)
    if value is not None:
        cell.data_type = "s"
    quote = value is not None and value[:1] in ("=", "+", "-", "@")
    return style(cell, font, fill, None, align, quote)


def number(ws: Worksheet, row: int, col: int, value: Any, fmt: str, **styles: Any) -> Any:
    """A number cell with its format (and other styles); a date gets :data:`DATE_FORMAT`."""
    if isinstance(value, date):
        fmt = DATE_FORMAT
    return style(ws.cell(row=row, column=col, value=value), fmt=fmt, **styles)


def lines_needed(value: str, width: float) -> int:
    """How many lines ``value`` takes wrapped in a column ``width`` wide (estimated on the
    safe side, so that no line is cut or overlaps the next)."""
    per_line = max(1, int(width * CHARS_PER_WIDTH))
    return sum(max(1, math.ceil(len(part) / per_line)) for part in value.split("\n"))


def paragraph(
    ws: Worksheet,
    row: int,
    value: str,
    width: float,
    last_col: int = 1,
    font: Font = BODY,
    first_col: int = 1,
) -> None:
    """A wrapped paragraph in ``row`` over columns ``first_col``…``last_col`` (``width``
    wide in all), its row made tall enough for every line."""
    text(ws, row, first_col, value, font, WRAP_TOP)
    if last_col > first_col:
        ws.merge_cells(start_row=row, start_column=first_col, end_row=row, end_column=last_col)
    size = font.sz or 11
    ws.row_dimensions[row].height = lines_needed(value, width * 11 / size) * size * 1.36


def notes(ws: Worksheet, row: int, lines: list[str], width: float, last_col: int) -> int:
    """The "Anm.:" lines and the "Kilde:" line under a table, from ``row``; returns the row
    after them."""
    for line in lines:
        paragraph(ws, row, line, width, last_col, NOTE_FONT)
        row += 1
    return row


def print_setup(ws: Worksheet, title_rows: str | None, landscape: bool = True) -> None:
    """A4, one page wide, the table header repeated on every printed page."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.page_margins.left = ws.page_margins.right = 0.6
    if title_rows:
        ws.print_title_rows = title_rows


def chart_title(value: str) -> Title:
    """A one-line chart title in 10 pt bold: smaller than the sheet's title."""
    props = CharacterProperties(sz=1000, b=True, latin=DrawingFont(typeface=FONT_NAME))
    para = Paragraph(pPr=ParagraphProperties(defRPr=props),
                     r=[RegularTextRun(rPr=props, t=value)])  # fmt: skip
    return Title(tx=Text(rich=RichText(p=[para])), overlay=False)


def chart_axes(
    chart: ChartBase, title: str, y_title: str | None = None, y_format: str = "0.0"
) -> None:
    """A native chart's title and axes as every workbook draws them: both axes shown
    (current Excel hides an axis without ``delete = False``), category labels below the
    lowest bar, and the value axis its own number format (linked to the cells, it would
    take their red negatives)."""
    chart.title = chart_title(title)
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.x_axis.tickLblPos = "low"
    chart.y_axis.title = y_title
    chart.y_axis.number_format = y_format


def page_break(ws: Worksheet, after_row: int) -> None:
    """A printed page ends after ``after_row``."""
    ws.row_breaks.append(Break(id=after_row))


#: an A4 page in points, (width, height) upright
A4_PT = (595.0, 842.0)
#: the share of the printable width a table is taken to fill (a wider font, as LibreOffice's,
#: makes the real scale smaller and the page hold more rows, never fewer)
WIDTH_SLACK = 0.95


def column_width_pt(width: float) -> float:
    """A column ``width`` wide (characters of Calibri 11) in points: 7 px a character and 5 px
    of padding, 0.75 pt a pixel."""
    return (7 * width + 5) * 0.75


def keep_blocks_together(
    ws: Worksheet,
    starts: list[int],
    last_row: int,
    width_pt: float,
    repeated_pt: float,
    landscape: bool,
) -> None:
    """Print a long table one page wide, each page ending where a block (a region with its
    kommuner, a date) ends, so no page holds a few rows cut off from their block.

    ``starts``: the first row of each block, in order; ``repeated_pt``: the height of the
    header rows repeated on every page. The page stays one page wide and as many tall as
    needed (fitToHeight 0: Excel and LibreOffice then keep manual breaks); the scale that
    width gives is estimated on the large side, so a page is never asked to hold more rows
    than it can. A block longer than a page is broken where the page ends.
    """
    if not starts:
        return
    page_w, page_h = A4_PT[::-1] if landscape else A4_PT
    printable_w = page_w - (ws.page_margins.left + ws.page_margins.right) * 72
    printable_h = page_h - (ws.page_margins.top + ws.page_margins.bottom) * 72
    scale = min(1.0, WIDTH_SLACK * printable_w / width_pt)
    capacity = int((printable_h / scale - repeated_pt) / LINE_HEIGHT)
    # the first page also holds the title and the unit above the header
    room = capacity - (starts[0] - 1)
    if capacity < 1 or last_row - starts[0] + 1 <= room:
        return
    page_start = starts[0]
    for i, start in enumerate(starts):
        end = starts[i + 1] - 1 if i + 1 < len(starts) else last_row
        if end - page_start + 1 > room and start > page_start:
            page_break(ws, start - 1)
            page_start, room = start, capacity
        while end - page_start + 1 > room:  # a block longer than a page
            page_start, room = page_start + room, capacity
