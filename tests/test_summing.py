"""Records are summed into cells so that the order, the files and the format change nothing,
to the last bit (README, "Dataformat"): amounts in øre and fractions of an øre, negative
corrections, in any order, split over several Parquet files or in one CSV file."""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kmf
from kmf import codes
from tests.test_columnar import AREAS, CUTS, age_group, by_cell

KOMMUNER = [101, 147, 851]

# amounts as a bookkeeper writes them: whole øre, tenths of an øre and anything in between
amounts = st.one_of(
    st.integers(0, 10**9).map(lambda ore: ore / 100),
    st.integers(0, 10**10).map(lambda tenth: tenth / 1000),
    st.floats(0, 1e7, allow_nan=False, allow_infinity=False),
)


@st.composite
def records(draw: st.DrawFn) -> list[tuple]:
    """(cut, kommune, age, area, produktionsværdi, kmf) records; a record may be followed by
    a negative correction taking part of it back, so that every cell stays at or above 0."""
    out = []
    for _ in range(draw(st.integers(1, 40))):
        cut = draw(st.sampled_from(CUTS))
        key = (draw(st.sampled_from(KOMMUNER)), draw(st.integers(0, 130)),
               draw(st.sampled_from(AREAS)))  # fmt: skip
        p, m = draw(amounts), draw(amounts)
        out.append((cut, *key, p, m))
        if draw(st.booleans()):
            part = draw(st.sampled_from([1.0, 0.5, 0.1, 1 / 3]))
            out.append((cut, *key, -p * part, -m * part))
    # every cut present, so the dataset loads
    out.extend((cut, 101, 40, "somatik", 0.01, 0.01) for cut in CUTS)
    return out


def _frame(rows: list[tuple]) -> pl.DataFrame:
    cut, k, age, area, p, m = zip(*rows, strict=True)
    return pl.DataFrame(
        {
            "kommunekode": pl.Series(k, dtype=pl.Int64),
            "aar": [c[0] for c in cut],
            "opgoerelse": [c[1] for c in cut],
            "takstaar": [c[2] for c in cut],
            "alder": pl.Series(age, dtype=pl.Int64),
            "sundhedsomraade": area,
            "produktionsvaerdi": pl.Series(p, dtype=pl.Float64),
            "kmf": pl.Series(m, dtype=pl.Float64),
        }
    )


def _cells(folder: Path, rows: list[tuple], parts: int, fmt: str) -> dict[tuple, list[float]]:
    folder.mkdir()
    pl.DataFrame({"aar": [2018], "kmf_budget_kr": [1e6]}).write_csv(folder / "budget.csv")
    if fmt == "csv":
        _frame(rows).write_csv(folder / "aktivitet.csv")
    else:
        (folder / "aktivitet").mkdir()
        for i in range(parts):
            chunk = rows[i::parts]
            if chunk:
                _frame(chunk).write_parquet(folder / "aktivitet" / f"del-{i}.parquet")
    return by_cell(kmf.load(folder).cells)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=records(), order=st.randoms(use_true_random=False), parts=st.integers(1, 4))
