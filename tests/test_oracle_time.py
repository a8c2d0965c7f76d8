"""kmf against an independent reading of SPEC §7 and §8 (``tests/oracle_time.py``) on random
dated datasets.

Each dataset has 13 kommuner from all five regions; monthly foreløbig cuts of 2019, 2020 and
2021 (some months missing, so some dates lack their partner a year before; 28 and 29 February
2020, 28 February 2019 and 2021); several dated endelig cuts of 2019 and 2020 and base cuts at
2020 and 2021 takster, some dated after some forecast dates; a T endelig cut with two dates
(the latest is the truth); and budgets for 2020 and 2021 (2019 has no basis). Cells are
sometimes empty on one side, and some are split into a record and a negative correction.

Every number is compared with the oracle to a relative tolerance of 1e-9 (REL), with an
absolute floor of 1e-6 kr. and 1e-9 pct. for values near zero.
"""

from __future__ import annotations

import json
import math
import random
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import kmf
from kmf.cli import app
from kmf.compute.kommune_tables import comparison_group
from kmf.compute.tables import ranked
from tests import oracle, oracle_time
from tests.factory import CELLS

REL = 1e-9
SEEDS = [3, 12, 29]
B1_COLUMNS = [
    "niveau", "kode", "navn", "region", "kmf_budget_kr", "kmf_prognose_kr", "aendring_kr",
    "aktivitetseffekt_kr", "aldersgruppeeffekt_kr", "sundhedsomraadeeffekt_kr", "oevrige_kr",
    "aendring_pct", "aktivitetseffekt_pct", "aldersgruppeeffekt_pct",
    "sundhedsomraadeeffekt_pct", "oevrige_pct",
]  # fmt: skip
NUMBERS = B1_COLUMNS[4:]
YEARS = (2020, 2021)


def _close(got: float | None, want: float, name: str = "") -> bool:
    if got is None:
        return False
    floor = 1e-6 if name.endswith("_kr") else 1e-9
    return math.isclose(got, want, rel_tol=REL, abs_tol=floor)


# --- the datasets ----------------------------------------------------------------------------


def _month_dates(rng: random.Random, year: int) -> list[date]:
    dates = [date(year, m, 10) for m in range(1, 13) if rng.random() < 0.75]
    if rng.random() < 0.5:
        dates.append(date(year + 1, 1, 10))
    dates += [date(year, 2, 28)] * (rng.random() < 0.8)
    if year == 2020 and rng.random() < 0.8:
        dates.append(date(2020, 2, 29))
    return sorted(set(dates))


def _some_dates(rng: random.Random, first: date, last: date, n: int) -> list[date]:
    span = (last - first).days
    return sorted({date.fromordinal(first.toordinal() + rng.randrange(span)) for _ in range(n)})


