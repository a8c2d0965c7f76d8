"""Input as it arrives from real spreadsheets and systems: number formats, separators,
encodings, empty and broken files. Each is either read right — checked against the same
data written plainly as Parquet — or stopped with a Danish message naming file and line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

import kmf
from tests.factory import national_budget, random_rows, write_dataset
from tests.test_bad_input import assert_rejected, run_cli

T = 2018
KOMMUNER = [101, 147, 851]
COLUMNS = ["kommunekode", "aar", "opgoerelse", "takstaar", "aldersgruppe", "sundhedsomraade",
           "produktionsvaerdi", "kmf"]  # fmt: skip


def rounded_rows() -> list[dict]:
    """Rows with amounts in whole øre, as real exports have them."""
    rows = random_rows(KOMMUNER, T, seed=5)
    return [{**r, "produktionsvaerdi": round(r["produktionsvaerdi"], 2),
             "kmf": round(r["kmf"], 2)} for r in rows]  # fmt: skip


def danish(value: float) -> str:
    """1234567.5 → '1.234.567,50'."""
    return f"{value:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")


def write_text(
    folder: Path,
    rows: list[dict],
    separator: str,
    number: Callable[[float], str],
    *,
    encoding: str = "utf-8",
    extra: tuple[str, str] | None = None,
) -> Path:
    """The activity as a CSV file written by hand; the budget as plain CSV."""
    folder.mkdir(parents=True, exist_ok=True)
    header = COLUMNS + ([extra[0]] if extra else [])
    lines = [separator.join(header)]
    for r in rows:
        fields = [str(r[c]) for c in COLUMNS[:6]] + [number(r["produktionsvaerdi"]),
                                                     number(r["kmf"])]  # fmt: skip
        lines.append(separator.join(fields + ([extra[1]] if extra else [])))
    (folder / "aktivitet.csv").write_bytes(("\n".join(lines) + "\n").encode(encoding))
    budget = [{**b, "kmf_budget_kr": round(b["kmf_budget_kr"])} for b in national_budget(rows, T)]
    pl.DataFrame(budget).write_csv(folder / "budget.csv")
    return folder


def reference(tmp_path: Path, rows: list[dict]) -> pl.DataFrame:
    budget = [{**b, "kmf_budget_kr": round(b["kmf_budget_kr"])} for b in national_budget(rows, T)]
    folder = write_dataset(tmp_path / "reference", rows, budget, "parquet")
    return kmf.run(folder).b1


def assert_same_b1(ours: pl.DataFrame, expected: pl.DataFrame) -> None:
    assert ours["kode"].to_list() == expected["kode"].to_list()
    for column in ("kmf_budget_kr", "kmf_prognose_kr", "aendring_kr", "aktivitetseffekt_kr"):
        assert ours[column].to_list() == pytest.approx(expected[column].to_list(), rel=1e-9)


# --- number formats ---------------------------------------------------------------------


def test_semicolon_csv_with_decimal_points_is_read_as_decimal_points(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_text(tmp_path / "data", rows, ";", lambda x: f"{x:.2f}")
    assert_same_b1(kmf.run(folder).b1, reference(tmp_path, rows))


def test_semicolon_csv_with_danish_numbers(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_text(tmp_path / "data", rows, ";", danish)
    assert_same_b1(kmf.run(folder).b1, reference(tmp_path, rows))


def test_comma_csv_with_quoted_decimal_commas(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_text(tmp_path / "data", rows, ",", lambda x: f'"{x:.2f}"'.replace(".", ","))
    assert_same_b1(kmf.run(folder).b1, reference(tmp_path, rows))


def test_tab_separated_csv(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_text(tmp_path / "data", rows, "\t", lambda x: f"{x:.2f}")
    assert_same_b1(kmf.run(folder).b1, reference(tmp_path, rows))


def whole_thousands(rows: list[dict]) -> list[dict]:
    """Amounts below a million in whole kroner, so '123.456' can be either format."""
    return [{**r, "produktionsvaerdi": float(round(r["produktionsvaerdi"] / 100) + 1000),
             "kmf": float(round(r["kmf"] / 100) + 1000)} for r in rows]  # fmt: skip


def test_dots_that_may_be_either_format_stop_with_the_setting_to_use(tmp_path: Path) -> None:
    rows = whole_thousands(rounded_rows())
    folder = write_text(tmp_path / "data", rows, ";", lambda x: danish(x)[:-3])
    message = assert_rejected(folder, tmp_path, "aktivitet.csv", "'produktionsvaerdi'",
                              "decimaltegn", "entydigt")  # fmt: skip
    assert "tusindtalsskilletegn" in message


@pytest.mark.parametrize("decimal", [",", "."])
def test_the_setting_decides_an_ambiguous_format(tmp_path: Path, decimal: str) -> None:
    rows = whole_thousands(rounded_rows())
    folder = write_text(tmp_path / "data", rows, ";", lambda x: danish(x)[:-3])
    (folder / "kmf.toml").write_text(f'decimaltegn = "{decimal}"\n', encoding="utf-8")
    # with "." the dots are decimal points: every amount a thousandth of its value (and the
    # budget too, else it would be 1000 times the forecast: a unit error, which stops)
    scale = 1.0 if decimal == "," else 1e-3
    if decimal == ".":
        budget = pl.read_csv(folder / "budget.csv")
        budget.with_columns(pl.col("kmf_budget_kr") * scale).write_csv(folder / "budget.csv")
    scaled = [{**r, "produktionsvaerdi": r["produktionsvaerdi"] * scale,
               "kmf": r["kmf"] * scale} for r in rows]  # fmt: skip
    ours = kmf.run(folder).b1
    expected = reference(tmp_path, scaled)
    assert ours["kmf_prognose_kr"].to_list() == pytest.approx(
        expected["kmf_prognose_kr"].to_list(), rel=1e-6
    )


def test_both_number_formats_in_one_file_stop(tmp_path: Path) -> None:
    rows = rounded_rows()
    flip = iter(range(len(rows) * 2))
    folder = write_text(tmp_path / "data", rows, ";",
                        lambda x: danish(x) if next(flip) % 2 else f"{x:.2f}")  # fmt: skip
    assert_rejected(folder, tmp_path, "aktivitet.csv", "decimalkomma", "decimalpunktum",
                    "decimaltegn")  # fmt: skip


def test_a_bad_decimal_setting_is_named(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_text(tmp_path / "data", rows, ";", danish)
    (folder / "kmf.toml").write_text('decimaltegn = "komma"\n', encoding="utf-8")
    assert_rejected(folder, tmp_path, "kmf.toml", "decimaltegn", "'komma'")


# --- encodings --------------------------------------------------------------------------


def test_windows_1252_export_is_read_and_noted(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_text(tmp_path / "data", rows, ";", danish, encoding="cp1252",
                        extra=("kommunenavn", "Høje-Taastrup Æblegård"))  # fmt: skip
    raw = (folder / "aktivitet.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    out = tmp_path / "ud"
    outcome = run_cli(["run", str(folder), "--out", str(out)])
    assert outcome.exit_code == 0, outcome.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert any("Windows-1252" in note for note in manifest["bemaerkninger"])
    b1 = pl.read_parquet(out / "tabel_b1.parquet")
    assert_same_b1(b1, reference(tmp_path, rows))


def test_a_file_in_no_known_encoding_names_the_line(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_text(tmp_path / "data", rows, ",", lambda x: f"{x:.2f}")
    lines = (folder / "aktivitet.csv").read_bytes().split(b"\n")
    lines[6] = lines[6] + b",\x81\x8d"  # bytes neither UTF-8 nor Windows-1252
    (folder / "aktivitet.csv").write_bytes(b"\n".join(lines))
    message = assert_rejected(folder, tmp_path, "aktivitet.csv", "UTF-8", "linje 7")
    assert "utf-8 sequence" not in message


# --- empty and broken files ---------------------------------------------------------------


def test_empty_csv_file(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_text(tmp_path / "data", rows, ",", str)
    (folder / "aktivitet.csv").write_bytes(b"")
    message = assert_rejected(folder, tmp_path, "aktivitet.csv", "tom")
    assert "empty" not in message


def test_csv_with_only_a_header(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_text(tmp_path / "data", rows, ",", str)
    (folder / "budget.csv").write_text("aar,kmf_budget_kr\n", encoding="utf-8")
    assert_rejected(folder, tmp_path, "budget.csv", "kun overskriftslinjen")


def test_ragged_line_is_named(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_text(tmp_path / "data", rows, ",", lambda x: f"{x:.2f}")
    lines = (folder / "aktivitet.csv").read_text(encoding="utf-8").splitlines()
    lines[4] += ",ekstra,felter"
    (folder / "aktivitet.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    message = assert_rejected(folder, tmp_path, "aktivitet.csv", "linje 5 har 10", "8 kolonner")
    assert "Schema" not in message


def test_an_unknown_separator_is_named(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_text(tmp_path / "data", rows, "|", lambda x: f"{x:.2f}")
    assert_rejected(folder, tmp_path, "aktivitet.csv", "skilletegn", "én kolonne")


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"", "tom"), (b"PAR1 not really parquet", "afkortet"), (b"kommunekode,aar\n", "ikke en")],
)
def test_broken_parquet_files(tmp_path: Path, content: bytes, words: str) -> None:
    rows = rounded_rows()
    folder = write_dataset(tmp_path / "data", rows, national_budget(rows, T), "parquet")
    (folder / "aktivitet.parquet").write_bytes(content)
    message = assert_rejected(folder, tmp_path, "aktivitet.parquet", words)
    assert "PAR1" not in message and "specification" not in message


def test_a_parquet_file_cut_off_in_the_middle(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_dataset(tmp_path / "data", rows, national_budget(rows, T), "parquet")
    data = (folder / "aktivitet.parquet").read_bytes()
    (folder / "aktivitet.parquet").write_bytes(data[: len(data) // 2])
    assert_rejected(folder, tmp_path, "aktivitet.parquet", "afkortet")


def test_toml_errors_are_danish_with_the_line(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_text(tmp_path / "data", rows, ",", lambda x: f"{x:.2f}")
    (folder / "kmf.toml").write_text('titel = "KMF"\naar 2018\n', encoding="utf-8")
    message = assert_rejected(folder, tmp_path, "kmf.toml", "linje 2", "'aar 2018'")
    assert "Expected" not in message


def test_a_broken_workbook_is_named_in_danish(tmp_path: Path) -> None:
    book = tmp_path / "data.xlsx"
    book.write_bytes(b"PK\x03\x04 not a workbook")
    message = assert_rejected(book, tmp_path, "data.xlsx", "gyldig .xlsx")
    assert "zip" not in message.lower()


def test_an_input_file_that_may_not_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = rounded_rows()
    folder = write_text(tmp_path / "data", rows, ",", lambda x: f"{x:.2f}")
    locked = folder / "aktivitet.csv"
    real_open = Path.open

    def refuse(self: Path, *args, **kwargs):
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    message = assert_rejected(folder, tmp_path, "aktivitet.csv", "adgang")
    assert "Permission" not in message


# --- amounts beyond any real scale ------------------------------------------------------


@pytest.mark.parametrize("value", [1e308, -1e300, 2e15])
def test_an_amount_beyond_any_real_scale_is_named(tmp_path: Path, value: float) -> None:
    rows = rounded_rows()
    rows[3] = {**rows[3], "kmf": value}
    folder = write_dataset(tmp_path / "data", rows, national_budget(rounded_rows(), T), "parquet")
    message = assert_rejected(folder, tmp_path, "aktivitet.parquet", "'kmf'", "række 4", "10^15")
    assert "inf" not in message


@pytest.mark.parametrize("text", ["inf", "nan", "-Infinity", "1e400"])
def test_non_finite_text_in_csv_is_named(tmp_path: Path, text: str) -> None:
    rows = rounded_rows()
    folder = write_text(tmp_path / "data", rows, ",", lambda x: f"{x:.2f}")
    lines = (folder / "aktivitet.csv").read_text(encoding="utf-8").splitlines()
    fields = lines[2].split(",")
    fields[6] = text
    lines[2] = ",".join(fields)
    (folder / "aktivitet.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_rejected(folder, tmp_path, "aktivitet.csv", "'produktionsvaerdi'", "linje 3")


def test_many_huge_records_do_not_sum_to_infinity(tmp_path: Path) -> None:
    """Each below the limit, together far beyond a float's range if unchecked."""
    rows = rounded_rows()
    rows += [{**rows[0], "produktionsvaerdi": 9e14, "kmf": 9e14} for _ in range(3)]
    folder = write_dataset(tmp_path / "data", rows, national_budget(rounded_rows(), T), "parquet")
    try:
        b1 = kmf.run(folder).b1
    except kmf.DataError as error:  # a forecast this far from the budget is named, not inf
        assert "gange fra hinanden" in str(error) and "inf" not in str(error)
        return
    floats = b1.select(pl.col(pl.Float64))
    assert all(floats[c].is_finite().all() for c in floats.columns)