def test_any_order_and_any_files_give_the_same_cells_to_the_last_bit(
    rows: list[tuple], order: random.Random, parts: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    shuffled = list(rows)
    order.shuffle(shuffled)
    base = tmp_path_factory.mktemp("sum")
    one_csv = _cells(base / "csv", rows, 1, "csv")
    shuffled_parquet = _cells(base / "parquet", shuffled, parts, "parquet")
    assert shuffled_parquet == one_csv  # exact: the README promises the last digit
    # and the cells are the plain sums, each record moved by at most half a step
    expected: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for (aar, opg, takst), k, age, area, p, m in rows:
        cell = expected[(k, aar, opg, takst, age_group(age, area), area)]
        cell[0] += p
        cell[1] += m
        cell[2] += 1
    assert set(one_csv) == set(expected)
    for key, (p, m, n) in expected.items():
        got = one_csv[key]
        assert got[2] == n
        slack = n * 0.5 / codes.AMOUNT_STEPS + 1e-15 * (abs(p) + abs(m) + 1e7) * n
        assert abs(got[0] - p) <= slack and abs(got[1] - m) <= slack, (key, got, p, m)


def _one_cell(folder: Path, amounts: list[float]) -> None:
    rows = [(cut, 101, 40, "somatik", 1000.0, 200.0) for cut in CUTS]
    rows += [(CUTS[0], 101, 85, "somatik", v, v) for v in amounts]
    folder.mkdir()
    _frame(rows).write_csv(folder / "aktivitet.csv")
    pl.DataFrame({"aar": [2018], "kmf_budget_kr": [1e3]}).write_csv(folder / "budget.csv")


def test_records_that_cancel_are_a_cell_of_zero_not_a_negative_one(tmp_path: Path) -> None:
    # 3 × 0,07 − 0,21 kr. is 0; on the grid the four records round to −1 step (0,07 kr. is
    # 73400,32 steps, down to 73400; −0,21 kr. is −220200,96, down to −220201)
    _one_cell(tmp_path / "nul", [0.07, 0.07, 0.07, -0.21])
    cells = kmf.load(tmp_path / "nul").cells.filter(pl.col("aldersgruppe") == "80+")
    # within the slack it is 0, not −1 step: the methods take shares and logarithms of it
    assert cells["kmf"].item() == 0.0 and cells["produktionsvaerdi"].item() == 0.0
    # one øre below zero is negative
    _one_cell(tmp_path / "minus", [0.07, 0.07, 0.07, -0.22])
    with pytest.raises(kmf.DataError, match="summer til et negativt beløb"):
        kmf.load(tmp_path / "minus")


def test_a_cell_a_step_below_zero_goes_through_every_method_as_zero(tmp_path: Path) -> None:
    """1 + 1 − (2 + 2⁻²⁰) kr. is one grid step below 0: within the slack, so the run goes on,
    and every method (LMDI's logarithms too) sees the 80+ cell as 0, the same as without the
    three records."""
    budget = pl.DataFrame({"aar": [2018], "kommunekode": [101], "kmf_budget_kr": [210.0]})
    results = []
    for name, extra in (("med", [1.0, 1.0, -(2 + 2**-20)]), ("uden", [])):
        folder = tmp_path / name
        _one_cell(folder, extra)
        budget.write_csv(folder / "budget.csv")
        results.append(kmf.run(folder, aar=2018, metode="alle"))
    with_three, without = results
    assert with_three.metoder.equals(without.metoder)
    assert with_three.b1.equals(without.b1)


def test_a_correction_in_a_file_read_before_the_record_it_corrects(tmp_path: Path) -> None:
    """Three Parquet files: one holds every cut (read whole at once) with a correction of
    -400 kr. to a base cell; one holds only the base cut (known from its metadata, read when
    the run asks for that cut) with the record of 1000 kr. it corrects. The cell is 600 kr.,
    not a negative one: the run gives what one CSV file of the same records gives."""
    from tests.factory import national_budget, random_rows, write_dataset

    rows = random_rows([101, 851], 2020, seed=3, extra_cut=False)
    base = [r for r in rows if (r["aar"], r["takstaar"]) == (2018, 2020)]
    others = [r for r in rows if (r["aar"], r["takstaar"]) != (2018, 2020)]
    record = {**base[0], "produktionsvaerdi": 1000.0, "kmf": 500.0}
    correction = {**base[0], "produktionsvaerdi": -400.0, "kmf": -200.0}
    budget = national_budget(rows, 2020)
    one = write_dataset(tmp_path / "csv", [*others, *base[1:], record, correction], budget)
    split = write_dataset(tmp_path / "parquet", rows[:1], budget, "parquet")
    (split / "aktivitet.parquet").unlink()
    (split / "aktivitet").mkdir()
    pl.DataFrame([*others, correction]).write_parquet(split / "aktivitet" / "a.parquet")
    pl.DataFrame([*base[1:], record]).write_parquet(split / "aktivitet" / "b.parquet")
    whole, parts = kmf.run(one, aar=2020), kmf.run(split, aar=2020)
    assert parts.b1.equals(whole.b1)
