"""The notat in Word (python-docx): the text, tabel B1 for the units it speaks of, the
waterfall from budget to forecast and the source, in the ministry's plain layout (Calibri,
black text, a thin-ruled table with a "Kilde:" line under it), ready to attach to a
dagsordenspunkt.

``kmf run`` writes ``notat_<T>.docx`` (Hele landet and the regions); ``kmf kommune`` writes
``notat_<KODE>_<T>.docx`` (the kommune, its region, Hele landet and its comparison group).
One function per block, as the workbook writers have.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from kmf.danish import format_number, keep_signs
from kmf.report.labels import EFFECTS, MAIN_EFFECTS
from kmf.report.text import Line

FONT = "Calibri"
#: the widths of the table's columns (cm), 15,4 of the page's 16: the name
#: ("Sammenligningsgruppen" on one line), the two amounts, the change, A, B, C (its header's
#: "Sundheds-" on one line even in a wide stand-in for Calibri) and Øvrige
WIDTHS_CM = (4.0, 1.8, 1.8, 1.65, 1.5, 1.5, 1.9, 1.25)
#: the table's columns: (B1 column, header, scale, decimals)
COLUMNS: tuple[tuple[str, str, float, int], ...] = (
    ("kmf_budget_kr", "Budget,\nmio. kr.", 1e6, 1),
    ("kmf_prognose_kr", "Prognose,\nmio. kr.", 1e6, 1),
    ("aendring_pct", "Ændring,\npct.", 1.0, 1),
    *((f"{e}_pct", EFFECTS[e].step.replace(". ", ".\n", 1), 1.0, 1) for e in MAIN_EFFECTS),
    ("oevrige_pct", "Øvrige", 1.0, 1),
)


#: characters a .docx cannot hold (XML 1.0 allows tab, newline and carriage return only)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def clean(text: str) -> str:
    """``text`` without the control characters Word cannot hold (e.g. in a folder name)."""
    return _CONTROL.sub("", text)


def notat_name(aar: int, kode: int | None = None) -> str:
    """``notat_<T>.docx`` for a run, ``notat_<KODE>_<T>.docx`` for a kommune."""
    return f"notat_{aar}.docx" if kode is None else f"notat_{kode}_{aar}.docx"


def table_rows(frame: pl.DataFrame) -> list[list[str]]:
    """The table's cells as shown: the unit's name, then each column with a decimal comma."""
    return [
        [clean(str(row["navn"]))]
        + [
            "" if row.get(c) is None else format_number(row[c] / scale, decimals)
            for c, _, scale, decimals in COLUMNS
        ]
        for row in frame.to_dicts()
    ]


def write_notat(
    path: Path,
    lines: Sequence[Line],
    table: pl.DataFrame,
    table_title: str,
    figure: bytes | Path | None,
    figure_title: str,
) -> None:
    """Write the notat: ``lines`` (the text; its closing "Anm.:" and "Kilde:" lines go
    last), the table of ``table``'s B1 rows and the figure (PNG)."""
    from docx import Document

    doc = Document()
    _page(doc)
    closing = [t for k, t in lines if k == "text" and t.startswith(("Anm.:", "Kilde:"))]
    body = [(k, t) for k, t in lines if not (k == "text" and t in closing)]
    _text(doc, body)
    _table(doc, table, table_title, [t for t in closing if t.startswith("Kilde:")])
    if figure is not None:
        _figure(doc, figure, figure_title)
    for text in closing:
        _small(doc, text)
    doc.save(str(path))


def _page(doc: Any) -> None:
    from docx.shared import Cm, Pt

    for section in doc.sections:
        section.page_height, section.page_width = Cm(29.7), Cm(21.0)
        section.left_margin = section.right_margin = Cm(2.5)
        section.top_margin = section.bottom_margin = Cm(2.2)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(11)
    normal.paragraph_format.space_after = Pt(6)
    for name, size in (("Title", 16), ("Heading 1", 13), ("Heading 2", 11)):
        style = doc.styles[name]
        style.font.name = FONT
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.color.rgb = None  # black, as the ministry's notater
        style.font.italic = False


def _text(doc: Any, lines: Sequence[Line]) -> None:
    for kind, raw in lines:
        text = keep_signs(clean(raw))
        if kind == "title":
            doc.add_heading(text, level=1)
        elif kind == "heading":
            doc.add_heading(text, level=2)
        elif kind == "item":
            doc.add_paragraph(text, style="List Bullet")
        else:
            doc.add_paragraph(text)


def _table(doc: Any, frame: pl.DataFrame, title: str, source: list[str]) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    heading = doc.add_paragraph()
    heading.paragraph_format.keep_with_next = True
    run = heading.add_run(clean(title))
    run.bold = True
    unit = doc.add_paragraph("Mio. kr. og pct. af budgettet (effekterne i pct.-point)")
    unit.runs[0].font.size = Pt(9)
    unit.paragraph_format.keep_with_next = True
    rows = table_rows(frame)
    table = doc.add_table(rows=len(rows) + 1, cols=len(COLUMNS) + 1)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for j, column in enumerate(table.columns):  # the grid, which LibreOffice reads
        column.width = Cm(WIDTHS_CM[j])
    for row in table.rows:  # a row never broken over two pages
        _cant_split(row)
    _narrow_margins(table)
    headers = ["", *(h for _, h, _, _ in COLUMNS)]
    for i, values in enumerate([headers, *rows]):
        for j, value in enumerate(values):
            cell = table.cell(i, j)
            cell.width = Cm(WIDTHS_CM[j])
            cell.text = value
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.space_after = Pt(0)
            paragraph.paragraph_format.keep_with_next = True  # the table and its source together
            if j > 0:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            for r in paragraph.runs:
                r.font.size = Pt(7.5 if i == 0 else 8)
                r.bold = i == 0
    for line in source:
        _small(doc, line)


def _narrow_margins(table: Any) -> None:
    """Cell margins of 0,08 cm left and right, so that the numbers fit their columns."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:w"), "45")  # twentieths of a point: 0,08 cm
        edge.set(qn("w:type"), "dxa")
        margins.append(edge)
    table._tbl.tblPr.append(margins)


def _cant_split(row: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = row._tr.get_or_add_trPr()
    flag = OxmlElement("w:cantSplit")
    flag.set(qn("w:val"), "true")
    properties.append(flag)


def _figure(doc: Any, figure: bytes | Path, title: str) -> None:
    from docx.shared import Cm

    heading = doc.add_paragraph()
    heading.paragraph_format.keep_with_next = True
    heading.add_run(clean(title)).bold = True
    stream = io.BytesIO(figure) if isinstance(figure, bytes) else str(figure)
    doc.add_picture(stream, width=Cm(15.5))


def _small(doc: Any, text: str) -> None:
    from docx.shared import Pt

    paragraph = doc.add_paragraph()
    run = paragraph.add_run(clean(text))
    run.font.size = Pt(9)
    run.italic = True
