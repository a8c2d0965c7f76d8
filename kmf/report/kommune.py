"""One kommune's report (SPEC §8): ``kommune_<KODE>_<T>.xlsx`` ("Overblik", "Bidrag",
"Fordelinger", and "Prognosespor" / "Historik" where given), ``kommune_<KODE>.png`` (one
page), ``kommune_<KODE>_bidrag.csv`` and ``sammenfatning.md``, written as one folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from matplotlib.figure import Figure
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from kmf.compute.kommune_tables import GROUP_LEVEL, KommuneTables
from kmf.danish import format_date, format_number
from kmf.report.excel_style import (
    BOLD,
    DATE_FORMAT,
    DATE_WIDTH,
    ITALIC,
    KR,
    LAND_FILL,
    MIO,
    ONE_DECIMAL,
    TITLE_FONT,
    chart_axes,
    page_break,
    print_setup,
)
from kmf.report.excel_style import text as _text
from kmf.report.figures import BLUE, unit_row, waterfall
from kmf.report.kommune_activity import activity_table
from kmf.report.kommune_chart import waterfall_chart
from kmf.report.kommune_settlement import settlement_sheet
from kmf.report.kommune_table import contributions_sheet, sheet_table
from kmf.report.labels import DPI, EFFECTS, MAIN_EFFECTS
from kmf.report.text import Line, signed, to_markdown
from kmf.report.text_sheet import write_lines
from kmf.report.write import write_folder
from kmf.result import Result

LAND = "#7f7f7f"
#: the kommune, its region and Hele landet in every chart of the workbook
SERIES_COLOURS = (BLUE, "#9DC3E6", LAND)


def file_names(kode: int, aar: int) -> dict[str, str]:
    """The files of a kommune's report, by what they hold."""
    return {
        "bidrag": f"kommune_{kode}_bidrag.csv",
        "workbook": f"kommune_{kode}_{aar}.xlsx",
        "figure": f"kommune_{kode}.png",
        "text": "sammenfatning.md",
        "notat": f"notat_{kode}_{aar}.docx",
    }


@dataclass(frozen=True)
class KommuneReport:
    """One kommune's report: its tables (polars DataFrames), its text, and ``write``.

    Attributes
    ----------
    tabeller
        The numbers (``overblik``, ``bidrag``, ``fordelinger``, ``sammenligning``, …).
    tekst
        The Danish summary as Markdown (``sammenfatning.md``).
    """

    tabeller: KommuneTables
    linjer: tuple[Line, ...]
    result: Result

    @property
    def tekst(self) -> str:
        return to_markdown(self.linjer)

    @property
    def overblik(self) -> pl.DataFrame:
        return self.tabeller.overblik

    @property
    def bidrag(self) -> pl.DataFrame:
        return self.tabeller.bidrag

    @property
    def fordelinger(self) -> pl.DataFrame:
        return self.tabeller.fordelinger

    @property
    def sammenligning(self) -> tuple[int, ...]:
        return self.tabeller.sammenligning

    def write(self, folder: str | Path, *, force: bool = False) -> list[Path]:
        """Write the report's files into ``folder`` at once (see ``kmf.report.write``)."""
        return write_folder(folder, force, self.fill)

    def fill(self, folder: Path) -> None:
        """Write the report's files into ``folder``, an empty folder (no staging: for a
        writer that stages a larger whole, as :mod:`kmf.report.kommune_all`)."""
        names = file_names(self.tabeller.kode, self.tabeller.aar)
        self.bidrag.write_csv(folder / names["bidrag"])
        write_kommune_workbook(self, folder / names["workbook"])
        kommune_page(self).savefig(folder / names["figure"], dpi=DPI)
        (folder / names["text"]).write_text(self.tekst, encoding="utf-8", newline="\n")
        from kmf.report.kommune_notat import write_kommune_notat

        write_kommune_notat(self.tabeller, self.linjer, self.result, folder / names["notat"])

    def _repr_markdown_(self) -> str:
        """Jupyter shows the text."""
        return self.tekst

    def __repr__(self) -> str:
        return f"KommuneReport({self.tabeller.kode} {self.tabeller.navn}, {self.tabeller.aar})"


# --- the workbook ---------------------------------------------------------------------------


def _effect_cols(columns: list[str]) -> list[tuple[str, str, str]]:
    split = [e for e in ("omraademikseffekt", "andelseffekt") if f"{e}_pct" in columns]
    return [
        ("aendring_pct", "Ændring i alt, pct.", ONE_DECIMAL),
        *((f"{e}_pct", EFFECTS[e].header, ONE_DECIMAL) for e in (*MAIN_EFFECTS, *split)),
        ("oevrige_pct", "Øvrige", ONE_DECIMAL),
        ("kmf_budget_kr", "Budget, mio. kr.", MIO),
        ("kmf_prognose_kr", "Prognose, mio. kr.", MIO),
        ("aendring_kr", "Ændring, mio. kr.", MIO),
    ]


