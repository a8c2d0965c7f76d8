"""Figures (matplotlib): Figur 1–3 of the report, the waterfall of a unit, all kommuner.

Every function returns a ``matplotlib.figure.Figure`` (built without pyplot, so it is
shown once in Jupyter and never left open); pass ``ax`` to draw into an existing axes.
Labels are Danish, numbers have a decimal comma. The layout is fixed (no constrained or
tight layout): the title and its grey subtitle sit above the axes at fixed offsets, so a
figure looks the same alone, in a grid of another module, or in the workbook.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, MaxNLocator

from kmf.danish import format_date, format_number
from kmf.report.labels import DPI, EFFECTS, FIGURE_WIDTH, FIGURES, MAIN_EFFECTS, waterfall_name
from kmf.report.text_sums import adds_up_as_shown

if TYPE_CHECKING:
    from kmf.result import Result

BLUE = "#1f4e79"
RED = "#c0504d"
GREY = "#7f7f7f"
BAR_GREY = "#a6a6a6"
REPORT_SIZE = (FIGURE_WIDTH, 4.5)
WATERFALL_SIZE = (FIGURE_WIDTH, 4.5)
# margins of a figure kmf makes itself, as fractions of the figure (room for the titles)
MARGINS = {"left": 0.1, "right": 0.98, "top": 0.82, "bottom": 0.16}


def _axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        figure = ax.get_figure()
        assert isinstance(figure, Figure)
        return figure, ax
    figure = Figure(figsize=size)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(**MARGINS)
    return figure, figure.add_subplot()


def _titles(ax: Axes, title: str, subtitle: str) -> None:
    """The title and, under it, the grey subtitle, both above the axes at fixed offsets (in
    points), so they never overlap each other or the plot."""
    ax.annotate(
        title,
        (0, 1),
        xycoords="axes fraction",
        xytext=(0, 20),
        textcoords="offset points",
        fontsize=11,
        ha="left",
        va="bottom",
        gid="title",
    )
    ax.annotate(subtitle, (0, 1), xycoords="axes fraction", xytext=(0, 7),
                textcoords="offset points", fontsize=8, color=GREY, ha="left", va="bottom",
                gid="subtitle")  # fmt: skip


def title_of(figure: Figure) -> str:
    """The title a figure of this module carries (for tests and other modules)."""
    return next(t.get_text() for t in _texts(figure.axes[0]) if t.get_gid() == "title")


def _texts(ax: Axes) -> list[Text]:
    # typed explicitly: how mypy infers ``Axes.texts`` varies between its runs and versions
    return [t for t in ax.texts if isinstance(t, Text)]


def _comma_axis(ax: Axes, decimals: int = 1) -> None:
    # ticks at steps of 1, 2 or 5 (never 0.25): every tick is exact with ``decimals`` decimals
    ax.yaxis.set_major_locator(MaxNLocator(steps=[1, 2, 5, 10], integer=decimals == 0))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_number(v, decimals)))


def _plain(ax: Axes) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=9)


def report_figure(result: Result, number: int, ax: Axes | None = None) -> Figure:
    """Figur 1 (B2), 2 (B3) or 3 (B4) for Hele landet: a bar per age group or area."""
    spec = FIGURES[number]
    table = {"b2": result.b2, "b3": result.b3, "b4": result.b4}[spec.table]
    land = table.filter(pl.col("niveau") == "land").row(0, named=True)
    values = [land[k] for k in spec.keys]
    figure, ax = _axes(ax, REPORT_SIZE)
    heights = [0.0 if v is None else v for v in values]
    bars = ax.bar([spec.labels[k] for k in spec.keys], heights,
                  color=[BLUE if h >= 0 else RED for h in heights])  # fmt: skip
    ax.bar_label(bars, labels=["–" if v is None else format_number(v, 1) for v in values],
                 padding=2, fontsize=9)  # fmt: skip
    ax.axhline(0, color="black", linewidth=0.8)
    when = "" if result.dato is None else f" (prognose pr. {format_date(result.dato)})"
    _titles(ax, spec.title, f"{land['navn']}, {result.aar}{when} ift. budgettet (ØA). Pct.-point")
    ax.set_ylabel("Pct.-point", fontsize=9)
    ax.margins(y=0.15)
    _comma_axis(ax)
    _plain(ax)
    return figure


def unit_row(result: Result, kode: int | str) -> dict[str, Any]:
    """The B1 row of a kommune, a region (its code) or Hele landet (``"DK"``), as a dict:
    what :func:`waterfall` draws. ``KeyError`` when the unit is not in the result."""
    found = result.b1.filter(pl.col("kode") == str(kode))
    if found.is_empty():
        raise KeyError(f"enheden {kode} er ikke i resultatet")
    return found.row(0, named=True)


#: under a waterfall whose labels, as shown, do not add up to the change as shown
ROUNDED_LABELS = ", afrundet hver for sig"


def waterfall_title(navn: str, aar: int | None = None, dato: date | None = None) -> str:
    """``"Hele landet: fra budget 2018 til prognosen pr. 10. september 2018"``; without a
    year or a date, the words that are known."""
    year = "" if aar is None else f" {aar}"
    when = "" if dato is None else f" pr. {format_date(dato)}"
    return f"{navn}: fra budget{year} til prognosen{when}"


def waterfall(
    row: Mapping[str, Any] | pl.DataFrame,
    ax: Axes | None = None,
    *,
    aar: int | None = None,
    dato: date | None = None,
    title: str | None = None,
) -> Figure:
    """A unit's path from budget to prognose through A, B, C and Øvrige, in pct. of the
    budget (budget = 100), as the tables count.

    ``row`` is the unit's row of B1 (a dict, e.g. :func:`unit_row`, or a one-row frame).
    The budget and prognose bars carry their amounts in mio. kr., the steps their
    pct.-points; where the axis does not start at 0 it shows a break mark. The title names
    the unit, the budget year ``aar`` and the forecast's date ``dato`` (:func:`waterfall_title`);
    ``title`` replaces it. The kommune report reuses it: ``waterfall(row, ax=one_of_its_axes)``.
    """
    if isinstance(row, pl.DataFrame):
        row = row.row(0, named=True)
    figure, ax = _axes(ax, WATERFALL_SIZE)
    _Waterfall(ax).show(
        row, title if title is not None else waterfall_title(row["navn"], aar, dato)
    )
    return figure


class _Waterfall:
    """The artists of a waterfall, made once and then set to a unit's numbers by
    :meth:`show`: :func:`save_figures` draws every unit on the same axes, which costs a
    fraction of new axes for each."""

    EFFECTS = (*MAIN_EFFECTS, "oevrige")

    def __init__(self, ax: Axes) -> None:
        self.ax = ax
        labels = ["Budget (ØA)", *(EFFECTS[e].step for e in self.EFFECTS), "Prognose"]
        last = len(labels) - 1
        self.ends = ax.bar([0, last], [100.0, 100.0], color=BAR_GREY, width=0.6)
        self.steps = ax.bar(range(1, last), [0.0] * (last - 1), width=0.6)
        note: dict[str, Any] = {"xytext": (0, 2), "textcoords": "offset points", "ha": "center",
                "va": "bottom"}  # fmt: skip
        self.step_labels = [ax.annotate("", (i, 0), fontsize=9, **note) for i in range(1, last)]
        self.end_labels = [ax.annotate("", (i, 0), fontsize=8, **note) for i in (0, last)]
        self.connectors = [ax.plot([i + 0.3, i + 0.7], [0, 0], color=GREY, linewidth=0.6)[0]
                           for i in range(last)]  # fmt: skip
        self.base = ax.axhline(0, color="black", linewidth=0.8)
        # the break: a white slanted gap through each bar from 0, two slashes on the axis
        self.gaps = [ax.plot([0, 0], [0, 0], color="white", linewidth=5, zorder=3,
                             solid_capstyle="butt", gid="break")[0] for _ in self.ends]  # fmt: skip
        d = 0.012
        self.slashes = [ax.plot([-d, d], [0.05 + dy - d, 0.05 + dy + d], transform=ax.transAxes,
                                color="black", linewidth=0.8, clip_on=False, gid="break")[0]
                        for dy in (-0.012, 0.012)]  # fmt: skip
        ax.set_xticks(range(len(labels)), labels)
        ax.set_ylabel("Pct. af budgettet", fontsize=9)
        _comma_axis(ax, 0)
        _titles(ax, "", "")
        self.title, self.subtitle = _texts(ax)[-2:]
        _plain(ax)

    def show(self, row: Mapping[str, Any], title: str) -> None:
        """Set every artist to the numbers of ``row`` (a B1 row), under ``title``."""
        ax = self.ax
        deltas = [row[f"{e}_pct"] for e in self.EFFECTS]
        end = 100.0 + row["aendring_pct"]
        levels = [100.0]
        for delta in deltas:
            levels.append(levels[-1] + delta)
        low, high = min(levels), max(levels)
        span = max(high - low, 2.0)
        bottom = max(0.0, low - 0.6 * span)
        bottom = 0.0 if bottom < 0.25 * low else 5.0 * (bottom // 5.0)
        top = high + 0.35 * span
        ax.set_ylim(bottom, top)
        for i, (bar, label, delta) in enumerate(zip(self.steps, self.step_labels, deltas,
                                                    strict=True)):  # fmt: skip
            bar.set_y(levels[i])
            bar.set_height(delta)
            bar.set_facecolor(BLUE if delta >= 0 else RED)
            text = format_number(delta, 1)
            label.set_text(("+" if delta > 0 and text != "0,0" else "") + text)
            label.xy = (i + 1, max(levels[i], levels[i + 1]))
        for line, level in zip(self.connectors, levels, strict=True):
            line.set_ydata([level, level])
        self.ends[1].set_height(end)
        million = 1e6
        amounts = ((self.ends[0], row["kmf_budget_kr"], format_number(100.0, 1)),
                   (self.ends[1], row["kmf_prognose_kr"], format_number(end, 1)))  # fmt: skip
        for label, (bar, kr, shown_level) in zip(self.end_labels, amounts, strict=True):
            label.set_text(f"{shown_level}\n{format_number(kr / million, 1)} mio. kr.")
            label.xy = (bar.get_x() + bar.get_width() / 2, bar.get_height())
        at, rise = bottom + 0.05 * (top - bottom), 0.02 * (top - bottom)
        for gap, bar in zip(self.gaps, self.ends, strict=True):
            left, right = bar.get_x() - 0.05, bar.get_x() + bar.get_width() + 0.05
            gap.set_data([left, right], [at - rise, at + rise])
        for mark in (*self.gaps, *self.slashes):
            mark.set_visible(bottom > 0)
        self.base.set_ydata([bottom, bottom])
        self.title.set_text(title)
        change = format_number(row["aendring_pct"], 1)
        # a reader adds the bars' labels: where they miss the change as shown, say why
        rounded = "" if adds_up_as_shown(deltas, row["aendring_pct"]) else ROUNDED_LABELS
        self.subtitle.set_text(
            f"Budget = 100. Ændring {change} pct.; effekterne i pct.-point af budgettet{rounded}"
        )


def stacked_effects(
    ax: Axes, x: Sequence[int], rows: pl.DataFrame, width: float
) -> tuple[list[float], list[float]]:
    """A, B, C and Øvrige (the rows' ``*_pct`` columns) as bars stacked from 0: positive
    parts upwards, negative parts downwards. Returns each bar's top and bottom."""
    positive = [0.0] * len(x)
    negative = [0.0] * len(x)
    for part in (EFFECTS[e] for e in (*MAIN_EFFECTS, "oevrige")):
        values = rows[f"{part.column}_pct"].to_list()
        bottoms = [positive[i] if v >= 0 else negative[i] for i, v in enumerate(values)]
        ax.bar(x, values, bottom=bottoms, color=part.colour, label=part.name, width=width)
        for i, v in enumerate(values):
            if v >= 0:
                positive[i] += v
            else:
                negative[i] += v
    return positive, negative


def kommune_overview(result: Result, ax: Axes | None = None) -> Figure:
    """Every kommune's decomposition in pct. of its budget, sorted by the total change."""
    kommuner = result.b1.filter(pl.col("niveau") == "kommune").sort("aendring_pct")
    own = ax is None
    figure, ax = _axes(ax, (14, 5.5))
    if own:
        figure.subplots_adjust(left=0.05, right=0.99, top=0.86, bottom=0.27)
    names: Sequence[str] = kommuner["navn"].to_list()
    x = list(range(len(names)))
    stacked_effects(ax, x, kommuner, width=0.8)
    ax.scatter(x, kommuner["aendring_pct"].to_list(), color="black", s=10, zorder=3,
               label="Ændring i alt")  # fmt: skip
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(x, names, rotation=90, fontsize=6)
    ax.set_xlim(-0.7, len(x) - 0.3)
    ax.set_ylabel("Pct. af budgettet")
    _comma_axis(ax, 0)
    _titles(ax, f"Dekomponering af ændringen for alle kommuner, {result.aar}",
            "Sorteret efter ændringen. Pct. af budgettet (ØA)")  # fmt: skip
    ax.margins(y=0.12)
    # the legend above the plot, right of the subtitle: it never covers a bar
    ax.legend(ncols=5, fontsize=8, loc="lower right", bbox_to_anchor=(1, 1), frameon=False,
              borderaxespad=0.2)  # fmt: skip
    _plain(ax)
    return figure


def _save(figure: Figure, path: Path) -> Path:
    """The figure as a PNG of 64 colours: it looks the same as full colour (flat bars,
    antialiased text) in well under half the bytes, which the workbook holds again."""
    from PIL import Image  # matplotlib's own dependency

    canvas = figure.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    canvas.draw()
    pixels = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw",
                              "RGBA", 0, 1)  # fmt: skip
    # method 2: fast octree (Image.Quantize.FASTOCTREE in newer Pillow), a sixth of the time
    # of the default median cut, and as good for flat colours
    pixels.convert("RGB").quantize(64, method=2).save(path, format="png", compress_level=3,
                                                      dpi=(DPI, DPI))  # fmt: skip
    return path


