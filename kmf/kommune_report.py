"""One kommune's own report from a run (SPEC §8): ``kmf.kommune(result, kode)``."""

from __future__ import annotations

import polars as pl

from kmf.kommune_tables import kommune_tables, parse_codes
from kmf.report.kommune import KommuneReport
from kmf.report.text import kommune_lines
from kmf.result import Result

__all__ = ["KommuneReport", "kommune"]


def kommune(
    result: Result,
    kode: int | str,
    sammenlign: list[int] | str | None = None,
    *,
    prognosespor: pl.DataFrame | None = None,
    historik: pl.DataFrame | None = None,
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
        kommuner nearest in budget.
    prognosespor, historik
        Optional: a forecast track (``opgoerelsesdato`` + the B1 columns) or a history
        (``aar`` + the B1 columns); each gives the workbook a sheet.

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
    group = parse_codes(sammenlign) if isinstance(sammenlign, str) else sammenlign
    tables = kommune_tables(
        {"b1": result.b1, "b2": result.b2, "b3": result.b3, "b4": result.b4},
        result.celler,
        int(code),
        result.aar,
        result.metode,
        sammenlign=None if group is None else [int(g) for g in group],
        prognosespor=prognosespor,
        historik=historik,
    )
    return KommuneReport(tables, tuple(kommune_lines(tables)), result)
