"""Data for part of the country: a national budget stops the run; with a budget per kommune
the sums are named for what they are ("I alt, 2 kommuner", "Region Nordjylland (2 af 11
kommuner)"), rankings and comparisons with the whole country are left out and said so once,
and every number is the kommuner's own (as in the run on all 98) and their sums."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import kmf
from kmf.cli import app

KOMMUNER = pl.read_csv(Path(__file__).parent.parent / "kmf" / "data" / "kommuner.csv")
NORDJYLLAND = sorted(KOMMUNER.filter(pl.col("regionskode") == 1081)["kommunekode"].to_list())
ALL = sorted(KOMMUNER["kommunekode"].to_list())
SUBSETS = {
    1: [851],
    2: [101, 851],
    11: NORDJYLLAND,
    97: [k for k in ALL if k != 101],
}
YEARS = (2018, 2019)


@pytest.fixture(scope="module")
def sample() -> tuple[pl.DataFrame, dict[int, dict[int, float]]]:
    """The sample's rows and, per budget year, the budget a national budget gives each
    kommune: B · K⁰_k / Σ K⁰ over all 98 (worked out here from the base cut's rows)."""
    rows = pl.read_csv(kmf.sample_dataset() / "aktivitet.csv")
    national = dict(pl.read_csv(kmf.sample_dataset() / "budget.csv").iter_rows())
    split: dict[int, dict[int, float]] = {}
    for year in YEARS:
        base = rows.filter(
            (pl.col("aar") == year - 2)
            & (pl.col("opgoerelse") == "endelig")
            & (pl.col("takstaar") == year)
        )
        k0 = dict(base.group_by("kommunekode").agg(pl.col("kmf").sum()).iter_rows())
        total = sum(k0.values())
        split[year] = {k: national[year] * v / total for k, v in k0.items()}
    return rows, split


def _dataset(folder: Path, sample: tuple, kommuner: list[int], *, national: bool = False) -> Path:
    rows, split = sample
    folder.mkdir(parents=True)
    rows.filter(pl.col("kommunekode").is_in(kommuner)).write_csv(folder / "aktivitet.csv")
    if national:
        shutil.copy(kmf.sample_dataset() / "budget.csv", folder / "budget.csv")
    else:
        pl.DataFrame(
            [
                {"aar": y, "kommunekode": k, "kmf_budget_kr": split[y][k]}
                for y in YEARS
                for k in kommuner
            ]
        ).write_csv(folder / "budget.csv")
    shutil.copy(kmf.sample_dataset() / "kmf.toml", folder / "kmf.toml")
    return folder


@pytest.fixture(scope="module")
def folders(sample: tuple, tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    base = tmp_path_factory.mktemp("del")
    return {n: _dataset(base / f"k{n}", sample, ks) for n, ks in SUBSETS.items()}


@pytest.fixture(scope="module")
def whole() -> kmf.Result:
    return kmf.run(kmf.sample_dataset())


def _name(n: int) -> str:
    return f"I alt, {n} kommune" + ("" if n == 1 else "r")


AMOUNTS = ["kmf_budget_kr", "kmf_prognose_kr", "aendring_kr", "aktivitetseffekt_kr",
           "aldersgruppeeffekt_kr", "sundhedsomraadeeffekt_kr", "oevrige_kr"]  # fmt: skip


def _check_sums(b1: pl.DataFrame, n: int) -> None:
    """The land row is the sum of the kommune rows, its pct. of the summed budget."""
    kommuner = b1.filter(pl.col("niveau") == "kommune")
    assert kommuner.height == n
    land = b1.filter(pl.col("niveau") == "land").row(0, named=True)
    assert (land["niveau"], land["kode"], land["navn"]) == ("land", "DK", _name(n))
    for column in AMOUNTS:
        total = sum(kommuner[column].to_list())
        assert land[column] == pytest.approx(total, rel=1e-9, abs=1e-3), column
        pct = column.removesuffix("_kr") + "_pct"
        if pct in land:
            assert land[pct] == pytest.approx(
                100 * total / sum(kommuner["kmf_budget_kr"]), rel=1e-9, abs=1e-12
            )


# --- a national budget ------------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "kommune", "spor", "historik", "validate"])
def test_a_national_budget_for_part_of_the_country_stops(
    sample: tuple, tmp_path: Path, command: str
) -> None:
    folder = _dataset(tmp_path / "d", sample, [101, 851], national=True)
    with pytest.raises(kmf.DataError) as info:
        kmf.run(folder)
    message = str(info.value)
    assert "budget.csv" in message and "2 af de 98 kommuner" in message
    assert "kommunekode" in message and "aar" in message and "kmf_budget_kr" in message
    args = {"run": ["run", str(folder)], "kommune": ["kommune", "851", str(folder)],
            "spor": ["spor", str(folder)], "historik": ["historik", str(folder)],
            "validate": ["validate", str(folder)]}[command]  # fmt: skip
    if command != "validate":
        args += ["--out", str(tmp_path / "ud")]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 2, done.output
    assert "2 af de 98 kommuner" in done.stderr
    assert not (tmp_path / "ud").exists()


def test_a_national_budget_with_all_98_still_splits(whole: kmf.Result) -> None:
    assert whole.b1.row(0, named=True)["navn"] == "Hele landet"
    assert whole.manifest.budget == "hele landet"


# --- words and numbers of run ------------------------------------------------------------


@pytest.mark.parametrize("n", list(SUBSETS))
def test_run_names_the_sums_and_keeps_each_kommunes_numbers(
    folders: dict[int, Path], whole: kmf.Result, n: int
) -> None:
    result = kmf.run(folders[n])
    _check_sums(result.b1, n)
    # each kommune's numbers are those of the run on all 98 (its budget is its share)
    mine = result.b1.filter(pl.col("niveau") == "kommune")
    theirs = whole.b1.filter(pl.col("kode").is_in(mine["kode"].to_list()))
    for column in [*AMOUNTS, "aendring_pct", "aktivitetseffekt_pct"]:
        assert mine[column].to_list() == pytest.approx(theirs[column].to_list(), rel=1e-9)
    regions = dict(
        result.b1.filter(pl.col("niveau") == "region").select("kode", "navn").iter_rows()
    )
    expected = {1: {"1081": "Region Nordjylland (1 af 11 kommuner)"},
                2: {"1084": "Region Hovedstaden (1 af 29 kommuner)",
                    "1081": "Region Nordjylland (1 af 11 kommuner)"},
                11: {"1081": "Region Nordjylland"}}  # fmt: skip
    if n in expected:
        assert regions == expected[n]
    else:
        assert regions["1084"] == "Region Hovedstaden (28 af 29 kommuner)"
        assert regions["1081"] == "Region Nordjylland"
    # a region's row is the sum of its kommuner
    nord = result.b1.filter(pl.col("kode") == "1081").row(0, named=True)
    members = result.b1.filter(
        (pl.col("niveau") == "kommune") & (pl.col("region") == "Region Nordjylland")
    )
    assert nord["aendring_kr"] == pytest.approx(sum(members["aendring_kr"]), rel=1e-9)
    # tabel 4–6 rank all 98: left empty, with their columns
    for t in (4, 5, 6):
        assert result.tabel(t).height == 0
        assert "rang" in result.tabel(t).columns
    assert result.tabel(1).filter(pl.col("niveau") == "land")["navn"][0] == _name(n)
    assert result.tabel(2).filter(pl.col("niveau") == "land")["antal_kommuner"][0] == n
    # said once, in the manifest (and so in Om kørslen)
    said = [b for b in result.manifest.bemaerkninger if "af de 98 kommuner" in b]
    assert said == [f"Data har {n} af de 98 kommuner, så summerne er kun for disse kommuner, "
                    "og rangordninger og sammenligninger med hele landet er udeladt."]  # fmt: skip


@pytest.mark.parametrize("n", [1, 2, 11, 97])
def test_the_national_text_claims_nothing_of_the_whole_country(
    folders: dict[int, Path], n: int
) -> None:
    from kmf.report.text_national import national_markdown

    text = national_markdown(kmf.run(folders[n]))
    assert "Hele landet" not in text and "hele landet under ét" not in text
    assert "nr. 1 af" not in text and "største stigning" not in text
    assert text.count("af de 98 kommuner") == 1
    who = "kommunen i data" if n == 1 else f"de {n} kommuner i data under ét"
    assert f"For {who} forventes" in text


# --- kommune ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n", list(SUBSETS))
def test_a_kommunes_report_leaves_out_rank_and_comparisons(
    folders: dict[int, Path], n: int
) -> None:
    result = kmf.run(folders[n])
    kode = SUBSETS[n][-1]
    report = kmf.kommune(result, kode)
    t = report.tabeller
    assert t.rang is None and t.sammenligning == ()
    text = report.tekst
    assert "Hele landet" not in text and "hele landet:" not in text
    assert "for hele landet under ét" not in text and "af 1 kommuner" not in text
    assert " nr. " not in text and "Sammenligningsgruppen" not in text
    assert "af de 98 kommuner" in text
    land = t.overblik.filter(pl.col("niveau") == "land").row(0, named=True)
    assert land["navn"] == _name(n)
    assert land["aendring_kr"] == pytest.approx(
        sum(result.b1.filter(pl.col("niveau") == "kommune")["aendring_kr"]), rel=1e-9
    )
    # a group the user chooses is still made
    if n >= 2:
        other = SUBSETS[n][0]
        assert kmf.kommune(result, kode, sammenlign=[other]).tabeller.sammenligning == (other,)


# --- spor and historik ------------------------------------------------------------------------


@pytest.mark.parametrize("n", list(SUBSETS))
def test_track_and_history_name_and_sum_the_kommuner(folders: dict[int, Path], n: int) -> None:
    track = kmf.spor(folders[n]).spor
    for d in track["opgoerelsesdato"].unique().to_list():
        _check_sums(track.filter(pl.col("opgoerelsesdato") == d).drop("opgoerelsesdato"), n)
    history = kmf.historik(folders[n]).historik
    assert sorted(history["aar"].unique().to_list()) == list(YEARS)
    for year in YEARS:
        _check_sums(history.filter(pl.col("aar") == year).drop("aar"), n)


# --- the command line -------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 11])
def test_kmf_run_says_what_the_sums_are(folders: dict[int, Path], tmp_path: Path, n: int) -> None:
    done = CliRunner().invoke(app, ["run", str(folders[n]), "--out", str(tmp_path / "ud")])
    assert done.exit_code == 0, done.output
    out = done.stdout
    assert f"{_name(n)}, budgetår 2018" in out
    assert "Hele landet" not in out and "Største stigning" not in out
    assert out.count("af de 98 kommuner") == 1
    b1 = pl.read_csv(tmp_path / "ud" / "tabel_b1.csv", schema_overrides={"kode": pl.String})
    _check_sums(b1, n)
    assert pl.read_csv(tmp_path / "ud" / "tabel_4.csv").height == 0
    text = (tmp_path / "ud" / "sammenfatning.md").read_text(encoding="utf-8")
    assert "Hele landet" not in text and "hele landet under ét" not in text


def test_kmf_kommune_spor_and_historik_on_two_kommuner(
    folders: dict[int, Path], tmp_path: Path
) -> None:
    runner = CliRunner()
    folder = str(folders[2])
    done = runner.invoke(app, ["kommune", "851", folder, "--out", str(tmp_path / "k")])
    assert done.exit_code == 0, done.output
    assert "Hele landet" not in done.stdout and " nr. " not in done.stdout
    assert "af de 98 kommuner" in done.stdout
    done = runner.invoke(app, ["spor", folder, "--out", str(tmp_path / "s")])
    assert done.exit_code == 0, done.output
    assert "I alt, 2 kommuner" in done.stdout and "hele landet" not in done.stdout.lower()
    done = runner.invoke(app, ["historik", folder, "--out", str(tmp_path / "h")])
    assert done.exit_code == 0, done.output
    assert "I alt, 2 kommuner, ændring ift. budgettet:" in done.stdout
    assert "Hele landet" not in done.stdout