def waterfall_units(result: Result) -> list[dict[str, Any]]:
    """The units ``kmf run`` draws a waterfall for: Hele landet, then each region."""
    return result.b1.filter(pl.col("niveau") != "kommune").to_dicts()


def save_figures(result: Result, folder: Path) -> list[Path]:
    """``figur_1.png`` … ``figur_3.png`` and a waterfall per region and Hele landet
    (``vandfald_<kode>.png``) in ``folder``. One figure is drawn on again and again: a
    new one costs more than the drawing. (The overview of all kommuner is ``kmf figur``.)"""
    # unhinted text: a sixth quicker to draw, no difference to see
    with rc_context({"text.hinting": "no_hinting"}):
        return _save_figures(result, folder)


def _save_figures(result: Result, folder: Path) -> list[Path]:
    figure = Figure(figsize=REPORT_SIZE, dpi=DPI)
    FigureCanvasAgg(figure)
    paths = []
    for number in FIGURES:
        figure.clear()
        figure.subplots_adjust(**MARGINS)
        report_figure(result, number, figure.add_subplot())
        paths.append(_save(figure, folder / f"figur_{number}.png"))
    figure.clear()
    figure.subplots_adjust(**MARGINS)
    drawn = _Waterfall(figure.add_subplot())
    for unit in waterfall_units(result):
        drawn.show(unit, waterfall_title(unit["navn"], result.aar, result.dato))
        paths.append(_save(figure, folder / waterfall_name(unit["kode"])))
    return paths
