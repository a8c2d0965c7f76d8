"""The workbook: sheets, titles, unrounded values, number formats, layout and charts."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook

import kmf
from tests.factory import national_budget, random_rows, write_dataset

SAMPLE = Path(__file__).parent.parent / "kmf" / "data" / "sample"
SHEETS = ["Sammenfatning", "Tabel 1", "Tabel 2", "Tabel 3", "Tabel 4", "Tabel 5", "Tabel 6",
          "B1", "B2", "B3", "B4", "Figurer", "Metode", "Om kørslen"]  # fmt: skip
HEADER_ROW = 4


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[kmf.Result, Path]:
    result = kmf.run(SAMPLE)
    out = tmp_path_factory.mktemp("xlsx") / "ud"
    result.write(out)
    return result, out / "kmf_dekomponering_2018.xlsx"


def test_one_sheet_per_table_and_the_extra_sheets(written) -> None:
    _, path = written
    assert load_workbook(path).sheetnames == SHEETS


def test_b1_is_titled_and_laid_out_like_the_report(written) -> None:
    _, path = written
    ws = load_workbook(path)["B1"]
    assert ws["A1"].value == (
        "Tabel B1. Udvikling i forventet skøn af KMF-afregning ift. ØA18 og dekomponering af "
        "effekterne for de enkelte kommuner"
    )
    assert ws["A2"].value == "Pct./pct.-point"
    assert ws.freeze_panes == f"B{HEADER_ROW + 1}"
    names = [ws.cell(row=r, column=1).value for r in range(HEADER_ROW + 1, HEADER_ROW + 4)]
    assert names == ["Hele landet", "Region Hovedstaden", "København"]
    assert ws.cell(row=HEADER_ROW + 3, column=1).alignment.indent == 1
    assert ws.cell(row=HEADER_ROW + 2, column=1).font.bold


def test_values_are_unrounded_and_formatted_as_the_report(written) -> None:
    result, path = written
    wb = load_workbook(path)
    b1 = wb["B1"]
    headers = [c.value for c in b1[HEADER_ROW]]
    land = result.b1.row(0, named=True)
    activity = b1.cell(row=HEADER_ROW + 1, column=headers.index("A. Aktivitets-\neffekt") + 1)
    # stored unrounded (to the 15–17 significant digits a cell holds)
    assert activity.value == pytest.approx(land["aktivitetseffekt_pct"], rel=1e-14)
    assert activity.number_format == "0;[Red]-0"  # whole percent, negatives in red
    budget = b1.cell(row=HEADER_ROW + 1, column=headers.index("Budget, kr.") + 1)
    assert budget.value == pytest.approx(land["kmf_budget_kr"], rel=1e-14)
    assert budget.number_format == "#,##0;[Red]-#,##0"
    b2 = wb["B2"]
    b2_headers = [c.value for c in b2[HEADER_ROW]]
    cell = b2.cell(row=HEADER_ROW + 1, column=b2_headers.index("80+ årige") + 1)
    assert cell.value == pytest.approx(result.b2.row(0, named=True)["80+"], rel=1e-14)
    assert cell.number_format == "0.0;[Red]-0.0"
    rows = b1.max_row - HEADER_ROW
    assert rows == result.b1.height == 1 + 5 + 98


def test_b3_empty_shares_stay_empty(tmp_path: Path) -> None:
    rows = [
        r
        for r in random_rows([101, 147], 2020, seed=4)
        if not (r["kommunekode"] == 147 and r["aldersgruppe"] == "0-2" and r["aar"] == 2018)
    ]
    result = kmf.run(write_dataset(tmp_path / "d", rows, national_budget(rows, 2020)), aar=2020)
    result.write(tmp_path / "ud")
    ws = load_workbook(tmp_path / "ud" / "kmf_dekomponering_2020.xlsx")["B3"]
    row = next(r for r in ws.iter_rows(min_row=HEADER_ROW + 1) if r[0].value == "Frederiksberg")
    assert row[1].value is None  # 0-2: no production value in the budget


def test_figures_sheet_has_three_native_bar_charts_with_visible_axes(written) -> None:
    result, path = written
    with zipfile.ZipFile(path) as z:
        charts = sorted(n for n in z.namelist() if re.match(r"xl/charts/chart\d+\.xml", n))
        assert len(charts) == 3
        for name in charts:
            xml = z.read(name).decode()
            assert "<barChart>" in xml
            assert xml.count('<delete val="0" />') == 2  # both axes shown
    ws = load_workbook(path)["Figurer"]
    values = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2).value
              for r in range(1, ws.max_row + 1)}  # fmt: skip
    # the figure data blocks: Figur 1 (B2) is the first "80+ årige" row, Figur 3 holds Somatik
    assert values["Somatik"] == pytest.approx(result.b4.row(0, named=True)["somatik"], rel=1e-14)
    first_80 = next(ws.cell(row=r, column=2).value for r in range(1, ws.max_row + 1)
                    if ws.cell(row=r, column=1).value == "80+ årige")  # fmt: skip
    assert first_80 == pytest.approx(result.b2.row(0, named=True)["80+"], rel=1e-14)


def test_text_that_looks_like_a_formula_is_written_as_text(tmp_path: Path) -> None:
    rows = random_rows([101], 2020, seed=1)
    folder = write_dataset(tmp_path / "d", rows, national_budget(rows, 2020))
    (folder / "kmf.toml").write_text('titel = "=HYPERLINK(\\"x\\")"\n', encoding="utf-8")
    kmf.run(folder, aar=2020).write(tmp_path / "ud")
    ws = load_workbook(tmp_path / "ud" / "kmf_dekomponering_2020.xlsx")["Om kørslen"]
    cell = next(r[1] for r in ws.iter_rows() if r[0].value == "Titel")
    assert cell.value == '=HYPERLINK("x")'
    assert cell.data_type == "s"


def test_tabel_2_counts_are_whole_numbers(written) -> None:
    result, path = written
    ws = load_workbook(path)["Tabel 2"]
    land = result.tabel(2).filter(pl.col("kode") == "DK").row(0, named=True)
    assert ws.cell(row=HEADER_ROW + 1, column=1).value == "Hele landet"
    assert ws.cell(row=HEADER_ROW + 1, column=2).value == land["antal_kommuner"] == 98


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_the_workbook(written, tmp_path: Path) -> None:
    _, path = written
    done = subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "kmf_dekomponering_2018.pdf").stat().st_size > 10_000
