"""What a konsulent prints or pastes, on the bundled sample: every PNG kmf writes is 150 dpi
and at least 1200 px wide (read from the PNG header), every date in every workbook is a real
date cell in one Danish form and fits its column, the kommune's "Bidrag" holds one table per
method whose sum row is the kommune's effect once, and the native waterfall carries its
numbers and says where its axis starts."""

from __future__ import annotations

import struct
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

import kmf
from kmf.danish import format_date
from kmf.report.excel_style import DATE_FORMAT
from kmf.report.figures import title_of
from kmf.report.kommune import kommune_page
from kmf.report.track import history_figure, track_figure

#: the longest date of the form, "30. september 2018"
LONGEST_DATE = len("30. september 2018")


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("print")
    data = kmf.load(kmf.sample_dataset())
    result = kmf.run(data)
    track, history = kmf.spor(data), kmf.historik(data)
    result.write(root / "run")
    track.write(root / "spor")
    history.write(root / "historik")
    kmf.kommune(result, 851, prognosespor=track, historik=history).write(root / "kommune")
    return {name: root / name for name in ("run", "spor", "historik", "kommune")}


def png_header(path: Path) -> tuple[int, int, float | None]:
    """Width and height in pixels (IHDR) and the resolution in dots per inch (pHYs, in
    pixels per metre), read straight from the file's chunks."""
    raw = path.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", raw[16:24])
    at, dpi = 8, None
    while at < len(raw):
        length, kind = struct.unpack(">I4s", raw[at : at + 8])
        if kind == b"pHYs":
            x, _, unit = struct.unpack(">IIB", raw[at + 8 : at + 17])
            assert unit == 1  # metres
            dpi = x * 0.0254
        if kind == b"IDAT":
            break
        at += 12 + length
    return width, height, dpi


def test_every_png_is_150_dpi_and_at_least_1200_px_wide(folders: dict[str, Path]) -> None:
    pngs = sorted(p for folder in folders.values() for p in folder.glob("*.png"))
    names = {p.name for p in pngs}
    # figur_1–3, the waterfalls, the track, its accuracy, the history, the kommune's page
    assert {"figur_1.png", "vandfald_DK.png", "figur_spor.png", "figur_traefsikkerhed.png",
            "figur_historik.png", "kommune_851.png"} <= names  # fmt: skip
    assert len(pngs) == 3 + 6 + 2 + 1 + 1
    for png in pngs:
        width, _, dpi = png_header(png)
        assert width >= 1200, png.name
        assert dpi is not None and abs(dpi - 150) < 0.5, (png.name, dpi)


def _cells(ws: Worksheet) -> list:  # type: ignore[type-arg]
    return [c for row in ws.iter_rows() for c in row if c.value is not None]


@pytest.mark.parametrize(
    ("folder", "book"),
    [("run", "kmf_dekomponering_2018.xlsx"), ("spor", "kmf_prognosespor_2018.xlsx"),
     ("historik", "kmf_historik.xlsx"), ("kommune", "kommune_851_2018.xlsx")],
)  # fmt: skip
def test_dates_are_date_cells_in_one_danish_form_that_fit_their_column(
    folders: dict[str, Path], folder: str, book: str
) -> None:
    wb = load_workbook(folders[folder] / book)
    dates = 0
    for ws in wb.worksheets:
        for cell in _cells(ws):
            if isinstance(cell.value, datetime):
                dates += 1
                assert cell.number_format == DATE_FORMAT, (ws.title, cell.coordinate)
                width = ws.column_dimensions[cell.column_letter].width
                merged = any(cell.coordinate in r for r in ws.merged_cells.ranges)
                assert merged or width >= LONGEST_DATE, (ws.title, cell.coordinate, width)
            elif isinstance(cell.value, str):
                # no date written as text in a table: ISO or "10/4 2018"
                text = cell.value.strip()
                assert not (len(text) == 10 and text[4] == "-" and text[7] == "-"
                            and text.replace("-", "").isdigit()), (ws.title, text)  # fmt: skip
                parts = text.split()
                assert not (len(parts) == 2 and "/" in parts[0] and parts[1].isdigit()
                            and parts[0].replace("/", "").isdigit()), (ws.title, text)  # fmt: skip
    # the sample is dated: each workbook shows at least one date (the history: none needed)
    assert dates > 0 or folder == "historik"


