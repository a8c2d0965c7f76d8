"""SPEC §6: bad input gives exit code 2, a Danish message naming file, column, values and
rows, and no output folder. One test per case."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import kmf
from kmf.cli import app
from tests.factory import national_budget, random_rows, write_dataset

T = 2018
KOMMUNER = [101, 147, 851]


def good_rows() -> list[dict]:
    return random_rows(KOMMUNER, T, seed=11)


def good_budget(rows: list[dict]) -> list[dict]:
    return national_budget(rows, T)


def run_cli(args: list[str]):
    return CliRunner().invoke(app, args)


def assert_rejected(dataset: Path, tmp_path: Path, *fragments: str, args: tuple = ()) -> str:
    """Run ``kmf run`` and check exit 2, the message and that nothing was written."""
    out = tmp_path / "resultat"
    result = run_cli(["run", str(dataset), "--out", str(out), *args])
    message = result.stderr
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert message.startswith("Fejl: "), message
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert not out.exists()
    assert not any(p.name.startswith(".resultat") for p in tmp_path.iterdir())
    with pytest.raises(kmf.DataError) as info:
        kmf.run(dataset, *([int(args[1])] if args[:1] == ("--aar",) else []))
    assert isinstance(info.value, ValueError)
    return message


def write_csv_with(tmp_path: Path, mutate: Callable[[list[dict]], list[dict]]) -> Path:
    rows = good_rows()
    return write_dataset(tmp_path / "data", mutate(rows), good_budget(rows))


def set_row(index: int, **values) -> Callable[[list[dict]], list[dict]]:
    def mutate(rows: list[dict]) -> list[dict]:
        rows = [dict(r) for r in rows]
        rows[index].update(values)
        return rows

    return mutate


def test_good_data_passes(tmp_path: Path) -> None:
    folder = write_csv_with(tmp_path, lambda rows: rows)
    result = run_cli(["run", str(folder), "--out", str(tmp_path / "ud")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ud" / "tabel_b1.csv").exists()


def test_missing_dataset_folder(tmp_path: Path) -> None:
    assert_rejected(tmp_path / "findes-ikke", tmp_path, "findes-ikke", "findes ikke")


def test_missing_activity_file(tmp_path: Path) -> None:
    folder = write_csv_with(tmp_path, lambda rows: rows)
    (folder / "aktivitet.csv").unlink()
    assert_rejected(folder, tmp_path, "aktivitet.csv", "aktivitet.parquet")


def test_missing_budget_file(tmp_path: Path) -> None:
    folder = write_csv_with(tmp_path, lambda rows: rows)
    (folder / "budget.csv").unlink()
    assert_rejected(folder, tmp_path, "budget.csv", "kmf_budget_kr")


def test_missing_column(tmp_path: Path) -> None:
    folder = write_csv_with(tmp_path, lambda rows: [
        {k: v for k, v in r.items() if k != "kmf"} for r in rows
    ])  # fmt: skip
    assert_rejected(folder, tmp_path, "aktivitet.csv", "'kmf'", "mangler")


def test_a_column_written_with_danish_letters_is_named_with_its_right_spelling(
    tmp_path: Path,
) -> None:
    folder = write_csv_with(tmp_path, lambda rows: rows)
    csv = folder / "aktivitet.csv"
    header, rest = csv.read_text(encoding="utf-8").split("\n", 1)
    names = ["år" if n == "aar" else "produktionsværdi" if n == "produktionsvaerdi" else n
             for n in header.split(",")]  # fmt: skip
    assert "år" in names and "produktionsværdi" in names
    csv.write_text(",".join(names) + "\n" + rest, encoding="utf-8")
    message = assert_rejected(
        folder, tmp_path, "mangler kolonnerne 'aar', 'produktionsvaerdi'",
        "Kolonnenavnene skrives uden æ, ø og å: 'år' skal hedde 'aar', 'produktionsværdi' skal "
        "hedde 'produktionsvaerdi'.",
    )  # fmt: skip
    # a column that is only missing gets no such hint
    assert "skal hedde 'kmf'" not in message


def test_missing_column_without_danish_letters_gets_no_spelling_hint(tmp_path: Path) -> None:
    folder = write_csv_with(tmp_path, lambda rows: [
        {k: v for k, v in r.items() if k != "kmf"} for r in rows
    ])  # fmt: skip
    assert "uden æ, ø og å" not in assert_rejected(folder, tmp_path, "'kmf'")


def test_missing_age_column(tmp_path: Path) -> None:
    folder = write_csv_with(tmp_path, lambda rows: [
        {k: v for k, v in r.items() if k != "aldersgruppe"} for r in rows
    ])  # fmt: skip
    assert_rejected(folder, tmp_path, "aktivitet.csv", "'aldersgruppe'", "'alder'")


def test_wrong_type_text_in_a_number_column(tmp_path: Path) -> None:
    rows = good_rows()
    folder = write_dataset(tmp_path / "data", rows, good_budget(rows))
    lines = (folder / "aktivitet.csv").read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[7].split(",")
    cells[header.index("kmf")] = "mange"
    lines[7] = ",".join(cells)
    (folder / "aktivitet.csv").write_text("\n".join(lines) + "\n")
    # lines[7] is line 8 of the file (the header is line 1)
    assert_rejected(folder, tmp_path, "aktivitet.csv", "'kmf'", "'mange'", "linje 8", "ugyldig")


def test_wrong_type_of_a_parquet_column(tmp_path: Path) -> None:
    rows = good_rows()
    folder = write_dataset(tmp_path / "data", rows, good_budget(rows), "parquet")
    frame = pl.read_parquet(folder / "aktivitet.parquet")
    frame.with_columns(pl.lit(True).alias("produktionsvaerdi")).write_parquet(
        folder / "aktivitet.parquet"
    )
    assert_rejected(folder, tmp_path, "aktivitet.parquet", "'produktionsvaerdi'", "Boolean")


def test_fractional_kommunekode_in_parquet(tmp_path: Path) -> None:
    rows = good_rows()
    folder = write_dataset(tmp_path / "data", rows, good_budget(rows), "parquet")
    frame = pl.read_parquet(folder / "aktivitet.parquet").with_columns(
        pl.col("kommunekode").cast(pl.Float64)
    )
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 3).then(101.5).otherwise(pl.col("kommunekode"))
        .alias("kommunekode")
    )  # fmt: skip
    frame.write_parquet(folder / "aktivitet.parquet")
    assert_rejected(folder, tmp_path, "aktivitet.parquet", "'kommunekode'", "101.5", "række 4")


def test_null_value(tmp_path: Path) -> None:
    folder = write_csv_with(tmp_path, set_row(4, produktionsvaerdi=None))
    assert_rejected(
        folder, tmp_path, "aktivitet.csv", "'produktionsvaerdi'", "mangler en værdi", "linje 6"
    )


def test_unknown_kommunekode(tmp_path: Path) -> None:
    folder = write_csv_with(tmp_path, set_row(0, kommunekode=999))
    assert_rejected(
        folder, tmp_path, "aktivitet.csv", "'kommunekode'", "999", "linje 2", "98 kommunekoder"
    )


def test_unknown_aldersgruppe(tmp_path: Path) -> None:
    rows = good_rows()
    index = next(i for i, r in enumerate(rows) if r["sundhedsomraade"] == "somatik")
    folder = write_csv_with(tmp_path, set_row(index, aldersgruppe="90+"))
    assert_rejected(
        folder, tmp_path, "aktivitet.csv", "'aldersgruppe'", "'90+'", f"linje {index + 2}"
    )


def test_unknown_sundhedsomraade(tmp_path: Path) -> None:
    folder = write_csv_with(tmp_path, set_row(2, sundhedsomraade="tandlaege"))
    assert_rejected(
        folder, tmp_path, "aktivitet.csv", "'sundhedsomraade'", "'tandlaege'", "linje 4"
    )


def test_unknown_opgoerelse(tmp_path: Path) -> None:
    folder = write_csv_with(tmp_path, set_row(2, opgoerelse="midlertidig"))
    assert_rejected(folder, tmp_path, "aktivitet.csv", "'opgoerelse'", "'midlertidig'")


def test_age_out_of_range(tmp_path: Path) -> None:
    def to_age(rows: list[dict]) -> list[dict]:
        out = [{k: v for k, v in r.items() if k != "aldersgruppe"} | {"alder": 40} for r in rows]
        out[5]["alder"] = 140
        return out

    folder = write_csv_with(tmp_path, to_age)
    assert_rejected(folder, tmp_path, "aktivitet.csv", "'alder'", "140", "linje 7")


def test_ej_aldersdiff_with_another_area(tmp_path: Path) -> None:
    rows = good_rows()
    index = next(i for i, r in enumerate(rows) if r["sundhedsomraade"] == "somatik")
    folder = write_csv_with(tmp_path, set_row(index, aldersgruppe="ej_aldersdiff"))
    assert_rejected(
        folder, tmp_path, "aktivitet.csv", "'ej_aldersdiff'", "'somatik'", f"linje {index + 2}"
    )


def test_summed_cell_below_zero(tmp_path: Path) -> None:
    def negative(rows: list[dict]) -> list[dict]:
        target = rows[0]
        correction = target | {"produktionsvaerdi": -2 * target["produktionsvaerdi"], "kmf": 0.0}
        return [*rows, correction]

    folder = write_csv_with(tmp_path, negative)
    assert_rejected(
        folder, tmp_path, "aktivitet.csv", "'produktionsvaerdi'", "negativ", "kommune 101"
    )


def test_negative_record_that_nets_out_is_accepted(tmp_path: Path) -> None:
    def corrected(rows: list[dict]) -> list[dict]:
        target = rows[0]
        fix = target | {"produktionsvaerdi": -0.5 * target["produktionsvaerdi"], "kmf": -1.0}
        return [*rows, fix]

    folder = write_csv_with(tmp_path, corrected)
    assert run_cli(["run", str(folder), "--out", str(tmp_path / "ud")]).exit_code == 0


def test_missing_cut(tmp_path: Path) -> None:
    folder = write_csv_with(tmp_path, lambda rows: [
        r for r in rows if not (r["aar"] == T - 1 and r["opgoerelse"] == "foreloebig")
    ])  # fmt: skip
    assert_rejected(folder, tmp_path, "aktivitet.csv", "2017 foreløbig", "takstaar = 2017")


def test_missing_base_cut_at_budget_year_prices(tmp_path: Path) -> None:
    folder = write_csv_with(tmp_path, lambda rows: [
        r for r in rows if not (r["aar"] == T - 2 and r["takstaar"] == T)
    ])  # fmt: skip
    assert_rejected(folder, tmp_path, "2016 endelig", "2018-takster", "2016 endelig i 2016-takster")


def test_kommune_missing_from_a_cut(tmp_path: Path) -> None:
    folder = write_csv_with(tmp_path, lambda rows: [
        r for r in rows if not (r["kommunekode"] == 147 and r["aar"] == T - 1
                                and r["opgoerelse"] == "endelig")
    ])  # fmt: skip
    assert_rejected(folder, tmp_path, "'kommunekode'", "2017 endelig", "147 Frederiksberg")


def test_zero_base_kmf(tmp_path: Path) -> None:
    folder = write_csv_with(tmp_path, lambda rows: [
        r | {"kmf": 0.0} if r["kommunekode"] == 851 and r["aar"] == T - 2 else r for r in rows
    ])  # fmt: skip
    assert_rejected(folder, tmp_path, "'kmf'", "2016 endelig", "851 Aalborg", "0 kr.")


def test_zero_preliminary_kmf_of_last_year(tmp_path: Path) -> None:
    folder = write_csv_with(tmp_path, lambda rows: [
        r | {"kmf": 0.0}
        if r["kommunekode"] == 147 and r["aar"] == T - 1 and r["opgoerelse"] == "foreloebig"
        else r
        for r in rows
    ])  # fmt: skip
    assert_rejected(
        folder, tmp_path, "'kmf'", "2017 foreløbig", "147 Frederiksberg", "efterregistreringsfaktor"
    )


def test_kmf_without_production_value(tmp_path: Path) -> None:
    folder = write_csv_with(tmp_path, lambda rows: [
        r | {"produktionsvaerdi": 0.0}
        if r["kommunekode"] == 101 and r["aar"] == T and r["aldersgruppe"] == "80+"
        else r
        for r in rows
    ])  # fmt: skip
    assert_rejected(folder, tmp_path, "'produktionsvaerdi'", "101 København", "80+")


def test_budget_missing_for_the_year(tmp_path: Path) -> None:
    rows = good_rows()
    folder = write_dataset(tmp_path / "data", rows, [{"aar": T - 1, "kmf_budget_kr": 1e9}])
    assert_rejected(folder, tmp_path, "budget.csv", "'aar'", "intet budget for 2018", "2017")


def test_budget_duplicated_for_the_year(tmp_path: Path) -> None:
    rows = good_rows()
    budget = [{"aar": T, "kmf_budget_kr": 1e9}, {"aar": T, "kmf_budget_kr": 2e9}]
    folder = write_dataset(tmp_path / "data", rows, budget)
    assert_rejected(folder, tmp_path, "budget.csv", "'aar'", "2 gange", "linje 2", "linje 3")


def test_kommune_budget_duplicated(tmp_path: Path) -> None:
    rows = good_rows()
    budget = [{"aar": T, "kommunekode": k, "kmf_budget_kr": 1e8} for k in [*KOMMUNER, 147]]
    folder = write_dataset(tmp_path / "data", rows, budget)
    assert_rejected(folder, tmp_path, "budget.csv", "'kommunekode'", "147 Frederiksberg")


def test_kommune_budget_missing_a_kommune(tmp_path: Path) -> None:
    rows = good_rows()
    budget = [{"aar": T, "kommunekode": k, "kmf_budget_kr": 1e8} for k in KOMMUNER[:2]]
    folder = write_dataset(tmp_path / "data", rows, budget)
    assert_rejected(folder, tmp_path, "budget.csv", "mangler budget for 851 Aalborg")


def test_budget_with_text_amount(tmp_path: Path) -> None:
    rows = good_rows()
    folder = write_dataset(tmp_path / "data", rows, [{"aar": T, "kmf_budget_kr": "20 mia."}])
    assert_rejected(folder, tmp_path, "budget.csv", "'kmf_budget_kr'", "'20 mia.'", "linje 2")


def test_unreadable_parquet(tmp_path: Path) -> None:
    rows = good_rows()
    folder = write_dataset(tmp_path / "data", rows, good_budget(rows), "parquet")
    (folder / "aktivitet.parquet").write_bytes(b"PAR1 not really parquet")
    assert_rejected(folder, tmp_path, "aktivitet.parquet", "kan ikke læses")


def test_ragged_csv(tmp_path: Path) -> None:
    rows = good_rows()
    folder = write_dataset(tmp_path / "data", rows, good_budget(rows))
    with (folder / "aktivitet.csv").open("a") as fh:
        fh.write("101,2018,foreloebig,2018,0-2,somatik,1,1,ekstra,felter\n")
    assert_rejected(folder, tmp_path, "aktivitet.csv", "kan ikke læses")


def test_both_csv_and_parquet_activity(tmp_path: Path) -> None:
    rows = good_rows()
    folder = write_dataset(tmp_path / "data", rows, good_budget(rows))
    pl.read_csv(folder / "aktivitet.csv").write_parquet(folder / "aktivitet.parquet")
    assert_rejected(folder, tmp_path, "aktivitet.csv", "aktivitet.parquet")


def test_unknown_setting_in_kmf_toml(tmp_path: Path) -> None:
    folder = write_csv_with(tmp_path, lambda rows: rows)
    (folder / "kmf.toml").write_text("aaar = 2018\n", encoding="utf-8")
    assert_rejected(folder, tmp_path, "kmf.toml", "aaar")


def test_unknown_method(tmp_path: Path) -> None:
    folder = write_csv_with(tmp_path, lambda rows: rows)
    out = tmp_path / "resultat"
    result = run_cli(["run", str(folder), "--out", str(out), "--metode", "gaet"])
    assert result.exit_code == 2
    assert "'gaet'" in result.stderr and "ministeriet" in result.stderr
    assert not out.exists()


def test_year_without_data(tmp_path: Path) -> None:
    folder = write_csv_with(tmp_path, lambda rows: rows)
    assert_rejected(folder, tmp_path, "budgetår 2030", "2030 foreløbig", args=("--aar", "2030"))


def test_existing_output_is_kept_without_force(tmp_path: Path) -> None:
    folder = write_csv_with(tmp_path, lambda rows: rows)
    out = tmp_path / "ud"
    out.mkdir()
    (out / "tabel_b1.csv").write_text("gammel\n")
    result = run_cli(["run", str(folder), "--out", str(out)])
    assert result.exit_code == 2
    assert "--force" in result.stderr and str(out) in result.stderr
    assert (out / "tabel_b1.csv").read_text() == "gammel\n"
    result = run_cli(["run", str(folder), "--out", str(out), "--force"])
    assert result.exit_code == 0, result.output
    assert (out / "tabel_b1.csv").read_text().startswith("niveau,kode,navn")


def test_validate_reports_errors_with_exit_2(tmp_path: Path) -> None:
    folder = write_csv_with(tmp_path, set_row(0, kommunekode=999))
    result = run_cli(["validate", str(folder)])
    assert result.exit_code == 2
    assert "999" in result.stderr


def test_psykiatri_age_is_never_an_error(tmp_path: Path) -> None:
    # psykiatri goes to ej_aldersdiff whatever its age: a missing or odd age there is fine,
    # and only the real error (an unknown kommunekode) is reported
    def to_age(rows: list[dict]) -> list[dict]:
        out = [{k: v for k, v in r.items() if k != "aldersgruppe"} | {"alder": 40} for r in rows]
        for r in out:
            if r["sundhedsomraade"] == "psykiatri":
                r["alder"] = None
        out[0]["kommunekode"] = 999
        return out

    folder = write_csv_with(tmp_path, to_age)
    message = assert_rejected(folder, tmp_path, "'kommunekode'", "999")
    assert "'alder'" not in message

    def repaired(rows: list[dict]) -> list[dict]:
        out = to_age(rows)
        out[0]["kommunekode"] = 101
        return out

    assert kmf.run(write_csv_with(tmp_path / "ok", repaired), aar=T).aar == T


# --- messages of the forecast's checks, word for word (kmf.run's DataError) ----------------


def _message_of_run(folder: Path) -> str:
    with pytest.raises(kmf.DataError) as info:
        kmf.run(folder)
    return str(info.value)


@pytest.mark.parametrize(
    ("aar", "zeroed", "what", "cut", "used"),
    [
        (T - 2, {"kmf": 0.0}, "KMF-beløbet (kolonnen 'kmf')", "2016 endelig opgørelse i "
         "2018-takster", "fordelingen af budgettet på kommuner"),
        (T, {"kmf": 0.0, "produktionsvaerdi": 0.0}, "produktionsværdien (kolonnen "
         "'produktionsvaerdi')", "2018 foreløbig opgørelse i 2018-takster", "aktivitetsniveauet"),
    ],
)  # fmt: skip
def test_a_cut_summing_to_0_for_a_kommune_word_for_word(
    tmp_path: Path, aar: int, zeroed: dict, what: str, cut: str, used: str
) -> None:
    """Aalborg's base (T−2 endelig) KMF, or its production value in T foreløbig, is 0."""
    folder = write_csv_with(tmp_path, lambda rows: [
        r | zeroed if r["kommunekode"] == 851 and r["aar"] == aar else r for r in rows
    ])  # fmt: skip
    assert _message_of_run(folder) == (
        f"Aktivitetsdata: {what} i {cut} summer til 0 for 1 kommune(r) (kommune 851 Aalborg: "
        f"0 kr.). Det bruges til {used} og må ikke være 0. Kontrollér, at kommunens rækker for "
        "denne opgørelse er med."
    )


