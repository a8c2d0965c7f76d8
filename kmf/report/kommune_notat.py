"""``notat_<KODE>_<T>.docx`` of ``kmf kommune``: the kommune's text, tabel B1 for the
kommune, its region, Hele landet and its comparison group, and the kommune's waterfall."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from kmf.compute.kommune_tables import GROUP_LEVEL
from kmf.report.notat import write_notat

if TYPE_CHECKING:
    from kmf.report.kommune import KommuneReport


def notat_rows(report: KommuneReport) -> pl.DataFrame:
    """The kommune, its region, Hele landet and the comparison group's sum."""
    t = report.tabeller
    o = t.overblik
    return o.filter(
        ((pl.col("niveau") == "kommune") & (pl.col("kode") == str(t.kode)))
        | pl.col("niveau").is_in(["region", "land", GROUP_LEVEL])
    )


def write_kommune_notat(report: KommuneReport, path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from kmf.report.figures import unit_row, waterfall

    t = report.tabeller
    figure = waterfall(unit_row(report.result, t.kode))
    FigureCanvasAgg(figure)
    png = io.BytesIO()
    figure.savefig(png, format="png", dpi=200)
    oea = f"ØA{t.aar % 100:02d}"
    write_notat(
        path,
        report.linjer,
        notat_rows(report),
        f"Tabel. Ændring mellem forventet KMF-afregning for {t.aar} og {oea}, dekomponeret: "
        f"{t.navn}, {t.region}, hele landet og sammenligningsgruppen",
        png.getvalue(),
        f"Figur. Fra budget til prognose {t.aar}, {t.navn} (pct. af budgettet)",
    )
