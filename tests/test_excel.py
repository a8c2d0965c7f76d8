"""The workbook: sheets, titles, unrounded values, number formats, layout, notes and charts,
read back with openpyxl and, where LibreOffice is installed, as LibreOffice shows it."""

from __future__ import annotations

import csv
import itertools
import math
import os
import re
import shutil
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

import kmf
from kmf.report.excel_pages import METHOD_TEXT
from tests.factory import national_budget, random_rows, write_dataset

KOMMUNER = Path(__file__).parent.parent / "kmf" / "data" / "kommuner.csv"
TABLES = ["Tabel 1", "Tabel 2", "Tabel 3", "Tabel 4", "Tabel 5", "Tabel 6",
          "B1", "B2", "B3", "B4"]  # fmt: skip
# the sample has a population (SPEC §9): its two sheets follow the tables
# and T's final settlement and last year's forecast against its own (the texts' numbers)
SHEETS = ["Sammenfatning", *TABLES, "Befolkning", "Borgere", "Afregning", "Sidste år",
          "Figurer", "Vandfald", "Metode", "Om kørslen"]  # fmt: skip
HEADER_ROW = 4
# the report's regions in Tabel 1–3, by regionskode (SPEC §2): Nordjylland … Sjælland
REGIONS = ["Region Nordjylland", "Region Midtjylland", "Region Syddanmark",
           "Region Hovedstaden", "Region Sjælland"]  # fmt: skip


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[kmf.Result, Path]:
    result = kmf.run(kmf.sample_dataset())
    out = tmp_path_factory.mktemp("xlsx") / "ud"
    result.write(out)
    return result, out / "kmf_dekomponering_2018.xlsx"


@pytest.fixture(scope="module")
def book(written):
    return load_workbook(written[1])


def column_of(ws: Worksheet, header: str, row: int = HEADER_ROW) -> int:
    return next(c.column for c in ws[row] if c.value == header)


def first_column(ws: Worksheet, start: int) -> list[object]:
    return [ws.cell(row=r, column=2).value for r in range(start, ws.max_row + 1)]


def test_one_sheet_per_table_and_the_extra_sheets(book) -> None:
    assert book.sheetnames == SHEETS


def test_b1_is_titled_and_laid_out_like_the_report(book) -> None:
    ws = book["B1"]
    assert ws["A1"].value == (
        "Tabel B1. Udvikling i forventet skøn af KMF-afregning ift. ØA18 og dekomponering af "
        "effekterne for de enkelte kommuner"
    )
    assert ws["A2"].value == "Pct./pct.-point; mio. kr."
    assert [ws.cell(row=HEADER_ROW, column=c).value for c in (1, 2)] == ["Kode", "Kommune/region"]
    assert ws.freeze_panes == f"C{HEADER_ROW + 1}"
    names = [ws.cell(row=r, column=2).value for r in range(HEADER_ROW + 1, HEADER_ROW + 4)]
    assert names == ["Hele landet", "Region Hovedstaden", "København"]
    assert ws.cell(row=HEADER_ROW + 3, column=2).alignment.indent == 1
    assert ws.cell(row=HEADER_ROW + 2, column=2).font.bold


def _bold_by_level(ws: Worksheet) -> dict[str, set[bool]]:
    """Whether the name cell is bold, by the kind of row: land, region or kommune."""
    regions = {1081, 1082, 1083, 1084, 1085}  # the five regionskoder
    out: dict[str, set[bool]] = {}
    for row in ws.iter_rows(min_row=HEADER_ROW + 1, max_col=3):
        code, name, value = row
        if name.value is None or not isinstance(value.value, int | float):
            continue  # a header row, or the notes under the table
        level = ("land" if name.value == "Hele landet"
                 else "region" if code.value in regions else "kommune")  # fmt: skip
        out.setdefault(level, set()).add(bool(name.font.bold))
        assert bool(value.font.bold) == bool(name.font.bold), name.value  # the whole row
    return out


