"""The sheets "Afregning" and "Sidste år" of ``kmf run``'s workbook: the numbers the texts
give on the final settlement (this forecast against T's endelig opgørelse) and on how far
last year's forecast of the same day missed, so that each can be looked up as shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from kmf.compute.accuracy import WITHIN_PCT, Settlement
from kmf.danish import format_date, format_number
from kmf.report.excel_table import Col, Table

if TYPE_CHECKING:
    from kmf.result import Result

#: the forecast's error, as the texts give it
ERROR_NOTE = (
    "Afvigelsen er prognosen minus den endelige afregning i pct. af den endelige afregning "
    "(plus: prognosen var for høj)."
)


#: the columns of the final settlement and of last year's forecast
FINAL_COLUMNS = [
    Col("kmf_budget_kr", "Budget, mio. kr.", 1, 12, mio=True),
    Col("kmf_prognose_kr", "Prognose, mio. kr.", 1, 12, mio=True),
    Col("kmf_endelig_kr", "Endelig, mio. kr.", 1, 12, mio=True),
    Col("endelig_budget_kr", "Endelig − budget, mio. kr.", 1, 13, mio=True),
    Col("endelig_budget_pct", "Endelig − budget, pct.", 1, 12),
    Col("fejl_pct", "Afvigelse, pct.", 1, 11),
]
LAST_YEAR_COLUMNS = [FINAL_COLUMNS[i] for i in (1, 2, 5)]


def _in_b1_order(frame: pl.DataFrame, b1: pl.DataFrame) -> pl.DataFrame:
    order = b1.select("kode").with_row_index("_orden")
    return frame.join(order, on="kode", how="left").sort("_orden", nulls_last=True).drop("_orden")


def with_budget(found: Settlement, b1: pl.DataFrame) -> pl.DataFrame:
    """The settlement's units in B1's order, with the budget and the final settlement less
    it (in kr. and in pct. of the budget)."""
    frame = _in_b1_order(found.enheder, b1).join(
        b1.select("kode", "kmf_budget_kr"), on="kode", how="left"
    )
    over = pl.col("kmf_endelig_kr") - pl.col("kmf_budget_kr")
    return frame.with_columns(
        over.alias("endelig_budget_kr"),
        (100 * over / pl.col("kmf_budget_kr")).alias("endelig_budget_pct"),
    )


def _when(found: Settlement) -> str:
    return "" if found.dato is None else f" pr. {format_date(found.dato)}"


def final_title(found: Settlement) -> str:
    settled = "" if found.endelig_dato is None else f" (pr. {format_date(found.endelig_dato)})"
    return f"Den endelige afregning {found.aar}{settled} mod budgettet og prognosen{_when(found)}"


def last_year_title(found: Settlement) -> str:
    return (
        f"Sidste års prognose: prognosen for {found.aar}{_when(found)} mod den endelige "
        f"afregning for {found.aar}"
    )


FINAL_NOTE = f"Anm.: {ERROR_NOTE} Endelig − budget i pct. af budgettet."


def last_year_note(found: Settlement) -> str:
    hits, every = found.within()
    return (
        f"Anm.: {ERROR_NOTE} Prognosen ramte inden for {format_number(WITHIN_PCT, 0)} pct. for "
        f"{hits} af {every} kommuner."
    )


def settlement_tables(result: Result, source: str) -> dict[str, Table]:
    """The two sheets where the data have what they show (none otherwise)."""
    tables: dict[str, Table] = {}
    found = result.endelig
    if found is not None:
        tables["Afregning"] = Table(
            final_title(found), "Mio. kr.; pct. af budgettet; pct. af den endelige afregning",
            with_budget(found, result.b1), FINAL_COLUMNS, notes=[FINAL_NOTE, source],
        )  # fmt: skip
    found = result.sidste_aar
    if found is not None:
        tables["Sidste år"] = Table(
            last_year_title(found), "Mio. kr.; pct. af den endelige afregning",
            _in_b1_order(found.enheder, result.b1), LAST_YEAR_COLUMNS,
            notes=[last_year_note(found), source],
        )  # fmt: skip
    return tables
