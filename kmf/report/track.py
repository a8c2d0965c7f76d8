"""What a reader gets from the forecast track and the history (SPEC §7): the tables as CSV
and Parquet, a workbook, figures and ``manifest.json``, written as a whole through
:mod:`kmf.report.write`. Only reads a ``Spor`` or a ``Historik``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from kmf.danish import format_date, format_number
from kmf.report.labels import DPI, EFFECTS, FIGURE_WIDTH, MAIN_EFFECTS, method_words
from kmf.report.write import FILES_KEY, MANIFEST, write_folder
from kmf.series import Historik, Spor

if TYPE_CHECKING:  # matplotlib is loaded when a figure is drawn, not when kmf.spor is imported
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "accuracy_figure",
    "history_figure",
    "history_workbook_name",
    "track_figure",
    "track_workbook_name",
    "write_history",
    "write_track",
]

GREY = "#7f7f7f"
BLACK = "#000000"
PARTS = (*MAIN_EFFECTS, "oevrige")


def track_workbook_name(year: int) -> str:
    return f"kmf_prognosespor_{year}.xlsx"


def history_workbook_name() -> str:
    return "kmf_historik.xlsx"


def write_track(spor: Spor, folder: str | Path, force: bool = False) -> list[Path]:
    """``tabel_spor``, the accuracy tables, the workbook, the figures and ``manifest.json``."""
    return write_folder(folder, force, lambda staging: _fill_track(spor, staging))


def write_history(historik: Historik, folder: str | Path, force: bool = False) -> list[Path]:
    """``tabel_historik``, ``kmf_historik.xlsx``, ``figur_historik.png``, ``manifest.json``."""
    return write_folder(folder, force, lambda staging: _fill_history(historik, staging))


def _fill_track(spor: Spor, folder: Path) -> None:
    for name, frame in spor.named_tables().items():
        frame.write_csv(folder / f"{name}.csv")
        if name == "tabel_spor":
            frame.write_parquet(folder / f"{name}.parquet")
    from kmf.report.text_time import track_markdown
    from kmf.report.track_excel import track_workbook

    track_workbook(spor, folder / track_workbook_name(spor.aar))
    (folder / "sammenfatning.md").write_text(track_markdown(spor), encoding="utf-8", newline="\n")
    track_figure(spor).savefig(folder / "figur_spor.png", dpi=DPI)
    if spor.traefsikkerhed_enheder is not None:
        accuracy_figure(spor).savefig(folder / "figur_traefsikkerhed.png", dpi=DPI)
    _manifest(folder, spor.manifest)


def _fill_history(historik: Historik, folder: Path) -> None:
    historik.historik.write_csv(folder / "tabel_historik.csv")
    historik.historik.write_parquet(folder / "tabel_historik.parquet")
    from kmf.report.text_time import history_markdown
    from kmf.report.track_excel import history_workbook

    history_workbook(historik, folder / history_workbook_name())
    (folder / "sammenfatning.md").write_text(
        history_markdown(historik), encoding="utf-8", newline="\n"
    )
    history_figure(historik).savefig(folder / "figur_historik.png", dpi=DPI)
    _manifest(folder, historik.manifest)


def _manifest(folder: Path, manifest: dict[str, Any]) -> None:
    names = sorted([*(p.name for p in folder.iterdir()), MANIFEST])
    (folder / MANIFEST).write_text(
        json.dumps({**manifest, FILES_KEY: names}, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
        newline="\n",
    )


def _axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    if ax is not None:
        figure = ax.get_figure()
        assert isinstance(figure, Figure)
        return figure, ax
    figure = Figure(figsize=size)
    figure.set_layout_engine("constrained", w_pad=0.15, h_pad=0.1)  # a margin round the figure
    return figure, figure.add_subplot()


def _style(ax: Axes, title: str, subtitle: str, ylabel: str) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(steps=[1, 2, 5, 10]))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_number(v, 1)))
    ax.axhline(0, color=BLACK, linewidth=0.8)
    ax.set_title(title, loc="left", fontsize=11, pad=18)
    ax.text(0.0, 1.02, subtitle, fontsize=8, color=GREY, ha="left", va="bottom",
            transform=ax.transAxes)  # fmt: skip
    ax.set_ylabel(ylabel)
    ax.spines[["top", "right"]].set_visible(False)


def _date_ticks(ax: Axes, x: list[int], labels: list[str]) -> None:
    many = len(x) > 4  # "10. september 2018" is long: more than four dates slant
    ax.set_xticks(x, labels, rotation=30 if many else 0, ha="right" if many else "center")


def _date_label(d: date | None) -> str:
    return format_date(d)  # "10. april 2018", as the workbooks and the texts write it


def track_rows(spor: Spor) -> pl.DataFrame:
    """The rows the track's figure shows: Hele landet, or the chosen kommune, by date."""
    if spor.kommune is None:
        return spor.spor.filter(pl.col("niveau") == "land")
    return spor.spor.filter((pl.col("niveau") == "kommune") & (pl.col("kode") == str(spor.kommune)))