def test_a_budget_of_infinity_is_named(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_text(tmp_path / "data", rows, ",", lambda x: f"{x:.2f}")
    (folder / "budget.csv").write_text("aar,kmf_budget_kr\n2018,1e308\n", encoding="utf-8")
    message = assert_rejected(folder, tmp_path, "budget.csv", "'kmf_budget_kr'", "linje 2")
    assert "inf kr" not in message


def test_a_factor_that_overflows_is_named(tmp_path: Path) -> None:
    """T−1 foreløbig of one kommune is a millionth of a krone: the forecast would be
    astronomically large; whatever comes of it is finite or named, never inf."""
    rows = rounded_rows()
    rows = [{**r, "kmf": 1e-6, "produktionsvaerdi": 1e-6}
            if r["aar"] == T - 1 and r["opgoerelse"] == "foreloebig" and r["kommunekode"] == 147
            else r for r in rows]  # fmt: skip
    rows = [{**r, "kmf": 9e14} if r["aar"] == T - 1 and r["opgoerelse"] == "endelig" else r
            for r in rows]  # fmt: skip
    folder = write_dataset(tmp_path / "data", rows, national_budget(rounded_rows(), T), "parquet")
    outcome = run_cli(["run", str(folder), "--out", str(tmp_path / "ud")])
    assert "Traceback" not in outcome.output
    if outcome.exit_code == 0:
        b1 = pl.read_parquet(tmp_path / "ud" / "tabel_b1.parquet").select(pl.col(pl.Float64))
        assert all(b1[c].is_finite().all() for c in b1.columns)
    else:
        # named: not finite, or (before that) more KMF than production value or a forecast
        # far from the budget
        named = ("ikke endeligt", "byttet om", "gange fra hinanden")
        assert outcome.exit_code == 2 and any(n in outcome.stderr for n in named)
        assert "inf kr" not in outcome.stderr


# --- the same input gives the same bytes ----------------------------------------------------


def table_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("tabel_*.csv"))}


