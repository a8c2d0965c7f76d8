"""SPEC §7 worked by hand: forecast dates, the cuts each date reads, the forecast track, its
accuracy against T endelig, and the history of budget years.

Two kommuner (101 København, Hovedstaden; 851 Aalborg, Nordjylland), one cell each
(3-64 somatik, P = 10 · K, so the KMF share is 0.1 everywhere). Budget year T = 2020.
Every expected number below is worked out here from the cuts the test itself chooses.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

import kmf
from tests.factory import write_dataset

T = 2020
D = date.fromisoformat


def _cut(aar: int, opg: str, takst: int, dato: str | None, k101: float, k851: float) -> list:
    return [
        {
            "kommunekode": k, "aar": aar, "opgoerelse": opg, "takstaar": takst,
            "opgoerelsesdato": dato, "aldersgruppe": "3-64", "sundhedsomraade": "somatik",
            "produktionsvaerdi": 10.0 * v, "kmf": v,
        }
        for k, v in ((101, k101), (851, k851))
    ]  # fmt: skip


# T foreløbig (takstaar T): four dates. 2020-09-10 has no T−1 partner (2019-09-10 is absent).
T_FORE = {"2020-02-29": (100, 50), "2020-03-10": (110, 55), "2020-06-10": (200, 99),
          "2020-09-10": (300, 130)}  # fmt: skip
# T−1 foreløbig: 2019-02-28 is the partner of 29 Feb 2020; 2019-09-11 is nobody's partner.
T1_FORE = {"2019-02-28": (80, 40), "2019-03-10": (100, 50), "2019-06-10": (160, 75),
           "2019-09-11": (999, 999)}  # fmt: skip
# T−1 endelig: the latest on or before d → 2020-01-10 for February/March, 2020-04-10 for June.
T1_END = {"2020-01-10": (400, 200), "2020-04-10": (480, 250)}
# Base T−2 endelig at T takster: 2019-11-01 up to May, 2020-05-01 from then.
BASE = {"2019-11-01": (500, 250), "2020-05-01": (520, 260)}
# T endelig (takstaar T): the truth is the latest date, 2021-04-10.
T_END = {"2021-01-10": (1, 1), "2021-04-10": (550, 275)}

ROWS = [
    *(r for d, v in T_FORE.items() for r in _cut(T, "foreloebig", T, d, *v)),
    *(r for d, v in T1_FORE.items() for r in _cut(T - 1, "foreloebig", T - 1, d, *v)),
    *(r for d, v in T1_END.items() for r in _cut(T - 1, "endelig", T - 1, d, *v)),
    *(r for d, v in BASE.items() for r in _cut(T - 2, "endelig", T, d, *v)),
    *(r for d, v in T_END.items() for r in _cut(T, "endelig", T, d, *v)),
]

# K^f = K(T−1 endelig) / K(T−1 foreløbig at the same day a year before) · K(T foreløbig at d)
FORECAST = {
    D("2020-02-29"): {101: 400 / 80 * 100, 851: 200 / 40 * 50},  # 500, 250
    D("2020-03-10"): {101: 400 / 100 * 110, 851: 200 / 50 * 55},  # 440, 220
    D("2020-06-10"): {101: 480 / 160 * 200, 851: 250 / 75 * 99},  # 600, 330
}
TRUTH = {101: 550.0, 851: 275.0}
BUDGET_K = {101: 600.0, 851: 300.0}
# two kommuner of 98: a budget per kommune (SPEC §3); K⁰ is 2:1 in both base cuts, so these
# are the split a national 900 would give at every date
BUDGET_ROWS = [{"aar": T, "kommunekode": k, "kmf_budget_kr": v} for k, v in BUDGET_K.items()]


def _error(f: float, e: float) -> float:
    return 100 * (f - e) / e


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("tid"), ROWS, BUDGET_ROWS)


def _land(b1: pl.DataFrame) -> dict:
    return b1.filter(pl.col("niveau") == "land").row(0, named=True)


def test_run_defaults_to_the_latest_date_with_a_basis(folder: Path) -> None:
    result = kmf.run(folder)
    # 2020-09-10 lacks its T−1 partner, so the default is 2020-06-10
    assert result.dato == D("2020-06-10")
    kommuner = result.b1.filter(pl.col("niveau") == "kommune")
    got = dict(zip(kommuner["kode"].to_list(), kommuner["kmf_prognose_kr"].to_list(), strict=True))
    assert got == pytest.approx({"101": 600.0, "851": 330.0}, rel=1e-12)
    assert _land(result.b1)["kmf_budget_kr"] == pytest.approx(900.0, rel=1e-12)
    m = result.manifest.as_json()
    assert m["opgoerelsesdato"] == "2020-06-10"
    assert list(m["datoer_uden_grundlag"]) == ["2020-09-10"]
    roles = {(c["aar"], c["opgoerelse"], c["opgoerelsesdato"]): c["brugt_som"]
             for c in m["opgoerelser"]}  # fmt: skip
    assert roles[(2020, "foreloebig", "2020-06-10")] == "prognose"
    assert roles[(2019, "foreloebig", "2019-06-10")] == "efterreg_foreloebig"
    assert roles[(2019, "endelig", "2020-04-10")] == "efterreg_endelig"
    assert roles[(2018, "endelig", "2020-05-01")] == "grundlag"
    assert roles[(2019, "endelig", "2020-01-10")] is None
    assert roles[(2019, "foreloebig", "2019-09-11")] is None


@pytest.mark.parametrize(
    "dato", ["2020-03-10", "10-03-2020", "10.03.2020", D("2020-03-10"), datetime(2020, 3, 10)]
)
def test_run_on_a_chosen_date_reads_the_cuts_of_that_date(folder: Path, dato: object) -> None:
    result = kmf.run(folder, dato=dato)  # type: ignore[arg-type]
    kommuner = result.b1.filter(pl.col("niveau") == "kommune")
    assert kommuner["kmf_prognose_kr"].to_list() == pytest.approx([440.0, 220.0], rel=1e-12)
    assert result.manifest.as_json()["opgoerelsesdato"] == "2020-03-10"


def test_29_february_pairs_with_28_february(folder: Path) -> None:
    result = kmf.run(folder, dato="2020-02-29")
    kommuner = result.b1.filter(pl.col("niveau") == "kommune")
    assert kommuner["kmf_prognose_kr"].to_list() == pytest.approx([500.0, 250.0], rel=1e-12)


def test_a_date_without_its_partner_names_what_is_missing(folder: Path) -> None:
    with pytest.raises(kmf.DataError) as info:
        kmf.run(folder, dato="2020-09-10")
    text = str(info.value)
    assert "2019 foreløbig i 2019-takster pr. 2019-09-10" in text
    # the T−1 foreløbig dates that exist, and the dates that have a basis
    assert "2019-02-28, 2019-03-10, 2019-06-10, 2019-09-11" in text
    assert "2020-02-29, 2020-03-10, 2020-06-10" in text


def test_a_date_that_is_not_a_forecast_date_lists_the_dates(folder: Path) -> None:
    with pytest.raises(kmf.DataError, match="2020-02-29, 2020-03-10, 2020-06-10, 2020-09-10"):
        kmf.run(folder, dato="2020-05-10")


def test_a_date_asked_of_undated_data_says_the_data_have_no_dates(tmp_path: Path) -> None:
    """The four cuts of T = 2020 with no opgoerelsesdato at all: a forecast date asked for
    cannot be found, and the list of dates says there are none (not an empty list)."""
    rows = [
        *_cut(T, "foreloebig", T, None, 100, 50),
        *_cut(T - 1, "foreloebig", T - 1, None, 100, 50),
        *_cut(T - 1, "endelig", T - 1, None, 400, 200),
        *_cut(T - 2, "endelig", T, None, 500, 250),
    ]
    with pytest.raises(kmf.DataError) as info:
        kmf.run(write_dataset(tmp_path, rows, BUDGET_ROWS), dato="2020-06-10")
    assert str(info.value) == (
        "Der er ingen foreløbig opgørelse for 2020 (i 2020-takster) pr. 2020-06-10 i "
        "aktivitetsdata (kolonnen 'opgoerelsesdato'). Datoerne for 2020 foreløbig er: ingen "
        "(data har ingen opgørelsesdatoer). Vælg en af dem med --dato."
    )


@pytest.mark.parametrize("dato", ["2020-02-30", "10/09/2020", "1.9.2020", "2020-9-10", "i går"])
def test_a_date_that_is_no_date_is_refused(folder: Path, dato: str) -> None:
    with pytest.raises(kmf.DataError, match="er ikke en dato"):
        kmf.run(folder, dato=dato)


def test_the_track_has_every_date_with_a_basis_and_its_forecast(folder: Path) -> None:
    track = kmf.spor(folder)
    assert track.datoer == list(FORECAST)
    assert [d for d, _ in track.datoer_uden_grundlag] == [D("2020-09-10")]
    assert track.spor.columns[0] == "opgoerelsesdato"
    kommuner = track.spor.filter(pl.col("niveau") == "kommune")
    got = {(d, int(k)): v for d, k, v in kommuner.select(
        "opgoerelsesdato", "kode", "kmf_prognose_kr").iter_rows()}  # fmt: skip
    want = {(d, k): v for d, by_k in FORECAST.items() for k, v in by_k.items()}
    assert got == pytest.approx(want, rel=1e-12)
    budgets = kommuner.select("kode", "kmf_budget_kr").unique().sort("kode")
    assert budgets["kmf_budget_kr"].to_list() == pytest.approx([600.0, 300.0], rel=1e-12)


def test_the_tracks_latest_row_is_the_run_on_that_date(folder: Path) -> None:
    track = kmf.spor(folder)
    for d in track.datoer:
        rows = track.spor.filter(pl.col("opgoerelsesdato") == d).drop("opgoerelsesdato")
        run = kmf.run(folder, dato=d).b1
        assert rows.select("kode").equals(run.select("kode"))
        for column in run.columns[4:]:
            assert rows[column].to_list() == pytest.approx(run[column].to_list(), rel=1e-9)


def test_accuracy_against_the_latest_endelig_cut(folder: Path) -> None:
    track = kmf.spor(folder)
    assert repr(track) == (
        "Prognosespor for budgetår 2020 (metode ministeriet): 3 datoer, 29. februar 2020 … "
        "10. juni 2020; 1 dato uden grundlag; træfsikkerhed mod den endelige opgørelse pr. "
        "10. april 2021."
    )
    assert track.endelig_dato == D("2021-04-10")
    units = track.traefsikkerhed_enheder
    assert units is not None
    assert units.columns == ["opgoerelsesdato", "niveau", "kode", "navn", "region",
                             "kmf_prognose_kr", "kmf_endelig_kr", "fejl_pct"]  # fmt: skip
    for d, by_k in FORECAST.items():
        of_date = units.filter(pl.col("opgoerelsesdato") == d)
        errors = dict(zip(of_date["kode"].to_list(), of_date["fejl_pct"].to_list(), strict=True))
        want = {str(k): _error(v, TRUTH[k]) for k, v in by_k.items()}
        # the regions hold one kommune each; land sums both
        want["1084"], want["1081"] = want["101"], want["851"]
        want["DK"] = _error(sum(by_k.values()), sum(TRUTH.values()))
        assert errors == pytest.approx(want, rel=1e-9)
    summary = track.traefsikkerhed
    assert summary is not None
    june = summary.filter(pl.col("opgoerelsesdato") == D("2020-06-10")).row(0, named=True)
    # 101: 100·(600 − 550)/550 = 9.0909…; 851: 100·(330 − 275)/275 = 20; land 930 vs 825
    assert june["land_fejl_pct"] == pytest.approx(100 * 105 / 825, rel=1e-9)
    assert june["kommuner_mae_pct"] == pytest.approx((100 * 50 / 550 + 20) / 2, rel=1e-9)
    assert june["kommuner_median_abs_pct"] == pytest.approx((100 * 50 / 550 + 20) / 2, rel=1e-9)
    assert june["kommuner_max_abs_pct"] == pytest.approx(20.0, rel=1e-9)
    assert june["andel_kommuner_inden_for_2pct"] == 0.0
    march = summary.filter(pl.col("opgoerelsesdato") == D("2020-03-10")).row(0, named=True)
    assert march["kommuner_max_abs_pct"] == pytest.approx(20.0, rel=1e-9)  # both −20


def test_a_track_without_t_endelig_has_no_accuracy(tmp_path: Path) -> None:
    rows = [r for r in ROWS if not (r["aar"] == T and r["opgoerelse"] == "endelig")]
    folder = write_dataset(tmp_path, rows, BUDGET_ROWS)
    track = kmf.spor(folder)
    assert track.traefsikkerhed is None
    assert "tabel_traefsikkerhed" not in track.named_tables()


def test_unused_cuts_change_nothing(tmp_path: Path, folder: Path) -> None:
    extra = [
        *_cut(T - 1, "foreloebig", T - 1, "2019-12-10", 7, 7),  # no T partner
        *_cut(T - 1, "endelig", T - 1, "2020-12-10", 9, 9),  # after every date
        *_cut(T - 2, "endelig", T, "2020-10-01", 9, 9),  # after every date with a basis
    ]
    more = write_dataset(tmp_path, ROWS + extra, BUDGET_ROWS)
    assert kmf.spor(more).spor.equals(kmf.spor(folder).spor)


def test_the_order_of_the_rows_changes_nothing(tmp_path: Path, folder: Path) -> None:
    shuffled = write_dataset(tmp_path, ROWS[::-1], BUDGET_ROWS)
    assert kmf.spor(shuffled).spor.equals(kmf.spor(folder).spor)


def test_parquet_dates_give_the_same_track(tmp_path: Path, folder: Path) -> None:
    frame = pl.read_csv(folder / "aktivitet.csv", try_parse_dates=True)
    assert frame.schema["opgoerelsesdato"] == pl.Date
    (tmp_path / "p").mkdir()
    frame.write_parquet(tmp_path / "p" / "aktivitet.parquet")
    (tmp_path / "p" / "budget.csv").write_text((folder / "budget.csv").read_text())
    assert kmf.spor(tmp_path / "p").spor.equals(kmf.spor(folder).spor)


def test_a_cut_mixing_dated_and_undated_rows_stops(tmp_path: Path) -> None:
    rows = [dict(r) for r in ROWS]
    rows[0]["opgoerelsesdato"] = None
    folder = write_dataset(tmp_path, rows, BUDGET_ROWS)
    with pytest.raises(kmf.DataError, match="blander rækker med og uden opgørelsesdato"):
        kmf.load(folder)


def test_a_bad_date_in_the_data_names_its_line(tmp_path: Path) -> None:
    rows = [dict(r) for r in ROWS]
    rows[2]["opgoerelsesdato"] = "2020-02-30"
    folder = write_dataset(tmp_path, rows, BUDGET_ROWS)
    with pytest.raises(kmf.DataError) as info:
        kmf.load(folder)
    assert "kolonne 'opgoerelsesdato'" in str(info.value)
    assert "linje 4: '2020-02-30'" in str(info.value)


def test_the_track_is_written(tmp_path: Path, folder: Path) -> None:
    written = kmf.spor(folder, kommune=851).write(tmp_path / "ud")
    names = {p.name for p in written}
    assert {"tabel_spor.csv", "tabel_spor.parquet", "kmf_prognosespor_2020.xlsx",
            "figur_spor.png", "tabel_traefsikkerhed.csv", "tabel_traefsikkerhed_enheder.csv",
            "manifest.json"} <= names  # fmt: skip
    manifest = json.loads((tmp_path / "ud" / "manifest.json").read_text())
    assert manifest["opgoerelsesdatoer"] == ["2020-02-29", "2020-03-10", "2020-06-10"]
    assert manifest["datoer_uden_grundlag"] == ["2020-09-10"]
    assert "2019-09-10" in manifest["mangler_pr_dato"]["2020-09-10"]
    assert manifest["kommuner"] == 2  # 101 and 851, not once per date
    # the truth cut is used too: its rows are not counted as unused
    unused = [c["raekker"] for c in manifest["opgoerelser"] if c["brugt_som"] is None]
    assert manifest["raekker_ikke_brugt"] == sum(unused)
    assert "traefsikkerhed" in {c["brugt_som"] for c in manifest["opgoerelser"]}
    csv = pl.read_csv(tmp_path / "ud" / "tabel_spor.csv")
    assert csv["opgoerelsesdato"][0] == "2020-02-29"


def _two_years(tmp_path: Path) -> Path:
    """Budget years 2020 (the rows above) and 2021 (its own cuts, undated… no: dated)."""
    rows = list(ROWS)
    # 2021 at 2021-06-10: T−1 foreløbig 2020-06-10 exists; T−1 endelig = 2020 endelig (T_END);
    # base 2019 endelig at 2021 takster.
    rows += _cut(2021, "foreloebig", 2021, "2021-06-10", 300, 150)
    rows += _cut(2019, "endelig", 2021, "2020-12-01", 700, 300)
    # 2021: 1500 split by K⁰ 700 : 300
    budget = [
        *BUDGET_ROWS,
        {"aar": 2021, "kommunekode": 101, "kmf_budget_kr": 1050.0},
        {"aar": 2021, "kommunekode": 851, "kmf_budget_kr": 450.0},
    ]
    return write_dataset(tmp_path, rows, budget)


def test_history_has_every_year_with_a_basis(tmp_path: Path) -> None:
    folder = _two_years(tmp_path)
    history = kmf.historik(folder)
    assert history.aar == [2020, 2021]
    assert (
        repr(history) == "Historik (metode ministeriet): budgetår 2020, 2021; uden grundlag: 2019."
    )
    assert history.datoer == {2020: D("2020-06-10"), 2021: D("2021-06-10")}
    land = history.historik.filter(pl.col("niveau") == "land")
    # 2021: f = K(2020 endelig pr. 2021-04-10) / K(2020 foreløbig pr. 2020-06-10)
    #   101: 550/200 · 300 = 825; 851: 275/99 · 150 = 416.67; budget 1500
    want_2021 = 550 / 200 * 300 + 275 / 99 * 150
    assert land["kmf_prognose_kr"].to_list() == pytest.approx([930.0, want_2021], rel=1e-12)
    assert land["kmf_budget_kr"].to_list() == pytest.approx([900.0, 1500.0], rel=1e-12)
    for year in (2020, 2021):
        rows = history.historik.filter(pl.col("aar") == year).drop("aar")
        run = kmf.run(folder, aar=year).b1
        for column in run.columns[4:]:
            assert rows[column].to_list() == pytest.approx(run[column].to_list(), rel=1e-9)
    assert kmf.historik(folder, fra=2021).aar == [2021]
    assert kmf.historik(folder, til=2020).aar == [2020]
    with pytest.raises(kmf.DataError, match="2019, 2020, 2021"):
        kmf.historik(folder, fra=2030)


def test_history_is_written(tmp_path: Path) -> None:
    written = kmf.historik(_two_years(tmp_path / "d")).write(tmp_path / "ud")
    names = {p.name for p in written}
    assert {"tabel_historik.csv", "tabel_historik.parquet", "kmf_historik.xlsx",
            "figur_historik.png", "manifest.json"} <= names  # fmt: skip


def test_cli_spor_historik_and_run_on_a_date(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from kmf.cli import app

    folder = _two_years(tmp_path / "d")
    runner = CliRunner()
    done = runner.invoke(app, ["spor", str(folder), "--aar", "2020", "--out", str(tmp_path / "s")])
    assert done.exit_code == 0, done.output
    assert "10. september 2020 har intet grundlag" in done.stdout
    assert (tmp_path / "s" / "figur_spor.png").is_file()
    assert (tmp_path / "s" / "figur_traefsikkerhed.png").is_file()
    done = runner.invoke(app, ["historik", str(folder), "--fra", "2020", "-o", str(tmp_path / "h")])
    assert done.exit_code == 0, done.output
    assert pl.read_csv(tmp_path / "h" / "tabel_historik.csv")["aar"].unique().sort().to_list() == [
        2020,
        2021,
    ]
    run_out = tmp_path / "r"
    args = ["run", str(folder), "--aar", "2020", "--dato", "10.03.2020", "--out", str(run_out)]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    manifest = json.loads((run_out / "manifest.json").read_text())
    assert manifest["opgoerelsesdato"] == "2020-03-10"
    done = runner.invoke(app, [*args[:4], "--out", str(tmp_path / "r2")])  # the latest date
    assert done.exit_code == 0, done.output
    # the date without a basis, and (2 of 98 kommuner) the part of the country, said once
    assert done.stdout.count("Bemærk") == 2 and done.stdout.count("af de 98 kommuner") == 1
    assert "10. september 2020 har ikke alle opgørelser" in done.stdout
    missing = runner.invoke(app, [*args[:5], "2020-09-10", "--out", str(tmp_path / "x")])
    assert missing.exit_code == 2
    assert "2019-09-10" in missing.stderr
    assert not (tmp_path / "x").exists()


def test_synth_makes_a_track_with_every_date(tmp_path: Path) -> None:
    from kmf.synth import synthesize

    written = synthesize(40_000, tmp_path, year=2018, seed=2, dates=3)
    assert len(written) == 2 + 2 * 3
    track = kmf.spor(tmp_path)
    assert track.datoer == [D("2018-01-10"), D("2018-02-10"), D("2018-03-10")]
    assert track.datoer_uden_grundlag == ()
    # the default run is the latest date, and equals the track's last date
    run = kmf.run(tmp_path)
    assert run.dato == D("2018-03-10")
    last = track.spor.filter(pl.col("opgoerelsesdato") == D("2018-03-10")).drop("opgoerelsesdato")
    assert last["aendring_kr"].to_list() == pytest.approx(run.b1["aendring_kr"].to_list(), rel=1e-9)


def test_xlsx_dates_as_date_cells(tmp_path: Path, folder: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "aktivitet"
    columns = list(ROWS[0])
    ws.append(columns)
    for r in ROWS:
        ws.append([D(r[c]) if c == "opgoerelsesdato" else r[c] for c in columns])
    budget = wb.create_sheet("budget")
    budget.append(["aar", "kommunekode", "kmf_budget_kr"])
    for r in BUDGET_ROWS:
        budget.append([r["aar"], r["kommunekode"], r["kmf_budget_kr"]])
    wb.save(tmp_path / "data.xlsx")
    assert kmf.spor(tmp_path / "data.xlsx").spor.equals(kmf.spor(folder).spor)


def test_frames_with_a_date_column(folder: Path, tmp_path: Path) -> None:
    activity = pl.DataFrame(ROWS).with_columns(pl.col("opgoerelsesdato").str.to_date())
    budget = pl.DataFrame(BUDGET_ROWS)
    track = kmf.spor({"aktivitet": activity, "budget": budget})
    assert track.spor.equals(kmf.spor(folder).spor)
    track.write(tmp_path / "ud")
    assert (tmp_path / "ud" / "kmf_prognosespor_2020.xlsx").is_file()


def test_the_bench_worker_runs_kmf_spor(tmp_path: Path) -> None:
    import subprocess
    import sys

    from kmf.synth import synthesize

    synthesize(40_000, tmp_path, year=2018, seed=3, dates=2)
    done = subprocess.run(
        [sys.executable, "-m", "bench.worker", "kmf_spor", str(tmp_path)],
        capture_output=True, text=True, cwd=Path(__file__).parent.parent, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"peak_rss_mib"' in done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("layout", ["files", "hive"])
def test_one_parquet_file_per_cut_gives_the_same_track(
    tmp_path: Path, folder: Path, layout: str
) -> None:
    """A date that is the same in the whole file is read from the file's statistics (or its
    hive folder) by the columnar path; the track is the same as from CSV."""
    frame = pl.read_csv(folder / "aktivitet.csv", try_parse_dates=True)
    activity = tmp_path / "d" / "aktivitet"
    for i, (key, cut) in enumerate(
        frame.group_by("aar", "opgoerelse", "takstaar", "opgoerelsesdato", maintain_order=True)
    ):
        day = key[3]
        if layout == "hive":
            where = activity / f"opgoerelsesdato={day.isoformat()}"
            where.mkdir(parents=True, exist_ok=True)
            cut.drop("opgoerelsesdato").write_parquet(where / f"{i:02d}.parquet")
        else:
            activity.mkdir(parents=True, exist_ok=True)
            cut.write_parquet(activity / f"{i:02d}.parquet")
    (tmp_path / "d" / "budget.csv").write_text((folder / "budget.csv").read_text())
    assert kmf.spor(tmp_path / "d").spor.equals(kmf.spor(folder).spor)


def test_synth_makes_several_budget_years(tmp_path: Path) -> None:
    from kmf.synth import synthesize

    synthesize(40_000, tmp_path / "d", year=2018, seed=4, dates=2, years=2)
    history = kmf.historik(tmp_path / "d")
    assert history.aar == [2017, 2018]
    assert history.datoer == {2017: D("2017-02-10"), 2018: D("2018-02-10")}
    # the budget of each year is 1.03 × its base cut's KMF
    data = kmf.load(tmp_path / "d")
    for year in (2017, 2018):
        base = data.cells.filter((pl.col("aar") == year - 2) & (pl.col("takstaar") == year))[
            "kmf"
        ].sum()
        budget = data.budget.filter(pl.col("aar") == year)["kmf_budget_kr"][0]
        assert budget == pytest.approx(1.03 * base, abs=1.0)
    synthesize(40_000, tmp_path / "u", year=2018, seed=4, years=2)
    # a budget for 2016 too, whose 2015 cuts are not in the data: named, not an error
    budget = pl.read_csv(tmp_path / "u" / "budget.csv")
    pl.concat([budget, pl.DataFrame({"aar": [2016], "kmf_budget_kr": [1e8]})]).write_csv(
        tmp_path / "u" / "budget.csv"
    )
    undated = kmf.historik(tmp_path / "u")
    assert undated.aar == [2017, 2018]
    assert undated.datoer == {2017: None, 2018: None}
    assert [y for y, _ in undated.aar_uden_grundlag] == [2016]
    assert "2015 foreløbig" in undated.aar_uden_grundlag[0][1]


def test_the_figures_show_the_tables(folder: Path, tmp_path: Path) -> None:
    from kmf.report.track import accuracy_figure, history_figure, track_figure

    track = kmf.spor(folder, kommune=851)
    lines = {line.get_label(): list(line.get_ydata()) for line in track_figure(track).axes[0].lines}
    aalborg = track.spor.filter(pl.col("kode") == "851")
    assert lines["Ændring i alt"] == pytest.approx(aalborg["aendring_pct"].to_list())
    assert lines["A. Aktivitetseffekt"] == pytest.approx(aalborg["aktivitetseffekt_pct"].to_list())
    ax = accuracy_figure(track).axes[0]
    land = next(line for line in ax.lines if line.get_label() == "I alt, 2 kommuner")
    # the land's error by date, as worked out by hand above
    assert list(land.get_ydata()) == pytest.approx(
        [100 * (750 - 825) / 825, 100 * (660 - 825) / 825, 100 * (930 - 825) / 825]
    )
    assert "Træfsikkerhed 2020" in ax.get_title(loc="left")
    history = kmf.historik(_two_years(tmp_path))
    ax = history_figure(history).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2020", "2021"]
    bars = [p.get_height() for p in ax.patches]
    land_a = history.historik.filter(pl.col("niveau") == "land")["aktivitetseffekt_pct"]
    assert bars[:2] == pytest.approx(land_a.to_list())


def test_cli_spor_prints_the_chosen_kommune(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from kmf.cli import app

    done = CliRunner().invoke(app, ["spor", "--kommune", "851", "--out", str(tmp_path / "s")])
    assert done.exit_code == 0, done.output
    assert "Prognosespor for 2018, Aalborg (ændring ift. budgettet):" in done.stdout
    assert "\n  10. april 2018: " in done.stdout  # dates in Danish prose, not ISO
    assert "2018-04-10" not in done.stdout
    table = pl.read_csv(tmp_path / "s" / "tabel_spor.csv", schema_overrides={"kode": pl.String})
    aalborg = table.filter((pl.col("niveau") == "kommune") & (pl.col("kode") == "851"))
    land = table.filter(pl.col("niveau") == "land")
    assert aalborg.height == land.height > 0
    # the printed numbers are Aalborg's, to one decimal, not Hele landet's
    for pct in aalborg["aendring_pct"].to_list():
        shown = f"{abs(pct):.1f}".replace(".", ",")
        assert f"{shown} pct." in done.stdout
    assert aalborg["aendring_pct"].round(1).to_list() != land["aendring_pct"].round(1).to_list()


def test_dates_without_a_basis_are_grouped_by_what_they_lack(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from kmf.cli import app

    runner = CliRunner()
    # the sample's 2018 track: 10 January, February and March lack 2017 endelig (dated 10 April)
    done = runner.invoke(app, ["spor", "--out", str(tmp_path / "s")])
    assert done.exit_code == 0, done.output
    assert done.stdout.count("Bemærk") == 1
    lines = done.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "Bemærk:" in line)
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("    "))
    note = " ".join(" ".join(lines[start:end]).split())
    assert "10. januar, 10. februar og 10. marts 2018 har alle intet grundlag" in note
    assert "2017 endelig i 2017-takster" in note
    assert all(len(line) <= 80 for line in lines[start:end])
    # 2016 in the sample has nine dates and none of the three cuts a forecast reads
    failed = runner.invoke(app, ["run", "--aar", "2016", "--out", str(tmp_path / "r")])
    assert failed.exit_code == 2
    listed = [line for line in failed.stderr.splitlines() if line.startswith("- ")]
    assert len(listed) == 3
    assert all(line.endswith("for alle datoerne") for line in listed)
    assert "2015 foreløbig i 2015-takster" in listed[0]
    assert "10. januar" in failed.stderr and "10. september 2016" in failed.stderr


def test_what_data_have_of_a_cut_word_for_word() -> None:
    """The words a missing cut's message uses for the dates data do have: none, only an
    undated one, one date or several; in prose or as dates to give with --dato."""
    from kmf.compute.timeline import _exists

    d1, d2 = date(2018, 8, 10), date(2018, 9, 10)
    assert _exists([]) == "den findes ikke i data"
    assert _exists([None]) == "data har den kun uden dato"
    assert _exists([d2]) == "data har datoen 10. september 2018"
    assert _exists([None, d1, d2]) == "data har datoerne 10. august og 10. september 2018"
    assert _exists([d2], prose=False) == "data har datoen 2018-09-10"
    assert _exists([d1, d2], prose=False) == "data har datoerne 2018-08-10, 2018-09-10"


def test_a_forecast_without_a_basis_says_what_it_lacks_word_for_word() -> None:
    from kmf.compute.timeline import Basis, no_basis_message

    lacking = Basis(2018, None, (), ("T foreløbig: den findes ikke i data",))
    dated = Basis(2018, date(2018, 9, 10), (), ("T−1 endelig: den findes ikke i data",))
    whole = Basis(2018, date(2018, 8, 10), ())
    assert no_basis_message(lacking, [lacking]) == (
        "Prognosen for budgetår 2018 mangler opgørelser i aktivitetsdata (kolonnerne 'aar', "
        "'opgoerelse', 'takstaar', 'opgoerelsesdato'):\n- T foreløbig: den findes ikke i data"
        "\nTilføj de manglende opgørelser, eller vælg en anden dato med --dato."
    )
    assert no_basis_message(dated, [whole, dated, lacking]) == (
        "Prognosen for budgetår 2018 pr. 2018-09-10 mangler opgørelser i aktivitetsdata "
        "(kolonnerne 'aar', 'opgoerelse', 'takstaar', 'opgoerelsesdato'):\n- T−1 endelig: den "
        "findes ikke i data\nDatoer for 2018 med alle opgørelser: 2018-08-10.\nTilføj de "
        "manglende opgørelser, eller vælg en anden dato med --dato."
    )


def test_each_kommunes_factors_on_a_date(tmp_path: Path) -> None:
    """``Result.kommuner`` on 10 June 2020, in kommune order whatever the order of the budget's
    rows: f = K(T−1 endelig pr. 2020-04-10) / K(T−1 foreløbig pr. 2019-06-10), K⁰ = K(T−2
    endelig pr. 2020-05-01), the budget K^b and g = K^b / K⁰."""
    folder = write_dataset(tmp_path, ROWS, BUDGET_ROWS[::-1])
    factors = kmf.run(folder, dato="2020-06-10").kommuner
    assert factors.columns == [
        "kommunekode", "efterregistreringsfaktor", "kmf_grundlag_kr", "kmf_budget_kr",
        "budgetfaktor",
    ]  # fmt: skip
    assert factors["kommunekode"].to_list() == [101, 851]
    # 101: f = 480 / 160 = 3, g = 600 / 520; 851: f = 250 / 75, g = 300 / 260
    assert factors["efterregistreringsfaktor"].to_list() == pytest.approx([3.0, 250 / 75])
    assert factors["kmf_grundlag_kr"].to_list() == pytest.approx([520.0, 260.0])
    assert factors["kmf_budget_kr"].to_list() == pytest.approx([600.0, 300.0])
    assert factors["budgetfaktor"].to_list() == pytest.approx([600 / 520, 300 / 260])


def test_a_cut_summing_to_0_is_named_for_the_first_date_that_has_one(tmp_path: Path) -> None:
    """Two dates of the track read a T−1 foreløbig cut in which a kommune's KMF sums to 0:
    29 February (2019-02-28, Aalborg) and 10 March (2019-03-10, København). The message is
    about the earlier date and its kommune, though København has the lower code."""
    zero = {("2019-02-28", 851), ("2019-03-10", 101)}
    rows = [
        r | {"kmf": 0.0}
        if r["aar"] == T - 1 and r["opgoerelse"] == "foreloebig"
        and (r["opgoerelsesdato"], r["kommunekode"]) in zero
        else r
        for r in ROWS
    ]  # fmt: skip
    with pytest.raises(kmf.DataError) as info:
        kmf.spor(write_dataset(tmp_path, rows, BUDGET_ROWS))
    assert str(info.value) == (
        "Aktivitetsdata: KMF-beløbet (kolonnen 'kmf') i 2019 foreløbig opgørelse pr. 2019-02-28 "
        "i 2019-takster summer til 0 for 1 kommune(r) (kommune 851 Aalborg: 0 kr.). Det bruges "
        "til efterregistreringsfaktoren f = endelig / foreløbig og må ikke være 0. Kontrollér, "
        "at kommunens rækker for denne opgørelse er med."
    )


def test_a_kommune_missing_from_a_dated_cut_is_named_with_the_date(tmp_path: Path) -> None:
    """Aalborg has no rows in T−1 endelig pr. 2020-04-10, the cut 10 June reads."""
    rows = [
        r for r in ROWS
        if not (r["opgoerelsesdato"] == "2020-04-10" and r["kommunekode"] == 851)
    ]  # fmt: skip
    with pytest.raises(kmf.DataError) as info:
        kmf.run(write_dataset(tmp_path, rows, BUDGET_ROWS), dato="2020-06-10")
    assert str(info.value) == (
        "Aktivitetsdata (kolonnen 'kommunekode') har ikke de samme kommuner i alle fire "
        "opgørelser, som budgetår 2020 pr. 2020-06-10 bruger:\n"
        "- 2019 endelig opgørelse pr. 2020-04-10 i 2019-takster mangler kommune(r) 851 Aalborg\n"
        "Hver kommune skal have rækker i alle fire opgørelser."
    )


def test_kmf_in_an_age_group_without_production_value_is_named(tmp_path: Path) -> None:
    """København's 80+ somatik in T foreløbig pr. 2020-03-10 has kmf 0.5 kr. (within the
    half krone KMF may exceed the production value) and produktionsvaerdi 0: its forecast
    KMF is f · 0.5 = 400 / 100 · 0.5 = 2 kr., with no production value to share it by."""
    extra = {
        "kommunekode": 101, "aar": T, "opgoerelse": "foreloebig", "takstaar": T,
        "opgoerelsesdato": "2020-03-10", "aldersgruppe": "80+", "sundhedsomraade": "somatik",
        "produktionsvaerdi": 0.0, "kmf": 0.5,
    }  # fmt: skip
    with pytest.raises(kmf.DataError) as info:
        kmf.run(write_dataset(tmp_path, [*ROWS, extra], BUDGET_ROWS), dato="2020-03-10")
    text = str(info.value)
    assert text.startswith(
        "Aktivitetsdata (2020 foreløbig pr. 2020-03-10): 1 aldersgruppe(r) har et KMF-beløb "
        "(kolonnen 'kmf') men produktionsværdi 0 (kolonnen 'produktionsvaerdi'): kommune 101 "
        "København, 80+: kmf 2 kr."
    )
    assert "kmf 2 kr. KMF-andelen kan da ikke beregnes; ret" in text  # one full stop


def test_a_track_of_undated_data_without_a_cut_names_it(tmp_path: Path) -> None:
    """Undated data for 2020 without T−1 foreløbig: the track has no date with a basis and
    says which cut is missing and which cuts the data do have (two rows each)."""
    rows = [
        *_cut(T, "foreloebig", T, None, 100, 50),
        *_cut(T - 1, "endelig", T - 1, None, 400, 200),
        *_cut(T - 2, "endelig", T, None, 500, 250),
    ]
    with pytest.raises(kmf.DataError) as info:
        kmf.spor(write_dataset(tmp_path, rows, BUDGET_ROWS))
    text = str(info.value)
    assert "mangler opgørelser, som budgetår 2020 kræver:\n" in text
    assert (
        "\n- 2019 foreløbig opgørelse i 2019-takster (aar = 2019, opgoerelse = 'foreloebig', "
        "takstaar = 2019)\n"
    ) in text
    assert (
        "\nData har: 2018 endelig i 2020-takster (2 rækker); 2019 endelig i 2019-takster "
        "(2 rækker); 2020 foreløbig i 2020-takster (2 rækker).\n"
    ) in text


def test_kmf_above_the_production_value_in_a_dated_cut_names_the_date(tmp_path: Path) -> None:
    """In T foreløbig pr. 2020-06-10 Aalborg's 3-64 somatik has kmf 99 kr. against a production
    value of 90 kr. (99 > 90 + 0,5: named, with the cut's date), København's kmf 200 kr.
    against 199,5 kr. (200 = 199,5 + 0,5: the half krone allowed, not named)."""
    changed = {101: 199.5, 851: 90.0}
    rows = [
        r | {"produktionsvaerdi": changed[r["kommunekode"]]}
        if (r["aar"], r["opgoerelse"], r["opgoerelsesdato"]) == (T, "foreloebig", "2020-06-10")
        else r
        for r in ROWS
    ]  # fmt: skip
    with pytest.raises(kmf.DataError) as info:
        kmf.run(write_dataset(tmp_path, rows, BUDGET_ROWS), dato="2020-06-10")
    assert str(info.value) == (
        "Aktivitetsdata: 1 celle(r) har et KMF-beløb (kolonnen 'kmf'), der er større end "
        "produktionsværdien (kolonnen 'produktionsvaerdi'): kommune 851 Aalborg, 2020 "
        "foreløbig pr. 2020-06-10, 3-64, somatik: kmf 99 kr., produktionsvaerdi 90 kr. KMF er "
        "en andel af taksten og kan ikke være større end produktionsværdien. Den sandsynlige "
        "årsag er, at kolonnerne 'kmf' og 'produktionsvaerdi' er byttet om; ret kolonnenavnene, "
        "og kør igen."
    )


def test_a_date_lacking_two_cuts_lists_each_on_its_own_line(tmp_path: Path) -> None:
    """A T foreløbig cut dated 2020-01-05 is added: its partner 2019-01-05 is not in the data,
    and the earliest T−1 endelig is dated 2020-01-10, after it (the base 2019-11-01 is there).
    Both missing cuts are named, each on a line of its own starting with '- '."""
    rows = [*ROWS, *_cut(T, "foreloebig", T, "2020-01-05", 100, 50)]
    with pytest.raises(kmf.DataError) as info:
        kmf.run(write_dataset(tmp_path, rows, BUDGET_ROWS), dato="2020-01-05")
    assert str(info.value) == (
        "Prognosen for budgetår 2020 pr. 2020-01-05 mangler opgørelser i aktivitetsdata "
        "(kolonnerne 'aar', 'opgoerelse', 'takstaar', 'opgoerelsesdato'):\n"
        "- 2019 foreløbig i 2019-takster pr. 2019-01-05 (data har datoerne 2019-02-28, "
        "2019-03-10, 2019-06-10, 2019-09-11)\n"
        "- 2019 endelig i 2019-takster dateret 2020-01-05 eller før (data har datoerne "
        "2020-01-10, 2020-04-10)\n"
        "Datoer for 2020 med alle opgørelser: 2020-02-29, 2020-03-10, 2020-06-10.\n"
        "Tilføj de manglende opgørelser, eller vælg en anden dato med --dato."
    )


def test_the_only_forelobig_date_without_a_basis_says_what_it_lacks(tmp_path: Path) -> None:
    """T foreløbig has the one date 2020-09-10. Its T−1 foreløbig partner 2019-09-10 is absent
    (the data have 2019-02-28, 2019-03-10, 2019-06-10, 2019-09-11); T−1 endelig 2020-04-10 and
    the base 2020-05-01 are there. With a single date the run says what that date lacks, in
    the words of a chosen date, not those of a list of dates."""
    rows = [
        *_cut(T, "foreloebig", T, "2020-09-10", *T_FORE["2020-09-10"]),
        *(r for d, v in T1_FORE.items() for r in _cut(T - 1, "foreloebig", T - 1, d, *v)),
        *(r for d, v in T1_END.items() for r in _cut(T - 1, "endelig", T - 1, d, *v)),
        *(r for d, v in BASE.items() for r in _cut(T - 2, "endelig", T, d, *v)),
    ]
    with pytest.raises(kmf.DataError) as info:
        kmf.run(write_dataset(tmp_path, rows, BUDGET_ROWS))
    assert str(info.value) == (
        "Prognosen for budgetår 2020 pr. 2020-09-10 mangler opgørelser i aktivitetsdata "
        "(kolonnerne 'aar', 'opgoerelse', 'takstaar', 'opgoerelsesdato'):\n"
        "- 2019 foreløbig i 2019-takster pr. 2019-09-10 (data har datoerne 2019-02-28, "
        "2019-03-10, 2019-06-10, 2019-09-11)\n"
        "Tilføj de manglende opgørelser, eller vælg en anden dato med --dato."
    )


def test_a_track_with_budgets_ten_times_off_on_two_dates_names_the_earlier_date(
    tmp_path: Path,
) -> None:
    """Two forecast dates, f = 100 / 100 = 1 and 50 / 50 = 1 at both (T−1 endelig 2020-01-10
    against T−1 foreløbig 2019-03-10 and 2019-06-10), budget 600 kr. (101) and 300 kr. (851).
    2020-03-10: forecasts 600 and 20 kr.; the sum 620 against 900 passes, Aalborg is
    300 / 20 = 15 times off. 2020-06-10: forecasts 50 and 300 kr.; the sum 350 against 900
    passes, København is 600 / 50 = 12 times off. The earlier date is checked first, so
    Aalborg is named though København has the lower code."""
    rows = [
        *_cut(T, "foreloebig", T, "2020-03-10", 600, 20),
        *_cut(T, "foreloebig", T, "2020-06-10", 50, 300),
        *_cut(T - 1, "foreloebig", T - 1, "2019-03-10", 100, 50),
        *_cut(T - 1, "foreloebig", T - 1, "2019-06-10", 100, 50),
        *_cut(T - 1, "endelig", T - 1, "2020-01-10", 100, 50),
        *_cut(T - 2, "endelig", T, "2019-11-01", 500, 250),
    ]
    with pytest.raises(kmf.DataError) as info:
        kmf.spor(write_dataset(tmp_path, rows, BUDGET_ROWS))
    assert str(info.value).startswith(
        "Budgettet og prognosen for 2020 for kommune 851 Aalborg er 15,0 gange fra hinanden: "
        "budget 300 kr. mod prognose 20 kr. Mere end 10 gange"
    )