def test_kommune_missing_from_an_undated_cut_word_for_word(tmp_path: Path) -> None:
    folder = write_csv_with(tmp_path, lambda rows: [
        r for r in rows if not (r["kommunekode"] == 147 and r["aar"] == T - 1
                                and r["opgoerelse"] == "endelig")
    ])  # fmt: skip
    assert _message_of_run(folder) == (
        "Aktivitetsdata (kolonnen 'kommunekode') har ikke de samme kommuner i alle fire "
        "opgørelser, som budgetår 2018 bruger:\n"
        "- 2017 endelig opgørelse i 2017-takster mangler kommune(r) 147 Frederiksberg\n"
        "Hver kommune skal have rækker i alle fire opgørelser."
    )


def test_kmf_above_the_production_value_in_an_undated_cut_names_the_cell(tmp_path: Path) -> None:
    """The first row is København's 0-2 somatik in 2018 foreløbig (undated): kmf 1500 kr.
    against a production value of 1000 kr."""
    folder = write_csv_with(tmp_path, set_row(0, produktionsvaerdi=1000.0, kmf=1500.0))
    message = _message_of_run(folder)
    assert message.startswith(
        "Aktivitetsdata: 1 celle(r) har et KMF-beløb (kolonnen 'kmf'), der er større end "
        "produktionsværdien (kolonnen 'produktionsvaerdi'): kommune 101 København, 2018 "
        "foreløbig, 0-2, somatik: kmf 1.500 kr., produktionsvaerdi 1.000 kr."
    )
    assert "produktionsvaerdi 1.000 kr. KMF er en andel af taksten" in message  # one full stop


@pytest.mark.parametrize(("bad", "listed"), [(5, "101, 147, 151, 153, 155."),
                                             (6, "101, 147, 151, 153, 155 ….")])  # fmt: skip
def test_a_number_that_is_not_finite_is_named_word_for_word(bad: int, listed: str) -> None:
    """The columns holding an infinite or undefined number (not the finite one), and the
    first five units of the rows with one; an ellipsis only when there are more than five."""
    from kmf.compute.forecast import require_finite

    inf, nan = float("inf"), float("nan")
    codes = [101, 147, 151, 153, 155, 157, 159]
    frame = pl.DataFrame(
        {
            "kode": codes,
            "fin": [1.0] * 7,
            "uendelig": [inf] + [1.0] * 6,  # only infinite
            "udefineret": [1.0] + [nan] * (bad - 1) + [1.0] * (7 - bad),  # only undefined
        }
    )
    with pytest.raises(kmf.DataError) as info:
        require_finite(frame, "kode", "tabel B1")
    assert str(info.value).startswith(
        "Beregningen af tabel B1 gav et tal, der ikke er endeligt (uendeligt eller udefineret), "
        f"i kolonne 'uendelig', 'udefineret' for kode {listed} Det sker kun ved ekstreme beløb"
    )