def test_same_input_in_any_format_and_order_gives_identical_tables(tmp_path: Path) -> None:
    """A konsulent who diffs two runs sees nothing: the same records twice, as Parquet or
    CSV, shuffled, or split over many files, give the same bytes. The amounts are arbitrary
    floats (not whole øre), so a sum in another order would differ in the last bits."""
    import random

    rows = random_rows(KOMMUNER, T, seed=9)
    # each cell as several records with corrections, so that the order of summing matters
    rng = random.Random(3)
    records = []
    for r in rows:
        for _ in range(3):
            w = rng.uniform(0.2, 0.6)
            records.append({**r, "produktionsvaerdi": r["produktionsvaerdi"] * w,
                            "kmf": r["kmf"] * w})  # fmt: skip
        records.append({**r, "produktionsvaerdi": r["produktionsvaerdi"] * rng.uniform(-0.3, 0),
                        "kmf": -r["kmf"] * 0.01})  # fmt: skip
    budget = national_budget(rows, T)
    variants = {
        "parquet": write_dataset(tmp_path / "parquet", records, budget, "parquet"),
        "csv": write_dataset(tmp_path / "csv", records, budget, "csv"),
        "shuffled": write_dataset(
            tmp_path / "shuffled", rng.sample(records, len(records)), budget, "parquet"
        ),
    }
    split = tmp_path / "split"
    write_dataset(split, records[:1], budget, "parquet")
    (split / "aktivitet.parquet").unlink()
    (split / "aktivitet").mkdir()
    shuffled = rng.sample(records, len(records))
    for i in range(7):
        part = pl.DataFrame(shuffled[i::7])
        part.write_parquet(split / "aktivitet" / f"del_{i}.parquet")
    variants["split"] = split
    outputs = {}
    for name, folder in variants.items():
        out = tmp_path / f"ud_{name}"
        outcome = run_cli(["run", str(folder), "--out", str(out)])
        assert outcome.exit_code == 0, outcome.output
        outputs[name] = table_bytes(out)
    again = tmp_path / "ud_again"
    assert run_cli(["run", str(variants["parquet"]), "--out", str(again)]).exit_code == 0
    outputs["again"] = table_bytes(again)
    first = outputs["parquet"]
    assert len(first) == 10
    for name, tables in outputs.items():
        for table, content in tables.items():
            assert content == first[table], (name, table)


