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


def _in_b1_order(frame: pl.DataFrame, b1: pl.DataFrame) -> pl.DataFrame:
    order = b1.select("kode").with_row_index("_orden")
    return frame.join(order, on="kode", how="left").sort("_orden", nulls_last=True).drop("_orden")


def _when(found: Settlement) -> str:
    return "" if found.dato is None else f" pr. {format_date(found.dato)}"


def settlement_tables(result: Result, source: str) -> dict[str, Table]:
    """The two sheets where the data have what they show (none otherwise)."""
    mio = [Col("kmf_prognose_kr", "Prognose, mio. kr.", 1, 12, mio=True),
           Col("kmf_endelig_kr", "Endelig, mio. kr.", 1, 12, mio=True)]  # fmt: skip
    error = Col("fejl_pct", "Afvigelse, pct.", 1, 11)
    tables: dict[str, Table] = {}
    found = result.endelig
    if found is not None:
        budget = result.b1.select("kode", "kmf_budget_kr")
        frame = _in_b1_order(found.enheder, result.b1).join(budget, on="kode", how="left")
        frame = frame.with_columns(
            (pl.col("kmf_endelig_kr") - pl.col("kmf_budget_kr")).alias("endelig_budget_kr"),
            (
                100 * (pl.col("kmf_endelig_kr") - pl.col("kmf_budget_kr")) / pl.col("kmf_budget_kr")
            ).alias("endelig_budget_pct"),
        )
        settled = "" if found.endelig_dato is None else f" (pr. {format_date(found.endelig_dato)})"
        columns: list[Col] = [
            Col("kmf_budget_kr", "Budget, mio. kr.", 1, 12, mio=True), *mio,
            Col("endelig_budget_kr", "Endelig − budget, mio. kr.", 1, 13, mio=True),
            Col("endelig_budget_pct", "Endelig − budget, pct.", 1, 12), error,
        ]  # fmt: skip
        tables["Afregning"] = Table(
            f"Den endelige afregning {found.aar}{settled} mod budgettet og prognosen"
            f"{_when(found)}", "Mio. kr.; pct. af budgettet; pct. af den endelige afregning",
            frame, columns,
            notes=[f"Anm.: {ERROR_NOTE} Endelig − budget i pct. af budgettet.", source],
        )  # fmt: skip
    found = result.sidste_aar
    if found is not None:
        hits, every = found.within()
        tables["Sidste år"] = Table(
            f"Sidste års prognose: prognosen for {found.aar}{_when(found)} mod den endelige "
            f"afregning for {found.aar}", "Mio. kr.; pct. af den endelige afregning",
            _in_b1_order(found.enheder, result.b1), [*mio, error],
            notes=[f"Anm.: {ERROR_NOTE} Prognosen ramte inden for "
                   f"{format_number(WITHIN_PCT, 0)} pct. for {hits} af {every} kommuner.",
                   source],
        )  # fmt: skip
    return tables
