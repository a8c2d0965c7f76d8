"""kmf synth and kmf konverter: deterministic, bounded, and readable by kmf run."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import kmf
from kmf.cli import app
from kmf.synth import CORRECTION_SHARE, cuts

ROOT = Path(__file__).parent.parent


def test_synth_is_deterministic_and_runs(tmp_path: Path) -> None:
    for name in ("a", "b"):
        done = CliRunner().invoke(
            app, ["synth", "--rækker", "20000", "--out", str(tmp_path / name), "--seed", "5"]
        )
        assert done.exit_code == 0, done.output
    files = sorted(p.name for p in (tmp_path / "a" / "aktivitet").iterdir())
    assert len(files) == 4  # one per cut at this size
    for name in files:
        assert filecmp.cmp(tmp_path / "a" / "aktivitet" / name,
                           tmp_path / "b" / "aktivitet" / name, shallow=False)  # fmt: skip
    result = kmf.run(tmp_path / "a")
    assert result.aar == 2018
    assert result.kommuner.height == 98
    frame = pl.read_parquet(tmp_path / "a" / "aktivitet")
    # about 20 000 records per cut by volume, plus the correction pairs
    expected = sum(round(20000 * c.volume) for c in cuts(2018))
    assert expected <= frame.height <= expected * (1 + 3 * CORRECTION_SHARE)
    assert (frame["produktionsvaerdi"] < 0).sum() > 0  # corrections are there
    assert frame["alder"].min() >= 0 and frame["alder"].max() <= 130  # type: ignore[operator]


def test_synth_refuses_a_folder_with_files(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("x")
    done = CliRunner().invoke(app, ["synth", "--rækker", "10", "--out", str(tmp_path)])
    assert done.exit_code == 2
    assert "--force" in done.stderr


def test_konverter_gives_the_same_tables(tmp_path: Path) -> None:
    sample = kmf.sample_dataset()
    folder = tmp_path / "d"
    folder.mkdir()
    done = CliRunner().invoke(
        app, ["konverter", str(sample / "aktivitet.csv"), str(folder / "aktivitet.parquet")]
    )
    assert done.exit_code == 0, done.output
    assert "69.972 rækker" in done.stdout
    (folder / "budget.csv").write_bytes((sample / "budget.csv").read_bytes())
    schema = pl.read_parquet_schema(folder / "aktivitet.parquet")
    assert schema["kommunekode"] == pl.Int16 and schema["kmf"] == pl.Float64
    assert schema["opgoerelsesdato"] == pl.Date
    converted, original = kmf.run(folder, aar=2018).b1, kmf.run(sample).b1
    assert converted.select(pl.col(pl.String)).equals(original.select(pl.col(pl.String)))
    for column in ("kmf_budget_kr", "aktivitetseffekt_kr", "oevrige_pct"):
        # equal up to the order in which the engine adds the records in parallel; Øvrige is
        # a difference of amounts near 10⁹ kr., so its rounding is absolute (~1e-8 pct.)
        expected = pytest.approx(original[column].to_list(), rel=1e-12, abs=1e-6)
        assert converted[column].to_list() == expected


def test_konverter_reports_bad_csv_lines(tmp_path: Path) -> None:
    csv = tmp_path / "aktivitet.csv"
    lines = (kmf.sample_dataset() / "aktivitet.csv").read_text().splitlines()[:5]
    lines[3] = lines[3].replace("101,", "999,", 1)
    csv.write_text("\n".join(lines) + "\n")
    done = CliRunner().invoke(app, ["konverter", str(csv), str(tmp_path / "ud.parquet")])
    assert done.exit_code == 2
    assert "linje 4" in done.stderr and "999" in done.stderr
    assert not (tmp_path / "ud.parquet").exists()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_bench_worker_runs_each_task(tmp_path: Path) -> None:
    """Every task runs; kmf as the console script does, so a failed run fails here."""
    pytest.importorskip("duckdb")
    pytest.importorskip("pandas")
    CliRunner().invoke(app, ["synth", "--rækker", "50000", "--out", str(tmp_path)])
    for task in ("kmf", "duckdb", "pandas", "floor"):
        done = subprocess.run(
            [sys.executable, "-m", "bench.worker", task, str(tmp_path)],
            capture_output=True, text=True, cwd=ROOT, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert '"peak_rss_mib"' in done.stdout.strip().splitlines()[-1]


def test_konverter_in_the_dataset_folder_says_to_move_the_csv(tmp_path: Path) -> None:
    import shutil

    from kmf.io import sample_dataset

    folder = tmp_path / "data"
    shutil.copytree(sample_dataset(), folder)
    csv, parquet = folder / "aktivitet.csv", folder / "aktivitet.parquet"
    runner = CliRunner()
    done = runner.invoke(app, ["konverter", str(csv), str(parquet)])
    assert done.exit_code == 0, done.output
    said = " ".join(done.stdout.split())
    assert f"Flyt eller slet '{csv}', før du kører kmf beregn" in said
    # as it says: with both, kmf run stops and names the way out; without the CSV it runs
    stopped = runner.invoke(app, ["run", str(folder), "--out", str(tmp_path / "r1")])
    assert stopped.exit_code == 2 and "flyt eller slet CSV-filen" in stopped.stderr
    # converted into another folder: nothing to move
    elsewhere = runner.invoke(app, ["konverter", str(csv), str(tmp_path / "aktivitet.parquet")])
    assert elsewhere.exit_code == 0, elsewhere.output
    assert "Flyt eller slet" not in elsewhere.output
    csv.unlink()
    done = runner.invoke(app, ["run", str(folder), "--out", str(tmp_path / "r2")])
    assert done.exit_code == 0, done.output