def dated_rows(seed: int) -> tuple[list[dict], list[int], dict[int, dict[int, float]]]:
    """Rows (dates as ``date``), the kommuner, and each budget year's budget per kommune."""
    rng = random.Random(seed)
    table = oracle_time.kommuner_table()
    by_region: dict[int, list[int]] = {}
    for k, (_, region, _) in sorted(table.items()):
        by_region.setdefault(region, []).append(k)
    kommuner = sorted(k for ks in by_region.values() for k in rng.sample(ks, 3))[: 11 + seed % 4]
    cuts: list[tuple[int, str, int, date]] = []
    for year in (2019, 2020, 2021):
        cuts += [(year, "foreloebig", year, d) for d in _month_dates(rng, year)]
    for year in (2019, 2020):  # T−1 endelig of 2020 and 2021
        cuts += [
            (year, "endelig", year, d)
            for d in _some_dates(rng, date(year, 6, 1), date(year + 1, 7, 1), 3)
        ]
        cuts += [(year, "endelig", year, date(year + 1, 5, 10))]  # on a forecast date
    for year in YEARS:  # base: T−2 endelig at T takster
        cuts += [
            (year - 2, "endelig", year, d)
            for d in _some_dates(rng, date(year - 1, 3, 1), date(year, 8, 1), 3)
        ]
        cuts += [(year - 2, "endelig", year, date(year, 3, 10))]  # on a forecast date
        cuts += [(year, "endelig", year, date(year + 1, 1, 10))]  # not the truth
        cuts += [(year, "endelig", year, date(year + 1, 4, 10))]  # the truth
    size = {k: rng.uniform(0.3, 6.0) for k in kommuner}
    rows = []
    for aar, opg, takst, d in cuts:
        drift = rng.uniform(0.8, 1.2)
        for k in kommuner:
            for age, area in CELLS:
                if rng.random() < 0.08 and (age, area) != ("3-64", "somatik"):
                    continue
                p = size[k] * drift * rng.uniform(1e5, 1e7)
                share = rng.uniform(0.05, 0.6)
                parts = [(p, p * share)]
                if rng.random() < 0.1:  # a record and its correction
                    parts = [(1.3 * p, 1.3 * p * share), (-0.3 * p, -0.3 * p * share)]
                for pv, kv in parts:
                    rows.append(
                        {
                            "kommunekode": k, "aar": aar, "opgoerelse": opg, "takstaar": takst,
                            "opgoerelsesdato": d, "aldersgruppe": age, "sundhedsomraade": area,
                            "produktionsvaerdi": pv, "kmf": kv,
                        }
                    )  # fmt: skip
    # a budget per kommune (the data hold part of the country, SPEC §3), near its base KMF
    budgets: dict[int, dict[int, float]] = {}
    for year in YEARS:
        level = rng.uniform(0.95, 1.1)
        budgets[year] = {
            k: sum(
                r["kmf"]
                for r in rows
                if r["aar"] == year - 2 and r["takstaar"] == year and r["kommunekode"] == k
            )
            / 4  # four base cuts
            * level
            * rng.uniform(0.97, 1.03)
            for k in kommuner
        }
    return rows, kommuner, budgets


def _iso(d: date) -> str:
    return d.isoformat()


_FORMATS = (_iso, lambda d: d.strftime("%d-%m-%Y"), lambda d: d.strftime("%d.%m.%Y"))


def write(folder: Path, rows: list[dict], budgets: dict[int, dict[int, float]], fmt: str) -> Path:
    """``csv``: every date in one of the three CSV formats at random; ``parquet``: a date type."""
    folder.mkdir(parents=True)
    frame = pl.DataFrame(rows, schema_overrides={"opgoerelsesdato": pl.Date})
    budget = pl.DataFrame(
        [
            {"aar": year, "kommunekode": k, "kmf_budget_kr": v}
            for year, by_kommune in budgets.items()
            for k, v in by_kommune.items()
        ]
    )
    if fmt == "parquet":
        frame.write_parquet(folder / "aktivitet.parquet")
        budget.write_parquet(folder / "budget.parquet")
    else:
        rng = random.Random(len(rows))
        text = [_FORMATS[rng.randrange(3)](r["opgoerelsesdato"]) for r in rows]
        frame.with_columns(opgoerelsesdato=pl.Series(text, dtype=pl.String)).write_csv(
            folder / "aktivitet.csv"
        )
        budget.write_csv(folder / "budget.csv")
    return folder


@pytest.fixture(scope="module", params=SEEDS)
def case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    seed = request.param
    rows, kommuner, budgets = dated_rows(seed)
    fmt = "csv" if seed % 2 else "parquet"
    folder = write(tmp_path_factory.mktemp(f"oracle{seed}") / "data", rows, budgets, fmt)
    return kmf.load(folder), rows, kommuner, budgets, folder


# --- comparing -------------------------------------------------------------------------------


def _compare_b1(frame: pl.DataFrame, want: dict, where: str) -> None:
    assert frame.columns[-len(B1_COLUMNS) :] == B1_COLUMNS
    got = {(r["niveau"], r["kode"]): r for r in frame.iter_rows(named=True)}
    assert set(got) == set(want), where
    bad = [
        (key, name, got[key][name], w[name])
        for key, w in want.items()
        for name in NUMBERS
        if not _close(got[key][name], w[name], name)
    ]
    assert not bad, (where, bad[:5])


