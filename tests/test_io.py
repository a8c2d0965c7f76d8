"""SPEC §3: every input form gives the same tables as a plain CSV dataset."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest
from openpyxl import Workbook

import kmf
from tests.factory import frame, national_budget, random_rows, write_dataset

T = 2019


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return random_rows([101, 265, 751, 851], T, seed=5, empty_share=0.2)


@pytest.fixture(scope="module")
def reference(rows: list[dict], tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    folder = write_dataset(tmp_path_factory.mktemp("csv"), rows, national_budget(rows, T))
    return kmf.run(folder, aar=T).b1


def same_b1(a: pl.DataFrame, b: pl.DataFrame) -> None:
    assert a.select(pl.col(pl.String)).equals(b.select(pl.col(pl.String)))
    for c in a.columns:
        if a.schema[c].is_float():
            for x, y in zip(a[c].to_list(), b[c].to_list(), strict=True):
                assert y == pytest.approx(x, rel=1e-9, abs=1e-6), c


def test_hive_partitioned_parquet_folder(rows, reference, tmp_path: Path) -> None:
    activity = frame(rows)
    for (aar, opg), part in activity.group_by("aar", "opgoerelse"):
        folder = tmp_path / "aktivitet" / f"aar={aar}" / f"opgoerelse={opg}"
        folder.mkdir(parents=True)
        # the partition columns live only in the path
        part.drop("aar", "opgoerelse").write_parquet(folder / "del-0.parquet")
    pl.DataFrame(national_budget(rows, T)).write_csv(tmp_path / "budget.csv")
    result = kmf.run(tmp_path, aar=T)
    same_b1(reference, result.b1)
    files = [f for f in result.manifest["filer"] if f["tabel"] == "aktivitet"]
    # one file per (aar, opgoerelse): 2017 endelig, 2018 foreløbig and endelig, 2019 foreløbig
    assert len(files) == 4
    assert sum(f["raekker_laest"] for f in files) == len(rows)


def test_folder_of_plain_parquet_files(rows, reference, tmp_path: Path) -> None:
    (tmp_path / "aktivitet").mkdir()
    activity = frame(rows)
    half = activity.height // 2
    activity.head(half).write_parquet(tmp_path / "aktivitet" / "a.parquet")
    activity.tail(activity.height - half).write_parquet(tmp_path / "aktivitet" / "b.parquet")
    pl.DataFrame(national_budget(rows, T)).write_parquet(tmp_path / "budget.parquet")
    same_b1(reference, kmf.run(tmp_path, aar=T).b1)


def test_excel_workbook(rows, reference, tmp_path: Path) -> None:
    wb = Workbook()
    sheet = wb.active
    sheet.title = "aktivitet"
    columns = list(rows[0])
    sheet.append(columns)
    for r in rows:
        sheet.append([r[c] for c in columns])
    budget = wb.create_sheet("Budget")
    budget.append(["aar", "kommunekode", "kmf_budget_kr"])
    for b in national_budget(rows, T):
        budget.append([b["aar"], b.get("kommunekode"), b["kmf_budget_kr"]])
    wb.save(tmp_path / "data.xlsx")
    same_b1(reference, kmf.run(tmp_path / "data.xlsx", aar=T).b1)


def test_excel_workbook_without_budget_sheet(rows, tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.title = "aktivitet"
    wb.save(tmp_path / "data.xlsx")
    with pytest.raises(kmf.DataError, match="'budget'"):
        kmf.load(tmp_path / "data.xlsx")


def test_semicolon_csv_with_decimal_comma(rows, reference, tmp_path: Path) -> None:
    lines = [
        "Kommunekode;Aar;Opgoerelse;Takstaar;Aldersgruppe;Sundhedsomraade;Produktionsvaerdi;KMF"
    ]
    for r in rows:
        p = f"{r['produktionsvaerdi']:.6f}".replace(".", ",")
        k = f"{r['kmf']:.6f}".replace(".", ",")
        lines.append(
            f"{r['kommunekode']};{r['aar']};{r['opgoerelse']};{r['takstaar']};"
            f" {r['aldersgruppe']} ;{r['sundhedsomraade']};{p};{k}"
        )
    (tmp_path / "aktivitet.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    pl.DataFrame(national_budget(rows, T)).write_csv(tmp_path / "budget.csv")
    same_b1(reference, kmf.run(tmp_path, aar=T).b1)


def test_takstaar_column_is_optional_for_the_forecast_cuts(rows, tmp_path: Path) -> None:
    # Without takstaar every row is at its own year's takster: the base cut (2017 at 2019
    # takster) then does not exist, which is reported, not guessed.
    write_dataset(
        tmp_path,
        [{k: v for k, v in r.items() if k != "takstaar"} for r in rows],
        national_budget(rows, T),
    )
    with pytest.raises(kmf.DataError, match="2017 endelig opgørelse i 2019-takster"):
        kmf.run(tmp_path, aar=T)


def test_year_from_kmf_toml_and_latest_foreloebig(rows, tmp_path: Path) -> None:
    older = random_rows([101, 265, 751, 851], T - 1, seed=9)
    write_dataset(tmp_path, rows + older, national_budget(rows, T) + national_budget(older, T - 1))
    assert kmf.run(tmp_path).aar == T  # the latest year with a foreløbig cut
    (tmp_path / "kmf.toml").write_text(f"aar = {T - 1}\ntitel = 'Test'\n", encoding="utf-8")
    result = kmf.run(tmp_path)
    assert result.aar == T - 1
    assert result.titel == "Test"
    assert kmf.run(tmp_path, aar=T).aar == T  # the argument wins


def test_rows_of_unused_years_are_counted(rows, tmp_path: Path) -> None:
    older = random_rows([101], T - 5, seed=2, extra_cut=False)
    write_dataset(tmp_path, rows + older, national_budget(rows, T))
    manifest = kmf.run(tmp_path, aar=T).manifest
    unused_cuts = [c for c in manifest["opgoerelser"] if c["brugt_som"] is None]
    # the factory's extra 2017-at-2017-takster cut, and all four cuts of the older block
    assert sum(c["raekker"] for c in unused_cuts) == manifest["raekker_ikke_brugt"]
    expected_unused = len(older) + sum(1 for r in rows if r["takstaar"] == T - 2)
    assert manifest["raekker_ikke_brugt"] == expected_unused


def test_psykiatri_is_moved_to_ej_aldersdiff_and_counted(rows, tmp_path: Path) -> None:
    moved = [
        r | {"aldersgruppe": "65-79"} if r["sundhedsomraade"] == "psykiatri" else r for r in rows
    ]
    write_dataset(tmp_path, moved, national_budget(rows, T))
    data = kmf.load(tmp_path)
    assert data.psykiatri_moved == sum(1 for r in rows if r["sundhedsomraade"] == "psykiatri")
    psyk = data.cells.filter(pl.col("sundhedsomraade") == "psykiatri")
    assert set(psyk["aldersgruppe"].to_list()) == {"ej_aldersdiff"}


def test_per_kommune_budget_is_used_as_given(rows, tmp_path: Path) -> None:
    budget = [
        {"aar": T, "kommunekode": k, "kmf_budget_kr": 5e7 * (i + 1)}
        for i, k in enumerate([101, 265, 751, 851])
    ]
    write_dataset(tmp_path, rows, budget)
    b1 = kmf.run(tmp_path, aar=T).b1
    got = dict(zip(b1["kode"].to_list(), b1["kmf_budget_kr"].to_list(), strict=True))
    assert got["101"] == pytest.approx(5e7, rel=1e-12)
    assert got["851"] == pytest.approx(2e8, rel=1e-12)
    assert got["DK"] == pytest.approx(5e8, rel=1e-12)
    assert got["1085"] == pytest.approx(1e8, rel=1e-12)  # Sjælland: only 265 Roskilde


def test_one_parquet_file_per_cut(rows, reference, tmp_path: Path) -> None:
    # aar, opgoerelse and takstaar are then constant per file and come from the statistics
    (tmp_path / "aktivitet").mkdir()
    for i, (_, part) in enumerate(frame(rows).group_by("aar", "opgoerelse", "takstaar")):
        part.write_parquet(tmp_path / "aktivitet" / f"del-{i}.parquet")
    pl.DataFrame(national_budget(rows, T)).write_csv(tmp_path / "budget.csv")
    same_b1(reference, kmf.run(tmp_path, aar=T).b1)


def test_a_bad_constant_value_is_still_reported(rows, tmp_path: Path) -> None:
    (tmp_path / "aktivitet").mkdir()
    for i, (key, part) in enumerate(frame(rows).group_by("aar", "opgoerelse", "takstaar")):
        if key[1] == "endelig" and key[0] == T - 1:
            part = part.with_columns(pl.lit("midlertidig").alias("opgoerelse"))
        part.write_parquet(tmp_path / "aktivitet" / f"del-{i}.parquet")
    pl.DataFrame(national_budget(rows, T)).write_csv(tmp_path / "budget.csv")
    expected = r"del-\d.parquet, kolonne 'opgoerelse'.*række 1: 'midlertidig'"
    with pytest.raises(kmf.DataError, match=expected):
        kmf.load(tmp_path)


def test_a_digest_still_being_computed_is_waited_for_wherever_it_is_read() -> None:
    """The manifest's sha256 may be a future while the report is written (kmf.io.digest.
    Digest): reading it, comparing, copying or pickling the file entry waits for it, and
    the value is the digest itself, not the future."""
    import copy
    import pickle
    import threading
    from concurrent.futures import Future

    from kmf.result import ManifestFile

    digest = hashlib.sha256(b"kmf").hexdigest()
    pending: Future[str] = Future()
    entry = ManifestFile("aktivitet", "a.parquet", "/data/a.parquet", pending, 3)  # type: ignore[arg-type]
    threading.Timer(0.05, pending.set_result, [digest]).start()
    assert entry.sha256 == digest  # waits for the thread
    assert pickle.loads(pickle.dumps(entry)) == entry
    assert copy.deepcopy(entry).sha256 == digest
    assert entry.__dict__["_sha256"] == digest  # resolved once, kept
    late: Future[str] = Future()
    other = ManifestFile("aktivitet", "a.parquet", "/data/a.parquet", late, 3)  # type: ignore[arg-type]
    late.set_result(digest)
    assert pickle.loads(pickle.dumps(other)).sha256 == digest
