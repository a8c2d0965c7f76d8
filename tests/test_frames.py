"""Tables handed over from Python (``kmf.load({"aktivitet": df, "budget": df})``): the same
dataset as in files gives the same tables; the messages name the table, column and row."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

import kmf
from tests.factory import frame, national_budget, random_rows, write_dataset

YEAR = 2018
KOMMUNER = [101, 751, 851]


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return random_rows(KOMMUNER, YEAR, seed=3)


@pytest.fixture(scope="module")
def from_files(tmp_path_factory: pytest.TempPathFactory, rows: list[dict]) -> kmf.Result:
    folder = write_dataset(tmp_path_factory.mktemp("files"), rows, national_budget(rows, YEAR))
    return kmf.run(folder, aar=YEAR)


def test_polars_frames_give_the_tables_the_files_give(
    rows: list[dict], from_files: kmf.Result
) -> None:
    budget = pl.DataFrame(national_budget(rows, YEAR))
    result = kmf.run({"aktivitet": frame(rows), "budget": budget}, aar=YEAR)
    for name, table in from_files.named_tables().items():
        assert result.named_tables()[name].equals(table), name


def test_a_list_of_pandas_frames_is_read_as_one_table(
    rows: list[dict], from_files: kmf.Result
) -> None:
    whole = frame(rows).to_pandas()
    parts = [whole.iloc[:100], whole.iloc[100:250], whole.iloc[250:]]
    budget = pd.DataFrame(national_budget(rows, YEAR))
    result = kmf.run({"aktivitet": parts, "budget": budget}, aar=YEAR)
    assert result.b1.equals(from_files.b1)
    budget_rows = len(national_budget(rows, YEAR))
    assert [f.raekker_laest for f in result.manifest.filer] == [
        100,
        150,
        len(rows) - 250,
        budget_rows,
    ]


def test_a_lazy_frame_is_read_without_a_file(rows: list[dict], from_files: kmf.Result) -> None:
    budget = pl.DataFrame(national_budget(rows, YEAR)).lazy()
    result = kmf.run({"aktivitet": frame(rows).lazy(), "budget": budget}, aar=YEAR)
    assert result.b1.equals(from_files.b1)


def test_the_manifest_names_the_tables_and_claims_no_file(tmp_path: Path, rows: list[dict]) -> None:
    budget = pl.DataFrame(national_budget(rows, YEAR))
    result = kmf.run({"aktivitet": frame(rows), "budget": budget}, aar=YEAR)
    result.write(tmp_path / "ud")
    manifest = json.loads((tmp_path / "ud" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["datasaet"] is None
    files = manifest["filer"]
    assert [(f["tabel"], f["sti"], f["sha256"]) for f in files] == [
        ("aktivitet", None, None),
        ("budget", None, None),
    ]
    assert files[0]["raekker_laest"] == len(rows)


def test_a_bad_value_is_named_by_table_column_and_row(rows: list[dict]) -> None:
    activity = frame(rows).with_columns(
        pl.when(pl.int_range(pl.len()) == 7)
        .then(pl.lit(999, pl.Int64))
        .otherwise(pl.col("kommunekode"))
        .alias("kommunekode")
    )
    budget = pl.DataFrame(national_budget(rows, YEAR))
    with pytest.raises(kmf.DataError) as caught:
        kmf.load({"aktivitet": activity, "budget": budget})
    message = str(caught.value)
    # rows are counted from 0, as polars and pandas show them
    assert "Tabellen 'aktivitet', kolonne 'kommunekode'" in message
    assert "række 7: 999" in message


def test_a_missing_column_is_named(rows: list[dict]) -> None:
    budget = pl.DataFrame(national_budget(rows, YEAR))
    with pytest.raises(kmf.DataError, match="Tabellen 'aktivitet' mangler kolonnen 'kmf'"):
        kmf.load({"aktivitet": frame(rows).drop("kmf"), "budget": budget})


@pytest.mark.parametrize(
    ("tables", "expected"),
    [
        ({"aktivitet": pl.DataFrame()}, "'budget' mangler"),
        ({"aktivitet": [], "budget": pl.DataFrame()}, "tom liste"),
        ({"aktivitet": [1], "budget": pl.DataFrame()}, r"'aktivitet\[0\]' er en int"),
        ({"aktivitet": pl.DataFrame(), "budget": 2, "x": 1}, "ukendt nøgle: 'x'"),
    ],
)
def test_tables_in_the_wrong_shape_get_a_danish_message(tables: dict, expected: str) -> None:
    with pytest.raises(kmf.DataError, match=expected):
        kmf.load(tables)


def test_a_pandas_column_of_mixed_types_is_named() -> None:
    mixed = pd.DataFrame({"kommunekode": [101, "x"], "aar": [2018, 2018]})
    with pytest.raises(kmf.DataError, match="kolonne 'kommunekode' har værdier af blandede"):
        kmf.load({"aktivitet": mixed, "budget": pd.DataFrame({"aar": [2018]})})