def test_the_dataset_has_dates_with_and_without_a_basis(case: tuple) -> None:
    _, rows, _, _, _folder = case
    for year in YEARS:
        with_basis = oracle_time.dates_with_basis(rows, year)
        assert with_basis, year
        assert len(with_basis) < len(oracle_time.forecast_dates(rows, year)), year


def test_run_defaults_to_the_oracles_date_and_numbers(case: tuple) -> None:
    data, rows, _, budgets, _folder = case
    for year in YEARS:
        result = kmf.run(data, aar=year)
        d = oracle_time.default_date(rows, year)
        assert result.dato == d
        later = [x.isoformat() for x in oracle_time.forecast_dates(rows, year) if x > d]
        assert set(later) <= set(result.manifest.as_json()["datoer_uden_grundlag"])
        want = oracle_time.b1(oracle_time.cells_at(rows, year, d, budgets[year]))
        _compare_b1(result.b1, want, f"{year} default")


def test_run_on_every_date_with_a_basis(case: tuple) -> None:
    data, rows, _, budgets, _folder = case
    year = 2020  # its dates include 29 February
    for d in oracle_time.dates_with_basis(rows, year):
        result = kmf.run(data, aar=year, dato=d)
        want = oracle_time.b1(oracle_time.cells_at(rows, year, d, budgets[year]))
        _compare_b1(result.b1, want, str(d))


def test_run_on_a_date_without_a_basis_stops_and_lists_the_dates(case: tuple) -> None:
    data, rows, _, _, _folder = case
    for year in YEARS:
        fore_1 = sorted(
            {r["opgoerelsesdato"] for r in rows
             if (r["aar"], r["opgoerelse"], r["takstaar"]) == (year - 1, "foreloebig", year - 1)}
        )  # fmt: skip
        for d in oracle_time.forecast_dates(rows, year):
            if oracle_time.choose(rows, year, d) is not None:
                continue
            with pytest.raises(kmf.DataError) as info:
                kmf.run(data, aar=year, dato=d)
            text = str(info.value)
            if oracle_time.year_before(d) not in fore_1:  # no partner: the dates that exist
                assert all(x.isoformat() in text for x in fore_1), text


def test_the_track_is_the_oracles(case: tuple) -> None:
    data, rows, _, budgets, _folder = case
    for year in YEARS:
        spor = kmf.spor(data, aar=year)
        want = oracle_time.track(rows, year, budgets[year])
        frame = spor.spor
        assert frame.columns == ["opgoerelsesdato", *B1_COLUMNS]
        dates = frame["opgoerelsesdato"].unique(maintain_order=True).to_list()
        assert dates == list(want), year  # every date with a basis, in date order
        for d, b1 in want.items():
            _compare_b1(frame.filter(pl.col("opgoerelsesdato") == d), b1, f"spor {d}")
        missing = [d for d in oracle_time.forecast_dates(rows, year) if d not in want]
        assert [d for d, _ in spor.datoer_uden_grundlag] == missing


