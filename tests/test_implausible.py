"""Input that cannot be right stops the run; input that is only unusual is named.

- a copy of an activity file beside the original (same bytes) would be summed twice;
- a cell with more KMF than production value (the columns swapped);
- a budget and a forecast more than 10 times apart (a budget typed in mio. kr.);
- a kommune whose change is beyond ±25 pct. of its budget is named, not hidden.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import kmf
from kmf.cli import app

T = 2020


def _one_cell(k_fore: float, budget: float, p: float = 1000.0, k_base: float = 100.0) -> tuple:
    """One kommune (101), one cell (3-64, somatik) in each cut. f = 1 (the two T−1 cuts are
    equal), so K^f = ``k_fore``; the budget per kommune is ``budget``."""
    rows = []
    for aar, opg, takst, k in (
        (T - 2, "endelig", T, k_base),
        (T - 1, "foreloebig", T - 1, 50.0),
        (T - 1, "endelig", T - 1, 50.0),
        (T, "foreloebig", T, k_fore),
    ):
        rows.append({"kommunekode": 101, "aar": aar, "opgoerelse": opg, "takstaar": takst,
                     "aldersgruppe": "3-64", "sundhedsomraade": "somatik",
                     "produktionsvaerdi": p, "kmf": k})  # fmt: skip
    return rows, [{"aar": T, "kommunekode": 101, "kmf_budget_kr": budget}]


def _write(folder: Path, rows: list[dict], budget: list[dict]) -> Path:
    folder.mkdir(parents=True)
    pl.DataFrame(rows).write_csv(folder / "aktivitet.csv")
    pl.DataFrame(budget).write_csv(folder / "budget.csv")
    return folder


# --- copies ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def parquet_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample with its activity split in two different Parquet files in aktivitet/."""
    sample = kmf.sample_dataset()
    folder = tmp_path_factory.mktemp("kopi") / "data"
    (folder / "aktivitet").mkdir(parents=True)
    rows = pl.read_csv(sample / "aktivitet.csv")
    rows.filter(pl.col("aar") < 2018).write_parquet(folder / "aktivitet" / "aktivitet.parquet")
    rows.filter(pl.col("aar") >= 2018).write_parquet(folder / "aktivitet" / "del 2.parquet")
    for extra in ("budget.csv", "kmf.toml"):
        shutil.copy(sample / extra, folder / extra)
    return folder


def test_parts_of_the_data_split_over_different_files_stay_legal(parquet_folder: Path) -> None:
    split = kmf.run(parquet_folder)
    whole = kmf.run(kmf.sample_dataset())
    assert split.b1.select("kode", "kmf_prognose_kr").equals(
        whole.b1.select("kode", "kmf_prognose_kr")
    )


@pytest.mark.parametrize("copy", ["aktivitet - Kopi.parquet", "aktivitet (1).parquet"])
def test_a_copied_file_stops_the_run_naming_both(
    parquet_folder: Path, tmp_path: Path, copy: str
) -> None:
    folder = tmp_path / "data"
    shutil.copytree(parquet_folder, folder)
    shutil.copy(folder / "aktivitet" / "aktivitet.parquet", folder / "aktivitet" / copy)
    with pytest.raises(kmf.DataError) as info:
        kmf.load(folder)
    message = str(info.value)
    assert f"'aktivitet/{copy}'" in message and "'aktivitet/aktivitet.parquet'" in message
    assert "samme indhold" in message
    done = CliRunner().invoke(app, ["run", str(folder), "--out", str(tmp_path / "ud")])
    assert done.exit_code == 2, done.output
    assert copy in done.stderr and not (tmp_path / "ud").exists()


def test_a_copied_csv_in_the_folder_is_not_summed(parquet_folder: Path, tmp_path: Path) -> None:
    """The folder is read as Parquet files only: a CSV copy there is named, never summed."""
    folder = tmp_path / "data"
    shutil.copytree(parquet_folder, folder)
    shutil.copy(
        kmf.sample_dataset() / "aktivitet.csv", folder / "aktivitet" / "aktivitet - Kopi.csv"
    )
    data = kmf.load(folder)
    assert any("aktivitet - Kopi.csv" in n for n in data.notes)
    assert kmf.run(data).b1.equals(kmf.run(parquet_folder).b1)


# --- kmf above the production value ---------------------------------------------------------


@pytest.mark.parametrize(("excess", "stops"), [(0.5, False), (0.75, True)])
def test_kmf_above_the_production_value_stops_beyond_half_a_krone(
    tmp_path: Path, excess: float, stops: bool
) -> None:
    rows, budget = _one_cell(k_fore=1000.0 + excess, budget=1000.0)
    folder = _write(tmp_path / "d", rows, budget)
    if not stops:
        assert kmf.run(folder).b1.row(0, named=True)["kmf_prognose_kr"] == 1000.0 + excess
        return
    with pytest.raises(kmf.DataError) as info:
        kmf.run(folder)
    message = str(info.value)
    assert "1 celle(r)" in message and "101 København" in message and "2020" in message
    assert "3-64" in message and "somatik" in message and "byttet om" in message


