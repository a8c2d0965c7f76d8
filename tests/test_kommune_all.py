"""``kmf kommune alle``: every kommune's report in its own folder, from one reading of the
data, written as a whole (no half of the reports on a failure), with ``--force`` to replace."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import kmf
import kmf.io.dataset
from kmf.cli import app
from kmf.report.kommune import KommuneReport, file_names
from tests.factory import national_budget, random_rows, write_dataset

KOMMUNER = [101, 461, 851]  # report order: Hovedstaden, Syddanmark, Nordjylland
T = 2019


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = random_rows(KOMMUNER, T, seed=7)
    return write_dataset(tmp_path_factory.mktemp("alle"), rows, national_budget(rows, T))


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every time a dataset is read from its files (``kmf.load`` on a path goes here)."""
    seen: list[Path] = []
    real = kmf.io.dataset._load

    def counting(source: Path) -> kmf.Dataset:
        seen.append(source)
        return real(source)

    monkeypatch.setattr(kmf.io.dataset, "_load", counting)
    return seen


def test_every_kommune_gets_its_folder_with_its_files_from_one_reading(
    dataset: Path, tmp_path: Path, reads: list[Path]
) -> None:
    out = tmp_path / "ud"
    done = CliRunner().invoke(app, ["kommune", "alle", str(dataset), "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert len(reads) == 1  # the run, the track and the history share one reading
    assert sorted(p.name for p in out.iterdir()) == sorted(str(k) for k in KOMMUNER)
    for kode in KOMMUNER:
        names = set(file_names(kode, T).values())
        assert {p.name for p in (out / str(kode)).iterdir()} == names
    # a progress line per kommune, in report order, and the count at the end
    lines = [line.split() for line in done.stdout.splitlines() if "/3" in line]
    assert [(line[0], line[1]) for line in lines] == [("1/3", "101"), ("2/3", "461"),
                                                      ("3/3", "851")]  # fmt: skip
    assert "3 kommuner" in done.stdout
    # each folder holds the same report as kmf kommune KODE gives: the contributions agree
    alone = kmf.kommune(kmf.run(dataset), 461)
    written = pl.read_csv(out / "461" / "kommune_461_bidrag.csv")
    assert written["aktivitetseffekt_kr"].sum() == pytest.approx(
        alone.bidrag["aktivitetseffekt_kr"].sum(), rel=1e-12
    )


def test_an_existing_folder_needs_force_and_force_replaces_each_kommune(
    dataset: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ud"
    (out / "851").mkdir(parents=True)
    (out / "851" / "gammel.txt").write_text("fra før", encoding="utf-8")
    (out / "noter.txt").write_text("mine noter", encoding="utf-8")
    refused = CliRunner().invoke(app, ["kommune", "alle", str(dataset), "--out", str(out)])
    assert refused.exit_code == 2
    assert "--force" in refused.stderr
    assert sorted(p.name for p in out.iterdir()) == ["851", "noter.txt"]
    done = CliRunner().invoke(app, ["kommune", "alle", str(dataset), "--out", str(out), "--force"])
    assert done.exit_code == 0, done.output
    # the kommune's old folder is replaced by its new report; the user's own file stays
    assert sorted(p.name for p in out.iterdir()) == ["101", "461", "851", "noter.txt"]
    assert not (out / "851" / "gammel.txt").exists()
    assert (out / "851" / "kommune_851_2019.xlsx").is_file()


def test_a_failure_on_the_way_leaves_no_reports(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = KommuneReport.fill

    def fails_on_the_second(self: KommuneReport, folder: Path) -> None:
        if self.tabeller.kode == 461:
            raise OSError(28, "No space left on device", str(folder / "x.xlsx"))
        real(self, folder)

    monkeypatch.setattr(KommuneReport, "fill", fails_on_the_second)
    out = tmp_path / "ud"
    done = CliRunner().invoke(app, ["kommune", "alle", str(dataset), "--out", str(out)])
    assert done.exit_code != 0
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no staging folder left either


def test_the_default_folder_is_kmf_kommuner(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(app, ["kommune", "ALLE", str(dataset)])
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in (tmp_path / "kmf-kommuner").iterdir()) == ["101", "461", "851"]


def test_a_code_that_is_neither_a_number_nor_alle_is_explained(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["kommune", "aalborg", "--out", str(tmp_path / "ud")])
    assert done.exit_code == 2
    assert "'aalborg' er hverken en kommunekode eller 'alle'" in done.stderr
    assert "kmf kommune 851" in done.stderr
    assert not (tmp_path / "ud").exists()


def test_the_library_gives_every_kommune_in_report_order(dataset: Path) -> None:
    reports = list(kmf.kommuner(kmf.run(dataset)))
    assert [r.tabeller.kode for r in reports] == KOMMUNER