def test_the_accuracy_is_the_oracles(case: tuple) -> None:
    data, rows, _, budgets, _folder = case
    for year in YEARS:
        spor = kmf.spor(data, aar=year)
        units, summary = oracle_time.accuracy(rows, year, budgets[year])
        assert spor.endelig_dato == max(oracle_time._dates(rows, year, "endelig", year))
        enheder = spor.traefsikkerhed_enheder
        assert enheder is not None and spor.traefsikkerhed is not None
        assert enheder.columns == [
            "opgoerelsesdato", "niveau", "kode", "navn", "region",
            "kmf_prognose_kr", "kmf_endelig_kr", "fejl_pct",
        ]  # fmt: skip
        got = {
            (r["opgoerelsesdato"], r["niveau"], r["kode"]): r for r in enheder.iter_rows(named=True)
        }
        assert set(got) == set(units)
        for key, (kf, ke, fejl) in units.items():
            row = got[key]
            assert _close(row["kmf_prognose_kr"], kf, "_kr"), key
            assert _close(row["kmf_endelig_kr"], ke, "_kr"), key
            assert _close(row["fejl_pct"], fejl), key
        table = spor.traefsikkerhed
        assert table.columns == ["opgoerelsesdato", *next(iter(summary.values()))]
        assert table["opgoerelsesdato"].to_list() == list(summary)
        for row in table.iter_rows(named=True):
            for name, want in summary[row["opgoerelsesdato"]].items():
                assert _close(row[name], want), (row["opgoerelsesdato"], name, row[name], want)


def test_the_history_is_the_oracles(case: tuple) -> None:
    data, rows, _, budgets, _folder = case
    historik = kmf.historik(data)
    want = oracle_time.history(rows, budgets)
    assert list(want) == list(YEARS)
    frame = historik.historik
    assert frame.columns == ["aar", *B1_COLUMNS]
    assert frame["aar"].unique(maintain_order=True).to_list() == list(want)
    for year, (d, b1) in want.items():
        assert historik.datoer[year] == d
        _compare_b1(frame.filter(pl.col("aar") == year), b1, f"historik {year}")
    assert [y for y, _ in historik.aar_uden_grundlag] == [2019]
    assert kmf.historik(data, fra=2021).historik["aar"].unique().to_list() == [2021]
    assert kmf.historik(data, til=2020).historik["aar"].unique().to_list() == [2020]


def test_a_kommunes_contributions_group_and_rank(case: tuple) -> None:
    data, rows, kommuner, budgets, _folder = case
    year = 2021
    result = kmf.run(data, aar=year)
    cells = oracle_time.cells_at(rows, year, result.dato, budgets[year])
    b1 = oracle_time.b1(cells)
    kb = {k: b1[("kommune", str(k))]["kmf_budget_kr"] for k in kommuner}
    # the data hold part of the country: the report has no group and no rank (they are
    # made among all 98), but the functions that make them are checked on these kommuner
    rank = dict(ranked(result.b1).select("kode", "rang").iter_rows())
    for k in kommuner:
        report = kmf.kommune(result, k)
        assert report.sammenligning == () and report.tabeller.rang is None
        assert list(comparison_group(result.b1, k)) == oracle_time.comparison_group(kb, k)
        mine = report.bidrag.filter(pl.col("metode") == "ministeriet")
        got = {r["aldersgruppe"]: r for r in mine.iter_rows(named=True)}
        want = oracle_time.contributions(cells[k])
        assert set(got) == set(oracle.AGES)
        for age, effects in want.items():
            row = got[age]
            assert row["sundhedsomraade"] is None
            for name, value in zip(
                ("aktivitetseffekt", "aldersgruppeeffekt", "sundhedsomraadeeffekt"),
                effects,
                strict=True,
            ):
                assert _close(row[f"{name}_kr"], value, "_kr"), (k, age, name)
                assert _close(row[f"{name}_pct"], 100 * value / kb[k]), (k, age, name)
            assert row["omraademikseffekt_kr"] is None and row["andelseffekt_kr"] is None
        assert rank[str(k)] == oracle_time.rank(b1, k)
        # the text's numbers are table values rounded to one decimal, with a decimal comma
        mine_b1 = b1[("kommune", str(k))]
        flat = " ".join(report.tekst.split())
        for number in (
            f"{abs(mine_b1['aendring_pct']):.1f} pct.",
            f"{abs(mine_b1['aendring_kr']) / 1e6:.1f} mio. kr.",
            f"{mine_b1['kmf_budget_kr'] / 1e6:.1f} mio. kr.",
        ):
            assert number.replace(".", ",", 1) in flat, (k, number, flat[:400])


# --- the command line ------------------------------------------------------------------------


