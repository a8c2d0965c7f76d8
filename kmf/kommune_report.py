"""One kommune's own report from a run (SPEC §8): ``kmf.kommune(result, kode)``."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from kmf.compute.kommune_tables import DEMOGRAPHY, kommune_tables, parse_codes
from kmf.report.kommune import KommuneReport
from kmf.report.kommune_time import history_frame, time_lines, track_frame
from kmf.report.text import kommune_lines
from kmf.report.text_population import population_lines
from kmf.result import Result
from kmf.series import Historik, Spor

__all__ = ["KommuneReport", "kommune", "kommuner"]


def kommune(
    result: Result,
    kode: int | str,
    sammenlign: list[int] | str | None = None,
    *,
    prognosespor: Spor | pl.DataFrame | None = None,
    historik: Historik | pl.DataFrame | None = None,
) -> KommuneReport:
    """One kommune's report: why its forecast differs from its budget, who and what drive
    it, and how it compares with its comparison group.

    Parameters
    ----------
    result
        A run (``kmf.run``).
    kode
        The kommunekode.
    sammenlign
        The comparison kommuner (codes, or text like ``"851,860"``); default the 10 other
        kommuner nearest in budget. ``"demografi"`` (with a population): the 10 nearest in
        number of citizens and share of 65+ årige (twice the citizens counts as much as 5
        pct.-point more 65+ årige; ties by kode).
    prognosespor
        Optional: the forecast track of the same data and budget year, as ``kmf.spor``
        returns it (a ``Spor``; with its accuracy where the data have T endelig) or as a
        frame (``opgoerelsesdato`` + the B1 columns, optionally ``fejl_pct``). Its dated
        forecasts up to the result's date give the workbook the sheet "Prognosespor" (the
        kommune, its region and Hele landet by date; the kommune's error against the final
        settlement where known) and the text a section on how the forecast moved.
    historik
        Optional: the history, as ``kmf.historik`` returns it (a ``Historik``) or as a frame
        (``aar`` + the B1 columns). With more than one budget year it gives the sheet
        "Historik".

    Example: ``data = kmf.load(path)``, then ``kmf.kommune(kmf.run(data), 851,
    prognosespor=kmf.spor(data), historik=kmf.historik(data))``.

    Returns
    -------
    A ``KommuneReport``: ``overblik``, ``bidrag``, ``fordelinger``, ``sammenligning``,
    ``tekst`` (Markdown) and ``write(mappe)``.

    Raises
    ------
    DataError
        With a Danish message for an unknown kommunekode or comparison kommune.
    """
    code = parse_codes(str(kode), "kommunekoden")[0] if isinstance(kode, str) else kode
    group: list[int] | str | None
    if isinstance(sammenlign, str) and sammenlign.strip().lower() == DEMOGRAPHY:
        group = DEMOGRAPHY
    elif isinstance(sammenlign, str):
        group = parse_codes(sammenlign)
    else:
        group = None if sammenlign is None else [int(g) for g in sammenlign]
    found = {"b1": result.b1, "b2": result.b2, "b3": result.b3, "b4": result.b4}
    if result.befolkning is not None and result.borger is not None:
        found.update(befolkning=result.befolkning, borger=result.borger)
    tables = kommune_tables(
        found,
        result.celler,
        int(code),
        result.aar,
        result.metode,
        sammenlign=group,
        prognosespor=track_frame(prognosespor, result.aar, result.dato),
        historik=history_frame(historik),
        indbyggere=result.indbyggere,
    )
    lines = kommune_lines(tables, result.dato) + population_lines(tables) + time_lines(tables)
    return KommuneReport(tables, tuple(lines), result)


def kommuner(
    result: Result,
    sammenlign: list[int] | str | None = None,
    *,
    prognosespor: Spor | pl.DataFrame | None = None,
    historik: Historik | pl.DataFrame | None = None,
) -> Iterator[KommuneReport]:
    """Every kommune's report of ``result``, one at a time in the report's order (by region,
    then kommunekode), each as :func:`kommune` makes it from the same run, track and
    history: the data are read and computed once for all. Write them with
    ``kmf.report.kommune_all.write_reports(kmf.kommuner(result), mappe)``."""
    order = result.b1.filter(pl.col("niveau") == "kommune")["kode"].cast(pl.Int64).to_list()
    for kode in order:
        yield kommune(result, kode, sammenlign, prognosespor=prognosespor, historik=historik)