def test_the_compiled_and_the_numpy_sums_agree_to_the_bit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kmf.io import columnar

    rows = random_rows(KOMMUNER, T, seed=4)
    records = [{**r, "produktionsvaerdi": r["produktionsvaerdi"] / 3, "kmf": r["kmf"] / 7}
               for r in rows for _ in range(3)]  # fmt: skip
    folder = write_dataset(tmp_path / "data", records, national_budget(rows, T), "parquet")
    numpy_cells = kmf.load(folder).cells
    monkeypatch.setattr(columnar, "COMPILED_ROWS", 0)
    compiled_cells = kmf.load(folder).cells
    assert numpy_cells.equals(compiled_cells)
    general = write_dataset(tmp_path / "csv", records, national_budget(rows, T), "csv")
    assert kmf.load(general).cells.equals(numpy_cells)


def test_a_column_named_twice_is_named(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_text(tmp_path / "data", rows, ",", lambda x: f"{x:.2f}", extra=("KMF", "1"))
    assert_rejected(folder, tmp_path, "aktivitet.csv", "'kmf'", "mere end én gang")


def test_a_utf16_export_is_named(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_text(tmp_path / "data", rows, "\t", lambda x: f"{x:.2f}", encoding="utf-16")
    assert_rejected(folder, tmp_path, "aktivitet.csv", "UTF-16", "CSV UTF-8")


def test_danish_numbers_as_text_in_parquet(tmp_path: Path) -> None:
    rows = rounded_rows()
    text = [{**r, "produktionsvaerdi": danish(r["produktionsvaerdi"]), "kmf": danish(r["kmf"])}
            for r in rows]  # fmt: skip
    folder = tmp_path / "data"
    folder.mkdir()
    pl.DataFrame(text).write_parquet(folder / "aktivitet.parquet")
    budget = [{**b, "kmf_budget_kr": round(b["kmf_budget_kr"])} for b in national_budget(rows, T)]
    pl.DataFrame(budget).write_parquet(folder / "budget.parquet")
    assert_same_b1(kmf.run(folder).b1, reference(tmp_path, rows))


def test_files_that_are_not_read_are_named_in_the_manifest(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_dataset(tmp_path / "data", rows, national_budget(rows, T), "parquet")
    (folder / "aktivitet").mkdir()
    (folder / "aktivitet.parquet").rename(folder / "aktivitet" / "del1.parquet")
    (folder / "aktivitet" / "ekstra.csv").write_text("kommunekode\n101\n", encoding="utf-8")
    data = kmf.load(folder)
    assert any("ekstra.csv" in note and "ikke læst" in note for note in data.notes)


def test_a_fault_in_kmf_itself_is_one_danish_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import gc
    import sys

    from kmf import cli

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    rows = rounded_rows()
    folder = write_dataset(tmp_path / "data", rows, national_budget(rows, T), "parquet")
    # the command imports the library when it runs (kmf --help stays fast)
    monkeypatch.setattr("kmf.pipeline.run", broken)
    monkeypatch.setattr(sys, "argv", ["kmf", "run", str(folder), "--out", str(tmp_path / "ud")])
    monkeypatch.delenv("KMF_FEJLSPOR", raising=False)
    with pytest.raises(SystemExit) as stop:
        cli.main()
    gc.unfreeze()
    err = capsys.readouterr().err
    assert stop.value.code == 1
    assert "Uventet fejl i kmf" in err and "KMF_FEJLSPOR" in err
    assert "Traceback" not in err
    assert not (tmp_path / "ud").exists()


def test_konverter_reads_danish_numbers(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_text(tmp_path / "data", rows, ";", danish)
    target = tmp_path / "parquet" / "aktivitet.parquet"
    outcome = run_cli(["konverter", str(folder / "aktivitet.csv"), str(target)])
    assert outcome.exit_code == 0, outcome.output
    converted = pl.read_parquet(target)
    assert converted["kmf"].sum() == pytest.approx(sum(r["kmf"] for r in rows), rel=1e-12)


# --- found by probing: silent numbers, lost files, crashes ----------------------------------


def test_comma_thousands_that_may_be_decimals_stop(tmp_path: Path) -> None:
    rows = whole_thousands(rounded_rows())
    folder = write_text(tmp_path / "data", rows, ",", lambda x: f'"{x:,.0f}"')
    assert_rejected(folder, tmp_path, "aktivitet.csv", "entydigt", "decimaltegn")


def test_a_setting_the_numbers_contradict_stops(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_text(tmp_path / "data", rows, ",", lambda x: f"{x:.2f}")
    (folder / "kmf.toml").write_text('decimaltegn = ","\n', encoding="utf-8")
    assert_rejected(folder, tmp_path, "aktivitet.csv", 'decimaltegn = ","', "kmf.toml")


def test_force_keeps_files_in_a_folder_kmf_did_not_write(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_dataset(tmp_path / "data", rows, national_budget(rows, T), "parquet")
    out = tmp_path / "ud"
    out.mkdir()
    mine = ["tabel_mine.csv", "figur_logo.png", "kmf_noter.xlsx"]
    for name in mine:
        (out / name).write_text("mit", encoding="utf-8")
    outcome = run_cli(["run", str(folder), "--out", str(out), "--force"])
    assert outcome.exit_code == 0, outcome.output
    assert all((out / name).read_text(encoding="utf-8") == "mit" for name in mine)


def test_konverter_never_writes_over_its_own_input(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_text(tmp_path / "data", rows, ",", lambda x: f"{x:.2f}")
    csv = folder / "aktivitet.csv"
    before = csv.read_bytes()
    outcome = run_cli(["konverter", str(csv), str(csv), "--force"])
    assert outcome.exit_code == 2 and "selve CSV-filen" in outcome.stderr
    assert csv.read_bytes() == before


def test_control_characters_in_a_title_and_a_path(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_dataset(tmp_path / "da\x01ta", rows, national_budget(rows, T), "parquet")
    (folder / "kmf.toml").write_text('titel = "KMF\\u0001 2018"\n', encoding="utf-8")
    outcome = run_cli(["run", str(folder), "--out", str(tmp_path / "ud")])
    assert outcome.exit_code == 0, outcome.output
    assert (tmp_path / "ud" / "kmf_dekomponering_2018.xlsx").is_file()


def test_a_path_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    import os

    rows = rounded_rows()
    folder = write_dataset(tmp_path / "data", rows, national_budget(rows, T), "parquet")
    odd = Path(os.fsdecode(os.fsencode(tmp_path) + b"/data\xe6"))
    folder.rename(odd)
    assert_rejected(odd, tmp_path, "UTF-8", "Omdøb")


def test_figur_output_names(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_dataset(tmp_path / "data", rows, national_budget(rows, T), "parquet")
    wrong = run_cli(["figur", str(folder), "--out", str(tmp_path / "figur.xyz")])
    assert wrong.exit_code == 2 and "'.xyz'" in wrong.stderr
    plain = run_cli(["figur", str(folder), "--out", str(tmp_path / "figurfil")])
    assert plain.exit_code == 0 and (tmp_path / "figurfil.png").is_file()
    assert "figurfil.png" in plain.stdout
    again = run_cli(["figur", str(folder), "--out", str(tmp_path / "figurfil.png")])
    assert again.exit_code == 2 and "--force" in again.stderr
    forced = ["figur", str(folder), "--out", str(tmp_path / "figurfil.png"), "--force"]
    assert run_cli(forced).exit_code == 0


def test_synth_options_out_of_range(tmp_path: Path) -> None:
    for option in (["--seed", "-1"], ["--aar", "40000"]):
        outcome = run_cli(["synth", "--rækker", "10", "--out", str(tmp_path / "s"), *option])
        assert outcome.exit_code == 2, outcome.output
        assert not (tmp_path / "s").exists()


def test_a_toml_file_with_a_byte_order_mark(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_dataset(tmp_path / "data", rows, national_budget(rows, T), "parquet")
    (folder / "kmf.toml").write_bytes("\ufeffaar = 2018\n".encode())
    assert kmf.run(folder).aar == 2018


def test_old_mac_line_ends_are_named(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_text(tmp_path / "data", rows, ",", lambda x: f"{x:.2f}")
    csv = folder / "aktivitet.csv"
    csv.write_bytes(csv.read_bytes().replace(b"\n", b"\r"))
    assert_rejected(folder, tmp_path, "aktivitet.csv", "Mac", "linjeskift")


def test_a_data_file_that_leads_nowhere_is_named(tmp_path: Path) -> None:
    rows = rounded_rows()
    folder = write_dataset(tmp_path / "data", rows, national_budget(rows, T), "parquet")
    (folder / "aktivitet").mkdir()
    (folder / "aktivitet.parquet").rename(folder / "aktivitet" / "a.parquet")
    (folder / "aktivitet" / "b.parquet").symlink_to(tmp_path / "findes-ikke.parquet")
    assert_rejected(folder, tmp_path, "b.parquet", "findes")