def test_only_hele_landet_and_regions_over_their_kommuner_are_bold(book) -> None:
    # B1 as the report: Hele landet and each region (over its kommuner) bold, kommuner plain
    assert _bold_by_level(book["B1"]) == {"land": {True}, "region": {True}, "kommune": {False}}
    # Tabel 1, 2, 3: a row per region, the regions plain and the total bold as in the report
    for sheet in ("Tabel 1", "Tabel 2", "Tabel 3"):
        assert _bold_by_level(book[sheet]) == {"land": {True}, "region": {False}}, sheet


def test_long_tables_break_pages_between_regions_and_repeat_their_header(book) -> None:
    regions = {1081, 1082, 1083, 1084, 1085}
    for sheet in ("B1", "B2", "B3", "B4"):
        ws = book[sheet]
        assert ws.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}", sheet
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
        breaks = [b.id for b in ws.row_breaks.brk]
        assert breaks, sheet  # 104 rows do not fit one page
        # each page begins with a region: its kommuner are never cut off from it
        assert all(ws.cell(row=b + 1, column=1).value in regions for b in breaks), sheet
        # and no page holds more rows than a landscape A4 page has room for at 15 pt a row
        edges = [HEADER_ROW, *breaks, ws.max_row]
        assert all(b - a <= 60 for a, b in itertools.pairwise(edges)), (sheet, edges)


def test_amounts_show_in_mio_kr_as_the_texts_write_them(book) -> None:
    # the texts say "21.496,9 mio. kr.": the tables show the same (the cells hold kr.);
    # "-21.500,0" is 9 characters: a column holds it with a gap at width 12
    for sheet in ("Tabel 1", "B1", "Tabel 4", "Befolkning", "Borgere"):
        ws = book[sheet]
        headers = {ws.cell(row=HEADER_ROW, column=c).value: c for c in range(1, ws.max_column + 1)}
        assert not [h for h in headers if isinstance(h, str) and h.endswith(", kr.")
                    and "pr. indbygger" not in h], sheet  # fmt: skip
        for header in ("Budget, mio. kr.", "Prognose, mio. kr."):
            if header not in headers:
                continue
            column = headers[header]
            assert ws.cell(row=HEADER_ROW, column=column).column_letter
            letter = ws.cell(row=HEADER_ROW, column=column).column_letter
            assert ws.column_dimensions[letter].width >= 12
            cell = ws.cell(row=HEADER_ROW + 1, column=column)
            assert cell.number_format == "#,##0.0,,;[Red]-#,##0.0,,", (sheet, header)
            assert cell.value > 1e6  # kr., not mio. kr.


def test_every_kommune_can_be_looked_up_by_its_kommunekode(book) -> None:
    # the 98 codes of the kommune list, as numbers beside the names, in B1–B4
    reference = pl.read_csv(KOMMUNER)
    expected = dict(zip(reference["kommunekode"].to_list(), reference["kommune"].to_list(),
                        strict=True))  # fmt: skip
    for sheet in ("B1", "B2", "B3", "B4"):
        ws = book[sheet]
        found = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2).value
                 for r in range(HEADER_ROW + 1, HEADER_ROW + 105)}  # fmt: skip
        assert {k: v for k, v in found.items() if isinstance(k, int) and k < 1000} == expected
    assert book["Tabel 4"].cell(row=HEADER_ROW + 1, column=1).value == 187  # Vallensbæk