def test_swapped_columns_stop_every_command(tmp_path: Path) -> None:
    sample = kmf.sample_dataset()
    folder = tmp_path / "data"
    folder.mkdir()
    rows = pl.read_csv(sample / "aktivitet.csv")
    rows.rename({"kmf": "produktionsvaerdi", "produktionsvaerdi": "kmf"}).write_csv(
        folder / "aktivitet.csv"
    )
    for extra in ("budget.csv", "kmf.toml"):
        shutil.copy(sample / extra, folder / extra)
    for args in (["run"], ["kommune", "851"], ["spor"], ["historik"]):
        done = CliRunner().invoke(app, [*args, str(folder), "--out", str(tmp_path / "ud")])
        assert done.exit_code == 2, done.output
        assert "byttet om" in done.stderr and "(og " in done.stderr  # first few + count


# --- a budget in another unit ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("budget", "stops"),
    [(10.0, False), (9.5, True), (1000.0, False), (1001.0, True)],
)
def test_a_budget_ten_times_from_the_forecast_passes_and_beyond_stops(
    tmp_path: Path, budget: float, stops: bool
) -> None:
    rows, given = _one_cell(k_fore=100.0, budget=budget, p=10_000.0, k_base=budget)
    folder = _write(tmp_path / "d", rows, given)
    if not stops:  # exactly 10 times apart: passes
        assert kmf.run(folder).b1.row(0, named=True)["kmf_budget_kr"] == budget
        return
    with pytest.raises(kmf.DataError) as info:
        kmf.run(folder)
    message = str(info.value)
    assert f"budget {budget:,.0f} kr.".replace(",", ".") in message
    assert "prognose 100 kr." in message and "angivet i kr." in message


def test_a_national_budget_typed_in_mio_kr_stops(tmp_path: Path) -> None:
    sample = kmf.sample_dataset()
    folder = tmp_path / "data"
    shutil.copytree(sample, folder)
    (folder / "budget.csv").write_text("aar,kmf_budget_kr\n2018,21500\n2019,22300\n")
    done = CliRunner().invoke(app, ["run", str(folder), "--out", str(tmp_path / "ud")])
    assert done.exit_code == 2, done.output
    assert "budget 21.500 kr." in done.stderr and "mio. kr." in done.stderr
    assert "for hele landet" in done.stderr and "budget.csv" in done.stderr


# --- an unusual change -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k_fore", "budget", "named"),
    [(125.0, 100.0, False), (125.0, 99.9, True), (75.0, 100.0, False), (75.0, 100.1, True)],
)
def test_a_change_beyond_25_pct_is_named(
    tmp_path: Path, k_fore: float, budget: float, named: bool
) -> None:
    rows, given = _one_cell(k_fore=k_fore, budget=budget, k_base=budget)
    folder = _write(tmp_path / "d", rows, given)
    result = kmf.run(folder)
    notes = [n for n in result.manifest.bemaerkninger if n.startswith("Usædvanlig ændring")]
    assert len(notes) == (1 if named else 0)
    if not named:
        return
    change = 100 * (k_fore - budget) / budget
    shown = f"{change:+.1f}".replace(".", ",")
    assert f"København (101) {shown} pct." in notes[0]
    done = CliRunner().invoke(app, ["run", str(folder), "--out", str(tmp_path / "ud")])
    assert done.exit_code == 0, done.output
    assert "Usædvanlig ændring" in done.stdout
    sheet = load_workbook(tmp_path / "ud" / "kmf_dekomponering_2020.xlsx")["Om kørslen"]
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert any("Usædvanlig ændring" in c and "København (101)" in c for c in cells)


# --- the message of a budget a unit away, word for word ----------------------------------------

UNIT_HELP = (
    "Mere end 10 gange er næsten altid en fejl i enheden. Er budgettet i budget.csv "
    "(kolonnen 'kmf_budget_kr') angivet i kr.? Er det fx skrevet i mio. kr. (21500 for 21,5 "
    "mia. kr.), så gang det med 1.000.000."
)


def _unit_message(budgets: list[float], forecasts: list[float], kind: str = "national") -> str:
    """The message of the check on kommuner 101, 147, … with these amounts (budget year 2020)."""
    from kmf.compute.checks import require_budget_near_forecast

    codes = sorted(kmf_codes())[: len(budgets)]
    frame = pl.DataFrame(
        {"k": [0] * len(budgets), "kommunekode": codes, "kmf_budget_kr": budgets,
         "kmf_prognose_kr": forecasts}
    )  # fmt: skip
    with pytest.raises(kmf.DataError) as info:
        require_budget_near_forecast(frame, "k", {0: (T, kind)}, "budget.csv")
    return str(info.value)


def kmf_codes() -> list[int]:
    from kmf import codes

    return list(codes.kommune_codes())