MONTHS = ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september",
          "oktober", "november", "december"]  # fmt: skip


def _danish_day(iso: str) -> str:
    """``2021-04-10`` as the CLI writes it in prose, without the year: ``10. april``."""
    return f"{int(iso[8:])}. {MONTHS[int(iso[5:7]) - 1]}"


def test_cli_writes_the_files_spec_names(case: tuple, tmp_path: Path) -> None:
    _data, rows, kommuner, budgets, folder = case
    folder = str(folder)
    runner = CliRunner()
    year = 2021
    out = tmp_path / "spor"
    done = runner.invoke(app, ["spor", folder, "--aar", str(year), "--out", str(out)])
    assert done.exit_code == 0, done.output
    track = pl.read_csv(out / "tabel_spor.csv", schema_overrides={"kode": pl.String},
                        try_parse_dates=True)  # fmt: skip
    assert track.columns == ["opgoerelsesdato", *B1_COLUMNS]
    assert pl.read_parquet(out / "tabel_spor.parquet").columns == track.columns
    want = oracle_time.track(rows, year, budgets[year])
    for d, b1 in want.items():
        _compare_b1(track.filter(pl.col("opgoerelsesdato") == d), b1, f"csv {d}")
    for name in ("kmf_prognosespor_2021.xlsx", "figur_spor.png"):
        assert (out / name).is_file(), name
    enheder = pl.read_csv(out / "tabel_traefsikkerhed_enheder.csv")
    assert enheder.columns == [
        "opgoerelsesdato", "niveau", "kode", "navn", "region",
        "kmf_prognose_kr", "kmf_endelig_kr", "fejl_pct",
    ]  # fmt: skip
    # output writes ISO dates
    iso = [d.isoformat() for d in want]
    assert (
        pl.read_csv(out / "tabel_spor.csv", infer_schema=False)["opgoerelsesdato"]
        .unique(maintain_order=True)
        .to_list()
        == iso
    )
    assert enheder["opgoerelsesdato"].cast(pl.String).unique(maintain_order=True).to_list() == iso
    summary = pl.read_csv(out / "tabel_traefsikkerhed.csv")
    assert summary.columns == [
        "opgoerelsesdato", "land_fejl_pct", "kommuner_mae_pct", "kommuner_median_abs_pct",
        "kommuner_max_abs_pct", "andel_kommuner_inden_for_2pct",
    ]  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    missing = [d.isoformat() for d in oracle_time.forecast_dates(rows, year) if d not in want]
    assert all(d in json.dumps(manifest) for d in missing)
    flat = " ".join(done.output.split())
    # printed, too, in Danish prose: "10. april, 10. juli … 2021"
    assert all(_danish_day(d) in flat for d in missing), (missing, done.output)

    out = tmp_path / "historik"
    done = runner.invoke(app, ["historik", folder, "--out", str(out)])
    assert done.exit_code == 0, done.output
    history = pl.read_csv(out / "tabel_historik.csv", schema_overrides={"kode": pl.String})
    assert history.columns == ["aar", *B1_COLUMNS]
    for year_, (_, b1) in oracle_time.history(rows, budgets).items():
        _compare_b1(history.filter(pl.col("aar") == year_), b1, f"historik csv {year_}")
    for name in ("tabel_historik.parquet", "kmf_historik.xlsx", "figur_historik.png"):
        assert (out / name).is_file(), name

    out = tmp_path / "run"
    done = runner.invoke(app, ["run", folder, "--aar", str(year), "--out", str(out)])
    assert done.exit_code == 0, done.output
    last = max(want)
    later = [d.isoformat() for d in oracle_time.forecast_dates(rows, year) if d > last]
    flat = " ".join(done.output.split())
    assert all(_danish_day(d) in flat for d in later), (later, done.output)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["opgoerelsesdato"] == last.isoformat()

    k = kommuner[0]
    out = tmp_path / "kommune"
    done = runner.invoke(app, ["kommune", str(k), folder, "--aar", "2021", "--out", str(out)])
    assert done.exit_code == 0, done.output
    bidrag = pl.read_csv(out / f"kommune_{k}_bidrag.csv")
    result = kmf.run(folder, aar=2021)
    want = oracle_time.contributions(
        oracle_time.cells_at(rows, 2021, result.dato, budgets[2021])[k]
    )
    for row in bidrag.filter(pl.col("metode") == "ministeriet").iter_rows(named=True):
        got = (row["aktivitetseffekt_kr"], row["aldersgruppeeffekt_kr"],
               row["sundhedsomraadeeffekt_kr"])  # fmt: skip
        assert all(map(_close, got, want[row["aldersgruppe"]], ["_kr"] * 3)), row
    assert bidrag.columns == [
        "metode", "aldersgruppe", "sundhedsomraade", "aktivitetseffekt_kr",
        "aldersgruppeeffekt_kr", "sundhedsomraadeeffekt_kr", "omraademikseffekt_kr",
        "andelseffekt_kr", "aktivitetseffekt_pct", "aldersgruppeeffekt_pct",
        "sundhedsomraadeeffekt_pct", "omraademikseffekt_pct", "andelseffekt_pct",
    ]  # fmt: skip
    assert set(bidrag["metode"].to_list()) == {"ministeriet", "lmdi"}
    for name in (f"kommune_{k}_2021.xlsx", f"kommune_{k}.png", "sammenfatning.md"):
        assert (out / name).is_file(), name


