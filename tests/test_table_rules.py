"""Rules of the report's tables checked on data built by hand (SPEC §4–§5).

One kommune (101 København), one cell (3-64, somatik) in each cut. T−1 foreløbig = T−1
endelig, so the efterregistreringsfaktor f = 1; the budget per kommune is K⁰, so g = 1.
Every amount is a binary fraction, so every step below is exact in floating point:

    base (T−2 endelig at T takster):  P^b = 1024, K^b = 128,  s^b = 0.125
    T foreløbig:                      P^f = 1536, K^f = 96,   s^f = 0.0625

One age group, so w^f = w^b = 1 and the age effect B is 0.
"""

from __future__ import annotations

import polars as pl
import pytest

import kmf
from tests.factory import write_dataset

T = 2020
METHOD_EFFECTS = (
    "aktivitetseffekt", "aldersgruppeeffekt", "sundhedsomraadeeffekt", "omraademikseffekt",
    "andelseffekt", "oevrige",
)  # fmt: skip

# SPEC §4.4, the ministry's method:
#   Δ = K^f − K^b = 96 − 128 = −32                         → −32 / 128 · 100 = −25 pct.
#   A = K^f − P^b · s^f = 96 − 1024 · 0.0625 = 32          →  25 pct.
#   B = K^f − P^f · w^b · s^f = 96 − 1536 · 0.0625 = 0     →   0 pct.
#   C = K^f − P^f · s^b = 96 − 1536 · 0.125 = −96          → −75 pct.
#   Øvrige = Δ − A − B − C = −32 − 32 − 0 + 96 = 32        →  25 pct.
MINISTRY = {"aktivitetseffekt": 25.0, "aldersgruppeeffekt": 0.0, "sundhedsomraadeeffekt": -75.0,
            "oevrige": 25.0}  # fmt: skip
# Shapley on K = P · r (only P and the share r move; w and the area mix v stay 1):
#   A  = ½ · (P^f − P^b) · (r^b + r^f) = ½ · 512 · 0.1875 = 48     → 37.5 pct.
#   C2 = ½ · (r^f − r^b) · (P^b + P^f) = ½ · −0.0625 · 2560 = −80  → −62.5 pct.
#   C1 (area mix) = 0, B = 0, C = C1 + C2 = −80, Øvrige = 0
SHAPLEY = {"aktivitetseffekt": 37.5, "aldersgruppeeffekt": 0.0, "sundhedsomraadeeffekt": -62.5,
           "omraademikseffekt": 0.0, "andelseffekt": -62.5, "oevrige": 0.0}  # fmt: skip


def _rows() -> list[dict]:
    cells = (
        (T - 2, "endelig", T, 1024.0, 128.0),
        (T - 1, "foreloebig", T - 1, 512.0, 64.0),
        (T - 1, "endelig", T - 1, 512.0, 64.0),
        (T, "foreloebig", T, 1536.0, 96.0),
    )
    return [
        {"kommunekode": 101, "aar": aar, "opgoerelse": opg, "takstaar": takst,
         "aldersgruppe": "3-64", "sundhedsomraade": "somatik", "produktionsvaerdi": p, "kmf": k}
        for aar, opg, takst, p, k in cells
    ]  # fmt: skip


@pytest.fixture(scope="module")
def alle(tmp_path_factory: pytest.TempPathFactory) -> kmf.Result:
    budget = [{"aar": T, "kommunekode": 101, "kmf_budget_kr": 128.0}]
    return kmf.run(write_dataset(tmp_path_factory.mktemp("regler"), _rows(), budget), metode="alle")


def test_the_method_table_has_every_effect_of_every_method_in_kr_and_pct(
    alle: kmf.Result,
) -> None:
    table = alle.metoder
    assert table is not None
    methods = ("ministeriet", "lmdi", "shapley")
    assert table.columns == [
        "niveau", "kode", "navn", "region", "kmf_budget_kr", "aendring_kr", "aendring_pct",
        *(f"{e}_{unit}_{m}" for m in methods for e in METHOD_EFFECTS for unit in ("kr", "pct")),
    ]  # fmt: skip
    for kode in ("101", "DK"):  # the kommune, and Hele landet as its sum
        row = table.filter(pl.col("kode") == kode).row(0, named=True)
        assert row["kmf_budget_kr"] == 128.0 and row["aendring_kr"] == -32.0
        assert row["aendring_pct"] == pytest.approx(-25.0, abs=1e-12)
        for effect, pct in MINISTRY.items():
            assert row[f"{effect}_pct_ministeriet"] == pytest.approx(pct, abs=1e-12), effect
            assert row[f"{effect}_kr_ministeriet"] == pytest.approx(pct * 1.28, abs=1e-12)
        for effect, pct in SHAPLEY.items():
            assert row[f"{effect}_pct_shapley"] == pytest.approx(pct, abs=1e-12), effect


def test_the_ministrys_missing_split_is_an_empty_number_column(alle: kmf.Result) -> None:
    """The ministry's method has no split of C: its columns are empty, and numbers (Float64)
    like every other effect column, so a reader's sums and Parquet schema stay numeric."""
    table = alle.metoder
    assert table is not None
    for effect in ("omraademikseffekt", "andelseffekt"):
        for unit in ("kr", "pct"):
            column = table[f"{effect}_{unit}_ministeriet"]
            assert column.dtype == pl.Float64, column.name
            assert column.null_count() == table.height, column.name
    effects = [c for c in table.columns if c.endswith(("_ministeriet", "_lmdi", "_shapley"))]
    assert {table.schema[c] for c in effects} == {pl.Float64}


def test_tabel_2_and_3_count_the_kommune_as_whole_numbers(alle: kmf.Result) -> None:
    """Tabel 2 and 3 for the one kommune, by the ministry's method (the report's tables with
    "alle"): counts of kommuner, whole numbers (Int64) like rang, in Region Hovedstaden (1 of
    29 kommuner) and in the sum "I alt, 1 kommune"."""
    # Tabel 2 (SPEC §4.7: effect / Δ > 0.5), Δ = −32:
    #   A / Δ = 32 / −32 = −1 → no;  B / Δ = 0 / −32 = 0 → no;  C / Δ = −96 / −32 = 3 → yes
    # Tabel 3: A = 32 > 0 positive; B = 0 neither negative nor positive; C = −96 < 0 negative
    want_2 = {"antal_kommuner": 1, "aktivitetseffekt": 0, "aldersgruppeeffekt": 0,
              "sundhedsomraadeeffekt": 1}  # fmt: skip
    want_3 = {"antal_kommuner": 1, "aktivitetseffekt_negativ": 0, "aktivitetseffekt_positiv": 1,
              "aldersgruppeeffekt_negativ": 0, "aldersgruppeeffekt_positiv": 0,
              "sundhedsomraadeeffekt_negativ": 1, "sundhedsomraadeeffekt_positiv": 0}  # fmt: skip
    for n, want in ((2, want_2), (3, want_3)):
        table = alle.tabel(n)
        assert table.columns == ["niveau", "kode", "navn", "region", *want], n
        assert table["kode"].to_list() == ["DK", "1084"], n
        assert table["navn"].to_list() == [
            "I alt, 1 kommune", "Region Hovedstaden (1 af 29 kommuner)"
        ], n  # fmt: skip
        for row in table.iter_rows(named=True):
            assert {c: row[c] for c in want} == want, (n, row["kode"])
        assert {table.schema[c] for c in want} == {pl.Int64}, n
