"""A worked example small enough to do by hand: two kommuner, a few cells, budget year 2020.

Every expected number is derived here from the SPEC §4 formulas, step by step, with the
arithmetic written out; none comes from running kmf.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

import kmf
from tests.factory import write_dataset

T = 2020


def _row(k, aar, opg, takst, age, area, p, kmf_kr):
    return {
        "kommunekode": k, "aar": aar, "opgoerelse": opg, "takstaar": takst,
        "aldersgruppe": age, "sundhedsomraade": area, "produktionsvaerdi": p, "kmf": kmf_kr,
    }  # fmt: skip


ROWS = [
    # København (101, Region Hovedstaden)
    _row(101, 2020, "foreloebig", 2020, "3-64", "somatik", 1000, 200),
    _row(101, 2020, "foreloebig", 2020, "80+", "somatik", 500, 250),
    _row(101, 2020, "foreloebig", 2020, "ej_aldersdiff", "psykiatri", 200, 100),
    _row(101, 2019, "foreloebig", 2019, "3-64", "somatik", 2000, 400),
    _row(101, 2019, "endelig", 2019, "3-64", "somatik", 2200, 440),  # f = 440/400 = 1.1
    _row(101, 2018, "endelig", 2020, "3-64", "somatik", 1200, 240),
    _row(101, 2018, "endelig", 2020, "80+", "somatik", 300, 120),
    _row(101, 2018, "endelig", 2020, "ej_aldersdiff", "psykiatri", 250, 100),
    _row(101, 2018, "endelig", 2020, "3-64", "almen_praksis", 100, 10),  # K0 = 470
    _row(101, 2018, "endelig", 2018, "3-64", "somatik", 999, 99),  # not used: 2018 takster
    # Aalborg (851, Region Nordjylland): 0-2 empty in the budget, ej_aldersdiff in the forecast
    _row(851, 2020, "foreloebig", 2020, "0-2", "somatik", 100, 40),
    _row(851, 2020, "foreloebig", 2020, "3-64", "almen_praksis", 400, 40),
    _row(851, 2020, "foreloebig", 2020, "65-79", "somatik", 600, 180),
    _row(851, 2019, "foreloebig", 2019, "3-64", "somatik", 1000, 500),
    _row(851, 2019, "endelig", 2019, "3-64", "somatik", 900, 450),  # f = 450/500 = 0.9
    _row(851, 2018, "endelig", 2020, "3-64", "almen_praksis", 500, 50),
    _row(851, 2018, "endelig", 2020, "65-79", "somatik", 500, 100),
    _row(851, 2018, "endelig", 2020, "ej_aldersdiff", "psykiatri", 100, 40),  # K0 = 190
]
# Two kommuner of 98: a budget per kommune (a national budget needs all 98), the split a
# national 1320 = 2 × (470 + 190) would give: g = 2 for both, K^b = 940 and 380.
BUDGET = [
    {"aar": 2020, "kommunekode": 101, "kmf_budget_kr": 940.0},
    {"aar": 2020, "kommunekode": 851, "kmf_budget_kr": 380.0},
]

# København. Forecast cells ×1.1: 3-64 P 1100 K 220; 80+ P 550 K 275; ej P 220 K 110.
#   P^f = 1870, K^f = 605. Budget cells ×2: 3-64 (somatik + almen) P 2600 K 500;
#   80+ P 600 K 240; ej P 500 K 200. P^b = 3700, K^b = 940.
KBH = {
    "Kb": 940.0,
    "Kf": 605.0,
    "d": 605.0 - 940.0,
    # A = K^f − P^b Σ w^f s^f = K^f − P^b K^f / P^f
    "A": 605 - 3700 * 605 / 1870,
    # B = K^f − P^f Σ w^b s^f, where P^f Σ (P^b_a / P^b) s^f_a
    #   = 1870 (2600·0.2 + 600·0.5 + 500·0.5) / 3700
    "B": 605 - 1870 * (2600 * 0.2 + 600 * 0.5 + 500 * 0.5) / 3700,
    # C = K^f − P^f Σ w^f s^b = K^f − Σ P^f_a s^b_a = 605 − (1100·500/2600 + 550·0.4 + 220·0.4)
    "C": 605 - (1100 * 500 / 2600 + 550 * 0.4 + 220 * 0.4),
}
# Aalborg. Forecast ×0.9: 0-2 P 90 K 36; 3-64 P 360 K 36; 65-79 P 540 K 162; P^f 990, K^f 234.
#   Budget ×2: 3-64 P 1000 K 100; 65-79 P 1000 K 200; ej P 200 K 80; P^b 2200, K^b 380.
#   s^f(ej) is taken from the budget side (0.4); s^b(0-2) from the forecast side (0.4).
AAL = {
    "Kb": 380.0,
    "Kf": 234.0,
    "d": 234.0 - 380.0,
    "A": 234 - 2200 * 234 / 990,  # = −286
    "B": 234 - 990 * (1000 * 0.1 + 1000 * 0.3 + 200 * 0.4) / 2200,  # = 18
    "C": 234 - (90 * 0.4 + 360 * 0.1 + 540 * 0.2),  # = 54
}
for unit in (KBH, AAL):
    unit["O"] = unit["d"] - unit["A"] - unit["B"] - unit["C"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("hand"), ROWS, BUDGET)


@pytest.fixture(scope="module")
def result(folder: Path) -> kmf.Result:
    return kmf.run(folder, aar=T)


def _b1_row(result: kmf.Result, kode: str) -> dict:
    return result.b1.filter(pl.col("kode") == kode).row(0, named=True)


def test_closed_forms_of_the_aalborg_example() -> None:
    # The derivations above give round numbers for Aalborg; check them by hand once more.
    assert AAL["A"] == pytest.approx(-286)
    assert AAL["B"] == pytest.approx(18)
    assert AAL["C"] == pytest.approx(54)
    assert AAL["O"] == pytest.approx(-146 + 286 - 18 - 54)


@pytest.mark.parametrize(("kode", "expected"), [("101", KBH), ("851", AAL)])
def test_kommune_effects_follow_the_formulas(result: kmf.Result, kode: str, expected: dict) -> None:
    row = _b1_row(result, kode)
    assert row["kmf_budget_kr"] == pytest.approx(expected["Kb"], rel=1e-12)
    assert row["kmf_prognose_kr"] == pytest.approx(expected["Kf"], rel=1e-12)
    assert row["aendring_kr"] == pytest.approx(expected["d"], rel=1e-12)
    assert row["aktivitetseffekt_kr"] == pytest.approx(expected["A"], rel=1e-12)
    assert row["aldersgruppeeffekt_kr"] == pytest.approx(expected["B"], rel=1e-12)
    assert row["sundhedsomraadeeffekt_kr"] == pytest.approx(expected["C"], rel=1e-12)
    assert row["oevrige_kr"] == pytest.approx(expected["O"], rel=1e-12)
    assert row["aktivitetseffekt_pct"] == pytest.approx(100 * expected["A"] / expected["Kb"])
    assert row["oevrige_pct"] == pytest.approx(100 * expected["O"] / expected["Kb"])


def test_regions_and_land_are_sums_of_kommuner(result: kmf.Result) -> None:
    hovedstaden = _b1_row(result, "1084")
    # the data hold 1 of the region's 29 kommuner and 2 of 98: the sums say so
    assert hovedstaden["navn"] == "Region Hovedstaden (1 af 29 kommuner)"
    assert hovedstaden["aktivitetseffekt_kr"] == pytest.approx(KBH["A"])
    land = _b1_row(result, "DK")
    assert land["navn"] == "I alt, 2 kommuner"
    for key, column in (
        ("A", "aktivitetseffekt"),
        ("B", "aldersgruppeeffekt"),
        ("C", "sundhedsomraadeeffekt"),
        ("O", "oevrige"),
        ("d", "aendring"),
    ):
        total = KBH[key] + AAL[key]
        assert land[f"{column}_kr"] == pytest.approx(total, rel=1e-12)
        assert land[f"{column}_pct"] == pytest.approx(100 * total / 1320, rel=1e-12)


def test_b1_rows_are_in_report_order(result: kmf.Result) -> None:
    assert result.b1["kode"].to_list() == ["DK", "1084", "101", "1081", "851"]
    assert result.b1["niveau"].to_list() == ["land", "region", "kommune", "region", "kommune"]


def test_b2_b3_b4_of_aalborg(result: kmf.Result) -> None:
    b2 = result.b2.filter(pl.col("kode") == "851").row(0, named=True)
    assert b2["0-2"] == pytest.approx(100 * 90 / 990)
    assert b2["3-64"] == pytest.approx(100 * (360 / 990 - 1000 / 2200))
    assert b2["65-79"] == pytest.approx(100 * (540 / 990 - 1000 / 2200))
    assert b2["80+"] == 0
    assert b2["ej_aldersdiff"] == pytest.approx(-100 * 200 / 2200)
    b3 = result.b3.filter(pl.col("kode") == "851").row(0, named=True)
    assert b3["0-2"] is None  # no production value in the budget
    assert b3["3-64"] == pytest.approx(0)
    assert b3["65-79"] == pytest.approx(100 * (0.3 - 0.2))
    assert b3["80+"] is None
    assert b3["ej_aldersdiff"] is None
    b4 = result.b4.filter(pl.col("kode") == "851").row(0, named=True)
    assert b4["somatik"] == pytest.approx(100 * (630 / 990 - 1000 / 2200))
    assert b4["almen_praksis"] == pytest.approx(100 * (360 / 990 - 1000 / 2200))
    assert b4["psykiatri"] == pytest.approx(-100 * 200 / 2200)
    assert b4["speciallaege"] == 0
    assert b4["oevrig_primaer"] == 0


def test_b2_b3_of_the_country_use_summed_cells(result: kmf.Result) -> None:
    # 3-64 in the whole country: forecast P 1100 + 360, K 220 + 36; budget P 2600 + 1000,
    # K 500 + 100. All forecast P 1870 + 990, all budget P 3700 + 2200.
    b2 = result.b2.filter(pl.col("kode") == "DK").row(0, named=True)
    assert b2["3-64"] == pytest.approx(100 * (1460 / 2860 - 3600 / 5900))
    b3 = result.b3.filter(pl.col("kode") == "DK").row(0, named=True)
    assert b3["3-64"] == pytest.approx(100 * (256 / 1460 - 600 / 3600))
    # 0-2 has production value only in Aalborg's forecast: undefined in the country's budget.
    assert b3["0-2"] is None
    # 80+ only in København: forecast 275/550, budget 240/600.
    assert b3["80+"] == pytest.approx(100 * (0.5 - 0.4))


def test_tabel_2_and_3_count_kommuner(result: kmf.Result) -> None:
    # Both changes are negative; A/Δ = 1.77 and 1.96 (> 0.5); B and C are positive (ratio < 0).
    land2 = result.tabel(2).filter(pl.col("kode") == "DK").row(0, named=True)
    assert (
        land2["aktivitetseffekt"],
        land2["aldersgruppeeffekt"],
        land2["sundhedsomraadeeffekt"],
    ) == (2, 0, 0)
    land3 = result.tabel(3).filter(pl.col("kode") == "DK").row(0, named=True)
    assert land3["aktivitetseffekt_negativ"] == 2
    assert land3["aktivitetseffekt_positiv"] == 0
    assert land3["aldersgruppeeffekt_positiv"] == 2
    assert land3["sundhedsomraadeeffekt_positiv"] == 2


def test_tabel_4_ranks_by_change_in_pct(result: kmf.Result) -> None:
    # København −335/940 = −35.6 %, Aalborg −146/380 = −38.4 %: København ranks first.
    from kmf.compute.tables import table_4_5_6

    t4 = table_4_5_6(result.b1)[0]
    assert t4["kode"].to_list() == ["101", "851", "DK"]
    assert t4["rang"].to_list() == [1, 2, None]
    # the run's tabel 4–6 rank all 98 kommuner: for these 2 of 98 they are empty
    assert result.tabel(4).height == 0 and result.tabel(4).columns == t4.columns


def test_celler_hold_the_scaled_cells(result: kmf.Result) -> None:
    cell = result.celler.filter(
        (pl.col("kommunekode") == 851)
        & (pl.col("aldersgruppe") == "65-79")
        & (pl.col("sundhedsomraade") == "somatik")
    ).row(0, named=True)
    assert cell["produktionsvaerdi_prognose_kr"] == pytest.approx(0.9 * 600)
    assert cell["kmf_budget_kr"] == pytest.approx(2 * 100)
    assert result.celler.height == 2 * 17
    factors = result.kommuner.filter(pl.col("kommunekode") == 101).row(0, named=True)
    assert factors["efterregistreringsfaktor"] == pytest.approx(1.1)
    assert factors["budgetfaktor"] == pytest.approx(2.0)


def test_celler_hold_0_for_the_cells_without_rows(result: kmf.Result) -> None:
    """Aalborg has 0-2 only in the forecast (no base row) and no row at all in 80+: those
    cells are in celler with 0 kr., not empty. Its 17 cells sum to the totals above:
    P^f = 90 + 360 + 540 = 990, K^f = 36 + 36 + 162 = 234, P^b = 1000 + 1000 + 200 = 2200,
    K^b = 100 + 200 + 80 = 380."""
    columns = [
        "produktionsvaerdi_prognose_kr", "kmf_prognose_kr",
        "produktionsvaerdi_budget_kr", "kmf_budget_kr",
    ]  # fmt: skip
    aalborg = result.celler.filter(pl.col("kommunekode") == 851)
    assert aalborg.height == 17
    assert aalborg.select(columns).null_count().row(0) == (0, 0, 0, 0)

    def cell(age: str, area: str) -> tuple:
        found = aalborg.filter(
            (pl.col("aldersgruppe") == age) & (pl.col("sundhedsomraade") == area)
        )
        return found.select(columns).row(0)

    # 0-2 somatik: forecast 0,9 · (P 100, K 40) = (90, 36); no base row, so 0 in the budget
    assert cell("0-2", "somatik") == pytest.approx((90.0, 36.0, 0.0, 0.0))
    assert cell("0-2", "somatik")[2:] == (0.0, 0.0)
    assert cell("80+", "somatik") == (0.0, 0.0, 0.0, 0.0)
    assert cell("3-64", "somatik") == (0.0, 0.0, 0.0, 0.0)
    sums = aalborg.select(pl.col(columns).sum()).row(0)
    assert sums == pytest.approx((990.0, 234.0, 2200.0, 380.0))


def test_manifest_counts_rows_read_and_used(result: kmf.Result, tmp_path: Path) -> None:
    result.write(tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["aar"] == T
    assert manifest["metode"] == "ministeriet"
    assert manifest["kommuner"] == 2
    activity = next(f for f in manifest["filer"] if f["tabel"] == "aktivitet")
    assert activity["fil"] == "aktivitet.csv"
    assert activity["raekker_laest"] == len(ROWS)
    assert activity["raekker_brugt"] == len(ROWS) - 1
    assert manifest["raekker_ikke_brugt"] == 1
    budget = next(f for f in manifest["filer"] if f["tabel"] == "budget")
    assert (budget["fil"], budget["raekker_laest"], budget["raekker_brugt"]) == ("budget.csv", 2, 2)


def test_manifest_sha256_is_the_hash_of_each_input_file(
    folder: Path, result: kmf.Result, tmp_path: Path
) -> None:
    result.write(tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    by_name = {f["fil"]: f["sha256"] for f in manifest["filer"]}
    assert set(by_name) == {"aktivitet.csv", "budget.csv"}
    for name, digest in by_name.items():
        assert digest == hashlib.sha256((folder / name).read_bytes()).hexdigest(), name
    if shutil.which("sha256sum"):  # the system's own tool, where there is one
        listed = subprocess.run(
            ["sha256sum", "aktivitet.csv", "budget.csv"],
            cwd=folder, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        for line in listed.splitlines():
            digest, name = line.split()
            assert by_name[name.lstrip("*")] == digest


def test_written_csv_matches_the_result(result: kmf.Result, tmp_path: Path) -> None:
    result.write(tmp_path / "out")
    b1 = pl.read_csv(tmp_path / "out" / "tabel_b1.csv", schema_overrides={"kode": pl.String})
    row = b1.filter(pl.col("kode") == "101").row(0, named=True)
    assert math.isclose(row["aktivitetseffekt_kr"], KBH["A"], rel_tol=1e-12)
    assert list(b1.columns) == [
        "niveau", "kode", "navn", "region", "kmf_budget_kr", "kmf_prognose_kr", "aendring_kr",
        "aktivitetseffekt_kr", "aldersgruppeeffekt_kr", "sundhedsomraadeeffekt_kr", "oevrige_kr",
        "aendring_pct", "aktivitetseffekt_pct", "aldersgruppeeffekt_pct",
        "sundhedsomraadeeffekt_pct", "oevrige_pct",
    ]  # fmt: skip
    b3 = pl.read_csv(tmp_path / "out" / "tabel_b3.csv", schema_overrides={"kode": pl.String})
    assert b3.columns == [
        "niveau",
        "kode",
        "navn",
        "region",
        "0-2",
        "3-64",
        "65-79",
        "80+",
        "ej_aldersdiff",
    ]
    assert b3.filter(pl.col("kode") == "851")["0-2"].to_list() == [None]


def test_a_production_value_under_one_krone_still_has_a_share(tmp_path: Path) -> None:
    """A share is defined wherever P > 0, also for P = 0,5 kr. (SPEC §4.3: only P = 0 takes
    the other side's share). Kommune 101, f = 1, the budget = K⁰ (g = 1), by hand:

    base 0-2: P 0,5, K 0,125 (s^b 0,25); 3-64: P 1000, K 100 (s 0,1)
    forecast 0-2: P 0,5, K 0,25 (s^f 0,5); 3-64: P 1000, K 100

    B3 of 0-2 = 100 · (0,5 − 0,25) = 25 pct.-point, of 3-64 0. K^f = 100,25, P^f = 1000,5:
    C = K^f − P^f · Σ w^f s^b = 100,25 − (0,5 · 0,25 + 1000 · 0,1) = 0,125 kr.; A = B = 0
    (P and w unchanged). LMDI's share effect is the one cell whose share moved:
    L(0,25; 0,125) · ln(0,5 / 0,25) = (0,125 / ln 2) · ln 2 = 0,125 kr."""
    rows = []
    for aar, opg, takst, small in (
        (T, "foreloebig", T, 0.25),
        (T - 1, "foreloebig", T - 1, None),
        (T - 1, "endelig", T - 1, None),
        (T - 2, "endelig", T, 0.125),
    ):
        rows.append(_row(101, aar, opg, takst, "3-64", "somatik", 1000.0, 100.0))
        if small is not None:
            rows.append(_row(101, aar, opg, takst, "0-2", "somatik", 0.5, small))
    budget = [{"aar": T, "kommunekode": 101, "kmf_budget_kr": 100.125}]
    # Parquet: in CSV, 100.125 could be read as a thousands separator
    folder = write_dataset(tmp_path / "d", rows, budget, fmt="parquet")
    result = kmf.run(folder, metode="alle")
    b3 = result.b3.filter(pl.col("kode") == "101").row(0, named=True)
    assert b3["0-2"] == pytest.approx(25.0, abs=1e-9)
    assert b3["3-64"] == pytest.approx(0.0, abs=1e-9)
    b1 = _b1_row(result, "101")
    assert b1["sundhedsomraadeeffekt_kr"] == pytest.approx(0.125, abs=1e-9)
    assert b1["aktivitetseffekt_kr"] == pytest.approx(0.0, abs=1e-9)
    assert b1["aldersgruppeeffekt_kr"] == pytest.approx(0.0, abs=1e-9)
    methods = result.metoder.filter(pl.col("kode") == "101").row(0, named=True)
    assert methods["andelseffekt_kr_lmdi"] == pytest.approx(0.125, abs=1e-9)
    # Shapley splits the same 0,125 kr.: only the share moved, so all of it is the share's
    assert methods["andelseffekt_kr_shapley"] == pytest.approx(0.125, abs=1e-9)