@pytest.mark.parametrize(
    ("budgets", "forecasts", "expected"),
    [
        # one kommune: 20 / 1 = 20,0 times (the larger over the smaller, either way round)
        ([1.0], [20.0], "Budgettet og prognosen for 2020 for kommunen er 20,0 gange fra "
         "hinanden: budget 1 kr. mod prognose 20 kr. "),
        ([2500.0], [100.0], "Budgettet og prognosen for 2020 for kommunen er 25,0 gange fra "
         "hinanden: budget 2.500 kr. mod prognose 100 kr. "),
        # two kommuner under one: the sums, 111 / 10 = 11,1
        ([5.0, 5.0], [101.0, 10.0], "Budgettet og prognosen for 2020 for de 2 kommuner under "
         "ét er 11,1 gange fra hinanden: budget 10 kr. mod prognose 111 kr. "),
        # a budget of 0: no ratio, "mange"
        ([0.0], [50.0], "Budgettet og prognosen for 2020 for kommunen er mange gange fra "
         "hinanden: budget 0 kr. mod prognose 50 kr. "),
    ],
)  # fmt: skip
def test_the_unit_message_word_for_word(
    budgets: list[float], forecasts: list[float], expected: str
) -> None:
    assert _unit_message(budgets, forecasts) == expected + UNIT_HELP


def test_the_unit_message_for_the_whole_country_and_for_a_kommune_of_its_own() -> None:
    every = len(kmf_codes())
    whole = _unit_message([1.0] * every, [11.0] * every)
    assert whole == (
        "Budgettet og prognosen for 2020 for hele landet er 11,0 gange fra hinanden: budget "
        f"{every} kr. mod prognose {f'{11 * every:,}'.replace(',', '.')} kr. " + UNIT_HELP
    )
    # a budget per kommune: the sum of both passes, the one kommune beyond 10 times stops
    own = _unit_message([10.0, 1.0], [10.0, 1.0 + 10.5], kind="kommune")
    assert own.startswith(
        "Budgettet og prognosen for 2020 for kommune 147 Frederiksberg er 11,5 gange fra "
        "hinanden: budget 1 kr. mod prognose 12 kr. "
    ), own


def test_the_unusual_change_note_word_for_word() -> None:
    """Beyond ±25 pct. (exactly 25 is not): the kommuner named largest change first, each
    with its change to one decimal and a sign; a region or Hele landet beyond 25 is not."""
    from kmf.compute.checks import unusual_changes

    b1 = pl.DataFrame(
        {
            "niveau": ["land", "region", "kommune", "kommune", "kommune", "kommune"],
            "kode": ["DK", "1081", "101", "147", "851", "860"],
            "navn": ["Hele landet", "Region Nordjylland", "København", "Frederiksberg",
                     "Aalborg", "Hjørring"],
            "aendring_pct": [30.0, -30.0, 25.0, -25.04, 31.26, -40.0],
        }
    )  # fmt: skip
    (note,) = unusual_changes(b1)
    # 31,26 → +31,3; -25,04 → -25,0 (beyond 25 before rounding); -40 → -40,0
    # the sentence ends at the last "pct." (one full stop, not "pct..")
    assert note == (
        "Usædvanlig ændring: 3 kommune(r) har en ændring på mere end 25 pct. af budgettet: "
        "Aalborg (851) +31,3 pct.; Frederiksberg (147) -25,0 pct.; Hjørring (860) -40,0 pct. "
        "Kontrollér data og budget for disse kommuner, før tallene bruges."
    ), note
    assert "København" not in note and "Nordjylland" not in note
    assert unusual_changes(b1.filter(pl.col("kode").is_in(["DK", "101"]))) == []


def test_of_several_kommuner_beyond_10_times_the_lowest_code_is_named() -> None:
    """A budget per kommune, the rows not in kommune order: Aalborg 1 kr. against 12 kr.
    (12 / 1 = 12 times) and Frederiksberg 100 kr. against 5 kr. (100 / 5 = 20 times) both stop;
    the message names the lower code, 147, whatever the order of the rows. The sum passes:
    1 + 100 + 1000 = 1101 kr. against 12 + 5 + 1000 = 1017 kr. The file is named."""
    from kmf.compute.checks import require_budget_near_forecast

    frame = pl.DataFrame(
        {"k": [0, 0, 0], "kommunekode": [851, 147, 101], "kmf_budget_kr": [1.0, 100.0, 1000.0],
         "kmf_prognose_kr": [12.0, 5.0, 1000.0]}
    )  # fmt: skip
    with pytest.raises(kmf.DataError) as info:
        require_budget_near_forecast(frame, "k", {0: (T, "kommune")}, "budget.csv")
    assert str(info.value) == (
        "Budgettet og prognosen for 2020 for kommune 147 Frederiksberg er 20,0 gange fra "
        "hinanden: budget 100 kr. mod prognose 5 kr. " + UNIT_HELP
    )
