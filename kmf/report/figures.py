"""Figures (matplotlib): Figur 1–3 of the report, one kommune's waterfall, all kommuner.

Every function returns a ``matplotlib.figure.Figure`` (built without pyplot, so it is
shown once in Jupyter and never left open); pass ``ax`` to draw into an existing axes.
Labels are Danish, numbers have a decimal comma. Only reads a ``Result``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from kmf.danish import format_number
from kmf.report.labels import EFFECTS, FIGURES, MAIN_EFFECTS

if TYPE_CHECKING:
    from kmf.result import Result

BLUE = "#1f4e79"
RED = "#c0504d"
GREY = "#7f7f7f"


def _axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        figure = ax.get_figure()
        assert isinstance(figure, Figure)
        return figure, ax
    figure = Figure(figsize=size, layout="constrained")
    return figure, figure.add_subplot()


def _comma_axis(ax: Axes, decimals: int = 1) -> None:
    # ticks at steps of 1, 2 or 5 (never 0.25): every tick is exact with ``decimals`` decimals
    ax.yaxis.set_major_locator(MaxNLocator(steps=[1, 2, 5, 10], integer=decimals == 0))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_number(v, decimals)))


def report_figure(result: Result, number: int, ax: Axes | None = None) -> Figure:
    """Figur 1 (B2), 2 (B3) or 3 (B4) for Hele landet: a bar per age group or area."""
    spec = FIGURES[number]
    key, title, keys, labels = spec.table, spec.title, spec.keys, spec.labels
    table = {"b2": result.b2, "b3": result.b3, "b4": result.b4}[key]
    land = table.filter(pl.col("niveau") == "land").row(0, named=True)
    values = [land[k] for k in keys]
    figure, ax = _axes(ax, (7, 4))
    heights = [0.0 if v is None else v for v in values]
    bars = ax.bar([labels[k] for k in keys], heights,
                  color=[BLUE if h >= 0 else RED for h in heights])  # fmt: skip
    ax.bar_label(bars, labels=["–" if v is None else format_number(v, 1) for v in values],
                 padding=2, fontsize=9)  # fmt: skip
    ax.axhline(0, color="black", linewidth=0.8)
    # the title above, the grey line under it: room for both, whatever the title's length
    ax.set_title(title, loc="left", fontsize=11, pad=18)
    ax.set_ylabel("Pct.-point")
    ax.margins(y=0.15)
    _comma_axis(ax)
    ax.spines[["top", "right"]].set_visible(False)
    when = "" if result.dato is None else f", prognose pr. {result.dato.isoformat()}"
    ax.text(0.0, 1.02, f"Hele landet, {result.aar} ift. budgettet (ØA){when}", fontsize=8,
            color=GREY, ha="left", va="bottom", transform=ax.transAxes)  # fmt: skip
    return figure


def waterfall(result: Result, kommunekode: int | str, ax: Axes | None = None) -> Figure:
    """One kommune's path from budget to prognose through A, B, C and Øvrige, in mio. kr."""
    kode = str(kommunekode)
    found = result.b1.filter((pl.col("kode") == kode) & (pl.col("niveau") == "kommune"))
    if found.is_empty():
        raise KeyError(f"kommune {kode} er ikke i resultatet")
    row = found.row(0, named=True)
    steps = [(EFFECTS[e].step, row[f"{e}_kr"]) for e in (*MAIN_EFFECTS, "oevrige")]
    million = 1e6
    figure, ax = _axes(ax, (8, 4.5))
    labels = ["Budget (ØA)"] + [s[0] for s in steps] + ["Prognose"]
    level = row["kmf_budget_kr"] / million
    levels = [level]
    ax.bar(0, level, color=GREY)
    for position, (_, amount) in enumerate(steps, start=1):
        delta = amount / million
        ax.bar(position, delta, bottom=level, color=BLUE if delta >= 0 else RED)
        ax.text(position, max(level, level + delta), format_number(delta, 1), ha="center",
                va="bottom", fontsize=9)  # fmt: skip
        level += delta
        levels.append(level)
    ax.bar(len(labels) - 1, row["kmf_prognose_kr"] / million, color=GREY)
    ax.set_xticks(range(len(labels)), labels)
    spread = max(levels) - min(levels) or max(levels) * 0.05
    ax.set_ylim(max(0.0, min(levels) - 1.5 * spread), max(levels) + 0.25 * spread)
    ax.set_ylabel("Mio. kr.")
    _comma_axis(ax, 0)
    ax.set_title(
        f"{row['navn']}: fra budget til prognose {result.aar} "
        f"({format_number(row['aendring_pct'], 1)} pct.)",
        loc="left", fontsize=11,
    )  # fmt: skip
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(axis="x", labelsize=9)
    return figure


def kommune_overview(result: Result, ax: Axes | None = None) -> Figure:
    """Every kommune's decomposition in pct. of its budget, sorted by the total change."""
    kommuner = result.b1.filter(pl.col("niveau") == "kommune").sort("aendring_pct")
    figure, ax = _axes(ax, (14, 5.5))
    names: Sequence[str] = kommuner["navn"].to_list()
    x = list(range(len(names)))
    parts = [EFFECTS[e] for e in (*MAIN_EFFECTS, "oevrige")]
    positive = [0.0] * len(x)
    negative = [0.0] * len(x)
    for part in parts:
        values = kommuner[f"{part.column}_pct"].to_list()
        bottoms = [positive[i] if v >= 0 else negative[i] for i, v in enumerate(values)]
        ax.bar(x, values, bottom=bottoms, color=part.colour, label=part.name, width=0.8)
        for i, v in enumerate(values):
            if v >= 0:
                positive[i] += v
            else:
                negative[i] += v
    ax.scatter(x, kommuner["aendring_pct"].to_list(), color="black", s=10, zorder=3,
               label="Ændring i alt")  # fmt: skip
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(x, names, rotation=90, fontsize=6)
    ax.set_xlim(-0.7, len(x) - 0.3)
    ax.set_ylabel("Pct. af budgettet")
    _comma_axis(ax, 0)
    ax.set_title(f"Dekomponering af ændringen for alle kommuner, {result.aar}, sorteret efter "
                 "ændringen", loc="left", fontsize=11)  # fmt: skip
    ax.margins(y=0.12)
    ax.legend(ncols=5, fontsize=8, loc="upper left", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return figure


def save_figures(result: Result, folder: Path) -> list[Path]:
    """``figur_1.png`` … ``figur_3.png`` in ``folder`` (the overview of all kommuner is
    ``kmf figur``: it takes as long to draw as the rest of a small run)."""
    paths = []
    for number in FIGURES:
        path = folder / f"figur_{number}.png"
        report_figure(result, number).savefig(path, dpi=150)
        paths.append(path)
    return paths