def test_values_are_unrounded_and_formatted_as_the_report(written, book) -> None:
    result, _ = written
    b1 = book["B1"]
    land = result.b1.row(0, named=True)
    activity = b1.cell(row=HEADER_ROW + 1, column=column_of(b1, "A. Aktivitets-\neffekt"))
    # stored unrounded (to the 15–17 significant digits a cell holds)
    assert activity.value == pytest.approx(land["aktivitetseffekt_pct"], rel=1e-14)
    assert activity.number_format == "0;[Red]-0"  # whole percent, negatives in red
    # ... as the analysis's B1, so its shown effects need not add up: the note says so
    [note] = [t for t in _texts(b1) if t.startswith("Anm.: ")]
    assert "Procenterne vises i hele tal" in note and "summer ikke altid" in note
    budget = b1.cell(row=HEADER_ROW + 1, column=column_of(b1, "Budget, mio. kr."))
    assert budget.value == pytest.approx(land["kmf_budget_kr"], rel=1e-14)  # kr., unrounded
    assert budget.number_format.startswith("#,##0.0,,;")  # shown in mio. kr.
    b2 = book["B2"]
    cell = b2.cell(row=HEADER_ROW + 1, column=column_of(b2, "80+ årige"))
    assert cell.value == pytest.approx(result.b2.row(0, named=True)["80+"], rel=1e-14)
    assert cell.number_format == "0.0;[Red]-0.0"
    rows = [r for r in range(HEADER_ROW + 1, b1.max_row + 1)
            if b1.cell(row=r, column=3).value is not None]  # fmt: skip
    assert len(rows) == result.b1.height == 1 + 5 + 98


def _decimals(fmt: str) -> int:
    first = fmt.split(";")[0].rstrip(",")
    return len(first.split(".")[1]) if "." in first else 0


def _scale(fmt: str) -> float:
    """What a format divides by: 1000 for each "," at the end of its first part."""
    first = fmt.split(";")[0]
    return 1000.0 ** (len(first) - len(first.rstrip(",")))


def test_a_value_that_shows_as_zero_is_black_and_unsigned(book) -> None:
    small_negatives = 0
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if not isinstance(cell.value, float):
                    continue
                decimals = _decimals(cell.number_format)
                if abs(cell.value) / _scale(cell.number_format) < 0.5 * 10**-decimals:
                    # both parts without a minus sign or a colour: 0 or 0,0 in black
                    assert "[Red]" not in cell.number_format and "-" not in cell.number_format
                    small_negatives += cell.value < 0
                elif cell.value < 0:
                    assert "[Red]-" in cell.number_format
    assert small_negatives > 10  # the sample has many (they showed as a red -0 before)


