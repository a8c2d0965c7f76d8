"""The command line end to end on a small generated dataset."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from kmf.cli import app
from tests.factory import national_budget, random_rows, write_dataset

T = 2021
TABLES = ["tabel_b1", "tabel_b2", "tabel_b3", "tabel_b4",
          "tabel_1", "tabel_2", "tabel_3", "tabel_4", "tabel_5", "tabel_6"]  # fmt: skip


def dataset(tmp_path: Path, n: int = 30) -> Path:
    codes = pl.read_csv(Path(__file__).parent.parent / "kmf" / "data" / "kommuner.csv")
    kommuner = codes["kommunekode"].to_list()[:: max(1, 98 // n)][:n]
    rows = random_rows(kommuner, T, seed=21, empty_share=0.1)
    return write_dataset(tmp_path / "data", rows, national_budget(rows, T), "parquet")


def test_run_writes_every_table_and_the_manifest(tmp_path: Path) -> None:
    out = tmp_path / "ud"
    # all 98 kommuner: tabel 4–6 rank them (for part of the country they are empty)
    result = CliRunner().invoke(app, ["run", str(dataset(tmp_path, n=98)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "budgetår 2021" in result.stdout
    assert result.stderr == ""
    for name in TABLES:
        assert (out / f"{name}.csv").is_file()
        csv = pl.read_csv(out / f"{name}.csv", schema_overrides={"kode": pl.String})
        parquet = pl.read_parquet(out / f"{name}.parquet")
        assert csv.columns == parquet.columns
        assert csv.height == parquet.height
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["aar"] == T
    assert manifest["kommuner"] == 98
    b1 = pl.read_csv(out / "tabel_b1.csv", schema_overrides={"kode": pl.String})
    assert b1.height == 1 + 5 + 98
    # tabel 4–6: ten kommuner each and Hele landet below; 5 is the middle ten (ranks 45–54)
    t5 = pl.read_csv(out / "tabel_5.csv", schema_overrides={"kode": pl.String})
    assert t5["rang"].to_list()[:10] == list(range(45, 55))
    assert t5["kode"].to_list()[-1] == "DK"
    t6 = pl.read_csv(out / "tabel_6.csv", schema_overrides={"kode": pl.String})
    ranked = b1.filter(pl.col("niveau") == "kommune").sort("aendring_pct")
    assert t6["kode"].to_list()[:10] == ranked["kode"].to_list()[:10][::-1]


def test_validate_describes_the_dataset(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["validate", str(dataset(tmp_path, n=5))])
    assert result.exit_code == 0, result.output
    assert "i orden til budgetår 2021" in result.stdout
    assert "5 kommuner" in result.stdout
    assert "foreløbig" in result.stdout


def test_console_script_runs_in_a_subprocess(tmp_path: Path) -> None:
    out = tmp_path / "ud"
    done = subprocess.run(
        [sys.executable, "-m", "kmf.cli", "run", str(dataset(tmp_path, n=3)), "--out", str(out),
         "--csv", "dansk"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # for Danish Excel: byte order mark, semicolons (the values: test_result_display)
    assert (out / "tabel_b1.csv").read_bytes().startswith(b"\xef\xbb\xbfniveau;kode;navn;")


def test_help_is_danish() -> None:
    result = CliRunner().invoke(app, ["run", "--help"])
    assert result.exit_code == 0
    assert "Budgetåret" in result.stdout


def test_framework_words_are_danish_where_typer_translates_them() -> None:
    # Typer prints its section titles and markers through gettext; kmf's Danish catalog
    # covers those. (The usage line and usage errors are hard-coded English in Typer.)
    done = subprocess.run([sys.executable, "-m", "kmf.cli", "run", "--help"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0
    assert "Argumenter:" in done.stdout
    assert "Tilvalg:" in done.stdout
    assert "[standard: kmf-rapport]" in done.stdout
    assert "\\[" not in done.stdout  # typer < 0.21.1 left rich's escape in plain help
    assert "Options:" not in done.stdout and "Arguments:" not in done.stdout
    wrong = subprocess.run([sys.executable, "-m", "kmf.cli", "run", "--aar", "to tusind"],
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert wrong.returncode == 2


def test_shipped_catalog_matches_its_source() -> None:
    from kmf.cli.danish_click import DOMAIN, compile_catalog, locale_dir, read_po

    folder = locale_dir() / "da" / "LC_MESSAGES"
    source = read_po((folder / f"{DOMAIN}.po").read_text("utf-8"))
    assert (folder / f"{DOMAIN}.mo").read_bytes() == compile_catalog(source), (
        "run: python -m kmf.cli.danish_click"
    )
    assert source["Usage:"] == "Brug:"


def test_command_lines_that_cannot_be_parsed_get_one_danish_line() -> None:
    # the words differ a little between Click versions (older ones are translated by the
    # catalogue, newer ones by kmf), so each case names the fragments that must be there
    cases = {
        ("run", "--foo"): ("--foo", "findes ikke"),
        ("runx",): ("runx", "findes ikke"),
        ("run", "--aar", "to tusind"): ("Ugyldig værdi", "--aar"),
        ("run", "--out"): ("--out", "værdi"),
        ("konverter",): ("angler", "CSV-FIL", "konverter --help"),
        ("synth", "--out", "x"): ("angler", "'--rækker' / '--raekker'"),
        ("validate", "a", "b"): ("til overs", "b"),
        ("run", "--force=ja"): ("--force", "ingen værdi"),
        ("run", "--csv", "excel"): ("--csv", "'standard' eller 'dansk'"),
        ("runn",): ("runn", "Mente du 'run'?"),
        ("synth", "--rækker", "0", "--out", "x"): ("Ugyldig værdi", "--rækker"),
    }
    for args, expected in cases.items():
        done = subprocess.run([sys.executable, "-m", "kmf", *args],
                              capture_output=True, text=True, check=False)  # fmt: skip
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.startswith("Fejl: "), (args, done.stderr)
        assert all(fragment in done.stderr for fragment in expected), (args, done.stderr)
        for english in ("Usage", "Error", "Try '", "Input should", "Did you mean", "Got ",
                        "integer", "does not", "x>="):  # fmt: skip
            assert english not in done.stderr, (args, done.stderr)
        assert done.stderr.count("Mente du") <= 1, (args, done.stderr)


def test_an_unknown_method_is_rejected_before_the_data_are_read(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = tmp_path / "findes-ikke"  # were it read first, the error would be about it
    for command in ("run", "spor", "historik"):
        args = [command, str(missing), "--metode", "foo", "--out", str(tmp_path / command)]
        done = runner.invoke(app, args)
        assert done.exit_code == 2, done.output
        assert "Metoden 'foo' findes ikke" in done.stderr
        assert "findes-ikke" not in done.stderr


def test_run_spor_and_historik_end_alike_naming_the_workbook(tmp_path: Path) -> None:
    runner = CliRunner()
    names = {"run": "kmf_dekomponering_2018.xlsx", "spor": "kmf_prognosespor_2018.xlsx",
             "historik": "kmf_historik.xlsx"}  # fmt: skip
    for command, workbook in names.items():
        out = tmp_path / command
        done = runner.invoke(app, [command, "--out", str(out)])
        assert done.exit_code == 0, done.output
        last = done.stdout.strip().splitlines()[-1]
        assert last == f"Resultaterne ligger i {out}{os.sep} (Excel: {workbook}).", last
        assert (out / workbook).is_file()
        assert "metode: " not in done.stdout and "metode ministeriet" in done.stdout


def test_synth_suggests_the_command_its_data_are_for(tmp_path: Path) -> None:
    runner = CliRunner()
    for extra, command in ((["--datoer", "2"], "spor"), (["--aar-antal", "2"], "historik"),
                           ([], "beregn")):  # fmt: skip
        out = tmp_path / command
        done = runner.invoke(app, ["synth", "--rækker", "2000", "--out", str(out), *extra])
        assert done.exit_code == 0, done.output
        assert done.stdout.strip().endswith(f"Kør: kmf {command} {out}")
