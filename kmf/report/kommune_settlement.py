"""The sheet "Afregning" of a kommune's workbook: the numbers its text gives on the final
settlement and on how far last year's forecast of the same day missed, for the kommune, its
region and Hele landet, so that each can be looked up as shown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from kmf.report.excel_settlement import (
    FINAL_COLUMNS,
    FINAL_NOTE,
    LAST_YEAR_COLUMNS,
    final_title,
    last_year_note,
    last_year_title,
    with_budget,
)
from kmf.report.excel_style import BOLD, MIO, ONE_DECIMAL, TITLE_FONT, notes, print_setup, text
from kmf.report.excel_table import Col
from kmf.report.kommune_table import sheet_table

if TYPE_CHECKING:
    from kmf.compute.kommune_tables import KommuneTables
    from kmf.result import Result


def _rows(frame: pl.DataFrame, t: KommuneTables) -> list[dict[str, Any]]:
    """The kommune's, its region's and the land's rows of a settlement, in that order."""
    own = (pl.col("niveau") == "kommune") & (pl.col("kode") == str(t.kode))
    region = frame.filter(own)["region"].to_list()  # as the region rows name it
    units = frame.filter(
        own
        | ((pl.col("niveau") == "region") & pl.col("region").is_in(region))
        | (pl.col("niveau") == "land")
    )
    order = {"kommune": 0, "region": 1, "land": 2}
    return sorted(units.to_dicts(), key=lambda r: order[r["niveau"]])


def _cells(columns: list[Col]) -> list[tuple[str, str, str | None]]:
    """The national sheet's columns as the kommune's tables take them, under the names."""
    return [("navn", "", None), *((c.name, c.header, MIO if c.mio else ONE_DECIMAL)
                                  for c in columns)]  # fmt: skip


def settlement_sheet(ws: Worksheet, t: KommuneTables, result: Result) -> None:
    """T's final settlement (where the data have it), then last year's forecast."""
    widths = [30, 13, 13, 13, 17, 13, 12]
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    text(ws, 1, 1, f"Afregning: {t.navn}, {t.region} og hele landet", TITLE_FONT)
    top = 3
    found = result.endelig
    if found is not None:
        text(ws, top, 1, final_title(found), BOLD)
        rows = _rows(with_budget(found, result.b1), t)
        after = sheet_table(ws, top + 1, rows, _cells(FINAL_COLUMNS))
        top = notes(ws, after, [FINAL_NOTE], sum(widths), len(widths)) + 1
    found = result.sidste_aar
    if found is not None:
        text(ws, top, 1, last_year_title(found), BOLD)
        after = sheet_table(ws, top + 1, _rows(found.enheder, t), _cells(LAST_YEAR_COLUMNS))
        notes(ws, after, [last_year_note(found)], sum(widths), len(widths))
    print_setup(ws, None)
