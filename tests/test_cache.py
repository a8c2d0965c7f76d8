"""Reading only the cuts a command uses, and the cache of read cells (kmf/io/cuts.py,
kmf/io/reader.py, kmf/io/cache.py): the results are the same with and without it, and the
cache never trusts an entry it cannot vouch for."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import kmf
from kmf.cli import app
from kmf.io import cache as cache_module
from kmf.io import columnar
from kmf.io.cache import CellCache, Entry

OLD = time.time() - 3600  # a file this old is not "racily" new: the cache may remember it


def _age(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            os.utime(path, (OLD, OLD))


def _sample_records() -> pl.DataFrame:
    return pl.read_csv(kmf.sample_dataset() / "aktivitet.csv").with_columns(
        pl.col("opgoerelsesdato").str.to_date()
    )


@pytest.fixture(scope="module")
def several_cuts_per_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample as two Parquet files, each holding many cuts, one cut per row group."""
    folder = tmp_path_factory.mktemp("flere") / "data"
    (folder / "aktivitet").mkdir(parents=True)
    records = _sample_records().sort("aar", "opgoerelse", "takstaar", "opgoerelsesdato")
    for name, part in (("til2017", records.filter(pl.col("aar") <= 2017)),
                       ("fra2018", records.filter(pl.col("aar") >= 2018))):  # fmt: skip
        table = part.to_arrow()
        with pq.ParquetWriter(folder / "aktivitet" / f"{name}.parquet", table.schema) as writer:
            for cut in part.partition_by("aar", "opgoerelse", "takstaar", "opgoerelsesdato"):
                writer.write_table(cut.to_arrow())
    shutil.copy(kmf.sample_dataset() / "budget.csv", folder)
    shutil.copy(kmf.sample_dataset() / "kmf.toml", folder)
    _age(folder)
    return folder


def _tables(result: object, names: list[str]) -> list[pl.DataFrame]:
    return [getattr(result, n) for n in names]


def _same(a: list[pl.DataFrame], b: list[pl.DataFrame]) -> None:
    for x, y in zip(a, b, strict=True):
        assert x.columns == y.columns
        for c in x.columns:
            assert x[c].equals(y[c], null_equal=True), (c, x.select(c, y[c].alias("y")))


def test_every_command_gives_the_same_tables_with_and_without_the_cache(
    several_cuts_per_file: Path, cache_folder: Path
) -> None:
    folder = several_cuts_per_file
    cold = kmf.load(folder, kun_brugte=True, cache=False)
    first = kmf.load(folder, kun_brugte=True)  # fills the cache as cuts are read
    for data in (first, kmf.load(folder, kun_brugte=True)):  # the second: from the cache
        run_cold, run = kmf.run(cold), kmf.run(data)
        _same(_tables(run_cold, ["b1", "b2", "b3", "b4", "celler"]),
              _tables(run, ["b1", "b2", "b3", "b4", "celler"]))  # fmt: skip
        _same([kmf.spor(cold).spor], [kmf.spor(data).spor])
        _same([kmf.historik(cold).historik], [kmf.historik(data).historik])
        report_cold, report = kmf.kommune(run_cold, 851), kmf.kommune(run, 851)
        assert report_cold.tekst == report.tekst
        _same([report_cold.bidrag, report_cold.overblik], [report.bidrag, report.overblik])
    last = kmf.run(kmf.load(folder, kun_brugte=True)).manifest
    assert {f.fil: f.celler_fra_cache for f in last.filer if f.tabel == "aktivitet"} == {
        "aktivitet/fra2018.parquet": True,
        "aktivitet/til2017.parquet": True,
    }


