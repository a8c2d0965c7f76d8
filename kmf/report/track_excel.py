"""The workbooks of the forecast track (``kmf_prognosespor_<T>.xlsx``) and the history
(``kmf_historik.xlsx``), laid out like the report's own (openpyxl). Only reads a ``Spor`` or
a ``Historik``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from kmf import codes
from kmf.compute.accuracy import WITHIN_PCT
from kmf.danish import format_date, format_dates, format_kr
from kmf.report.excel import CENTRED, Col, Table, effect_columns, table_sheet
from kmf.report.excel_pages import dataset_name, files_table, source_text
from kmf.report.excel_style import (
    BOLD,
    DATE_FORMAT,
    DATE_WIDTH,
    HEADER_FILL,
    ITALIC,
    LINE_HEIGHT,
    TITLE_FONT,
    WRAP_TOP,
    lines_needed,
    notes,
    number,
    number_format,
    print_setup,
    text,
)
from kmf.report.text_sheet import lines_sheet
from kmf.report.text_time import history_lines, track_lines
from kmf.report.unused import unused_cuts
from kmf.result import ManifestCut
from kmf.series import Historik, Spor

KR_NOTE = "Kolonnerne i mio. kr. er med, så tallene kan efterregnes (cellerne har beløbene i kr.)."
ABOUT_WIDTHS = (34, 60, 14, 66)


def track_workbook(spor: Spor, path: Path) -> None:
    """Hele landet and the regions by date, every unit by date, the accuracy, the run."""
    wb = Workbook()
    wb.remove(wb.active)
    oea = f"ØA{spor.aar % 100:02d}"
    dated = [Col("opgoerelsesdato", "Opgørelsesdato", 0, DATE_WIDTH)]
    effects = effect_columns(1, split="omraademikseffekt_pct" in spor.spor.columns)
    top = spor.spor.filter(pl.col("niveau") != "kommune")
    days = [d for d in spor.datoer if d is not None]
    source = source_text(
        spor.manifest["version"], spor.metode, spor.manifest["datasaet"],
        f"prognoser pr. {format_dates(days)}" if days else "",
    )  # fmt: skip
    change = _change_note(spor.aar, oea)
    _sheet(
        wb,
        "Prognosespor",
        Table(
            f"Prognosespor {spor.aar}: udvikling i forventet skøn af KMF-afregning ift. {oea} "
            "pr. opgørelsesdato, regioner og hele landet",
            "Pct./pct.-point; mio. kr.",
            top,
            dated + effects,
            notes=[
                "Anm.: Hver række er prognosen pr. opgørelsesdatoen (tabel B1 for hele landet og "
                f"regionerne), datoerne i tidsorden. {change} {KR_NOTE}",
                source,
            ],
        ),
    )
    _sheet(
        wb,
        "Alle enheder",
        Table(
            f"Prognosespor {spor.aar}: tabel B1 pr. opgørelsesdato, hele landet, regioner og "
            "kommuner",
            "Pct./pct.-point; mio. kr.",
            spor.spor,
            dated + effects,
            notes=[
                "Anm.: For hver opgørelsesdato tabel B1: hele landet, derefter hver region med "
                f"sine kommuner efter kommunekode. {change} {KR_NOTE}",
                source,
            ],
        ),
    )
    if spor.traefsikkerhed is not None and spor.traefsikkerhed_enheder is not None:
        truth = "" if spor.endelig_dato is None else f" pr. {format_date(spor.endelig_dato)}"
        _accuracy_sheet(wb.create_sheet("Træfsikkerhed"), spor, truth, source)
        _sheet(
            wb,
            "Træfsikkerhed, enheder",
            Table(
                f"Træfsikkerhed {spor.aar} for alle enheder{truth}",
                "Kr. og pct. af den endelige opgørelse",
                spor.traefsikkerhed_enheder,
                [
                    *dated,
                    Col("kmf_prognose_kr", "Prognose, mio. kr.", 1, 12, mio=True),
                    Col("kmf_endelig_kr", "Endelig, mio. kr.", 1, 12, mio=True),
                    Col("fejl_pct", "Afvigelse, pct.", 1, 12),
                ],
                notes=[
                    "Anm.: For hver opgørelsesdato hele landet, regionerne og kommunerne. "
                    "Prognose og endelig er KMF-afregningen i kr. efter prognosen pr. datoen og "
                    "efter den endelige opgørelse; afvigelsen er prognosen minus den endelige i "
                    "pct. af den endelige (positiv: prognosen var for høj).",
                    source,
                ],
            ),
        )
    cuts = [ManifestCut(**c) for c in spor.manifest["opgoerelser"]]
    facts: list[tuple[str, Any]] = [
        ("Budgetår", str(spor.aar)),
        ("Opgørelsesdatoer", ", ".join(_iso(d) for d in spor.datoer)),
        *((f"Uden grundlag: {_iso(d)}", f"mangler {why}") for d, why in spor.datoer_uden_grundlag),
        (
            "Endelig opgørelse (træfsikkerhed)",
            "ingen i data" if spor.traefsikkerhed is None else _iso(spor.endelig_dato),
        ),
        ("Rækker, der ikke bruges", format_kr(spor.manifest["raekker_ikke_brugt"])),
        # which cuts those are, and why the track leaves them out
        *((f"  {u.cut}", u.said) for u in unused_cuts(spor.aar, cuts)),
    ]
    _about(wb.create_sheet("Om kørslen"), spor.manifest, spor.titel, facts)
    lines_sheet(wb, track_lines(spor), text)
    wb.active = 0
    wb.save(path)


def history_workbook(historik: Historik, path: Path) -> None:
    """Hele landet and the regions by year, every unit by year, the run."""
    wb = Workbook()
    wb.remove(wb.active)
    year = [Col("aar", "Budgetår", 0, 9)]
    effects = effect_columns(1, split="omraademikseffekt_pct" in historik.historik.columns)
    source = source_text(
        historik.manifest["version"], historik.metode, historik.manifest["datasaet"],
        "hvert budgetår pr. sin seneste opgørelsesdato med grundlag (se Om kørslen)"
        if any(d is not None for d in historik.datoer.values()) else "",
    )  # fmt: skip
    change = (
        "Ændringen er årets forventede KMF-afregning (prognosen) minus årets budget (ØA) i pct. "
        "af budgettet; effekterne er pct.-point af budgettet, og A + B + C + Øvrige = ændringen."
    )
    _sheet(
        wb,
        "Historik",
        Table(
            "Historik: udvikling i forventet skøn af KMF-afregning ift. ØA pr. budgetår, "
            "regioner og hele landet",
            "Pct./pct.-point; mio. kr.",
            historik.historik.filter(pl.col("niveau") != "kommune"),
            year + effects,
            notes=[
                "Anm.: Hver række er tabel B1 for hele landet eller en region i ét budgetår, "
                f"med årets eget budget; årene i tidsorden. {change} {KR_NOTE}",
                source,
            ],
        ),
    )
    _sheet(
        wb,
        "Alle enheder",
        Table(
            "Historik: tabel B1 pr. budgetår, hele landet, regioner og kommuner",
            "Pct./pct.-point; mio. kr.",
            historik.historik,
            year + effects,
            notes=[
                "Anm.: For hvert budgetår tabel B1: hele landet, derefter hver region med sine "
                f"kommuner efter kommunekode. {change} {KR_NOTE}",
                source,
            ],
        ),
    )
    facts: list[tuple[str, Any]] = [
        ("Budgetår", ", ".join(str(y) for y in historik.aar)),
        (
            "Opgørelsesdato pr. år",
            ", ".join(f"{y}: {_iso(d)}" for y, d in historik.datoer.items()),
        ),
        *((f"Uden grundlag: {y}", why) for y, why in historik.aar_uden_grundlag),
    ]
    _about(wb.create_sheet("Om kørslen"), historik.manifest, historik.titel, facts)
    lines_sheet(wb, history_lines(historik), text)
    wb.active = 0
    wb.save(path)


def _sheet(wb: Workbook, name: str, table: Table) -> None:
    table_sheet(wb.create_sheet(name), table)


def _iso(d: Any) -> str:
    """A date in a note or a fact of "Om kørslen": Danish prose, as the date cells show it."""
    return format_date(d)


def _about(ws: Worksheet, manifest: dict[str, Any], titel: str | None, extra: list) -> None:
    text(ws, 1, 1, "Om kørslen", TITLE_FONT)
    facts: list[tuple[str, Any]] = [
        ("Program", f"kmf {manifest['version']}"),
        ("Metode", manifest["metode"]),
        *extra,
        ("Titel", titel or ""),
        ("Datasæt", dataset_name(manifest["datasaet"])),
        ("Budget", manifest["budget"]),
    ]
    for i, (key, value) in enumerate(facts, start=3):
        text(ws, i, 1, key, BOLD, WRAP_TOP)
        text(ws, i, 2, str(value), align=WRAP_TOP)
        lines = max(lines_needed(key, ABOUT_WIDTHS[0]), lines_needed(str(value), ABOUT_WIDTHS[1]))
        if lines > 1:  # tall enough that a long value does not run into the next row
            ws.row_dimensions[i].height = lines * LINE_HEIGHT
    top = len(facts) + 5
    files_table(ws, top, manifest["filer"], used=False)
    for col, width in zip("ABCD", ABOUT_WIDTHS, strict=True):
        ws.column_dimensions[col].width = width
    print_setup(ws, None)


ACCURACY_COLUMNS = [
    ("opgoerelsesdato", "Opgørelsesdato", DATE_WIDTH, None),
    ("land_fejl_pct", "Afvigelse,\npct.", 14, "Hele landet"),
    ("kommuner_mae_pct", "Gennemsnitlig\nnumerisk\nafvigelse, pct.", 15, "Kommunerne"),
    ("kommuner_median_abs_pct", "Median af\nnumerisk\nafvigelse, pct.", 15, "Kommunerne"),
    ("kommuner_max_abs_pct", "Største\nnumeriske\nafvigelse, pct.", 15, "Kommunerne"),
    ("andel_kommuner_inden_for_2pct", "Inden for ±2 pct.,\npct. af\nkommunerne", 17,
     "Kommunerne"),
]  # fmt: skip


def _change_note(year: int, oea: str) -> str:
    return (
        f"Ændringen er den forventede KMF-afregning {year} (prognosen) minus budgettet ({oea}) "
        "i pct. af budgettet; effekterne er pct.-point af budgettet, og A + B + C + Øvrige = "
        "ændringen."
    )


def _accuracy_sheet(ws: Worksheet, spor: Spor, truth: str, source: str) -> None:
    """One row per forecast date: Hele landet's error, then the kommuner's spread; a
    table of dates, not of units, so it has no Kode or name column."""
    assert spor.traefsikkerhed is not None
    text(ws, 1, 1, f"Træfsikkerhed {spor.aar}: prognosens afvigelse fra den endelige opgørelse",
         TITLE_FONT)  # fmt: skip
    text(ws, 2, 1, f"Pct. af den endelige opgørelse{truth}; sidste kolonne pct. af kommunerne",
         ITALIC)  # fmt: skip
    # the sum of the data's kommuner: "Hele landet", or "I alt, N kommuner" for part of it
    land = spor.spor.filter(pl.col("niveau") == "land")["navn"][0]
    for j, (_, header, width, group) in enumerate(ACCURACY_COLUMNS, start=1):
        text(ws, 4, j, land if group == codes.LAND_NAME else group, BOLD, CENTRED, HEADER_FILL)
        text(ws, 5, j, header, BOLD, CENTRED, HEADER_FILL)
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.merge_cells(start_row=4, start_column=3, end_row=4, end_column=len(ACCURACY_COLUMNS))
    ws.row_dimensions[5].height = 46
    rows = spor.traefsikkerhed.iter_rows(named=True)
    row = 5
    for row, values in enumerate(rows, start=6):
        number(ws, row, 1, values["opgoerelsesdato"], DATE_FORMAT)
        for j, (name, *_) in enumerate(ACCURACY_COLUMNS[1:], start=2):
            number(ws, row, j, values[name], number_format(values[name], 1))
    width = sum(c[2] for c in ACCURACY_COLUMNS)
    lines = [
        "Anm.: Afvigelsen er prognosen pr. opgørelsesdatoen minus den endelige opgørelse i "
        "pct. af den endelige opgørelse; positiv: prognosen var for høj.",
        f"{land}: afvigelsen for alle kommuner{'' if land == codes.LAND_NAME else ' i data'} "
        "under ét.",
        "Kommunerne: den numeriske afvigelse er afvigelsen uden fortegn (en prognose 3 pct. "
        "for lav tæller som 3); gennemsnit, median og største er over alle kommuner.",
        f"Inden for ±2 pct.: andelen af kommunerne, hvis prognose afveg højst {WITHIN_PCT:g} pct. "
        "fra den endelige opgørelse, i pct. af alle kommuner.",
        source,
    ]
    notes(ws, row + 2, lines, width, len(ACCURACY_COLUMNS))
    ws.freeze_panes = ws.cell(row=6, column=2)
    print_setup(ws, "4:5", landscape=False)