def test_cli_errors_exit_2(case: tuple, tmp_path: Path) -> None:
    _data, rows, _, _, folder = case
    folder = str(folder)
    runner = CliRunner()
    year = 2021
    no_partner = [
        d for d in oracle_time.forecast_dates(rows, year)
        if oracle_time.year_before(d) not in oracle_time._dates(rows, year - 1, "foreloebig",
                                                               year - 1)
    ]  # fmt: skip
    assert no_partner
    args = ["run", folder, "--aar", str(year), "--out", str(tmp_path / "x"), "--dato"]
    done = runner.invoke(app, [*args, no_partner[0].isoformat()])
    assert done.exit_code == 2, done.output
    fore_1 = sorted(oracle_time._dates(rows, year - 1, "foreloebig", year - 1))
    flat = " ".join(done.output.split())
    assert all(x.isoformat() in flat for x in fore_1), done.output
    for bad in ("2021-02-30", "hej", "2021-13-01"):
        done = runner.invoke(app, [*args, bad])
        assert done.exit_code == 2, (bad, done.output)
    assert not (tmp_path / "x").exists()


def test_a_cut_mixing_dated_and_undated_rows_stops(tmp_path: Path) -> None:
    rows, _, budgets = dated_rows(5)
    rows[len(rows) // 2] = {**rows[len(rows) // 2], "opgoerelsesdato": None}
    folder = write(tmp_path / "data", rows, budgets, "parquet")
    with pytest.raises(kmf.DataError):
        kmf.run(folder, aar=2021)
    done = CliRunner().invoke(app, ["run", str(folder), "--aar", "2021", "--out",
                                    str(tmp_path / "ud")])  # fmt: skip
    assert done.exit_code == 2, done.output


@pytest.mark.parametrize(
    "bad", ["30.02.2020", "29-02-2021", "2020-03-10T00:00", "1.9.2020", "20200310"]
)
def test_a_date_that_is_no_date_in_the_csv_names_its_line(tmp_path: Path, bad: str) -> None:
    rows, _, budgets = dated_rows(7)
    folder = write(tmp_path / "data", rows, budgets, "csv")
    path = folder / "aktivitet.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    col = lines[0].split(",").index("opgoerelsesdato")
    cells = lines[40].split(",")
    cells[col] = bad
    lines[40] = ",".join(cells)  # line 41 of the file, the header being line 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(kmf.DataError) as info:
        kmf.load(folder)
    text = str(info.value)
    assert "aktivitet.csv" in text and "opgoerelsesdato" in text and bad in text, text
    assert "41" in text, text


def _truth_rows(rows: list[dict], year: int) -> list[dict]:
    latest = max(oracle_time._dates(rows, year, "endelig", year))
    return [
        r
        for r in rows
        if (r["aar"], r["opgoerelse"], r["takstaar"], r["opgoerelsesdato"])
        == (year, "endelig", year, latest)
    ]


@pytest.mark.parametrize("fault", ["missing", "extra", "zero"])
def test_a_truth_without_the_tracks_kommuner_stops(tmp_path: Path, fault: str) -> None:
    """SPEC §6 on the T endelig cut the track is measured against: a kommune missing from it,
    one it has that the forecasts lack (both would make a region's or the land's K^e sum other
    kommuner than its K^f), or a zero K^e (fejl_pct's denominator) is an error, not a table."""
    rows, kommuner, budgets = dated_rows(3)
    truth = _truth_rows(rows, 2021)
    k = kommuner[2]
    if fault == "missing":
        rows = [r for r in rows if not (r in truth and r["kommunekode"] == k)]
        named = str(k)
    elif fault == "extra":
        assert 851 not in kommuner
        rows = rows + [{**r, "kommunekode": 851} for r in truth if r["kommunekode"] == k]
        named = "851"
    else:
        rows = [{**r, "kmf": 0.0} if r in truth and r["kommunekode"] == k else r for r in rows]
        named = str(k)
    folder = write(tmp_path / "data", rows, budgets, "parquet")
    with pytest.raises(kmf.DataError) as info:
        kmf.spor(folder, aar=2021)
    assert named in str(info.value) and "2021 endelig" in str(info.value), str(info.value)
    done = CliRunner().invoke(app, ["spor", str(folder), "--aar", "2021", "--out",
                                    str(tmp_path / "ud")])  # fmt: skip
    assert done.exit_code == 2, done.output
    assert not (tmp_path / "ud").exists()


@pytest.mark.parametrize("metode", ["lmdi", "shapley"])
def test_the_track_by_an_exact_method(case: tuple, metode: str) -> None:
    """Per kommune and date: A, B, and C = C1 + C2 of the oracle's exact method, Øvrige 0."""
    data, rows, kommuner, budgets, _folder = case
    year = 2021
    frame = kmf.spor(data, aar=year, metode=metode).spor.filter(pl.col("niveau") == "kommune")
    exact = oracle.lmdi if metode == "lmdi" else oracle.shapley
    for d in oracle_time.dates_with_basis(rows, year)[-2:]:
        cells = oracle_time.cells_at(rows, year, d, budgets[year])
        got = {
            int(r["kode"]): r
            for r in frame.filter(pl.col("opgoerelsesdato") == d).iter_rows(named=True)
        }
        for k in kommuner:
            a, b, c1, c2 = exact(cells[k])
            row = got[k]
            want = {
                "aktivitetseffekt_kr": a,
                "aldersgruppeeffekt_kr": b,
                "sundhedsomraadeeffekt_kr": c1 + c2,
                "oevrige_kr": 0.0,
            }
            for name, value in want.items():
                assert _close(row[name], value, name), (d, k, name, row[name], value)


def test_the_comparison_group_breaks_ties_by_kode(tmp_path: Path) -> None:
    """Three kommuner copy a fourth's rows: four equal budgets, so equal distances."""
    rows, kommuner, budgets = dated_rows(3)
    source, twins = kommuner[0], kommuner[1:4]
    rows = [r for r in rows if r["kommunekode"] not in twins] + [
        {**r, "kommunekode": t} for r in rows if r["kommunekode"] == source for t in twins
    ]
    # the twins' budgets are the source's, as their base cells are
    budgets = {y: {**b, **dict.fromkeys(twins, b[source])} for y, b in budgets.items()}
    result = kmf.run(write(tmp_path / "data", rows, budgets, "parquet"), aar=2021)
    b1 = oracle_time.b1(oracle_time.cells_at(rows, 2021, result.dato, budgets[2021]))
    kb = {k: b1[("kommune", str(k))]["kmf_budget_kr"] for k in kommuner}
    assert len({kb[k] for k in (source, *twins)}) == 1
    for k in (twins[1], kommuner[-1]):
        want = oracle_time.comparison_group(kb, k)
        assert list(comparison_group(result.b1, k)) == want, k


# --- what a date lacks, and the years there are, word for word (by hand) ---------------------


def _lacking_rows() -> list[dict]:
    """Kommuner 101 and 851, one cell (3-64 somatik) per cut, budget year 2020:

    - 2020 foreløbig on 10 January, 10 June and 10 September 2020;
    - 2019 foreløbig on 10 January and 10 June 2019 (10 September 2019 is absent);
    - 2019 endelig only on 10 April 2020 (after 10 January 2020);
    - the base, 2018 endelig at 2020 takster, on 1 November 2019;
    - 2018 endelig at 2018 takster (an endelig cut with aar = takstaar, read by nothing).

    So 10 January 2020 lacks 2019 endelig dated on or before it, 10 June 2020 has a basis,
    and 10 September 2020 lacks its partner 2019 foreløbig pr. 10 September 2019.
    """
    cuts = [
        (2020, "foreloebig", 2020, "2020-01-10"),
        (2020, "foreloebig", 2020, "2020-06-10"),
        (2020, "foreloebig", 2020, "2020-09-10"),
        (2019, "foreloebig", 2019, "2019-01-10"),
        (2019, "foreloebig", 2019, "2019-06-10"),
        (2019, "endelig", 2019, "2020-04-10"),
        (2018, "endelig", 2020, "2019-11-01"),
        (2018, "endelig", 2018, "2019-04-10"),
    ]
    return [
        {
            "kommunekode": k, "aar": aar, "opgoerelse": opg, "takstaar": takst,
            "opgoerelsesdato": date.fromisoformat(d), "aldersgruppe": "3-64",
            "sundhedsomraade": "somatik", "produktionsvaerdi": 1000.0, "kmf": 100.0,
        }
        for aar, opg, takst, d in cuts
        for k in (101, 851)
    ]  # fmt: skip


@pytest.fixture(scope="module")
def lacking(tmp_path_factory: pytest.TempPathFactory) -> Path:
    budgets = {2020: {101: 100.0, 851: 100.0}}
    return write(tmp_path_factory.mktemp("mangler") / "data", _lacking_rows(), budgets, "parquet")


def test_the_dates_without_a_basis_say_what_they_lack_word_for_word(lacking: Path) -> None:
    """Said for any date (SPEC §7): T−1 foreløbig on the same day a year before, T−1 endelig
    dated on or before the date; with the dates the data do have of that cut."""
    spor = kmf.spor(lacking, aar=2020)
    assert spor.spor["opgoerelsesdato"].unique().to_list() == [date(2020, 6, 10)]
    assert list(spor.datoer_uden_grundlag) == [
        (
            date(2020, 1, 10),
            "2019 endelig i 2019-takster dateret senest samme dag (data har datoen 10. april 2020)",
        ),
        (
            date(2020, 9, 10),
            "2019 foreløbig i 2019-takster pr. samme dag året før "
            "(data har datoerne 10. januar og 10. juni 2019)",
        ),
    ]


def test_a_year_without_a_forelobig_cut_lists_the_years_that_have_one(lacking: Path) -> None:
    """The foreløbig cuts at their own year's takster are 2019 and 2020; the endelig cuts
    (2018 at 2018 takster among them) and the base at other takster are not listed."""
    with pytest.raises(kmf.DataError) as info:
        kmf.run(lacking, aar=2021)
    assert str(info.value) == (
        "Aktivitetsdata har ingen foreløbig opgørelse for 2021 i 2021-takster (aar = 2021, "
        "opgoerelse = 'foreloebig', takstaar = 2021). Data har foreløbige opgørelser for "
        "årene: 2019, 2020. Vælg et af dem med --aar."
    )
