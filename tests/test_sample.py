"""The bundled sample: deterministic, plausible, and calibrated to the published 2018 tables.

The expected values are the ministry's published tables (``tests/fixtures/``).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import kmf
from kmf.cli import app

ROOT = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def result() -> kmf.Result:
    return kmf.run(kmf.sample_dataset())


# README ("Eksempeldata") and data/sample/README.md: how many of the 98 kommuner hit the
# published rounding (B1 ±0,5 pct.-point, B2 and B4 ±0,05 pct.-point)
README_HITS = {"aendring_pct": 98, "aktivitetseffekt_pct": 98, "aldersgruppeeffekt_pct": 96,
               "sundhedsomraadeeffekt_pct": 97}  # fmt: skip


def hits(result: kmf.Result, table: int, column: str, tolerance: float) -> int:
    """The number of the 98 kommune values within ``tolerance`` of the published value."""
    return round(98 * share_within(result, table, column, tolerance))


def share_within(result: kmf.Result, table: int, column: str, tolerance: float) -> float:
    """Share of the 98 kommune values within ``tolerance`` of the published value."""
    published = pl.read_csv(
        FIXTURES / f"rapport2018_tabel_b{table}.csv", schema_overrides={"kode": pl.String}
    ).filter(pl.col("kode") != "DK")
    ours = {1: result.b1, 2: result.b2, 3: result.b3, 4: result.b4}[table]
    joined = published.join(ours.select("kode", column), on="kode", suffix="_kmf")
    assert joined.height == 98
    within = (joined[column] - joined[f"{column}_kmf"]).abs() <= tolerance
    return float(within.mean())  # type: ignore[arg-type]


def test_regenerating_the_sample_gives_the_same_sample(tmp_path: Path) -> None:
    """The generator's iterations land a few kr. elsewhere on another CPU (seen: 64 kr. of
    4,6 mio. kr., 7e-6), so the files are compared cell by cell to a relative 1e-4 — a
    hundredth of what B1 shows at one decimal —, and the regenerated sample must meet the
    same published targets as the committed one."""
    for script in ("calibrate_sample.py", "grow_sample.py", "population_sample.py"):
        done = subprocess.run(
            [sys.executable, str(ROOT / "data" / script), str(tmp_path)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    key = ["kommunekode", "aar", "opgoerelse", "takstaar", "opgoerelsesdato", "aldersgruppe",
           "sundhedsomraade"]  # fmt: skip
    for name, amounts in (("aktivitet.csv", ["produktionsvaerdi", "kmf"]),
                          ("budget.csv", ["kmf_budget_kr"])):  # fmt: skip
        ours = pl.read_csv(tmp_path / name)
        committed = pl.read_csv(kmf.sample_dataset() / name)
        assert ours.columns == committed.columns, name
        assert ours.height == committed.height, name
        on = [c for c in key if c in ours.columns] or ["aar"]
        joined = committed.join(ours, on=on, how="full", suffix="_ny")
        assert joined.height == committed.height, name
        for column in amounts:
            old, new = joined[column], joined[f"{column}_ny"]
            assert new.null_count() == 0, (name, column)
            worst = ((new - old).abs() / old.abs()).max()
            assert worst <= 1e-4, (name, column, worst)  # type: ignore[operator]
    # the population follows the activity's age mix: within a person of the committed one
    ours, committed = (pl.read_csv(f / "befolkning.csv") for f in (tmp_path, kmf.sample_dataset()))
    joined = committed.join(ours, on=["kommunekode", "aar", "aldersgruppe"], suffix="_ny")
    assert joined.height == committed.height == ours.height
    assert (joined["antal"] - joined["antal_ny"]).abs().max() <= 1  # type: ignore[operator]
    (tmp_path / "kmf.toml").write_text(
        (kmf.sample_dataset() / "kmf.toml").read_text("utf-8"), "utf-8"
    )
    regenerated = kmf.run(tmp_path)
    for column, count in README_HITS.items():
        assert hits(regenerated, 1, column, 0.5) >= count, column
    assert_national_b3_near_the_published_row(regenerated)


def test_sample_covers_the_country_in_four_cuts(result: kmf.Result) -> None:
    data = kmf.load(kmf.sample_dataset())
    assert data.cells["kommunekode"].n_unique() == 98
    used = [c for c in result.manifest.as_json()["opgoerelser"] if c["brugt_som"]]
    assert len(used) == 4
    assert {c["raekker"] for c in used} == {98 * 17}
    assert {c["kommuner"] for c in used} == {98}
    # the ministry's forecast date: foreløbig 2018 pr. 10 September, 2017 the same day
    assert result.dato == date(2018, 9, 10)
    assert result.aar == 2018
    land = result.b1.row(0, named=True)
    assert 21e9 <= land["kmf_budget_kr"] <= 22e9
    assert 20e9 <= land["kmf_prognose_kr"] <= 23e9


def test_every_cell_is_non_negative_and_its_kmf_share_plausible() -> None:
    cells = pl.read_csv(kmf.sample_dataset() / "aktivitet.csv").with_columns(
        (pl.col("kmf") / pl.col("produktionsvaerdi")).alias("andel")
    )
    assert cells["produktionsvaerdi"].min() > 0  # type: ignore[operator]
    assert cells["kmf"].min() > 0  # type: ignore[operator]
    ranges = {"somatik": (0.20, 0.56), "psykiatri": (0.30, 0.60), "speciallaege": (0.07, 0.18),
              "almen_praksis": (0.07, 0.18), "oevrig_primaer": (0.07, 0.18)}  # fmt: skip
    for area, (low, high) in ranges.items():
        shares = cells.filter(pl.col("sundhedsomraade") == area)["andel"]
        assert low <= shares.min() <= shares.max() <= high, area  # type: ignore[operator]


def test_kommune_sizes_follow_population(result: kmf.Result) -> None:
    budgets = result.b1.filter(pl.col("niveau") == "kommune")
    by_code = dict(zip(budgets["kode"].to_list(), budgets["kmf_budget_kr"].to_list(), strict=True))
    assert by_code["101"] > 2.5 * by_code["461"]  # København (613.000) vs Odense (202.000)
    assert by_code["825"] < by_code["492"] < by_code["147"]  # Læsø < Ærø < Frederiksberg


@pytest.mark.parametrize(
    "column",
    ["aendring_pct", "aktivitetseffekt_pct", "aldersgruppeeffekt_pct", "sundhedsomraadeeffekt_pct"],
)
def test_b1_within_published_rounding(result: kmf.Result, column: str) -> None:
    assert hits(result, 1, column, 0.5) == README_HITS[column]


def test_national_row_of_b1_within_published_rounding(result: kmf.Result) -> None:
    # Hele landet in the published B1: ændring 0, A -5, B 2, C 3 (whole percent)
    land = result.b1.row(0, named=True)
    assert land["niveau"] == "land"
    published = {"aendring_pct": 0, "aktivitetseffekt_pct": -5, "aldersgruppeeffekt_pct": 2,
                 "sundhedsomraadeeffekt_pct": 3}  # fmt: skip
    for column, value in published.items():
        assert abs(land[column] - value) <= 0.5, column


@pytest.mark.parametrize(
    ("table", "column", "tolerance"),
    [(1, column, 0.001) for column in ("aendring_pct", "aktivitetseffekt_pct",
                                        "aldersgruppeeffekt_pct", "sundhedsomraadeeffekt_pct")]
    + [(2, column, 0.0001) for column in ("0-2", "3-64", "65-79", "80+", "ej_aldersdiff")]
    + [(4, column, 0.0001) for column in ("somatik", "psykiatri", "speciallaege",
                                          "almen_praksis", "oevrig_primaer")],
)  # fmt: skip
def test_values_are_not_the_rounded_published_ones(
    result: kmf.Result, table: int, column: str, tolerance: float
) -> None:
    """Unrounded values fall anywhere inside the published rounding, not on the rounded
    number: fewer than 5 % of the kommuner lie within a 500th of the rounding's half-width
    (B1 ±0.5, B2 and B4 ±0.05) of the published value."""
    assert share_within(result, table, column, tolerance) < 0.05


@pytest.mark.parametrize(
    "column",
    ["aendring_pct", "aktivitetseffekt_pct", "aldersgruppeeffekt_pct", "sundhedsomraadeeffekt_pct"],
)
def test_b1_offsets_are_spread_over_the_rounding(result: kmf.Result, column: str) -> None:
    """No offset from the published value is shared by many kommuner (as a calibration that
    moves all kommuner alike would give), and a tenth of them lie on each side."""
    published = pl.read_csv(
        FIXTURES / "rapport2018_tabel_b1.csv", schema_overrides={"kode": pl.String}
    ).filter(pl.col("kode") != "DK")
    joined = published.join(result.b1.select("kode", column), on="kode", suffix="_kmf")
    offset = joined[f"{column}_kmf"] - joined[column]
    assert offset.round(3).value_counts()["count"].max() <= 4  # type: ignore[operator]
    assert (offset < 0).sum() >= 10
    assert (offset > 0).sum() >= 10


def test_national_b3_within_two_tenths_of_the_published_row(result: kmf.Result) -> None:
    assert_national_b3_near_the_published_row(result)


def assert_national_b3_near_the_published_row(result: kmf.Result) -> None:
    # Hele landet in the published B3 (pct.-point, one decimal)
    published = {"0-2": 1.0, "3-64": 0.6, "65-79": 0.9, "80+": 0.8, "ej_aldersdiff": 1.5}
    land = result.b3.row(0, named=True)
    assert land["niveau"] == "land"
    for column, value in published.items():
        assert abs(land[column] - value) <= 0.2, column  # README: within 0,2 pct.-point


def test_national_b4_within_published_rounding(result: kmf.Result) -> None:
    # Hele landet in the published B4 (pct.-point, one decimal); psykiatri is B2's
    # ej_aldersdiff and not aimed at here
    published = {"somatik": 3.2, "speciallaege": -0.4, "almen_praksis": -0.7,
                 "oevrig_primaer": -1.7}  # fmt: skip
    land = result.b4.row(0, named=True)
    assert land["niveau"] == "land"
    for column, value in published.items():
        assert abs(land[column] - value) <= 0.05, column


@pytest.mark.parametrize("column", ["0-2", "3-64", "65-79", "80+", "ej_aldersdiff"])
def test_b2_within_a_twentieth_of_a_point(result: kmf.Result, column: str) -> None:
    assert hits(result, 2, column, 0.05) == 98


@pytest.mark.parametrize(
    "column", ["somatik", "psykiatri", "speciallaege", "almen_praksis", "oevrig_primaer"]
)
def test_b4_within_a_twentieth_of_a_point(result: kmf.Result, column: str) -> None:
    assert hits(result, 4, column, 0.05) == 98


def test_kmf_run_without_arguments_uses_the_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    outcome = CliRunner().invoke(app, ["run"])
    assert outcome.exit_code == 0, outcome.output
    assert (tmp_path / "kmf-rapport" / "tabel_b1.csv").is_file()
    assert "budgetår 2018" in outcome.stdout


def test_sample_population_looks_like_a_real_country(result: kmf.Result) -> None:
    """2014–2020 for all 98 kommuner; 2018's totals are the approximate folketal (to the
    thousand); KMF per citizen in the thousands of kr. and the indeks mostly 80–120."""
    population = pl.read_csv(kmf.sample_dataset() / "befolkning.csv")
    assert sorted(population["aar"].unique().to_list()) == list(range(2014, 2021))
    assert population["kommunekode"].n_unique() == 98
    assert population["antal"].min() > 0  # type: ignore[operator]
    sizes = pl.read_csv(ROOT / "kmf" / "data" / "folketal_2018.csv")
    total = (
        population.filter(pl.col("aar") == 2018)
        .group_by("kommunekode")
        .agg(pl.col("antal").sum())
        .join(sizes, on="kommunekode")
    )
    assert ((total["antal"] - total["folketal"]).abs() <= 2).all()
    assert result.borger is not None
    kommuner = result.borger.filter(pl.col("niveau") == "kommune")
    per_citizen = kommuner["kmf_pr_indbygger_kr"]
    assert per_citizen.min() > 2_000 and per_citizen.max() < 8_000  # type: ignore[operator]
    inside = kommuner["indeks"].is_between(80, 120).mean()
    assert inside is not None and inside >= 0.85  # type: ignore[operator]
    elderly = (
        population.filter(pl.col("aar") == 2018)
        .group_by(pl.col("aldersgruppe").is_in(["65-79", "80+"]))
        .agg(pl.col("antal").sum())
        .sort("aldersgruppe")
    )["antal"].to_list()
    assert 0.17 < elderly[1] / sum(elderly) < 0.21  # Denmark 2018: about 19 % were 65+


def test_the_packed_activity_unpacks_to_the_bytes_it_was_packed_from(tmp_path: Path) -> None:
    """The package keeps the sample's activity packed (kmf/data/eksempel_aktivitet.parquet);
    the CSV file a user opens is unpacked from it, the same bytes as the file it was made
    from (data/pack_sample.py packs it again the same way)."""
    from kmf.io.sample import PACKED, pack, unpack

    csv = kmf.sample_dataset() / "aktivitet.csv"
    pack(csv, tmp_path / "pakket.parquet")
    unpack(tmp_path / "pakket.parquet", tmp_path / "aktivitet.csv")
    assert (tmp_path / "aktivitet.csv").read_bytes() == csv.read_bytes()
    packaged = Path(kmf.__file__).parent / "data" / PACKED
    assert pl.read_parquet(tmp_path / "pakket.parquet").equals(pl.read_parquet(packaged))
    assert csv.read_bytes().count(b"\n") == 69_972 + 1  # the README's 69.972 records


def test_the_sample_is_unpacked_once_in_the_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a folder of its own in the temporary folder, with all its files; a second call finds
    it there; where nothing can be written there, a Danish error says what to do."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    folder = kmf.sample_dataset()
    assert folder.parent == tmp_path and folder.name.startswith("kmf-eksempel-")
    assert {p.name for p in folder.iterdir()} >= {"aktivitet.csv", "budget.csv", "kmf.toml"}
    assert kmf.sample_dataset() == folder
    blocked = tmp_path / "en-fil"
    blocked.write_text("")
    monkeypatch.setattr("tempfile.tempdir", str(blocked))
    with pytest.raises(kmf.DataError, match=r"kan ikke pakkes ud i .*en-fil.*TMPDIR"):
        kmf.sample_dataset()
