"""The exact methods (LMDI, Shapley) and the generic engine ``product_effects``.

Expected values: published worked examples (named per test), closed forms worked by hand,
and ``tests.oracle`` (Shapley by enumerating all 24 orders, LMDI cell by cell).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from typer.testing import CliRunner

import kmf
from kmf.cli import app
from kmf.compute.decompose import log_mean, product_effects
from tests import oracle
from tests.factory import frame, write_dataset
from tests.test_properties import Recipe, datasets, scratch

# --- published worked examples -------------------------------------------------------------


def test_das_gupta_example_2_2_austria_chile() -> None:
    # Das Gupta (1993), Standardization and Decomposition of Rates: A User's Manual, example
    # 2.2: crude birth rate = births per 1000 women 15-49 × share of women aged 15-49 × share
    # of women, Austria vs Chile 1981. Effects as printed in the README of the R package
    # DasGuptR: 10.4340333, 10.5608476, -0.6670084 (crude rates 12.51747 and 32.84534).
    austria = [[51.78746, 0.45919, 0.52638]]
    chile = [[84.90502, 0.75756, 0.51065]]
    effects = product_effects(austria, chile, "shapley")
    assert effects == pytest.approx([10.4340333, 10.5608476, -0.6670084], abs=5e-8)
    assert effects.sum() == pytest.approx(32.84534 - 12.51747, abs=1e-5)


def test_das_gupta_example_2_1_two_factors() -> None:
    # Das Gupta (1993) example 2.1 (DasGuptR README): average earnings × share of earners,
    # black vs white: effects 4369.913 and 1487.262.
    effects = product_effects([[10930, 0.717892]], [[16591, 0.825974]], "shapley")
    assert effects == pytest.approx([4369.913, 1487.262], abs=5e-4)


def test_lmdir_simple_example_1971_1972() -> None:
    # The R package LMDIR, create_simple_LMDI(): two subcategories × three factors,
    # 1971 → 1972; its tests expect the additive LMDI-I effects 69.79006598, -9.455125793,
    # 39.66505981 (total change 100).
    x1971 = [[1, 10, 2], [4, 5, 3]]
    x1972 = [[4, 5, 3], [5, 6, 4]]
    effects = product_effects(x1971, x1972, "lmdi")
    assert effects == pytest.approx([69.79006598, -9.455125793, 39.66505981], abs=5e-9)
    assert effects.sum() == pytest.approx(100)


# --- the engine ------------------------------------------------------------------------


def test_log_mean_is_stable_and_continuous() -> None:
    assert log_mean(np.array(5.0), np.array(5.0)) == 5.0
    assert log_mean(np.array(np.e), np.array(1.0)) == pytest.approx(np.e - 1)
    # near a = b the naive (a − b)/(ln a − ln b) loses digits; the mean tends to a
    assert log_mean(np.array(1 + 1e-13), np.array(1.0)) == pytest.approx(1.0, abs=1e-12)


def test_ministry_method_has_a_residual_that_closes_the_sum() -> None:
    base, fore = [[2.0, 3.0], [1.0, 4.0]], [[3.0, 5.0], [2.0, 2.0]]
    out = product_effects(base, fore, "ministeriet")
    # total change: (15 + 4) − (6 + 4) = 9; factor 1 at base: 2·5 + 1·2 = 12 → 19 − 12 = 7;
    # factor 2 at base: 3·3 + 2·4 = 17 → 2; residual 9 − 7 − 2 = 0
    assert out == pytest.approx([7, 2, 0])


def test_a_cell_that_appears_goes_to_the_factor_that_was_zero() -> None:
    base = [[1.0, 0.0, 2.0], [1.0, 1.0, 1.0]]
    fore = [[2.0, 3.0, 2.0], [1.0, 1.0, 1.0]]
    assert product_effects(base, fore, "lmdi") == pytest.approx([0, 12, 0])
    # Shapley: factor 2 must move for the cell to exist; factor 1 doubles it in half the
    # orders (when it moves after factor 2): (2·3·2 − 1·3·2)/2 = 3, so 3 and 9
    assert product_effects(base, fore, "shapley") == pytest.approx([3, 9, 0])


arrays = st.integers(1, 4).flatmap(
    lambda cells: st.integers(1, 4).flatmap(
        lambda k: st.tuples(
            st.lists(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.7]), min_size=k,
                              max_size=k), min_size=cells, max_size=cells),
            st.lists(st.lists(st.sampled_from([0.0, 0.25, 1.0, 1.5, 9.0]), min_size=k,
                              max_size=k), min_size=cells, max_size=cells),
        )
    )
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(arrays)
def test_exact_methods_sum_to_the_change_and_flip_when_swapped(pair) -> None:
    base, fore = np.array(pair[0]), np.array(pair[1])
    change = fore.prod(axis=-1).sum() - base.prod(axis=-1).sum()
    for method in ("lmdi", "shapley"):
        forward = product_effects(base, fore, method)
        assert forward.sum() == pytest.approx(change, rel=1e-9, abs=1e-12)
        backward = product_effects(fore, base, method)
        assert backward == pytest.approx(-forward, rel=1e-12, abs=1e-12)
    ministry = product_effects(base, fore, "ministeriet")
    assert ministry.sum() == pytest.approx(change, rel=1e-9, abs=1e-12)


# --- KMF: the exact methods against the oracle ----------------------------------------------

PROPERTY = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _b1(recipe: Recipe, method: str) -> tuple[pl.DataFrame, dict]:
    rows, budget, as_oracle = recipe.build()
    with scratch() as folder:
        write_dataset(folder, rows, budget, "parquet")
        b1 = kmf.run(folder, aar=recipe.year, metode=method).b1
    return b1, oracle.cells(rows, recipe.year, as_oracle)


@PROPERTY
@given(datasets(), st.sampled_from(["lmdi", "shapley"]))
def test_exact_methods_match_the_oracle_and_leave_no_residual(recipe: Recipe, method) -> None:
    b1, cells = _b1(recipe, method)
    rows = {r["kode"]: r for r in b1.iter_rows(named=True)}
    columns = ("aktivitetseffekt_kr", "aldersgruppeeffekt_kr", "omraademikseffekt_kr",
               "andelseffekt_kr")  # fmt: skip
    for k, unit_cells in cells.items():
        expected = getattr(oracle, method)(unit_cells)
        row = rows[str(k)]
        scale = abs(row["kmf_budget_kr"])
        for column, value in zip(columns, expected, strict=True):
            # 1e-8 of the budget: shares near 0 and 1 make the logarithms ill-conditioned
            assert abs(row[column] - value) <= 1e-8 * scale, (k, column, row[column], value)
        assert row["sundhedsomraadeeffekt_kr"] == pytest.approx(
            row["omraademikseffekt_kr"] + row["andelseffekt_kr"], rel=1e-12, abs=1e-6
        )
    for row in b1.iter_rows(named=True):  # regions and land too
        parts = sum(row[c] for c in ("aktivitetseffekt_kr", "aldersgruppeeffekt_kr",
                                     "sundhedsomraadeeffekt_kr"))  # fmt: skip
        assert abs(parts - row["aendring_kr"]) <= 1e-9 * row["kmf_budget_kr"]
        assert abs(row["oevrige_kr"]) <= 1e-9 * row["kmf_budget_kr"]


def test_cells_and_age_groups_that_appear_or_vanish(tmp_path: Path) -> None:
    recipe = Recipe(2019, (101, 851), seed=7, empty_share=0.0, national=True, level=1.0)
    rows, budget, as_oracle = recipe.build()
    # Aalborg's 0-2 group vanishes in the forecast; København's 80+ speciallæge appears
    rows = [r for r in rows if not (r["kommunekode"] == 851 and r["aldersgruppe"] == "0-2"
                                    and r["aar"] == 2019)
            and not (r["kommunekode"] == 101 and r["aldersgruppe"] == "80+"
                     and r["sundhedsomraade"] == "speciallaege" and r["aar"] == 2017)]  # fmt: skip
    write_dataset(tmp_path, rows, budget)
    cells = oracle.cells(rows, 2019, as_oracle)
    for method in ("lmdi", "shapley"):
        b1 = kmf.run(tmp_path, aar=2019, metode=method).b1
        for k in (101, 851):
            row = b1.filter(pl.col("kode") == str(k)).row(0, named=True)
            expected = getattr(oracle, method)(cells[k])
            assert row["aldersgruppeeffekt_kr"] == pytest.approx(expected[1], rel=1e-9)
            assert row["omraademikseffekt_kr"] == pytest.approx(expected[2], rel=1e-9, abs=1e-3)
            assert abs(row["oevrige_kr"]) <= 1e-9 * row["kmf_budget_kr"]


def _one_kommune(tmp_path: Path, change: str) -> pl.DataFrame:
    """Kommune 101 whose forecast differs from the budget in one factor only.

    Budget = forecast cells except: ``activity`` doubles every production value and KMF
    (P changes, shares stay); ``share`` raises every cell's KMF by 10 % (only r changes).
    f = 1 and g = 1, so the budget cells are the base cells as given.
    """
    base = {("3-64", "somatik"): (1000.0, 200.0), ("80+", "almen_praksis"): (300.0, 45.0),
            ("ej_aldersdiff", "psykiatri"): (200.0, 80.0)}  # fmt: skip
    factor_p, factor_k = (2.0, 2.0) if change == "activity" else (1.0, 1.1)
    rows = []
    for (age, area), (p, k) in base.items():
        common = {"kommunekode": 101, "aldersgruppe": age, "sundhedsomraade": area}
        rows += [
            common | {"aar": 2018, "opgoerelse": "endelig", "takstaar": 2020,
                      "produktionsvaerdi": p, "kmf": k},
            common | {"aar": 2019, "opgoerelse": "foreloebig", "takstaar": 2019,
                      "produktionsvaerdi": p, "kmf": k},
            common | {"aar": 2019, "opgoerelse": "endelig", "takstaar": 2019,
                      "produktionsvaerdi": p, "kmf": k},
            common | {"aar": 2020, "opgoerelse": "foreloebig", "takstaar": 2020,
                      "produktionsvaerdi": p * factor_p, "kmf": k * factor_k},
        ]  # fmt: skip
    write_dataset(tmp_path, rows, [{"aar": 2020, "kommunekode": 101, "kmf_budget_kr": 325.0}])
    return pl.concat((
        kmf.run(tmp_path, aar=2020, metode=m).b1.filter(pl.col("kode") == "101")
        .with_columns(pl.lit(m).alias("metode"))
        for m in ("ministeriet", "lmdi", "shapley")
    ), how="diagonal")  # fmt: skip


def test_only_activity_changes_so_everything_is_activity(tmp_path: Path) -> None:
    b1 = _one_kommune(tmp_path, "activity")
    # budget 325, forecast 650: the whole change of 325 is activity in every method
    assert b1["aendring_kr"].to_list() == pytest.approx([325.0] * 3)
    assert b1["aktivitetseffekt_kr"].to_list() == pytest.approx([325.0] * 3)
    assert b1["aldersgruppeeffekt_kr"].to_list() == pytest.approx([0.0] * 3, abs=1e-9)
    assert b1["sundhedsomraadeeffekt_kr"].to_list() == pytest.approx([0.0] * 3, abs=1e-9)


def test_only_the_kmf_share_changes_so_everything_is_c2(tmp_path: Path) -> None:
    b1 = _one_kommune(tmp_path, "share")
    # KMF +10 % in every cell at the same production value: 325 → 357.5
    exact = b1.filter(pl.col("metode") != "ministeriet")
    assert exact["andelseffekt_kr"].to_list() == pytest.approx([32.5, 32.5])
    assert exact["omraademikseffekt_kr"].to_list() == pytest.approx([0.0, 0.0], abs=1e-9)
    assert exact["aktivitetseffekt_kr"].to_list() == pytest.approx([0.0, 0.0], abs=1e-9)
    ministry = b1.filter(pl.col("metode") == "ministeriet").row(0, named=True)
    assert ministry["sundhedsomraadeeffekt_kr"] == pytest.approx(32.5)


def test_metode_alle_writes_the_comparison(tmp_path: Path) -> None:
    rows, budget, _ = Recipe(2018, (101, 147, 851), 3, 0.2, True, 1.0).build()
    folder = write_dataset(tmp_path / "d", rows, budget)
    out = tmp_path / "ud"
    done = CliRunner().invoke(app, ["run", str(folder), "--metode", "alle", "--out", str(out)])
    assert done.exit_code == 0, done.output
    table = pl.read_csv(out / "tabel_metoder.csv", schema_overrides={"kode": pl.String})
    b1 = pl.read_csv(out / "tabel_b1.csv", schema_overrides={"kode": pl.String})
    # the report tables are the ministry's; the comparison holds all three methods
    assert b1["aktivitetseffekt_kr"].to_list() == table["aktivitetseffekt_kr_ministeriet"].to_list()
    for method in ("lmdi", "shapley"):
        parts = sum(
            table[f"{effect}_kr_{method}"]
            for effect in ("aktivitetseffekt", "aldersgruppeeffekt", "omraademikseffekt",
                           "andelseffekt")
        )  # fmt: skip
        assert ((parts - table["aendring_kr"]).abs() <= 1e-9 * table["kmf_budget_kr"]).all()
    assert table["omraademikseffekt_kr_ministeriet"].null_count() == table.height
    sheets = load_workbook(out / "kmf_dekomponering_2018.xlsx").sheetnames
    assert "Metoder" in sheets
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["metode"] == "alle"


def test_lmdi_refuses_a_negative_factor() -> None:
    # LMDI takes the logarithm of each factor's ratio: a factor below 0 has none, on either side
    with pytest.raises(ValueError, match=r"^LMDI needs factors that are zero or positive$"):
        product_effects([[1.0, -2.0]], [[1.0, 3.0]], "lmdi")
    with pytest.raises(ValueError, match=r"^LMDI needs factors that are zero or positive$"):
        product_effects([[1.0, 2.0]], [[-1.0, 3.0]], "lmdi")


def test_the_engine_names_an_unknown_method_and_the_known_ones() -> None:
    # product_effects is usable on its own (README): a misspelt method is named back, with
    # the methods kmf knows (the four of README's table of methods)
    with pytest.raises(ValueError) as refused:
        product_effects([[1.0, 2.0]], [[2.0, 3.0]], "LMDI-I")
    message = str(refused.value)
    assert message.startswith("unknown method 'LMDI-I'; known: "), message
    known = message.removeprefix("unknown method 'LMDI-I'; known: ").split(", ")
    assert sorted(known) == ["befolkning", "lmdi", "ministeriet", "shapley"], message


def test_befolkning_groups_that_appear_vanish_or_have_one_person() -> None:
    """SPEC §9 by hand, kommune 101, T = 2020, f = 1 (T−1 foreløbig = endelig), budget = K⁰
    (g = 1), the same population both years: 0-2 10, 3-64 80, 65-79 9, 80+ 1 (N = 100), so
    N and n never move (befolkning and demografi 0).

    - 3-64 somatik: P 1000, K 300 both sides: no change.
    - 80+ somatik, one person, P 0,5 both sides: K 0,125 → 0,25, so only r moves (0,25 → 0,5;
      u = 0,5 / 1): andel = L(0,25; 0,125) · ln(0,5 / 0,25) = (0,125 / ln 2) · ln 2 = 0,125.
    - 0-2 somatik vanishes (P 20, K 10 → nothing): u^f = 0 (P_a = 0), v and r undefined on
      the forecast side take the budget's (1 and 0,5), so u is the only factor that is 0 on
      that side and gets the whole change: forbrug −10.
    - 65-79 almen praksis appears (nothing → P 40, K 20): likewise u^b = 0 alone: forbrug +20.

    K^b = 300 + 0,125 + 10 = 310,125, K^f = 300 + 0,25 + 20 = 320,25: Δ = 10,125 = 10 + 0,125.
    """
    cells = {
        (2018, "endelig", 2020): [("3-64", "somatik", 1000.0, 300.0),
                                  ("80+", "somatik", 0.5, 0.125), ("0-2", "somatik", 20.0, 10.0)],
        (2020, "foreloebig", 2020): [("3-64", "somatik", 1000.0, 300.0),
                                     ("80+", "somatik", 0.5, 0.25),
                                     ("65-79", "almen_praksis", 40.0, 20.0)],
        (2019, "foreloebig", 2019): [("3-64", "somatik", 900.0, 270.0)],
        (2019, "endelig", 2019): [("3-64", "somatik", 900.0, 270.0)],
    }  # fmt: skip
    rows = [
        {"kommunekode": 101, "aar": aar, "opgoerelse": opg, "takstaar": takst,
         "aldersgruppe": age, "sundhedsomraade": area, "produktionsvaerdi": p, "kmf": k}
        for (aar, opg, takst), cut in cells.items()
        for age, area, p, k in cut
    ]  # fmt: skip
    population = [
        {"kommunekode": 101, "aar": aar, "aldersgruppe": age, "antal": n}
        for aar in (2018, 2020)
        for age, n in (("0-2", 10), ("3-64", 80), ("65-79", 9), ("80+", 1))
    ]
    data = kmf.load({
        "aktivitet": frame(rows),
        "budget": pl.DataFrame([{"aar": 2020, "kommunekode": 101, "kmf_budget_kr": 310.125}]),
        "befolkning": pl.DataFrame(population),
    })  # fmt: skip
    result = kmf.run(data, aar=2020, metode="befolkning")
    row = result.befolkning.filter(pl.col("kode") == "101").row(0, named=True)
    expected = {"aendring_kr": 10.125, "befolkningseffekt_kr": 0.0, "demografieffekt_kr": 0.0,
                "forbrugseffekt_kr": -10.0 + 20.0, "omraademikseffekt_kr": 0.0,
                "andelseffekt_kr": 0.125}  # fmt: skip
    for column, value in expected.items():
        assert row[column] == pytest.approx(value, abs=1e-9), column
    b1 = result.b1.filter(pl.col("kode") == "101").row(0, named=True)
    # B1 of befolkning: A = befolkning + forbrug, B = demografi, C = C1 + C2, Øvrige 0
    assert b1["aktivitetseffekt_kr"] == pytest.approx(10.0, abs=1e-9)
    assert b1["aldersgruppeeffekt_kr"] == pytest.approx(0.0, abs=1e-9)
    assert b1["sundhedsomraadeeffekt_kr"] == pytest.approx(0.125, abs=1e-9)
    assert b1["oevrige_kr"] == pytest.approx(0.0, abs=1e-9)