def test_cli_output_is_byte_identical_with_and_without_the_cache(
    several_cuts_per_file: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    outs = []
    for n, extra in enumerate((["--uden-cache"], [], [])):
        out = tmp_path / f"ud{n}"
        done = runner.invoke(app, ["run", str(several_cuts_per_file), "--out", str(out), *extra])
        assert done.exit_code == 0, done.output
        outs.append(out)
    for name in sorted(p.name for p in outs[0].glob("tabel_*.csv")):
        assert (outs[0] / name).read_bytes() == (outs[2] / name).read_bytes(), name
    manifests = [json.loads((o / "manifest.json").read_text(encoding="utf-8")) for o in outs]
    flags = [[f.get("celler_fra_cache") for f in m["filer"][:2]] for m in manifests]
    assert flags[0] == [False, False]  # --uden-cache
    assert flags[2] == [True, True]  # the third run: both files from the cache
    for m in manifests:
        m["filer"] = [{k: v for k, v in f.items() if k != "celler_fra_cache"} for f in m["filer"]]
    assert manifests[0]["filer"] == manifests[2]["filer"]


def test_run_reads_only_the_row_groups_of_its_four_cuts(
    several_cuts_per_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, ...] | None] = []
    summed: list[bool] = []
    original = columnar.sum_files

    def recording(specs, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.extend(spec.row_groups for spec in specs)
        out = original(specs, *args, **kwargs)
        summed.extend(frame is not None for frame in out)
        return out

    monkeypatch.setattr(columnar, "sum_files", recording)
    result = kmf.run(kmf.load(several_cuts_per_file, kun_brugte=True, cache=False))
    # 2018 pr. 10 Sep: T foreløbig, T−1 foreløbig pr. 10 Sep 2017, and the latest endelig
    # cuts; with those the forecast is held against (2018 endelig, and 2017's forecast pr. 10
    # Sep 2017 with its four cuts: 2017 endelig is one of the four above), 4 + 1 + 3 cuts;
    # one row group each, summed by the columnar path although each file holds many cuts
    assert len(seen) == 8 and all(g is not None and len(g) == 1 for g in seen)
    assert summed == [True] * 8
    rows = {f.fil: (f.raekker_laest, f.raekker_brugt) for f in result.manifest.filer}
    records = _sample_records()
    early = records.filter(pl.col("aar") <= 2017).height
    assert rows["aktivitet/til2017.parquet"] == (early, 3 * 1666)
    assert rows["aktivitet/fra2018.parquet"] == (records.height - early, 1666)
    assert result.manifest.raekker_ikke_brugt == records.height - 4 * 1666
    # cuts neither used nor read (their rows counted from the metadata) have no kommuner
    unread = [c for c in result.manifest.opgoerelser if c.brugt_som is None and c.kommuner is None]
    assert len(unread) == len(result.manifest.opgoerelser) - 8
    assert sum(c.raekker for c in result.manifest.opgoerelser) == records.height


def test_validate_still_checks_every_cut(tmp_path: Path) -> None:
    records = _sample_records()
    bad_year = 2019  # not a cut a run for 2018 uses
    bad = records.with_columns(
        pl.when((pl.col("aar") == bad_year) & (pl.col("kommunekode") == 101))
        .then(pl.lit(9999))
        .otherwise(pl.col("kommunekode"))
        .alias("kommunekode")
    )
    folder = tmp_path / "data"
    (folder / "aktivitet").mkdir(parents=True)
    for (aar, opg, day), part in bad.partition_by(
        "aar", "opgoerelse", "opgoerelsesdato", as_dict=True
    ).items():
        part.write_parquet(folder / "aktivitet" / f"{aar}_{opg}_{day}.parquet")
    shutil.copy(kmf.sample_dataset() / "budget.csv", folder)
    runner = CliRunner()
    done = runner.invoke(app, ["run", str(folder), "--aar", "2018", "--out", str(tmp_path / "u")])
    assert done.exit_code == 0, done.output
    checked = runner.invoke(app, ["validate", str(folder), "--aar", "2018"])
    assert checked.exit_code == 2
    assert "9999" in checked.stderr and "2019_foreloebig_2019-01-10.parquet" in checked.stderr


def _identity(tmp_path: Path, name: str = "a.csv", text: str = "x") -> dict[str, object]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return cache_module.file_identity(path, {"alder": "alder"})


def _entry() -> Entry:
    cells = pl.DataFrame(
        {"aar": pl.Series([2018], dtype=pl.Int16), "opgoerelse": ["endelig"],
         "takstaar": pl.Series([2018], dtype=pl.Int16),
         "opgoerelsesdato": pl.Series([None], dtype=pl.Date), "rows": [3]}
    )  # fmt: skip
    return Entry("a" * 64, {(2018, "endelig", 2018, None): cells}, complete=True)


def test_a_damaged_partial_or_foreign_entry_is_not_trusted(tmp_path: Path) -> None:
    store = CellCache(tmp_path / "c")
    store.folder.mkdir()  # type: ignore[union-attr]
    identity = _identity(tmp_path)
    store.put(identity, _entry())
    (path,) = [p for p, _, _ in store.entries()]
    whole = path.read_bytes()
    assert store.get(identity) is not None
    assert store.get(identity).cuts[(2018, "endelig", 2018, None)]["rows"].to_list() == [3]  # type: ignore[union-attr]
    damaged = bytearray(whole)
    damaged[-5] ^= 0xFF
    for broken in (bytes(damaged), whole[: len(whole) // 2], b"", b"noget andet"):
        path.write_bytes(broken)
        assert store.get(identity) is None
    path.write_bytes(whole)
    other = _identity(tmp_path, "b.csv")  # another file's entry under this file's name
    assert store.get(other) is None
    changed = _identity(tmp_path, text="xy")  # the same file, changed (size)
    assert store.get(changed) is None


def test_a_damaged_entry_is_rebuilt(several_cuts_per_file: Path, cache_folder: Path) -> None:
    kmf.run(kmf.load(several_cuts_per_file, kun_brugte=True))
    store = CellCache(cache_folder)
    for path, _, _ in store.entries():
        path.write_bytes(path.read_bytes()[:-7])  # cut short
    again = kmf.run(kmf.load(several_cuts_per_file, kun_brugte=True))
    assert [f.celler_fra_cache for f in again.manifest.filer[:2]] == [False, False]
    third = kmf.run(kmf.load(several_cuts_per_file, kun_brugte=True))
    assert [f.celler_fra_cache for f in third.manifest.filer[:2]] == [True, True]
    assert third.b1.equals(again.b1)


def test_two_writers_at_once_leave_whole_entries(tmp_path: Path) -> None:
    store = CellCache(tmp_path / "c")
    store.folder.mkdir()  # type: ignore[union-attr]
    identity = _identity(tmp_path)
    seen: list[bool] = []

    def write() -> None:
        for _ in range(30):
            store.put(identity, _entry())

    def read() -> None:
        for _ in range(60):
            found = store.get(identity)
            seen.append(found is None or found.complete)

    threads = [threading.Thread(target=f) for f in (write, write, read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(seen)
    assert store.get(identity) is not None
    assert [p.name for p in store.folder.iterdir() if p.name.startswith(".")] == []  # type: ignore[union-attr]


def test_the_cache_is_kept_below_its_size_and_drops_the_least_recently_used(
    tmp_path: Path,
) -> None:
    store = CellCache(tmp_path / "c")
    store.folder.mkdir()  # type: ignore[union-attr]
    ids = [_identity(tmp_path, f"{n}.csv") for n in range(4)]
    store.put(ids[0], _entry())
    one = store.size()[1]
    store.max_bytes = 3 * one  # room for three entries
    for n, identity in enumerate(ids[1:3], start=1):
        store.put(identity, _entry())
        os.utime(store._path(identity), ns=(n * 10**9, n * 10**9))
    os.utime(store._path(ids[0]), ns=(0, 0))
    assert store.get(ids[0]) is not None  # used now: the most recently used
    store.put(ids[3], _entry())  # a fourth: the least recently used (1) goes
    assert store.size() == (3, 3 * one)
    assert store.get(ids[1]) is None
    assert all(store.get(ids[n]) is not None for n in (0, 2, 3))


def test_uden_cache_neither_reads_nor_writes_it(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    os.environ[cache_module.ENV_FOLDER] = str(folder)  # restored by the autouse fixture
    runner = CliRunner()
    out = tmp_path / "ud"
    done = runner.invoke(app, ["run", "--out", str(out), "--uden-cache"])
    assert done.exit_code == 0, done.output
    assert not folder.exists() or not any(folder.iterdir())
    done = runner.invoke(app, ["run", "--out", str(out), "--force"])
    assert done.exit_code == 0, done.output
    shown = runner.invoke(app, ["cache"])
    assert shown.exit_code == 0
    assert f"Mellemlageret i {folder}: 1 fil" in shown.stdout
    assert "MiB" in shown.stdout
    emptied = runner.invoke(app, ["cache", "--ryd"])
    assert emptied.exit_code == 0
    assert "er tømt: 1 fil slettet" in emptied.stdout
    assert list(folder.iterdir()) == []
    assert "0 filer, 0,0 MiB" in runner.invoke(app, ["cache"]).stdout


def test_an_unwritable_cache_folder_is_said_once_and_the_run_goes_on(tmp_path: Path) -> None:
    blocker = tmp_path / "fil"
    blocker.write_text("ikke en mappe", encoding="utf-8")
    os.environ[cache_module.ENV_FOLDER] = str(blocker / "cache")
    out = tmp_path / "ud"
    done = CliRunner().invoke(app, ["run", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert done.stdout.count("Mellemlageret") == 1
    assert "kan ikke bruges" in done.stdout
    assert (out / "tabel_b1.csv").is_file()


def test_a_file_changed_just_now_is_not_remembered(tmp_path: Path, cache_folder: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(
        kmf.sample_dataset() / "aktivitet.csv", folder
    )  # copied now: a fresh modification time
    shutil.copy(kmf.sample_dataset() / "budget.csv", folder)
    before = CellCache(cache_folder).size()[0]
    kmf.load(folder)
    assert CellCache(cache_folder).size()[0] == before
    _age(folder)
    kmf.load(folder)
    assert CellCache(cache_folder).size()[0] == before + 1


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    (folder / "aktivitet").mkdir(parents=True)
    records = _sample_records()
    for (aar,), part in records.partition_by("aar", as_dict=True).items():
        part.write_parquet(folder / "aktivitet" / f"{aar}.parquet")
    shutil.copy(kmf.sample_dataset() / "budget.csv", folder)
    _age(folder)
    first = kmf.run(kmf.load(folder, kun_brugte=True), aar=2018)
    # both amounts doubled: KMF above the production value would stop the run
    doubled = records.filter(pl.col("aar") == 2018).with_columns(
        pl.col("kmf") * 2, pl.col("produktionsvaerdi") * 2
    )
    doubled.write_parquet(folder / "aktivitet" / "2018.parquet")
    os.utime(folder / "aktivitet" / "2018.parquet", (OLD + 60, OLD + 60))
    second = kmf.run(kmf.load(folder, kun_brugte=True), aar=2018)
    cached = {f.fil: f.celler_fra_cache for f in second.manifest.filer}
    assert cached["aktivitet/2018.parquet"] is False
    assert cached["aktivitet/2017.parquet"] is True
    land = [r.b1.row(0, named=True)["kmf_prognose_kr"] for r in (first, second)]
    assert land[1] == pytest.approx(2 * land[0], rel=1e-12)  # the forecast is linear in K(T)


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console

    from kmf.cli import console as console_module

    monkeypatch.setattr(console_module, "PROGRESS_AFTER_S", 0.0)
    for terminal in (True, False):
        buffer = io.StringIO()
        console = Console(file=buffer, force_terminal=terminal, width=100)
        with console_module.progress_bar(console, {0: 600, 1: 400}) as advance:
            advance(0, 600)
            advance(1, 100)
            time.sleep(0.3)  # the bar refreshes on its own thread
        text = buffer.getvalue()
        if terminal:
            assert "1 af 2 filer" in text and "700 af 1.000 poster" in text
        else:
            assert text == ""


def test_redirected_output_has_no_progress_bytes(
    several_cuts_per_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kmf.cli import console as console_module

    monkeypatch.setattr(console_module, "PROGRESS_AFTER_S", 0.0)
    done = CliRunner().invoke(
        app, ["spor", str(several_cuts_per_file), "--out", str(tmp_path / "u"), "--uden-cache"]
    )
    assert done.exit_code == 0, done.output
    assert "\r" not in done.output and "\x1b" not in done.output
    assert "poster" not in done.output


def test_cuts_of_a_hive_folder_are_known_from_the_path(tmp_path: Path) -> None:
    from kmf.io.cuts import file_cuts
    from kmf.io.sources import activity_pieces

    folder = tmp_path / "data"
    target = folder / "aktivitet" / "aar=2018" / "opgoerelse=endelig"
    target.mkdir(parents=True)
    pq.write_table(
        pa.table({"kommunekode": [101, 147], "alder": [3, 70], "sundhedsomraade": ["somatik"] * 2,
                  "produktionsvaerdi": [1.0, 2.0], "kmf": [0.5, 0.5]}),
        target / "del.parquet",
    )  # fmt: skip
    (piece,) = activity_pieces(folder)
    found = file_cuts(piece, pq.read_metadata(piece.file))
    assert found is not None
    assert dict(found.rows) == {(2018, "endelig", 2018, None): 2}


def test_temporary_files_of_an_interrupted_run_are_removed_after_an_hour(tmp_path: Path) -> None:
    store = CellCache(tmp_path / "c")
    folder = store.folder
    assert folder is not None
    folder.mkdir()
    old, new = folder / ".ny-gammel.kmfc", folder / ".ny-ny.kmfc"
    for path in (old, new):
        path.write_bytes(b"halv")
    os.utime(old, (time.time() - 3601, time.time() - 3601))
    store.put(_identity(tmp_path), _entry())
    assert not old.exists() and new.exists()
    assert store.size()[0] == 1
