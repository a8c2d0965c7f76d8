"""The sheet "Afregning" of a kommune's workbook: the numbers its text gives on the final
settlement and on how far last year's forecast of the same day missed, for the kommune, its
region and Hele landet, so that each can be looked up as shown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from kmf.compute.accuracy import WITHIN_PCT, Settlement
from kmf.danish import format_date, format_number
from kmf.report.excel_settlement import ERROR_NOTE
from kmf.report.excel_style import BOLD, MIO, ONE_DECIMAL, TITLE_FONT, notes, print_setup
from kmf.report.excel_style import text as _text
from kmf.report.kommune_table import sheet_table

if TYPE_CHECKING:
    from kmf.compute.kommune_tables import KommuneTables
    from kmf.result import Result


def _rows(found: Settlement, t: KommuneTables, b1: pl.DataFrame) -> list[dict[str, Any]]:
    """The kommune's, its region's and the land's rows, in that order, with the budget."""
    own = (pl.col("niveau") == "kommune") & (pl.col("kode") == str(t.kode))
    region = found.enheder.filter(own)["region"].to_list()  # as the region rows name it
    units = found.enheder.filter(
        own
        | ((pl.col("niveau") == "region") & pl.col("region").is_in(region))
        | (pl.col("niveau") == "land")
    ).join(b1.select("kode", "kmf_budget_kr"), on="kode", how="left")
    order = {"kommune": 0, "region": 1, "land": 2}
    rows = sorted(units.to_dicts(), key=lambda r: order[r["niveau"]])
    for r in rows:
        if r["kmf_budget_kr"] is not None:
            r["endelig_budget_kr"] = r["kmf_endelig_kr"] - r["kmf_budget_kr"]
            r["endelig_budget_pct"] = 100 * r["endelig_budget_kr"] / r["kmf_budget_kr"]
    return rows


def settlement_sheet(ws: Worksheet, t: KommuneTables, result: Result) -> None:
    """T's final settlement (where the data have it), then last year's forecast."""
    widths = [30, 13, 13, 13, 17, 13, 12]
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    _text(ws, 1, 1, f"Afregning: {t.navn}, {t.region} og hele landet").font = TITLE_FONT
    top = 3
    found = result.endelig
    if found is not None:
        settled = "" if found.endelig_dato is None else f" (pr. {format_date(found.endelig_dato)})"
        when = "" if found.dato is None else f" pr. {format_date(found.dato)}"
        _text(ws, top, 1, f"Den endelige afregning {found.aar}{settled} mod budgettet og "
              f"prognosen{when}").font = BOLD  # fmt: skip
        columns: list[tuple[str, str, str | None]] = [
            ("navn", "", None), ("kmf_budget_kr", "Budget, mio. kr.", MIO),
            ("kmf_prognose_kr", "Prognose, mio. kr.", MIO),
            ("kmf_endelig_kr", "Endelig, mio. kr.", MIO),
            ("endelig_budget_kr", "Endelig − budget, mio. kr.", MIO),
            ("endelig_budget_pct", "Endelig − budget, pct.", ONE_DECIMAL),
            ("fejl_pct", "Afvigelse, pct.", ONE_DECIMAL),
        ]  # fmt: skip
        after = sheet_table(ws, top + 1, _rows(found, t, result.b1), columns)
        note = f"Anm.: {ERROR_NOTE} Endelig − budget i pct. af budgettet."
        top = notes(ws, after, [note], sum(widths), len(widths)) + 1
    found = result.sidste_aar
    if found is not None:
        hits, every = found.within()
        when = "" if found.dato is None else f" pr. {format_date(found.dato)}"
        _text(ws, top, 1, f"Sidste års prognose: prognosen for {found.aar}{when} mod den "
              f"endelige afregning for {found.aar}").font = BOLD  # fmt: skip
        columns = [
            ("navn", "", None), ("kmf_prognose_kr", "Prognose, mio. kr.", MIO),
            ("kmf_endelig_kr", "Endelig, mio. kr.", MIO),
            ("fejl_pct", "Afvigelse, pct.", ONE_DECIMAL),
        ]  # fmt: skip
        after = sheet_table(ws, top + 1, _rows(found, t, result.b1), columns)
        note = (f"Anm.: {ERROR_NOTE} Prognosen ramte inden for {format_number(WITHIN_PCT, 0)} "
                f"pct. for {hits} af {every} kommuner.")  # fmt: skip
        notes(ws, after, [note], sum(widths), len(widths))
    print_setup(ws, None)