def test_the_form_is_the_one_texts_and_figures_use(folders: dict[str, Path]) -> None:
    # Excel's "[$-406]d. mmmm yyyy" is "10. april 2018": format_date's form
    assert DATE_FORMAT.endswith("d. mmmm yyyy") and "[$-406]" in DATE_FORMAT
    assert format_date(date(2018, 4, 10)) == "10. april 2018"
    spor = kmf.spor(kmf.sample_dataset())
    ticks = [t.get_text() for t in track_figure(spor).axes[0].get_xticklabels()]
    assert ticks[0] == "10. april 2018" and ticks[-1] == "10. september 2018"


def test_figures_name_the_method_in_words(folders: dict[str, Path]) -> None:
    data = kmf.load(kmf.sample_dataset())
    for figure in (track_figure(kmf.spor(data)), history_figure(kmf.historik(data))):
        texts = [t.get_text() for t in figure.axes[0].texts]
        assert any("efter ministeriets metode" in t for t in texts), texts
        assert not any("metode ministeriet" in t for t in texts)
    lmdi = track_figure(kmf.spor(data, metode="lmdi"))
    assert any("efter LMDI-metoden" in t.get_text() for t in lmdi.axes[0].texts)


def test_the_kommune_page_title_stands_clear_and_is_said_once(folders: dict[str, Path]) -> None:
    result = kmf.run(kmf.sample_dataset())
    figure = kommune_page(kmf.kommune(result, 851))
    suptitle = figure.get_suptitle()
    assert suptitle.startswith("Aalborg (Region Nordjylland): KMF-prognosen 2018 pr. 10.")
    figure.canvas.draw()
    box = figure._suptitle.get_window_extent()  # type: ignore[union-attr]
    width, height = figure.bbox.width, figure.bbox.height
    # at least 0.15 inch from the left and the top edge
    assert box.x0 >= 0.15 * figure.dpi and height - box.y1 >= 0.05 * figure.dpi
    assert box.x1 <= width
    waterfall_title = title_of(figure)
    assert "Aalborg" not in waterfall_title  # the page's title names the kommune once
    labels = [t.get_text() for t in figure.axes[1].get_xticklabels()]
    assert labels[0] == "0-2 årige" and "Ej aldersdiff." in labels


def _block(ws: Worksheet, title_start: str) -> tuple[list[str], list[list[object]]]:
    """The header and rows (up to the sum row, included) of the table under the bold
    heading that starts with ``title_start``."""
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    at = next(
        i for i, r in enumerate(rows) if isinstance(r[0], str) and r[0].startswith(title_start)
    )
    at = next(i for i in range(at + 1, len(rows)) if rows[i][0] == "Aldersgruppe")  # a note
    header = [str(v) for v in rows[at] if v is not None]
    body = []
    for r in rows[at + 1 :]:
        body.append(r[: len(header)])
        if r[0] == "I alt":
            break
    return header, body


def _aalborg(folders: dict[str, Path], sheet: str) -> tuple[Worksheet, dict[str, Any]]:
    """A sheet of Aalborg's workbook, and Aalborg's row of the run's tabel_b1.csv."""
    ws = load_workbook(folders["kommune"] / "kommune_851_2018.xlsx")[sheet]
    b1 = pl.read_csv(folders["run"] / "tabel_b1.csv", schema_overrides={"kode": pl.String})
    return ws, b1.filter(pl.col("kode") == "851").row(0, named=True)


def test_bidrag_has_one_table_per_method_whose_sum_is_the_kommune_effect(
    folders: dict[str, Path],
) -> None:
    ws, own = _aalborg(folders, "Bidrag")
    assert any("numeriske værdi af A + B + C" in str(c.value) for c in _cells(ws))
    for start, cells in (("Ministeriets metode", 5), ("En anden beregning (LMDI)", 17)):
        header, body = _block(ws, start)
        assert len(body) == cells + 1 and body[-1][0] == "I alt"
        col = {h: j for j, h in enumerate(header)}
        rows, total = body[:-1], body[-1]
        for key in ("A, mio. kr.", "B, mio. kr.", "C, mio. kr.", "I alt, mio. kr."):
            assert total[col[key]] == pytest.approx(sum(r[col[key]] for r in rows), rel=1e-12)
        for r in rows:  # each row's total is its A + B + C
            parts = sum(r[col[k]] for k in ("A, mio. kr.", "B, mio. kr.", "C, mio. kr."))
            assert r[col["I alt, mio. kr."]] == pytest.approx(parts, rel=1e-9, abs=1e-3)
        # largest first: by the size of A + B + C
        sizes = [abs(r[col["I alt, mio. kr."]]) for r in rows]
        assert sizes == sorted(sizes, reverse=True)
        if start == "Ministeriets metode":
            # exact: the age groups sum to the kommune's A, B and C of B1
            for key, column in (("A, mio. kr.", "aktivitetseffekt_kr"),
                                ("B, mio. kr.", "aldersgruppeeffekt_kr"),
                                ("C, mio. kr.", "sundhedsomraadeeffekt_kr")):  # fmt: skip
                assert total[col[key]] == pytest.approx(own[column], rel=1e-9)
        else:
            for r in rows:  # C = C1 + C2 in every cell
                parts = r[col["C1, mio. kr."]] + r[col["C2, mio. kr."]]
                assert r[col["C, mio. kr."]] == pytest.approx(parts, rel=1e-9, abs=1e-3)