LIBREOFFICE_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse">
<value>{locale}</value></prop></item>
</oor:items>
"""


def _shown_by_libreoffice(path: Path, out: Path, locale: str, separator: str) -> dict[str, Path]:
    """Every sheet as LibreOffice shows it in ``locale`` (its own user profile sets the locale,
    and so do LANG/LC_ALL where the system has it), one CSV file per sheet, by sheet name."""
    profile = out / "profil"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(
        LIBREOFFICE_PROFILE.format(locale=locale), encoding="utf-8"
    )
    env = dict(os.environ)
    posix = locale.replace("-", "_") + ".UTF-8"
    known = ""
    if shutil.which("locale"):
        known = subprocess.run(["locale", "-a"], capture_output=True, text=True, check=False).stdout
    if posix.lower().replace("-", "") in known.lower().replace("-", "").split():
        env["LANG"] = env["LC_ALL"] = posix
    # CSV "as shown" (token 9), every sheet to its own file (token 12 = -1)
    options = f"{ord(separator)},34,76,1,,0,false,true,true,false,false,-1"
    done = subprocess.run(
        ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to",
         f"csv:Text - txt - csv (StarCalc):{options}", "--outdir", str(out), str(path)],
        capture_output=True, text=True, timeout=180, check=False, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return {f.stem.removeprefix(path.stem + "-"): f for f in out.glob("*.csv")}


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
@pytest.mark.parametrize(
    ("locale", "separator", "decimal", "thousands"),
    [("da-DK", ";", ",", "."), ("en-US", ",", ".", ",")],
)
def test_libreoffice_shows_the_national_a_and_no_negative_zero(
    written, tmp_path: Path, locale: str, separator: str, decimal: str, thousands: str
) -> None:
    result, path = written
    sheets = _shown_by_libreoffice(path, tmp_path, locale, separator)
    assert sorted(sheets) == sorted(SHEETS)
    with sheets["Tabel 1"].open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=separator))
    header = next(r for r in rows if len(r) > 1 and r[1] == "Region")
    land = next(r for r in rows if len(r) > 1 and r[1] == "Hele landet")
    a_shown = land[next(j for j, h in enumerate(header) if h.startswith("A. Aktivitets"))]
    kr_shown = land[header.index("Ændring, mio. kr.")]
    expected = result.b1.row(0, named=True)
    assert expected["niveau"] == "land"
    # one decimal with the locale's decimal sign, the value rounded (the sample's A is −4,946)
    assert re.fullmatch(rf"-?\d+{re.escape(decimal)}\d", a_shown), a_shown
    assert abs(float(a_shown.replace(decimal, ".")) - expected["aktivitetseffekt_pct"]) <= 0.05
    # mio. kr. with one decimal, the locale's thousands separator and decimal sign (the
    # sample's change is -3,1 mio. kr.; the budget 21.500,0 mio. kr.)
    assert re.fullmatch(rf"-?\d+{re.escape(decimal)}\d", kr_shown), kr_shown
    assert abs(float(kr_shown.replace(decimal, ".")) - expected["aendring_kr"] / 1e6) <= 0.05
    budget_shown = land[header.index("Budget, mio. kr.")]
    assert budget_shown == f"21{thousands}500{decimal}0", budget_shown
    shown = [c.strip() for f in sheets.values() for row in csv.reader(
        f.read_text(encoding="utf-8").splitlines(), delimiter=separator) for c in row]  # fmt: skip
    assert [c for c in shown if re.fullmatch(r"-0([.,]0+)?", c)] == []


def test_every_cell_is_in_calibri(book) -> None:
    fonts = {c.font.name for ws in book.worksheets for row in ws.iter_rows() for c in row
             if c.value is not None}  # fmt: skip
    assert fonts == {"Calibri"}


def _texts(ws: Worksheet) -> list[str]:
    return [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def test_every_table_has_its_notes_and_the_source_line(book) -> None:
    for sheet in TABLES:
        texts = _texts(book[sheet])
        sources = [t for t in texts if t.startswith("Kilde: ")]
        assert sources == [
            "Kilde: Egne beregninger med kmf "
            f"{kmf.__version__} efter Sundheds- og Ældreministeriets metode; eksempeldata, der "
            "følger med kmf, prognose pr. 10. september 2018."  # the sample's forecast date
        ], sheet
        assert any(t.startswith("Anm.: ") for t in texts), sheet
    assert any("Kilde: " in t for t in _texts(book["Figurer"]))


def test_tabel_1_and_4_to_6_define_the_change_and_speak_of_the_analysis(book) -> None:
    for sheet in ("Tabel 1", "Tabel 4", "Tabel 5", "Tabel 6"):
        note = next(t for t in _texts(book[sheet]) if t.startswith("Anm.: "))
        assert (
            "Ændringen er den forventede KMF-afregning 2018 (prognosen) minus budgettet "
            "(ØA18) i pct. af budgettet" in note
        ), sheet
        assert "A + B + C + Øvrige = ændringen" in note, sheet
        assert "rapportens" not in note, sheet
    assert "analysens rækkefølge" in next(
        t for t in _texts(book["Tabel 1"]) if t.startswith("Anm.: ")
    )


def test_tabel_2_explains_why_its_counts_exceed_the_kommuner(book) -> None:
    ws = book["Tabel 2"]
    land = HEADER_ROW + 6  # after the five regions
    assert ws.cell(row=land, column=2).value == "Hele landet"
    counts = [ws.cell(row=land, column=c).value for c in range(3, 7)]
    assert counts[0] == 98 and sum(counts[1:]) > 98  # a kommune counts under two effects
    note = next(t for t in _texts(ws) if t.startswith("Anm.: "))
    assert "overstige antallet af kommuner" in note


def test_tabel_1_to_3_run_the_regions_as_the_report_with_hele_landet_last(book) -> None:
    for sheet, start in (("Tabel 1", 5), ("Tabel 2", 5), ("Tabel 3", 6)):
        names = first_column(book[sheet], start)[:6]
        assert names == [*REGIONS, "Hele landet"], sheet


def test_tabel_3_has_the_blocks_negativt_and_positivt_bidrag(book) -> None:
    ws = book["Tabel 3"]
    assert {str(r) for r in ws.merged_cells.ranges} >= {"D4:F4", "G4:I4"}
    assert (ws["D4"].value, ws["G4"].value) == ("Negativt bidrag", "Positivt bidrag")
    headers = [ws.cell(row=5, column=c).value for c in range(3, 10)]
    assert headers[0] == "Antal kommuner"
    effects = ["A. Aktivitets-\neffekt", "B. Aldersgruppe-\neffekt", "C. Sundheds-\nområdeeffekt"]
    assert headers[1:4] == headers[4:7] == effects
    # each effect: negative + positive ≤ the kommuner of the row (zero counts in neither)
    for r in range(6, 12):
        row = [ws.cell(row=r, column=c).value for c in range(3, 10)]
        assert all(row[1 + i] + row[4 + i] <= row[0] for i in range(3))


def test_tabel_4_to_6_are_in_rank_order_with_hele_landet_below(book) -> None:
    for sheet in ("Tabel 4", "Tabel 5", "Tabel 6"):
        ws = book[sheet]
        ranks = [ws.cell(row=r, column=3).value for r in range(5, 15)]
        change = [ws.cell(row=r, column=4).value for r in range(5, 15)]
        assert ranks == sorted(ranks) and len(set(ranks)) == 10
        assert change == sorted(change, reverse=True)
        assert ws.cell(row=15, column=2).value == "Hele landet"
    assert [book["Tabel 5"].cell(row=r, column=3).value for r in (5, 14)] == [45, 54]


def test_b3_is_in_pct_point_and_its_empty_shares_stay_empty(tmp_path: Path, book) -> None:
    assert book["B3"]["A2"].value == "Pct.-point"
    rows = [
        r
        for r in random_rows([101, 147], 2020, seed=4)
        if not (r["kommunekode"] == 147 and r["aldersgruppe"] == "0-2" and r["aar"] == 2018)
    ]
    result = kmf.run(write_dataset(tmp_path / "d", rows, national_budget(rows, 2020)), aar=2020)
    result.write(tmp_path / "ud")
    ws = load_workbook(tmp_path / "ud" / "kmf_dekomponering_2020.xlsx")["B3"]
    row = next(r for r in ws.iter_rows(min_row=HEADER_ROW + 1) if r[1].value == "Frederiksberg")
    assert row[0].value == 147
    assert row[2].value is None  # 0-2: no production value in the budget


def test_figures_sheet_has_three_native_bar_charts_with_visible_axes(written, book) -> None:
    result, path = written
    with zipfile.ZipFile(path) as z:
        charts = sorted(n for n in z.namelist() if re.match(r"xl/charts/chart\d+\.xml", n))
        assert len(charts) == 3
        for name in charts:
            xml = z.read(name).decode()
            assert "<barChart>" in xml
            # (openpyxl writes "<x />" or "<x/>" as lxml is installed or not)
            assert len(re.findall(r'<delete val="0"\s*/>', xml)) == 2  # both axes shown
            # a one-line title in 10 pt (the sheet's title is 13 pt), black axis numbers
            assert re.search(r'<a:defRPr sz="1000" b="1"', xml)
            assert re.search(r'<numFmt formatCode="0.0" sourceLinked="0"\s*/>', xml)
    ws = book["Figurer"]
    values = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2).value
              for r in range(1, ws.max_row + 1)}  # fmt: skip
    assert values["Somatik"] == pytest.approx(result.b4.row(0, named=True)["somatik"], rel=1e-14)
    first_80 = next(ws.cell(row=r, column=2).value for r in range(1, ws.max_row + 1)
                    if ws.cell(row=r, column=1).value == "80+ årige")  # fmt: skip
    assert first_80 == pytest.approx(result.b2.row(0, named=True)["80+"], rel=1e-14)


def test_no_text_runs_under_a_chart_and_no_chart_is_split(book) -> None:
    ws = book["Figurer"]
    starts = sorted(c.anchor._from.row + 1 for c in ws._charts)  # 1-based first row
    chart_rows = 16  # 8 cm at the default row height of 0.53 cm, rounded up
    width_a = ws.column_dimensions["A"].width
    for start in starts:
        for r in range(start, start + chart_rows):
            value = ws.cell(row=r, column=1).value
            # column A's text fits column A: nothing overflows into the chart from D on
            assert value is None or len(str(value)) <= width_a
            assert all(ws.cell(row=r, column=c).value is None for c in range(3, 15))
        assert all(not start <= b.id < start + chart_rows - 1 for b in ws.row_breaks.brk)
    # Figur 1–3 on one page: no manual break, and no figure left alone on a page of its own
    assert len(ws.row_breaks.brk) == 0
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 1


def test_the_waterfalls_of_hele_landet_and_the_regions_are_in_the_workbook(written, book):
    _, path = written
    ws = book["Vandfald"]
    assert len(ws._images) == 6  # Hele landet and 5 regions
    rows = sorted(i.anchor._from.row for i in ws._images)
    for upper, lower in itertools.pairwise(rows):
        assert lower - upper >= 19  # 366 px = 18.3 rows of 20 px: no overlap
    with zipfile.ZipFile(path) as z:
        media = [n for n in z.namelist() if n.startswith("xl/media/")]
        folder = path.parent
        assert sorted(z.read(n) for n in media) == sorted(
            p.read_bytes() for p in folder.glob("vandfald_*.png")
        )


def test_method_sheet_is_an_upright_page_with_rows_tall_enough(book) -> None:
    ws = book["Metode"]
    assert ws.page_setup.orientation == "portrait"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    width = ws.column_dimensions["A"].width
    assert width <= 75  # fits an upright A4 page in a wide substitute font too
    wrapped = 0
    for (cell,) in ws.iter_rows(max_col=1):
        if isinstance(cell.value, str) and cell.alignment.wrap_text:
            wrapped += 1
            # Calibri 11 fits at most ~1,25 characters per unit of width, a line is 15 pt
            size = cell.font.sz
            lines = math.ceil(len(cell.value) / (1.25 * width * 11 / size))
            assert ws.row_dimensions[cell.row].height >= 1.3 * size * lines, cell.value[:40]
    assert wrapped > 10


def test_om_koersel_names_the_bundled_sample_and_fits_one_page(book) -> None:
    ws = book["Om kørslen"]
    facts = {r[0].value: r[1].value for r in ws.iter_rows(max_col=2) if r[0].value}
    assert facts["Datasæt"] == "eksempeldata, der følger med kmf"
    assert facts["Budgetår"] == "2018"
    assert facts["Opgørelsesdato"] == datetime(2018, 9, 10)  # a date cell, shown the Danish way
    assert facts["Senere datoer uden grundlag"] == "ingen"
    assert not any("site-packages" in t or str(kmf.sample_dataset()) in t for t in _texts(ws))
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 1


def test_text_that_looks_like_a_formula_is_written_as_text(tmp_path: Path) -> None:
    rows = random_rows([101], 2020, seed=1)
    folder = write_dataset(tmp_path / "d", rows, national_budget(rows, 2020))
    (folder / "kmf.toml").write_text('titel = "=HYPERLINK(\\"x\\")"\n', encoding="utf-8")
    kmf.run(folder, aar=2020).write(tmp_path / "ud")
    ws = load_workbook(tmp_path / "ud" / "kmf_dekomponering_2020.xlsx")["Om kørslen"]
    cell = next(r[1] for r in ws.iter_rows() if r[0].value == "Titel")
    assert cell.value == '=HYPERLINK("x")'
    assert cell.data_type == "s"
    facts = {r[0].value: r[1].value for r in ws.iter_rows(max_col=2) if r[0].value}
    assert facts["Datasæt"] == str(folder)  # a dataset of one's own: its folder


def test_tabel_2_counts_are_whole_numbers(written, book) -> None:
    result, _ = written
    ws = book["Tabel 2"]
    land = result.tabel(2).filter(pl.col("kode") == "DK").row(0, named=True)
    assert ws.cell(row=HEADER_ROW + 6, column=2).value == "Hele landet"
    assert ws.cell(row=HEADER_ROW + 6, column=3).value == land["antal_kommuner"] == 98
    assert ws.cell(row=HEADER_ROW + 6, column=3).number_format.split(";")[0] == "0"


@pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdftotext") is None,
    reason="LibreOffice or pdftotext is not installed",
)
def test_libreoffice_prints_the_workbook_page_by_page(written, tmp_path: Path) -> None:
    _, path = written
    done = subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    pdf = tmp_path / "kmf_dekomponering_2018.pdf"
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout.split("\f")  # fmt: skip
    pages = [p for p in pages if p.strip()]
    # "Om kørslen" is one page: the last, with the facts and the files
    assert pages[-1].lstrip().startswith("Om kørslen")
    assert "Program" in pages[-1] and "sha256" in pages[-1]
    assert "Om kørslen" not in pages[-2]
    # Tabel 1–3 each on one page, with its notes and source under it
    for number in (1, 2, 3):
        page = next(p for p in pages if p.lstrip().startswith(f"Tabel {number}."))
        assert "Anm.:" in page and "Kilde:" in page
    # the method box is one page, and no line of it is cut at the page's edge
    method = [p for p in pages if "Metode: ministeriet" in p]
    assert len(method) == 1
    # (compared without spaces and hyphens: lines break at either)
    printed = re.sub(r"[\s-]", "", method[0])
    for paragraph, _ in METHOD_TEXT:
        assert re.sub(r"[\s-]", "", paragraph) in printed, paragraph


def test_population_sheets_have_the_finish_of_the_others(book, written) -> None:
    """Befolkning and Borgere: title, unit, Kode and names, Anm. and Kilde under the table,
    kr. per indbygger in whole kr. and the indeks with one decimal (SPEC §9)."""
    result = written[0]
    ws = book["Borgere"]
    assert ws["A1"].value == "KMF pr. indbygger 2018 og indeks for alderssammensætningen"
    per_citizen = column_of(ws, "KMF pr. indbygger, kr.")
    indeks = column_of(ws, "Indeks")
    rows = result.borger.height
    assert first_column(ws, HEADER_ROW + 1)[:2] == ["Hele landet", "Region Hovedstaden"]
    land = ws.cell(row=HEADER_ROW + 1, column=indeks)
    assert land.value == 100.0 and land.number_format.startswith("0.0;")
    cph = ws.cell(row=HEADER_ROW + 3, column=per_citizen)
    assert cph.number_format.startswith("#,##0;")
    expected = result.borger.filter(pl.col("kode") == "101")["kmf_pr_indbygger_kr"][0]
    assert cph.value == pytest.approx(expected)
    below = [ws.cell(row=r, column=1).value or "" for r in range(HEADER_ROW + rows + 1,
                                                                  ws.max_row + 1)]  # fmt: skip
    assert any(v.startswith("Anm.:") for v in below)
    assert any(v.startswith("Kilde:") and "befolkning" in v for v in below)
    ws = book["Befolkning"]
    headers = [c.value for c in ws[HEADER_ROW]]
    assert headers[:8] == ["Kode", "Kommune/region", "Ændring i alt", "Flere/færre borgere",
                           "Alders-\nsammen-\nsætning", "Forbrug pr. borger",
                           "C1. Områdemiks", "C2. KMF-andel"]  # fmt: skip
    change = ws.cell(row=HEADER_ROW + 1, column=3)
    land = result.befolkning.row(0, named=True)
    assert change.value == pytest.approx(land["aendring_pct"])


def test_a_minus_in_the_summary_is_one_a_line_never_breaks_after(book) -> None:
    # Excel and LibreOffice may break a wrapped line after "-": "-4,9" would read "4,9" at the
    # start of the next line; the summary holds U+2212 instead, and ranges such as "0-2" and
    # words such as "KMF-andel" keep their hyphen
    texts = [t for t in _texts(book["Sammenfatning"]) if not t.startswith("Kilde:")]
    assert not [t for t in texts if re.search(r"(^|[\s(:])-\d", t)]
    assert any("\u22124,9 pct.-point" in t for t in texts)  # the national A, -4,946
    assert any("0-2" in t or "KMF-" in t for t in texts)


def _rows(ws: Worksheet) -> dict[str, dict[str, object]]:
    """A table sheet's rows by name (column B), as {header: value}."""
    headers = {c.column: c.value for c in ws[HEADER_ROW] if c.value}
    return {
        str(ws.cell(row=r, column=2).value): {h: ws.cell(row=r, column=c).value
                                              for c, h in headers.items()}
        for r in range(HEADER_ROW + 1, ws.max_row + 1)
        if isinstance(ws.cell(row=r, column=3).value, float)
    }  # fmt: skip


