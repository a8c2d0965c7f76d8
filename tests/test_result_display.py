"""A Result shows itself briefly in Python and as a small table in Jupyter; its tables are
reached by name or number; its CSV files can be written for Danish Excel."""

from __future__ import annotations

import codecs
import math
import pydoc
import re
from pathlib import Path

import polars as pl
import pytest

import kmf
from kmf.result import Result
from tests.test_cli import dataset

REGIONS = ("Region Hovedstaden", "Region Sjælland", "Region Syddanmark", "Region Midtjylland",
           "Region Nordjylland")  # fmt: skip


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> Result:
    return kmf.run(dataset(tmp_path_factory.mktemp("data"), n=12))


def danish(value: float) -> str:
    """One decimal, decimal comma, thousands dots, worked out here without kmf."""
    whole, decimals = f"{abs(value):.1f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    sign = "-" if value < 0 and f"{abs(value):.1f}" != "0.0" else ""
    return f"{sign}{'.'.join(groups)},{decimals}"


def test_repr_is_one_short_line(result: Result) -> None:
    text = repr(result)
    assert len(text) < 300 and "\n" not in text
    assert "budgetår 2021" in text and "metode ministeriet" in text
    assert "12 kommuner" in text and ".tabel(" in text
    # the budget in mio. kr. with one decimal, as the HTML view and the CLI show it
    land = result.b1.row(0, named=True)
    assert f"budget {danish(land['kmf_budget_kr'] / 1e6)} mio. kr." in text


def test_html_shows_hele_landet_and_the_regions_of_b1_as_in_the_report(result: Result) -> None:
    page = result._repr_html_()
    # 12 of 98 kommuner: the sums are named for what they are ("I alt, 12 kommuner",
    # "Region Hovedstaden (4 af 29 kommuner)")
    regions = result.b1.filter(pl.col("niveau") == "region")["navn"].to_list()
    assert {r.split(" (")[0] for r in regions} <= set(REGIONS) and len(regions) >= 3
    assert page.count("<tr>") == 1 + 1 + len(regions)  # header, the sum, the regions
    shown = re.findall(r"<td style='text-align:left'>(?:<b>)?([^<]*)<", page)
    assert shown == ["I alt, 12 kommuner", *regions]
    kommuner = result.b1.filter(pl.col("niveau") == "kommune")["navn"].to_list()
    assert not any(f">{name}<" in page for name in kommuner)
    land = result.b1.row(0, named=True)
    cells = re.findall(r"<td style='text-align:right'>([^<]*)</td>", page)
    assert danish(land["aendring_pct"]) in cells[:9]
    assert danish(land["kmf_budget_kr"] / 1e6) == cells[0]
    # no raw float anywhere: every number has one decimal after a comma
    assert all(re.fullmatch(r"[+-]?\d{1,3}(\.\d{3})*,\d", c) for c in cells if c), cells


def test_vis_shows_a_table_as_the_report_does(result: Result) -> None:
    from kmf.display import vis

    land = result.b1.head(1).select("navn", "kmf_budget_kr", "aendring_pct")
    page = vis(land)._repr_html_()
    assert "<th style='text-align:right'>Budget, kr.</th>" in page
    assert "<th style='text-align:right'>Ændring, pct.</th>" in page
    budget = round(land["kmf_budget_kr"][0])
    assert f">{budget:,}<".replace(",", ".") in page  # whole kroner, thousands dots
    assert f">{danish(land['aendring_pct'][0])}<" in page
    assert repr(vis(land)) == repr(land)


def test_tables_by_name_and_number(result: Result) -> None:
    assert result.tabel("B1") is result.b1
    assert result.tabel("b4") is result.b4
    for n in range(1, 7):
        assert result.tabel(n) is result.tabeller[n]
        assert result.tabel(str(n)) is result.tabeller[n]
    for wrong in ("B5", 7, "tabel 1", 0):
        with pytest.raises(KeyError, match=r"findes ikke\. Vælg en af") as info:
            result.tabel(wrong)
        # read as written: no quotes around the message, no escaped quotes inside it
        shown = str(info.value)
        assert shown.startswith(f"Tabel {wrong} findes ikke.") and "\\" not in shown
        assert 'resultat.tabel("B1")' in shown


