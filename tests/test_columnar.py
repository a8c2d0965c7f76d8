"""The columnar path (Parquet summed on integer codes) gives the cells a plain sum gives,
and hands anything unusual to the general path, which names the rows."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kmf
from kmf.io import columnar

AREAS = ["somatik", "psykiatri", "speciallaege", "almen_praksis", "oevrig_primaer"]
KOMMUNER = [101, 147, 265, 751, 825, 851, 860]
CUTS = [(2018, "foreloebig", 2018), (2017, "foreloebig", 2017), (2017, "endelig", 2017),
        (2016, "endelig", 2018)]  # fmt: skip


def age_group(age: int, area: str) -> str:
    if area == "psykiatri":
        return "ej_aldersdiff"
    return "0-2" if age <= 2 else "3-64" if age <= 64 else "65-79" if age <= 79 else "80+"


def add_records(expected: dict[tuple, list[float]], cut: tuple, rows: list[tuple]) -> None:
    """Add one cut's records to their cells by hand: amounts and a count per cell."""
    aar, opg, takst = cut
    for k, age, area, p, m in rows:
        cell = expected[(k, aar, opg, takst, age_group(age, area), area)]
        cell[0] += p
        cell[1] += m
        cell[2] += 1


def by_cell(cells: pl.DataFrame) -> dict[tuple, list[float]]:
    """kmf's cells as {cell key: [produktionsværdi, kmf, rows]}."""
    return {
        (r["kommunekode"], r["aar"], r["opgoerelse"], r["takstaar"], r["aldersgruppe"],
         r["sundhedsomraade"]): [r["produktionsvaerdi"], r["kmf"], r["rows"]]
        for r in cells.iter_rows(named=True)
    }  # fmt: skip


def with_corrections(rows: list[tuple]) -> list[tuple]:
    """Each record flagged for it is followed by a correction taking half of it back, so
    that records can be negative while every summed cell stays at or above zero."""
    out = []
    for k, age, area, p, m, corrected in rows:
        out.append((k, age, area, p, m))
        if corrected:
            out.append((k, age, area, -(p // 2), -(m // 2)))
    return out


records = st.lists(
    st.tuples(
        st.sampled_from(KOMMUNER),
        st.integers(0, 130),
        st.sampled_from(AREAS),
        st.integers(0, 1000),  # whole kroner: sums are exact in any order
        st.integers(0, 300),
        st.booleans(),
    ),
    min_size=1,
    max_size=100,
).map(with_corrections)


def write_cuts(folder: Path, per_cut: list[list[tuple]], categorical: bool) -> None:
    (folder / "aktivitet").mkdir(parents=True)
    for i, ((aar, opg, takst), rows) in enumerate(zip(CUTS, per_cut, strict=True)):
        k, age, area, p, m = zip(*rows, strict=True)
        frame = pl.DataFrame(
            {
                "kommunekode": pl.Series(k, dtype=pl.Int16),
                "aar": aar,
                "opgoerelse": opg,
                "takstaar": takst,
                "alder": pl.Series(age, dtype=pl.Int16),
                "sundhedsomraade": area,
                "produktionsvaerdi": pl.Series(p, dtype=pl.Float64),
                "kmf": pl.Series(m, dtype=pl.Float64),
            }
        )
        if categorical:
            frame = frame.with_columns(pl.col("sundhedsomraade").cast(pl.Categorical))
        frame.write_parquet(folder / "aktivitet" / f"del-{i}.parquet")
    pl.DataFrame({"aar": [2018], "kmf_budget_kr": [1e6]}).write_csv(folder / "budget.csv")


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each call of the columnar path gave sums (True) or passed (False)."""
    calls: list[bool] = []
    original = columnar.sum_files

    def recording(*args, **kwargs):
        out = original(*args, **kwargs)
        calls.extend(frame is not None for frame in out)
        return out

    monkeypatch.setattr(columnar, "sum_files", recording)
    return calls


@pytest.fixture(params=["numpy", "compiled"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Sum with numpy passes or with the compiled loop; the other one must not be called."""

    def unused(*args: object) -> None:
        raise AssertionError(f"the {request.param} engine was asked for")

    if request.param == "compiled":
        columnar._kernel()  # loaded before the sums: no batch is left to numpy meanwhile
        monkeypatch.setattr(columnar, "COMPILED_ROWS", 0)
        monkeypatch.setattr(columnar, "_add_numpy", unused)
    else:
        monkeypatch.setattr(columnar, "COMPILED_ROWS", 1 << 62)
        monkeypatch.setattr(columnar, "_kernel", unused)
    return str(request.param)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(per_cut=st.lists(records, min_size=4, max_size=4), categorical=st.booleans())
def test_cells_equal_a_plain_sum_of_the_records(
    per_cut: list[list[tuple]], categorical: bool, tmp_path_factory, spy: list[bool], engine: str
) -> None:
    folder = tmp_path_factory.mktemp("d")
    write_cuts(folder, per_cut, categorical)
    spy.clear()
    cells = kmf.load(folder).cells
    assert spy == [True] * 4  # every file took the columnar path
    expected: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for cut, rows in zip(CUTS, per_cut, strict=True):
        add_records(expected, cut, rows)
    assert by_cell(cells) == dict(expected)


def test_text_age_groups_with_spaces_and_a_moved_psykiatri_row(
    tmp_path: Path, spy: list[bool], engine: str
) -> None:
    rows = [(101, " 3-64", "somatik ", 100.0, 20.0), (101, "80+", "psykiatri", 50.0, 20.0),
            (101, "ej_aldersdiff", "psykiatri", 30.0, 12.0)]  # fmt: skip
    (tmp_path / "aktivitet").mkdir()
    for i, (aar, opg, takst) in enumerate(CUTS):
        k, age, area, p, m = zip(*rows, strict=True)
        pl.DataFrame(
            {"kommunekode": k, "aar": aar, "opgoerelse": opg, "takstaar": takst,
             "aldersgruppe": age, "sundhedsomraade": area, "produktionsvaerdi": p, "kmf": m}
        ).write_parquet(tmp_path / "aktivitet" / f"del-{i}.parquet")  # fmt: skip
    pl.DataFrame({"aar": [2018], "kmf_budget_kr": [1e6]}).write_csv(tmp_path / "budget.csv")
    data = kmf.load(tmp_path)
    assert spy == [True] * 4
    t = data.cells.filter(pl.col("aar") == 2018)
    assert t.select(
        "aldersgruppe", "sundhedsomraade", "produktionsvaerdi", "kmf", "rows"
    ).rows() == [
        ("3-64", "somatik", 100.0, 20.0, 1),
        ("ej_aldersdiff", "psykiatri", 80.0, 32.0, 2),
    ]
    assert data.psykiatri_moved == 4  # the 80+ psykiatri row, in each of the four cuts


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [
        ("alder", 131, "131"),
        ("alder", -1, "-1"),
        ("kommunekode", 999, "999"),
        ("kommunekode", 100, "100"),
        ("alder", None, r"\(tom\)"),
    ],
)
def test_a_bad_value_is_reported_by_the_general_path(
    tmp_path: Path, spy: list[bool], engine: str, column: str, value: object, shown: str
) -> None:
    rows = [[(101, 40, "somatik", 100, 20)] * 3 for _ in CUTS]
    write_cuts(tmp_path, rows, categorical=False)
    target = tmp_path / "aktivitet" / "del-2.parquet"
    frame = pl.read_parquet(target)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 1)
        .then(pl.lit(value, dtype=frame.schema[column]))
        .otherwise(pl.col(column))
        .alias(column)
    )
    frame.write_parquet(target)
    with pytest.raises(
        kmf.DataError, match=rf"del-2.parquet, kolonne '{column}'.*række 2: {shown}"
    ):
        kmf.load(tmp_path)
    assert spy.count(False) >= 1  # the bad file was passed on