def test_the_final_settlement_and_last_year_are_in_the_workbook_as_the_text_gives_them(
    written, book
) -> None:
    result, path = written
    assert result.endelig is not None and result.sidste_aar is not None
    text = (path.parent / "sammenfatning.md").read_text(encoding="utf-8")
    rows = _rows(book["Afregning"])
    assert len(rows) == 1 + 5 + 98
    land = rows["Hele landet"]
    final = land["Endelig, mio. kr."]
    budget = result.b1.row(0, named=True)["kmf_budget_kr"]
    assert isinstance(final, float) and final > 1e9  # kr. in the cell, shown in mio. kr.
    # the text's final settlement and its difference from the budget, as the sheet shows them
    shown = f"{final / 1e6:,.1f}".replace(",", "_").replace(".", ",").replace("_", ".")
    assert f"afregningen for hele landet blev {shown} mio. kr." in text
    assert land["Endelig − budget, mio. kr."] == pytest.approx(final - budget, rel=1e-12)
    assert land["Endelig − budget, pct."] == pytest.approx(100 * (final - budget) / budget)
    # the error: (prognose - endelig) / endelig, in pct.
    forecast = land["Prognose, mio. kr."]
    assert land["Afvigelse, pct."] == pytest.approx(100 * (forecast - final) / final)
    assert book["Afregning"].cell(row=HEADER_ROW + 1, column=3).number_format.endswith(",,")
    # last year: every kommune's error, and the note counts those within 2 pct.
    last = _rows(book["Sidste år"])
    errors = [r["Afvigelse, pct."] for name, r in last.items()
              if not name.startswith("Region") and name != "Hele landet"]  # fmt: skip
    assert len(errors) == 98
    hits = sum(1 for e in errors if abs(e) <= 2)
    notes = [t for t in _texts(book["Sidste år"]) if t.startswith("Anm.: ")]
    assert f"inden for 2 pct. for {hits} af 98 kommuner." in notes[0]
    assert f"inden for 2 pct. af den endelige afregning for {hits} af 98 kommuner" in text
