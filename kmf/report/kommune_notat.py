"""``notat_<KODE>_<T>.docx`` of ``kmf kommune``: the kommune's text, tabel B1 for the
kommune, its region, Hele landet and its comparison group, and the kommune's waterfall."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from kmf.compute.kommune_tables import GROUP_LEVEL, KommuneTables
from kmf.report.notat import write_notat
from kmf.report.text import Line
from kmf.result import Result


def notat_rows(t: KommuneTables) -> pl.DataFrame:
    """The kommune, its region, Hele landet and the comparison group's sum."""
    o = t.overblik
    return o.filter(
        ((pl.col("niveau") == "kommune") & (pl.col("kode") == str(t.kode)))
        | pl.col("niveau").is_in(["region", "land", GROUP_LEVEL])
    )


def write_kommune_notat(
    t: KommuneTables, lines: Sequence[Line], result: Result, path: Path
) -> None:
    """``notat_<KODE>_<T>.docx``: ``lines`` (the kommune's text), B1 rows and the waterfall."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from kmf.report.figures import unit_row, waterfall

    figure = waterfall(unit_row(result, t.kode))
    FigureCanvasAgg(figure)
    png = io.BytesIO()
    figure.savefig(png, format="png", dpi=200)
    oea = f"ØA{t.aar % 100:02d}"
    write_notat(
        path,
        lines,
        notat_rows(t),
        f"Tabel. Ændring mellem forventet KMF-afregning for {t.aar} og {oea}, dekomponeret: "
        f"{t.navn}, {t.region}, hele landet og sammenligningsgruppen",
        png.getvalue(),
        f"Figur. Fra budget til prognose {t.aar}, {t.navn} (pct. af budgettet)",
    )