def test_the_python_api_defaults_to_the_sample_like_the_cli() -> None:
    result = kmf.run()
    assert result.aar == 2018 and result.kommuner.height == 98
    assert kmf.spor().aar == 2018
    assert kmf.historik().aar == [2017, 2018, 2019]
    data = kmf.load()
    text = repr(data)
    assert "\n" not in text and len(text) < 200 and "DataFrame" not in text
    assert text.startswith("<kmf.Dataset: eksempeldata, der følger med kmf; aktivitet ")
    # what was read: the activity file and its rows, the cuts
    rows = sum(f.rows for f in data.files if f.table == "aktivitet")
    assert f"{rows:,} rækker i 1 fil".replace(",", ".") in text
    assert f"{data.cuts().height} opgørelser" in text


def test_what_a_user_reads_in_help_explains_itself() -> None:
    for thing in (kmf.run, Result, Result.write, Result.tabel):
        text = pydoc.render_doc(thing, renderer=pydoc.plaintext)
        assert "SPEC" not in text, thing
    assert 'pip install "kmf[pandas]"' in pydoc.render_doc(Result, renderer=pydoc.plaintext)


def test_danish_csv_opens_in_danish_excel_with_the_same_values(
    result: Result, tmp_path: Path
) -> None:
    standard, dansk = tmp_path / "standard", tmp_path / "dansk"
    result.write(standard)
    result.write(dansk, csv="dansk")
    for name in ("tabel_b1", "tabel_b3", "tabel_4"):
        raw = (dansk / f"{name}.csv").read_bytes()
        assert raw.startswith(codecs.BOM_UTF8)
        plain = (standard / f"{name}.csv").read_bytes()
        assert not plain.startswith(codecs.BOM_UTF8)
        lines = raw[3:].decode("utf-8").splitlines()
        assert lines[0] == plain.decode("utf-8").splitlines()[0].replace(",", ";")
        reference = pl.read_csv(standard / f"{name}.csv", schema_overrides={"kode": pl.String})
        assert len(lines) == reference.height + 1
        for line, row in zip(lines[1:], reference.iter_rows(), strict=True):
            fields = line.split(";")
            assert len(fields) == len(row)
            for field, value in zip(fields, row, strict=True):
                if isinstance(value, float):
                    assert "." not in field
                    number = float(field.replace(",", "."))
                    assert math.isclose(number, value, rel_tol=1e-12, abs_tol=1e-9)
                elif value is None:
                    assert field == ""
                else:
                    assert field.strip('"') == str(value)
    assert "I alt, 12 kommuner" in (dansk / "tabel_b1.csv").read_text(encoding="utf-8-sig")


def test_an_unknown_csv_format_is_refused_before_anything_is_written(
    result: Result, tmp_path: Path
) -> None:
    with pytest.raises(kmf.OutputError, match=r"'standard'.*'dansk'"):
        result.write(tmp_path / "ud", csv="excel")
    assert not (tmp_path / "ud").exists()


def test_a_dated_result_names_its_forecast_date(result: Result) -> None:
    dated = kmf.run(kmf.sample_dataset(), dato="10-06-2018")
    assert "budgetår 2018 pr. 10. juni 2018, metode" in repr(dated)  # Danish prose
    assert "KMF, budgetår 2018, prognosen pr. 10. juni 2018: ændring" in dated._repr_html_()
    # undated data: no date, and the caption as before
    assert " pr. " not in repr(result)
    assert "KMF, budgetår 2021: ændring" in result._repr_html_()
    # Hele landet's change of the sample rounds to 0,0 and is shown so, never as -0,0
    assert "ændring 0,0 pct." in repr(kmf.run(kmf.sample_dataset()))
