"""The workbooks of the forecast track (``kmf_prognosespor_<T>.xlsx``) and the history
(``kmf_historik.xlsx``), laid out like the report's own (openpyxl). Only reads a ``Spor`` or
a ``Historik``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from kmf.report.excel import (
    BOLD,
    KR,
    ONE_DECIMAL,
    TITLE_FONT,
    Col,
    _effect_columns,
    _table_sheet,
    _text,
)
from kmf.series import Historik, Spor

DATE = "yyyy-mm-dd"


def track_workbook(spor: Spor, path: Path) -> None:
    """Hele landet and the regions by date, every unit by date, the accuracy, the run."""
    wb = Workbook()
    wb.remove(wb.active)
    oea = f"ØA{spor.aar % 100:02d}"
    dated = [Col("opgoerelsesdato", "Opgørelses-\ndato", DATE, 12)]
    effects = _effect_columns(ONE_DECIMAL, split="omraademikseffekt_pct" in spor.spor.columns)
    top = spor.spor.filter(pl.col("niveau") != "kommune")
    _table_sheet(
        wb.create_sheet("Prognosespor"),
        f"Prognosespor {spor.aar}: udvikling i forventet skøn af KMF-afregning ift. {oea} pr. "
        "opgørelsesdato, regioner og hele landet",
        "Pct./pct.-point",
        top.sort("opgoerelsesdato", maintain_order=True).to_dicts(),
        dated + effects,
    )
    _table_sheet(
        wb.create_sheet("Alle enheder"),
        f"Prognosespor {spor.aar}: tabel B1 pr. opgørelsesdato for alle kommuner",
        "Pct./pct.-point",
        spor.spor.to_dicts(),
        dated + effects,
    )
    if spor.traefsikkerhed is not None and spor.traefsikkerhed_enheder is not None:
        truth = "" if spor.endelig_dato is None else f" pr. {spor.endelig_dato.isoformat()}"
        summary = spor.traefsikkerhed.with_columns(
            pl.lit("Hele landet").alias("navn"), pl.lit("land").alias("niveau")
        )
        _table_sheet(
            wb.create_sheet("Træfsikkerhed"),
            f"Træfsikkerhed {spor.aar}: prognosens afvigelse fra den endelige opgørelse{truth}",
            "Pct. af den endelige opgørelse",
            summary.to_dicts(),
            [
                *dated,
                Col("land_fejl_pct", "Hele landet,\nafvigelse", ONE_DECIMAL, 12),
                Col("kommuner_mae_pct", "Kommuner,\ngns. numerisk", ONE_DECIMAL, 13),
                Col("kommuner_median_abs_pct", "Kommuner,\nmedian numerisk", ONE_DECIMAL, 14),
                Col("kommuner_max_abs_pct", "Kommuner,\nstørste numerisk", ONE_DECIMAL, 14),
                Col("andel_kommuner_inden_for_2pct", "Pct. kommuner\ninden for ±2", ONE_DECIMAL,
                    14),
            ],
        )  # fmt: skip
        _table_sheet(
            wb.create_sheet("Træfsikkerhed, enheder"),
            f"Træfsikkerhed {spor.aar} for alle enheder{truth}",
            "Kr. og pct. af den endelige opgørelse",
            spor.traefsikkerhed_enheder.to_dicts(),
            [
                *dated,
                Col("kmf_prognose_kr", "Prognose, kr.", KR, 16),
                Col("kmf_endelig_kr", "Endelig, kr.", KR, 16),
                Col("fejl_pct", "Afvigelse, pct.", ONE_DECIMAL, 12),
            ],
        )
    facts: list[tuple[str, Any]] = [
        ("Budgetår", spor.aar),
        ("Opgørelsesdatoer", ", ".join(_iso(d) for d in spor.datoer)),
        (
            "Datoer uden grundlag",
            "; ".join(f"{d.isoformat()}: mangler {why}" for d, why in spor.datoer_uden_grundlag)
            or "ingen",
        ),
        (
            "Endelig opgørelse (træfsikkerhed)",
            "ingen i data" if spor.traefsikkerhed is None else _iso(spor.endelig_dato),
        ),
    ]
    _about(wb.create_sheet("Om kørslen"), spor.manifest, spor.titel, facts)
    wb.save(path)


def history_workbook(historik: Historik, path: Path) -> None:
    """Hele landet and the regions by year, every unit by year, the run."""
    wb = Workbook()
    wb.remove(wb.active)
    year = [Col("aar", "Budgetår", "0", 9)]
    effects = _effect_columns(ONE_DECIMAL, split="omraademikseffekt_pct" in historik.historik)
    _table_sheet(
        wb.create_sheet("Historik"),
        "Historik: udvikling i forventet skøn af KMF-afregning ift. ØA pr. budgetår, regioner "
        "og hele landet",
        "Pct./pct.-point",
        historik.historik.filter(pl.col("niveau") != "kommune").to_dicts(),
        year + effects,
    )
    _table_sheet(
        wb.create_sheet("Alle enheder"),
        "Historik: tabel B1 pr. budgetår for alle kommuner",
        "Pct./pct.-point",
        historik.historik.to_dicts(),
        year + effects,
    )
    facts: list[tuple[str, Any]] = [
        ("Budgetår", ", ".join(str(y) for y in historik.aar)),
        (
            "Opgørelsesdato pr. år",
            ", ".join(f"{y}: {_iso(d)}" for y, d in historik.datoer.items()),
        ),
        (
            "År uden grundlag",
            "; ".join(f"{y}: {why}" for y, why in historik.aar_uden_grundlag) or "ingen",
        ),
    ]
    _about(wb.create_sheet("Om kørslen"), historik.manifest, historik.titel, facts)
    wb.save(path)


def _iso(d: Any) -> str:
    return "uden dato" if d is None else d.isoformat()


def _about(ws: Worksheet, manifest: dict[str, Any], titel: str | None, extra: list) -> None:
    _text(ws, 1, 1, "Om kørslen").font = TITLE_FONT
    facts: list[tuple[str, Any]] = [
        ("Program", f"kmf {manifest['version']}"),
        ("Metode", manifest["metode"]),
        *extra,
        ("Titel", titel or ""),
        ("Datasæt", manifest["datasaet"]),
        ("Budget", manifest["budget"]),
    ]
    for i, (key, value) in enumerate(facts, start=3):
        _text(ws, i, 1, key).font = BOLD
        cell = _text(ws, i, 2, value) if isinstance(value, str) else ws.cell(i, 2, value)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    top = len(facts) + 5
    for j, header in enumerate(["Tabel", "Fil", "sha256", "Rækker læst"], start=1):
        _text(ws, top, j, header).font = BOLD
    for i, f in enumerate(manifest["filer"], start=top + 1):
        _text(ws, i, 1, f["tabel"])
        _text(ws, i, 2, f["fil"])
        _text(ws, i, 3, f["sha256"])
        ws.cell(row=i, column=4, value=f["raekker_laest"]).number_format = KR
    for col, width in zip("ABCD", (34, 60, 66, 13), strict=True):
        ws.column_dimensions[col].width = width
    ws["A1"].font = Font(bold=True, size=13)
