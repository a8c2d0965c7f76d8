"""A kommune's report over time (SPEC §8 with §7): ``kmf kommune --dato`` chooses the cuts
as ``kmf run --dato`` does, the sheets "Prognosespor" and "Historik" are there where the
data have dates and several budget years and absent where not, the kommune's error against
the final settlement is the one worked out from the raw records, and the text names the
forecast date and the track in numbers of the sheets."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import kmf
from kmf.cli import app
from tests.factory import write_dataset
from tests.test_hand_worked import BUDGET, ROWS, T
from tests.test_kommune import SHEETS

SAMPLE_ROWS = Path(kmf.sample_dataset()) / "aktivitet.csv"


@pytest.fixture(scope="module")
def data() -> kmf.Dataset:
    return kmf.load(kmf.sample_dataset())


@pytest.fixture(scope="module")
def cli_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("k") / "ud"
    done = CliRunner().invoke(app, ["kommune", "851", "--dato", "10.06.2018", "--out", str(out)])
    assert done.exit_code == 0, done.output
    return out


def _table(ws, header_row: int) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """The rows below ``header_row`` up to the first empty row, by header."""
    headers = [c.value for c in ws[header_row]]
    rows = []
    for row in ws.iter_rows(min_row=header_row + 1, values_only=True):
        if row[0] is None:
            break
        rows.append(dict(zip(headers, row, strict=False)))
    return rows


def test_dato_chooses_the_cuts_of_kmf_run(cli_report: Path) -> None:
    wb = load_workbook(cli_report / "kommune_851_2018.xlsx")
    expected = kmf.run(kmf.sample_dataset(), dato="2018-06-10").b1.filter(pl.col("kode") == "851")
    overblik = wb["Overblik"]
    header = next(c.row for c in overblik["A"] if c.value == "Kommune, region, gruppe")
    own = _table(overblik, header)[0]
    assert own["Kommune, region, gruppe"] == "Aalborg"
    assert own["Ændring i alt, pct."] == pytest.approx(expected["aendring_pct"][0], abs=1e-9)
    assert own["Budget, mio. kr."] == pytest.approx(expected["kmf_budget_kr"][0], rel=1e-12)
    assert own["Prognose, mio. kr."] == pytest.approx(expected["kmf_prognose_kr"][0], rel=1e-12)
    # the default date (10 september) would give another forecast
    latest = kmf.run(kmf.sample_dataset()).b1.filter(pl.col("kode") == "851")
    assert abs(latest["kmf_prognose_kr"][0] - own["Prognose, mio. kr."]) > 1e5  # type: ignore[operator]
    text = (cli_report / "sammenfatning.md").read_text(encoding="utf-8")
    assert "(prognosen pr. 10. juni 2018)" in text
    # the track's sentence: the first and the report's own date, as kmf run gives them
    april = kmf.run(kmf.sample_dataset(), dato="2018-04-10").b1.filter(pl.col("kode") == "851")
    first = april["aendring_pct"][0]
    words = f"{abs(first):.1f}".replace(".", ",") + f" pct. {'over' if first > 0 else 'under'}"
    june = f"{abs(own['Ændring i alt, pct.']):.1f}".replace(".", ",")  # type: ignore[arg-type]
    assert f"Pr. 10. april 2018 lå den {words} budgettet og pr. 10. juni 2018 {june} pct." in text


def test_the_track_sheet_holds_the_dates_up_to_dato_and_their_errors(
    cli_report: Path, data: kmf.Dataset
) -> None:
    ws = load_workbook(cli_report / "kommune_851_2018.xlsx")["Prognosespor"]
    rows = _table(ws, 4)
    # the sample's T foreløbig dates with a basis are 10 april … 10 september; a forecast
    # made on 10 june sees the first three
    # real date cells (openpyxl reads them as datetimes)
    assert [r["Opgørelsesdato"] for r in rows] == [datetime(2018, m, 10) for m in (4, 5, 6)]
    # the truth: 2018 endelig at 2018 takster, its latest date, summed straight from the file
    raw = pl.read_csv(SAMPLE_ROWS, try_parse_dates=True)
    endelig = raw.filter(
        (pl.col("kommunekode") == 851)
        & (pl.col("aar") == 2018)
        & (pl.col("opgoerelse") == "endelig")
        & (pl.col("takstaar") == 2018)
    )
    k_e = endelig.filter(pl.col("opgoerelsesdato") == endelig["opgoerelsesdato"].max())["kmf"].sum()
    for row in rows:
        run = kmf.run(data, dato=row["Opgørelsesdato"].date()).b1.filter(pl.col("kode") == "851")
        assert row["Ændring, Aalborg"] == pytest.approx(run["aendring_pct"][0], abs=1e-9)
        k_f = run["kmf_prognose_kr"][0]
        assert row["Afvigelse fra endelig, Aalborg"] == pytest.approx(
            100 * (k_f - k_e) / k_e, abs=1e-9
        )


def test_several_budget_years_give_the_history_sheet(cli_report: Path, data: kmf.Dataset) -> None:
    wb = load_workbook(cli_report / "kommune_851_2018.xlsx")
    assert wb.sheetnames == [*SHEETS, "Prognosespor", "Historik", "Afregning"]
    rows = _table(wb["Historik"], 4)
    # the sample has foreløbig cuts for 2016 … 2019; 2016 has no T−1 cuts and no budget
    assert [r["Budgetår"] for r in rows] == ["2017", "2018", "2019"]
    r2019 = kmf.run(data, aar=2019).b1.filter(pl.col("kode") == "851")["aendring_pct"][0]
    assert rows[2]["Ændring, Aalborg"] == pytest.approx(r2019, abs=1e-9)


def test_undated_single_year_data_have_neither_sheet(tmp_path: Path) -> None:
    folder = write_dataset(tmp_path / "d", ROWS, BUDGET)
    done = CliRunner().invoke(app, ["kommune", "851", str(folder), "--out", str(tmp_path / "u")])
    assert done.exit_code == 0, done.output
    wb = load_workbook(tmp_path / "u" / f"kommune_851_{T}.xlsx")
    assert wb.sheetnames == ["Overblik", "Bidrag", "Fordelinger"]
    text = (tmp_path / "u" / "sammenfatning.md").read_text(encoding="utf-8")
    assert "prognosen pr." not in text and "Prognosen gennem året" not in text
    # in Python: the undated track of the same data has no date, so no sheet either
    result = kmf.run(folder, aar=T)
    report = kmf.kommune(result, 851, prognosespor=kmf.spor(folder, aar=T))
    assert report.tabeller.prognosespor is None


@pytest.mark.parametrize(
    ("dato", "words"),
    [
        ("2018-13-45", "'2018-13-45' er ikke en dato"),
        ("2018-09-11", "2018-09-11"),  # a date without a T foreløbig cut: the dates are named
    ],
)
def test_a_bad_dato_stops_with_exit_2_in_danish(tmp_path: Path, dato: str, words: str) -> None:
    done = CliRunner().invoke(app, ["kommune", "851", "--dato", dato, "--out", str(tmp_path / "x")])
    assert done.exit_code == 2
    assert done.stderr.startswith("Fejl: ") and words in done.stderr
    assert "2018-09-10" in done.stderr or "ÅÅÅÅ-MM-DD" in done.stderr
    assert "Traceback" not in done.output
    assert not (tmp_path / "x").exists()


def test_kommune_takes_spor_and_historik_objects(data: kmf.Dataset) -> None:
    result = kmf.run(data)
    track, history = kmf.spor(data), kmf.historik(data)
    report = kmf.kommune(result, 101, prognosespor=track, historik=history)
    assert report.tabeller.prognosespor is not None and report.tabeller.historik is not None
    own = report.tabeller.prognosespor.filter(pl.col("kode") == "101")
    assert own.height == 6 and "fejl_pct" in own.columns
    # the frames give the same rows as the objects (without the accuracy)
    framed = kmf.kommune(result, 101, prognosespor=track.spor, historik=history.historik)
    assert framed.tabeller.prognosespor is not None
    assert "fejl_pct" not in framed.tabeller.prognosespor.columns
    assert framed.tabeller.prognosespor.equals(
        report.tabeller.prognosespor.drop("kmf_endelig_kr", "fejl_pct")
    )
    with pytest.raises(kmf.DataError, match="Prognosesporet er for budgetår 2019"):
        kmf.kommune(result, 101, prognosespor=kmf.spor(data, aar=2019))
    with pytest.raises(kmf.DataError, match="opgoerelsesdato"):
        kmf.kommune(result, 101, prognosespor=result.b1)


def test_the_overview_waterfall_is_in_pct_of_the_budget_and_every_cell_calibri(
    cli_report: Path,
) -> None:
    wb = load_workbook(cli_report / "kommune_851_2018.xlsx")
    ws = wb["Overblik"]
    top = next(c.row for c in ws["A"] if c.value == "Trin")
    steps = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2).value
             for r in range(top + 1, top + 7)}  # fmt: skip
    own = kmf.run(kmf.sample_dataset(), dato="2018-06-10").b1.filter(pl.col("kode") == "851")
    row = own.row(0, named=True)
    assert steps["Budget (ØA)"] == 100
    assert steps["A. Aktivitet"] == pytest.approx(row["aktivitetseffekt_pct"], abs=1e-9)
    assert steps["Øvrige"] == pytest.approx(row["oevrige_pct"], abs=1e-9)
    assert steps["B. Aldersgrupper"] == pytest.approx(row["aldersgruppeeffekt_pct"], abs=1e-9)
    assert steps["C. Sundhedsområder"] == pytest.approx(row["sundhedsomraadeeffekt_pct"], abs=1e-9)
    assert steps["Prognose"] == pytest.approx(100 + row["aendring_pct"], abs=1e-9)
    # budget + steps = prognose (the waterfall closes)
    assert 100 + sum(v for k, v in steps.items() if k not in ("Budget (ØA)", "Prognose")) == (
        pytest.approx(steps["Prognose"], abs=1e-9)
    )
    fonts = {c.font.name for s in wb for r in s.iter_rows() for c in r if c.value is not None}
    assert fonts == {"Calibri"}


def test_dates_without_several_years_give_only_the_track_and_years_only_the_history(
    tmp_path: Path,
) -> None:
    from kmf.synth import synthesize

    runner = CliRunner()
    synthesize(40_000, tmp_path / "dated", year=2018, seed=5, dates=2)
    synthesize(40_000, tmp_path / "years", year=2018, seed=5, years=2)
    for name, sheet in (("dated", "Prognosespor"), ("years", "Historik")):
        out = tmp_path / f"ud_{name}"
        done = runner.invoke(app, ["kommune", "851", str(tmp_path / name), "--out", str(out)])
        assert done.exit_code == 0, done.output
        wb = load_workbook(out / "kommune_851_2018.xlsx")
        # two budget years: 2017's forecast has its endelig, so "Afregning" holds last year's
        last_year = ["Afregning"] if name == "years" else []
        assert wb.sheetnames == [*SHEETS, sheet, *last_year]
        text = (out / "sammenfatning.md").read_text(encoding="utf-8")
        # synthetic data have no 2018 endelig: a track without accuracy
        assert ("Prognosen gennem året" in text) == (name == "dated")
        assert "den faktiske afregning" not in text
        if name == "dated":
            assert "Afvigelse fra endelig, Aalborg" not in [c.value for c in wb[sheet][4]]


def test_metode_is_handed_to_the_run(tmp_path: Path) -> None:
    out = tmp_path / "lmdi"
    done = CliRunner().invoke(app, ["kommune", "851", "--metode", "lmdi", "--out", str(out)])
    assert done.exit_code == 0, done.output
    ws = load_workbook(out / "kommune_851_2018.xlsx")["Overblik"]
    header = next(c.row for c in ws["A"] if c.value == "Kommune, region, gruppe")
    own = _table(ws, header)[0]
    expected = kmf.run(kmf.sample_dataset(), metode="lmdi").b1.filter(pl.col("kode") == "851")
    assert own["C1. Områdemiks"] == pytest.approx(expected["omraademikseffekt_pct"][0], abs=1e-9)
    bad = CliRunner().invoke(app, ["kommune", "851", "--metode", "x", "--out", str(tmp_path / "b")])
    assert bad.exit_code == 2 and "Metoden 'x' findes ikke" in bad.stderr


def test_the_records_are_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kmf.io

    calls: list[object] = []
    real = kmf.io.load

    def counted(*args: object, **kwargs: object) -> kmf.Dataset:
        calls.append(args[0])
        return real(*args, **kwargs)  # type: ignore[arg-type]

    import kmf.pipeline
    import kmf.track

    # wherever the name was imported: the CLI, kmf.run and kmf.spor / kmf.historik
    for module in (kmf.io, kmf.pipeline, kmf.track):
        monkeypatch.setattr(module, "load", counted)
    done = CliRunner().invoke(app, ["kommune", "851", "--out", str(tmp_path / "k")])
    assert done.exit_code == 0, done.output
    # the run, the track and the history all work on the one Dataset
    assert len(calls) == 1
    wb = load_workbook(tmp_path / "k" / "kommune_851_2018.xlsx")
    assert {"Prognosespor", "Historik"} <= set(wb.sheetnames)