def track_figure(spor: Spor, ax: Axes | None = None) -> Figure:
    """Ændring and A, B, C, Øvrige in pct. of the budget, by forecast date (SPEC §7)."""
    rows = track_rows(spor)
    labels = [_date_label(d) for d in rows["opgoerelsesdato"].to_list()]
    x = list(range(len(labels)))
    own = ax is None
    figure, ax = _axes(ax, (FIGURE_WIDTH, 4.5))
    for part in PARTS:
        effect = EFFECTS[part]
        ax.plot(x, rows[f"{part}_pct"].to_list(), marker="o", markersize=4,
                color=effect.colour, label=effect.name)  # fmt: skip
    ax.plot(x, rows["aendring_pct"].to_list(), marker="s", color=BLACK, linewidth=2.2,
            label="Ændring i alt")  # fmt: skip
    _date_ticks(ax, x, labels)
    name = rows["navn"][0] if rows.height else ""
    _style(ax, f"Prognosespor {spor.aar}: ændring ift. budgettet pr. opgørelsesdato",
           f"{name}, pct. af budgettet (ØA) efter {method_words(spor.metode)}",
           "Pct. af budgettet")  # fmt: skip
    ax.margins(y=0.15)
    _legend_below(figure, ax, own)
    return figure


def _legend_below(figure: Figure, ax: Axes, own: bool) -> None:
    """The legend under the plot, below the (slanted) date labels: in a figure of its own
    a figure legend the layout makes room for; in another's axes, under those axes."""
    if own:
        handles, labels = ax.get_legend_handles_labels()
        figure.legend(handles, labels, ncols=5, fontsize=8, loc="outside lower center",
                      frameon=False)  # fmt: skip
    else:
        ax.legend(ncols=3, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2),
                  frameon=False)  # fmt: skip


def accuracy_figure(spor: Spor, ax: Axes | None = None) -> Figure:
    """The error of the forecast against T endelig, by date: Hele landet as a line, the
    kommuner's spread (lowest to highest, and the middle half) as bands."""
    units = spor.traefsikkerhed_enheder
    if units is None:
        raise KeyError(f"der er ingen endelig opgørelse for {spor.aar} at måle prognosen mod")
    spread = (
        units.filter(pl.col("niveau") == "kommune")
        .group_by("opgoerelsesdato", maintain_order=True)
        .agg(
            pl.col("fejl_pct").min().alias("lav"),
            pl.col("fejl_pct").quantile(0.25).alias("q1"),
            pl.col("fejl_pct").quantile(0.75).alias("q3"),
            pl.col("fejl_pct").max().alias("hoej"),
        )
    )
    land = units.filter(pl.col("niveau") == "land")
    labels = [_date_label(d) for d in land["opgoerelsesdato"].to_list()]
    x = list(range(len(labels)))
    own = ax is None
    figure, ax = _axes(ax, (FIGURE_WIDTH, 4.5))
    ax.fill_between(x, spread["lav"].to_list(), spread["hoej"].to_list(), color="#dde5f0",
                    label="Kommuner, laveste til højeste")  # fmt: skip
    ax.fill_between(x, spread["q1"].to_list(), spread["q3"].to_list(), color="#9fb6d6",
                    label="Kommuner, midterste halvdel")  # fmt: skip
    ax.plot(x, land["fejl_pct"].to_list(), marker="o", color=EFFECTS["aktivitetseffekt"].colour,
            linewidth=2, label=land["navn"][0])  # fmt: skip
    _date_ticks(ax, x, labels)
    truth = "" if spor.endelig_dato is None else f" pr. {format_date(spor.endelig_dato)}"
    _style(ax, f"Træfsikkerhed {spor.aar}: prognosens afvigelse fra den endelige opgørelse",
           f"Prognose minus endelig opgørelse{truth}, pct. af den endelige", "Pct.")  # fmt: skip
    _legend_below(figure, ax, own)
    return figure


def history_figure(historik: Historik, ax: Axes | None = None) -> Figure:
    """Hele landet's A, B, C and Øvrige by budget year (stacked bars) with the total change."""
    from kmf.report.figures import stacked_effects  # loads matplotlib

    land = historik.historik.filter(pl.col("niveau") == "land")
    years = land["aar"].to_list()
    x = list(range(len(years)))
    own = ax is None
    figure, ax = _axes(ax, (FIGURE_WIDTH, 4.5))
    positive, negative = stacked_effects(ax, x, land, width=0.6)
    total = land["aendring_pct"].to_list()
    ax.scatter(x, total, color=BLACK, s=30, zorder=3, label="Ændring i alt")
    for i, v in enumerate(total):
        ax.annotate(format_number(v, 1), (x[i], v), textcoords="offset points", xytext=(12, -3),
                    fontsize=9)  # fmt: skip
    ax.set_xticks(x, [str(y) for y in years])
    _style(ax, "Historik: ændring ift. budgettet og effekterne pr. budgetår",
           f"{land['navn'][0]}, pct. af budgettet (ØA) efter {method_words(historik.metode)}",
           "Pct. af budgettet")  # fmt: skip
    top, bottom = max([0.0, *positive, *total]), min([0.0, *negative, *total])
    room = 0.12 * ((top - bottom) or 1.0)
    ax.set_ylim(bottom - room, top + room)
    ax.set_xlim(-0.7, len(x) - 0.3)
    _legend_below(figure, ax, own)
    return figure