def _overview_sheet(ws: Worksheet, report: KommuneReport) -> None:
    t = report.tabeller
    columns: list[tuple[str, str, str | None]] = [
        ("navn", "Kommune, region, gruppe", None),
        ("rang", "Rang", "0"),
        *_effect_cols(t.overblik.columns),
    ]
    widths = [30, 10] + [13] * (len(columns) - 5) + [13, 13, 13]
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    top = write_lines(ws, report.linjer, _text, columns=len(columns), width=sum(widths))
    if report.result.titel:
        _text(ws, top, 1, report.result.titel).font = ITALIC
        top += 1
    page_break(ws, top)  # the table and the chart together on the next page
    top += 1
    _text(ws, top, 1, f"B1 for {t.navn}, {t.aar} ift. budgettet (ØA)").font = TITLE_FONT
    _text(ws, top + 1, 1, "Pct./pct.-point af budgettet; mio. kr.").font = ITALIC
    rows = t.overblik.to_dicts()
    strong = {i for i, r in enumerate(rows) if r["niveau"] in ("land", "region", GROUP_LEVEL)}
    strong.add(0)
    table_top = top + 3
    after = sheet_table(ws, table_top, rows, columns, strong)
    for i, r in enumerate(rows):
        if r["niveau"] == "land":
            for j in range(1, len(columns) + 1):
                ws.cell(row=table_top + 1 + i, column=j).fill = LAND_FILL
    after = _population_table(ws, after, t)
    waterfall_chart(ws, after, t.overblik.row(0, named=True), t.navn)
    print_setup(ws, None)


def _population_table(ws: Worksheet, top: int, t: KommuneTables) -> int:
    """The citizens (SPEC §9) of the kommune, its region and Hele landet under the B1
    table: the change split on more citizens, age structure and use per citizen, KMF per
    citizen, the indeks and the kommune's place by it; return the next free row."""
    if t.befolkning is None or t.borger is None:
        return top
    _text(ws, top, 1, f"Borgerne: {t.navn}, {t.aar} ift. budgettet").font = TITLE_FONT
    _text(ws, top + 1, 1, "Pct.-point af budgettet; kr. pr. indbygger; indeks (hele landet = "
          "100), rang efter indeks (1 = højest)").font = ITALIC  # fmt: skip
    borger = t.borger.select("kode", "kmf_pr_indbygger_kr", "indeks", "rang")
    order = {"kommune": 0, "region": 1, "land": 2}  # as the B1 table above: the kommune first
    rows = sorted(
        t.befolkning.join(borger, on="kode", how="left").to_dicts(),
        key=lambda r: order[r["niveau"]],
    )
    columns: list[tuple[str, str, str | None]] = [
        ("navn", "Kommune, region, land", None),
        ("rang", "Rang (indeks)", "0"),
        ("aendring_pct", "Ændring i alt, pct.", ONE_DECIMAL),
        ("befolkningseffekt_pct", "Flere/færre borgere", ONE_DECIMAL),
        ("demografieffekt_pct", "Alders-\nsammen-\nsætning", ONE_DECIMAL),
        ("forbrugseffekt_pct", "Forbrug pr. borger", ONE_DECIMAL),
        ("omraademikseffekt_pct", "C1. Områdemiks", ONE_DECIMAL),
        ("andelseffekt_pct", "C2. KMF-andel", ONE_DECIMAL),
        ("kmf_pr_indbygger_kr", "KMF pr. indbygger, kr.", KR),
        ("indeks", "Indeks", ONE_DECIMAL),
        ("indbyggere_budget", f"Indbyggere {t.aar - 2}", KR),
        ("indbyggere_prognose", f"Indbyggere {t.aar}", KR),
    ]
    for j in range(len(columns) - 1, len(columns) + 1):  # beyond the B1 table's columns
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = max(ws.column_dimensions[letter].width or 0, 13)
    strong = {i for i, r in enumerate(rows) if r["niveau"] in ("land", "region")} | {0}
    after = sheet_table(ws, top + 3, rows, columns, strong)
    for i, r in enumerate(rows):
        if r["niveau"] == "land":
            for j in range(1, len(columns) + 1):
                ws.cell(row=top + 4 + i, column=j).fill = LAND_FILL
    return after