def test_the_native_waterfall_has_data_labels_and_says_where_its_axis_starts(
    folders: dict[str, Path],
) -> None:
    ws = load_workbook(folders["kommune"] / "kommune_851_2018.xlsx")["Overblik"]
    # openpyxl does not read charts back; read the chart's XML from the file
    from zipfile import ZipFile

    with ZipFile(folders["kommune"] / "kommune_851_2018.xlsx") as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    waterfall = next(c for c in charts if "fra budget til prognose" in c)
    assert waterfall.count("<c:dLbls>") + waterfall.count("<dLbls>") == 3
    assert waterfall.count('<c:showVal val="1"') + waterfall.count('<showVal val="1"') == 3
    start = float(waterfall.split("<c:min val=\"")[1].split('"')[0]) if "<c:min val=" in \
        waterfall else float(waterfall.split('<min val="')[1].split('"')[0])  # fmt: skip
    if start > 0:
        said = f"aksen starter ved {start:.0f}"
        assert said in waterfall  # the axis title
        assert any(f"Aksen starter ved {start:.0f}" in str(c.value) for c in _cells(ws))


def test_om_koersel_says_which_rows_are_not_used_and_why(folders: dict[str, Path]) -> None:
    ws = load_workbook(folders["run"] / "kmf_dekomponering_2018.xlsx")["Om kørslen"]
    facts = {r[0]: r[1] for r in ws.iter_rows(max_col=2, values_only=True) if r[0]}
    reasons = {k.strip(): v for k, v in facts.items() if k.startswith("  ")}
    # the sample's budget year 2019 (9 dates × 1.666 rows), counted from the file itself
    rows = pl.read_csv(kmf.sample_dataset() / "aktivitet.csv")
    later = rows.filter(pl.col("aar") == 2019).height
    shown = f"{later:,}".replace(",", ".")
    assert reasons["2019 foreløbig, 2019-takster"].startswith(f"{shown} rækker")
    assert "et andet år" in reasons["2019 foreløbig, 2019-takster"]
    # the reasons' rows add up to the rows not used
    counted = sum(int(v.split(" rækker")[0].replace(".", "")) for v in reasons.values())
    assert counted == facts["Rækker, der ikke bruges"]


def test_the_track_says_which_rows_it_leaves_out_and_why(folders: dict[str, Path]) -> None:
    ws = load_workbook(folders["spor"] / "kmf_prognosespor_2018.xlsx")["Om kørslen"]
    facts = {r[0]: r[1] for r in ws.iter_rows(max_col=2, values_only=True) if r[0]}
    reasons = {k.strip(): v for k, v in facts.items() if k.startswith("  ")}
    counted = sum(int(v.split(" rækker")[0].replace(".", "")) for v in reasons.values())
    assert counted == int(facts["Rækker, der ikke bruges"].replace(".", ""))
    # the sample's January–March 2018 cuts: dates without a basis (2017 endelig is from April)
    said = reasons["2018 foreløbig, 2018-takster"]
    assert "3 datoer fra 10. januar 2018 til 10. marts 2018" in said
    assert "uden grundlag" in said


def test_the_activity_by_area_shows_mio_kr_with_thousands_and_holds_kr(
    folders: dict[str, Path],
) -> None:
    ws, own = _aalborg(folders, "Fordelinger")
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    at = next(i for i, r in enumerate(rows) if str(r[0]).startswith("Aktivitetseffekten fordelt"))
    end = next(i for i in range(at, len(rows)) if rows[i][0] == "I alt")
    areas, total = rows[at + 2 : end], rows[end]
    assert len(areas) == 5  # the five sundhedsområder, then their sum
    # the cells hold kr.: the areas' effects (the third amount) sum to the kommune's A of B1
    assert total[3] == pytest.approx(own["aktivitetseffekt_kr"], rel=1e-9)
    assert sum(r[3] for r in areas) == pytest.approx(own["aktivitetseffekt_kr"], rel=1e-9)
    formats = {ws.cell(row=end + 1, column=j).number_format for j in (2, 3, 4)}
    assert formats == {"#,##0.0,,;[Red]-#,##0.0,,"}  # 1.045,5 mio. kr., not 1045,5