def test_a_year_that_varies_within_a_file_takes_the_general_path(
    tmp_path: Path, spy: list[bool]
) -> None:
    rows = [[(101, 40, "somatik", 100, 20), (147, 70, "somatik", 10, 5)] for _ in CUTS]
    write_cuts(tmp_path, rows, categorical=False)
    # put both foreløbig cuts in one file: aar is no longer one value in it
    folder = tmp_path / "aktivitet"
    both = pl.concat(
        [pl.read_parquet(folder / "del-0.parquet"), pl.read_parquet(folder / "del-1.parquet")]
    )
    (folder / "del-1.parquet").unlink()
    both.write_parquet(folder / "del-0.parquet")
    cells = kmf.load(tmp_path).cells
    assert sorted(spy) == [False, True, True]
    assert cells.height == 8
    assert cells["rows"].sum() == 8


@pytest.mark.parametrize("group_rows", [16, 7])
def test_row_groups_parts_and_batches_add_up_to_a_plain_sum(
    tmp_path: Path, spy: list[bool], monkeypatch: pytest.MonkeyPatch, engine: str, group_rows: int
) -> None:
    """Many row groups, cut into several parts per file; with 16-row groups each group is
    also read in batches of 10. Unsigned kommunekoder and 64-bit ages on the way."""
    import random

    import pyarrow as pa
    import pyarrow.parquet as pq

    monkeypatch.setattr(columnar, "PART_ROWS", 40)
    monkeypatch.setattr(columnar, "BATCH_ROWS", 10)
    rng = random.Random(3)
    (tmp_path / "aktivitet").mkdir()
    expected: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for i, (aar, opg, takst) in enumerate(CUTS):
        rows = [(rng.choice(KOMMUNER), rng.randint(0, 130), rng.choice(AREAS),
                 rng.randint(0, 1000), rng.randint(0, 300)) for _ in range(203)]  # fmt: skip
        add_records(expected, (aar, opg, takst), rows)
        k, age, area, p, m = zip(*rows, strict=True)
        table = pa.table(
            {
                "kommunekode": pa.array(k, pa.uint16()),
                "aar": pa.array([aar] * len(rows), pa.int32()),
                "opgoerelse": [opg] * len(rows),
                "takstaar": pa.array([takst] * len(rows), pa.int32()),
                "alder": pa.array(age, pa.int64()),
                "sundhedsomraade": area,
                "produktionsvaerdi": pa.array(p, pa.float64()),
                "kmf": pa.array(m, pa.int64()),
            }
        )
        pq.write_table(
            table, tmp_path / "aktivitet" / f"del-{i}.parquet", row_group_size=group_rows
        )
    pl.DataFrame({"aar": [2018], "kmf_budget_kr": [1e6]}).write_csv(tmp_path / "budget.csv")
    cells = kmf.load(tmp_path).cells
    assert spy == [True] * 4
    assert by_cell(cells) == dict(expected)
