"""The workbooks of ``kmf spor`` and ``kmf historik`` on the bundled sample, as a reader sees
them: the facts of "Om kørslen", the accuracy sheet, the Kilde and Anm. lines, the layout."""

from __future__ import annotations

import math
from datetime import datetime

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

import kmf
from kmf.io import sample_dataset
from kmf.report.excel_style import DATE_FORMAT


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Workbook]:
    folder = tmp_path_factory.mktemp("tid")
    sample = sample_dataset()
    kmf.spor(sample).write(folder / "s")
    kmf.historik(sample).write(folder / "h")
    return {
        "spor": load_workbook(folder / "s" / "kmf_prognosespor_2018.xlsx"),
        "historik": load_workbook(folder / "h" / "kmf_historik.xlsx"),
    }


@pytest.mark.parametrize("name", ["spor", "historik"])
def test_about_names_the_sample_and_no_value_runs_into_the_next_row(books, name) -> None:
    ws = books[name]["Om kørslen"]
    facts = {r[0].value: r[1] for r in ws.iter_rows(max_col=2) if r[0].value}
    assert facts["Datasæt"].value == "eksempeldata, der følger med kmf"
    assert all(cell.data_type == "s" for cell in facts.values() if cell.value is not None)
    assert not any("site-packages" in str(c.value) for c in facts.values())
    width = ws.column_dimensions["B"].width
    for cell in facts.values():
        # Calibri 11 fits at most ~1,25 characters per unit of width, a line is 15 pt
        lines = math.ceil(len(str(cell.value or "")) / (1.25 * width))
        if lines > 1:
            assert cell.alignment.wrap_text
            assert ws.row_dimensions[cell.row].height >= 15 * lines, cell.value
    rows = {r[0].value: r[2].value for r in ws.iter_rows(max_col=3) if r[0].value}
    assert rows["kmf.toml"] is None  # a settings file: no rows to count
    assert rows["aktivitet"] > 0


def test_spor_about_lists_each_date_without_a_cut_on_its_own_row(books) -> None:
    ws = books["spor"]["Om kørslen"]
    keys = [r[0].value for r in ws.iter_rows(max_col=1) if r[0].value]
    lacking = [k for k in keys if k.startswith("Uden grundlag")]
    assert len(lacking) == 3  # the sample's 10 January, February and March 2018


def test_accuracy_sheet_is_a_table_of_dates_with_notes_for_each_column(books) -> None:
    ws = books["spor"]["Træfsikkerhed"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    flat = [str(v) for row in values for v in row if v is not None]
    assert "Kode" not in flat and "Enhed" not in flat
    header = [str(v or "").replace("\n", " ") for v in values[4]]
    assert header[0] == "Opgørelsesdato"
    assert values[3][0:3] == [None, "Hele landet", "Kommunerne"]
    assert "numerisk" in header[2] and "Median" in header[3] and "Største" in header[4]
    assert "pct. af kommunerne" in header[5]
    dates = [row[0] for row in values[5:] if isinstance(row[0], datetime)]
    assert len(dates) == 6  # the sample's six dates with a cut
    # a share of the 98 kommuner is a whole number of kommuner over 98, in pct.
    for row in values[5 : 5 + len(dates)]:
        assert 0 <= row[5] <= 100
        assert abs(row[5] * 98 / 100 - round(row[5] * 98 / 100)) < 1e-9
        assert row[2] <= row[4] and row[3] <= row[4]  # mean and median at most the largest
    anm = [t for t in flat if t.startswith(("Anm.", "Hele landet:", "Kommunerne:", "Inden"))]
    assert any("uden fortegn" in t for t in anm)  # numerisk is defined
    assert any("pct. af alle kommuner" in t for t in anm)
    assert flat[-1].startswith("Kilde:")


def test_dates_in_the_notes_and_facts_are_danish_prose(books) -> None:
    ws = books["spor"]["Om kørslen"]
    facts = {r[0].value: r[1].value for r in ws.iter_rows(max_col=2) if r[0].value}
    # the sample's T foreløbig dates with a cut: the 10th of April to September 2018
    months = ["april", "maj", "juni", "juli", "august", "september"]
    assert facts["Opgørelsesdatoer"] == ", ".join(f"10. {m} 2018" for m in months)
    assert facts["Endelig opgørelse (træfsikkerhed)"] == "10. april 2019"
    title = books["spor"]["Træfsikkerhed"]["A2"].value
    assert "pr. 10. april 2019" in title
    # the table cells are real dates, shown the same Danish way
    cell = books["spor"]["Prognosespor"]["C6"]
    assert cell.value == datetime(2018, 4, 10) and cell.number_format == DATE_FORMAT


@pytest.mark.parametrize("name", ["spor", "historik"])
def test_every_table_sheet_has_anm_and_a_kilde_naming_data_and_dates(books, name) -> None:
    book = books[name]
    for ws in book.worksheets:
        if ws.title == "Om kørslen":
            continue
        texts = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
        sources = [t for t in texts if t.startswith("Kilde:")]
        assert len(sources) == 1, ws.title
        source = sources[0]
        assert f"kmf {kmf.__version__}" in source
        assert "Sundheds- og Ældreministeriets metode" in source
        assert "eksempeldata, der følger med kmf" in source
        if name == "spor":  # the six dates with a cut, in Danish prose
            assert (
                "prognoser pr. 10. april, 10. maj, 10. juni, 10. juli, 10. august og "
                "10. september 2018" in source
            ), source
        else:
            assert "seneste opgørelsesdato" in source
        assert any(t.startswith("Anm.:") for t in texts), ws.title
        assert texts.index(source) == len(texts) - 1, ws.title  # the last line, as in the report


@pytest.mark.parametrize(("name", "sheet"), [("spor", "Prognosespor"), ("historik", "Historik")])
def test_only_hele_landet_is_bold_among_the_regions(books, name, sheet) -> None:
    ws = books[name][sheet]
    seen = {}
    for row in ws.iter_rows(min_row=5, max_col=4):
        if not isinstance(row[3].value, int | float):
            continue  # the header and the notes
        seen.setdefault(row[1].value == "Hele landet", set()).add(bool(row[1].font.bold))
        assert bool(row[3].font.bold) == bool(row[1].font.bold)
    assert seen == {True: {True}, False: {False}}


def test_every_page_of_all_units_begins_with_hele_landet_or_a_region(books) -> None:
    regions = {1081, 1082, 1083, 1084, 1085}
    for sheet in ("Alle enheder", "Træfsikkerhed, enheder"):
        ws = books["spor"][sheet]
        breaks = [b.id for b in ws.row_breaks.brk]
        assert len(breaks) >= 6, sheet  # six dates of 104 rows each
        for b in breaks:
            code, name = ws.cell(row=b + 1, column=1).value, ws.cell(row=b + 1, column=2).value
            assert code in regions or name == "Hele landet", (sheet, b, name)
        assert ws.print_title_rows == "$4:$4"