def _sums(t: KommuneTables) -> tuple[str, str]:
    """The names of the region's and the land's sums: with how many kommuner the data hold
    where they hold part of the country ("I alt, 2 kommuner")."""
    o = t.overblik
    return (
        o.filter(pl.col("niveau") == "region")["navn"][0],
        o.filter(pl.col("niveau") == "land")["navn"][0],
    )


def _distributions_sheet(ws: Worksheet, t: KommuneTables) -> None:
    region, land = _sums(t)
    _text(ws, 1, 1, f"Fordelinger: {t.navn}, {region} og {land}").font = TITLE_FONT
    titles = {
        "B2": "B2. Ændring i aldersfordelingen af forbruget, pct.-point",
        "B3": "B3. Ændring i den gennemsnitlige KMF-andel pr. aldersgruppe, pct.-point",
        "B4": "B4. Ændring i forbrugets fordeling på sundhedsområder, pct.-point",
    }
    columns: list[tuple[str, str, str | None]] = [
        ("navn", "", None),
        ("kommune", t.navn, ONE_DECIMAL),
        ("region", region, ONE_DECIMAL),
        ("hele_landet", land, ONE_DECIMAL),
    ]
    for j, w in enumerate([18, 16, 20, 14], start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    top = 3
    for table, title in titles.items():
        rows = t.fordelinger.filter(pl.col("tabel") == table).to_dicts()
        _text(ws, top, 1, title).font = BOLD
        after = sheet_table(ws, top + 1, rows, columns)
        if table != "B3":
            chart = BarChart()
            chart.type = "col"
            title = {"B2": "Aldersfordelingen (B2)", "B4": "Sundhedsområder (B4)"}[table]
            chart_axes(chart, title, "Pct.-point")
            chart.legend.position = "b"
            last = top + 1 + len(rows)
            data = Reference(ws, min_col=2, max_col=4, min_row=top + 1, max_row=last)
            chart.add_data(data, titles_from_data=True)
            chart.set_categories(
                Reference(ws, min_col=1, min_row=top + 2, max_row=top + 1 + len(rows))
            )
            chart.height, chart.width = 7.5, 16
            for series, colour in zip(chart.series, SERIES_COLOURS, strict=True):
                series.graphicalProperties.solidFill = colour.lstrip("#")
            ws.add_chart(chart, f"F{top}")
        top = max(after, top + 16 if table != "B3" else after) + 1
    activity_table(ws, top, t, sheet_table)
    print_setup(ws, None)
    ws.page_setup.fitToHeight = 1  # four tables and two charts: one page


def _track_sheet(
    ws: Worksheet, t: KommuneTables, frame: pl.DataFrame, key: str, title: str
) -> None:
    """The kommune's, region's and land's change by date (or year), the kommune's effects
    and, where the track has accuracy, the kommune's and land's error against T endelig."""
    keys = frame.select(key).unique().sort(key)[key].to_list()
    units = [("kommune", t.navn), *zip(("region", "land"), _sums(t), strict=True)]
    accuracy = "fejl_pct" in frame.columns
    rows = []
    for k in keys:
        at = frame.filter(pl.col(key) == k)
        # a date is a date cell; a budget year is its number as text (a category, not a sum)
        row: dict[str, Any] = {key: k if key == "opgoerelsesdato" else str(k)}
        for level, name in units:
            found = at.filter(pl.col("niveau") == level)
            row[name] = found["aendring_pct"][0] if found.height else None
            if accuracy and level != "region":
                row[f"fejl_{level}"] = found["fejl_pct"][0] if found.height else None
        own = at.filter(pl.col("niveau") == "kommune")
        for e in (*MAIN_EFFECTS, "oevrige"):
            row[e] = own[f"{e}_pct"][0] if own.height else None
        rows.append(row)
    _text(ws, 1, 1, title, TITLE_FONT)
    note = "Ændring i pct. af budgettet; kommunens effekter i pct.-point"
    if accuracy:
        note += f"; afvigelse fra den endelige afregning for {t.aar} i pct. af den"
    _text(ws, 2, 1, note + ".", ITALIC)
    columns: list[tuple[str, str, str | None]] = [
        (
            key,
            *(("Opgørelsesdato", DATE_FORMAT) if key == "opgoerelsesdato" else ("Budgetår", None)),
        ),
        *((name, f"Ændring, {name}", ONE_DECIMAL) for _, name in units),
        *((e, f"{t.navn}: {EFFECTS[e].letter}", ONE_DECIMAL) for e in (*MAIN_EFFECTS, "oevrige")),
    ]
    if accuracy:
        columns += [
            ("fejl_kommune", f"Afvigelse fra endelig, {t.navn}", ONE_DECIMAL),
            ("fejl_land", f"Afvigelse fra endelig, {_sums(t)[1]}", ONE_DECIMAL),
        ]
    for j in range(1, len(columns) + 1):
        ws.column_dimensions[get_column_letter(j)].width = DATE_WIDTH if j == 1 else 16
    sheet_table(ws, 4, rows, columns)
    chart = LineChart()
    chart_axes(chart, "Ændring i pct. af budgettet", "Pct. af budgettet")
    chart.legend.position = "b"
    chart.add_data(Reference(ws, min_col=2, max_col=4, min_row=4, max_row=4 + len(rows)),
                   titles_from_data=True)  # fmt: skip
    chart.set_categories(Reference(ws, min_col=1, min_row=5, max_row=4 + len(rows)))
    chart.height, chart.width = 8, 18
    for series, colour in zip(chart.series, SERIES_COLOURS, strict=True):
        series.graphicalProperties.line.solidFill = colour.lstrip("#")
        series.graphicalProperties.line.width = 28575  # 2.25 pt, in EMU
    ws.add_chart(chart, f"B{len(rows) + 7}")
    print_setup(ws, None)


def write_kommune_workbook(report: KommuneReport, path: Path) -> None:
    """``kommune_<KODE>_<T>.xlsx``: Overblik, Bidrag, Fordelinger (and the track, history)."""
    t = report.tabeller
    wb = Workbook()
    wb.remove(wb.active)
    _overview_sheet(wb.create_sheet("Overblik"), report)
    contributions_sheet(wb.create_sheet("Bidrag"), t)
    _distributions_sheet(wb.create_sheet("Fordelinger"), t)
    if t.prognosespor is not None and not t.prognosespor.is_empty():
        _track_sheet(wb.create_sheet("Prognosespor"), t, t.prognosespor, "opgoerelsesdato",
                     f"Prognosespor {t.aar}: ændringen efter opgørelsesdato")  # fmt: skip
    if t.historik is not None and not t.historik.is_empty():
        _track_sheet(wb.create_sheet("Historik"), t, t.historik, "aar",
                     "Historik: ændringen efter budgetår")  # fmt: skip
    if report.result.endelig is not None or report.result.sidste_aar is not None:
        settlement_sheet(wb.create_sheet("Afregning"), t, report.result)
    wb.save(path)


# --- the page (PNG) -------------------------------------------------------------------------


def kommune_page(report: KommuneReport) -> Figure:
    """One page: the waterfall from budget to forecast, and B2 and B4 beside Hele landet."""
    t = report.tabeller
    figure = Figure(figsize=(11.7, 8.3))
    # a margin round the page (in inches): nothing sits flush against the edge
    figure.set_layout_engine("constrained", w_pad=0.2, h_pad=0.15)
    grid = figure.add_gridspec(2, 2, height_ratios=[1.15, 1])
    # the page's title names the kommune, the year and the date: the waterfall's does not
    waterfall(unit_row(report.result, t.kode), ax=figure.add_subplot(grid[0, :]),
              title="Fra budget til prognose")  # fmt: skip
    for position, table, title in (
        (grid[1, 0], "B2", "Ændring i aldersfordelingen af forbruget (B2)"),
        (grid[1, 1], "B4", "Ændring i fordelingen på sundhedsområder (B4)"),
    ):
        ax = figure.add_subplot(position)
        rows = t.fordelinger.filter(pl.col("tabel") == table)
        x = range(rows.height)
        width = 0.4
        own = rows["kommune"].to_list()
        land = rows["hele_landet"].to_list()
        bars = ax.bar([i - width / 2 for i in x], own, width, color=BLUE, label=t.navn)
        ax.bar([i + width / 2 for i in x], land, width, color=LAND, label=_sums(t)[1])
        ax.bar_label(bars, labels=[signed(v) for v in own], padding=2, fontsize=8)
        ax.set_xticks(list(x), rows["navn"].to_list(), fontsize=8)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_title(title, loc="left", fontsize=10, pad=20)
        ax.set_ylabel("Pct.-point")
        ax.yaxis.set_major_formatter(lambda v, _: format_number(v, 1))
        ax.margins(y=0.15)
        # the legend between the panel's title and the plot: it never covers a bar (and a
        # fixed place costs nothing, where matplotlib's search for the best one can be slow)
        ax.legend(ncols=2, fontsize=8, frameon=False, loc="lower left", bbox_to_anchor=(0, 1),
                  borderaxespad=0.2)  # fmt: skip
        ax.spines[["top", "right"]].set_visible(False)
    d = report.result.dato
    when = "" if d is None else f" pr. {format_date(d)}"
    figure.suptitle(f"{t.navn} ({t.region}): KMF-prognosen {t.aar}{when} ift. budgettet",
                    x=0.02, ha="left", fontsize=13, fontweight="bold")  # fmt: skip
    return figure
