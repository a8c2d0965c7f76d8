"""Hashing large inputs in a process of its own (kmf/io/digest.py, kmf/io/hash_child.py): the
same sha256 as hashlib gives, a file that cannot be read named as before, the files a child
leaves hashed here, and no child left running when a command is stopped."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

import kmf
from kmf.errors import DataError
from kmf.io import digest, reader
from kmf.io import hashing as _hashing


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    """An empty file, one of several read chunks and a bit, and a Danish name with a space."""
    made = {
        "tom.parquet": b"",
        "stor.parquet": os.urandom(3 * (1 << 20) + 17),
        "Århus æøå.parquet": b"kmf\n" * 1000,
    }
    for name, content in made.items():
        (tmp_path / name).write_bytes(content)
    return [tmp_path / name for name in made]


@pytest.fixture
def here(monkeypatch: pytest.MonkeyPatch) -> tuple[list[Path], object]:
    """A fallback that hashes in this process, and the paths it was asked for; a hashing
    process from 0 bytes on."""
    monkeypatch.setattr(_hashing, "CHILD_BYTES", 0)
    asked: list[Path] = []
    pool = ThreadPoolExecutor(max_workers=2)

    def fallback(path: Path) -> Future[str]:
        asked.append(path)
        return pool.submit(digest.file_sha256, path)

    return asked, fallback


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_child_gives_each_file_its_sha256(files: list[Path], here: tuple) -> None:
    asked, fallback = here
    futures = _hashing.hash_in_child(files, fallback)
    assert futures is not None
    assert {p: f.result(timeout=60) for p, f in futures.items()} == {p: _sha(p) for p in files}
    assert asked == []  # all of them from the child


def test_a_file_the_child_cannot_read_is_named_by_the_fallback(
    files: list[Path], here: tuple, tmp_path: Path
) -> None:
    asked, fallback = here
    missing = tmp_path / "væk.parquet"
    futures = _hashing.hash_in_child([files[1], missing], fallback)
    assert futures is not None
    assert futures[files[1]].result(timeout=60) == _sha(files[1])
    with pytest.raises(DataError, match=r"væk\.parquet"):
        futures[missing].result(timeout=60)
    assert asked == [missing]


def test_files_left_by_a_child_that_ends_early_are_hashed_here(
    files: list[Path], here: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child answers the first file, writes two lines that are no answer, and dies."""
    asked, fallback = here
    child = tmp_path / "barn.py"
    child.write_text(
        "import hashlib, json, sys\n"
        "paths = json.loads(sys.stdin.buffer.read())\n"
        "import os\n"
        "s = os.stat(paths[0])\n"
        "print('0', hashlib.sha256(open(paths[0], 'rb').read()).hexdigest(),\n"
        "      s.st_size, s.st_mtime_ns, s.st_ino)\n"
        "print('ikke et svar')\n"
        "print('2 abc')\n"
        "sys.exit(1)\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(_hashing, "_CHILD", child)
    futures = _hashing.hash_in_child(files, fallback)
    assert futures is not None
    assert {p: f.result(timeout=60) for p, f in futures.items()} == {p: _sha(p) for p in files}
    assert asked == files[1:]


def test_no_child_where_python_cannot_be_started(
    files: list[Path], here: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "ingen-python"))
    assert _hashing.hash_in_child(files, here[1]) is None
    monkeypatch.setattr(sys, "executable", "")
    assert _hashing.hash_in_child(files, here[1]) is None


def _manifest_sha(result: kmf.Result) -> dict[str, str]:
    return {f["sti"]: f["sha256"] for f in result.manifest.as_json()["filer"]}


@pytest.mark.parametrize("python_starts", [True, False])
def test_a_run_on_large_files_hashes_them_in_a_child(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, python_starts: bool
) -> None:
    """From CHILD_BYTES on the activity files go to a child (here: from 0 bytes on); where no
    child starts, threads hash them; the manifest has each file's sha256 either way."""
    calls: list[list[Path]] = []
    real = _hashing.hash_in_child

    def spy(paths: list[Path], fallback: object) -> object:
        calls.append(list(paths))
        return real(paths, fallback)  # type: ignore[arg-type]

    monkeypatch.setattr(_hashing, "CHILD_BYTES", 0)
    monkeypatch.setattr(reader, "hash_in_child", spy)
    if not python_starts:
        monkeypatch.setattr(sys, "executable", str(tmp_path / "ingen-python"))
    monkeypatch.setenv("KMF_CACHE", str(tmp_path / "tom"))  # no sha256 known from before
    result = kmf.run(kmf.sample_dataset())
    shown = _manifest_sha(result)
    assert shown == {path: _sha(Path(path)) for path in shown}
    activity = str(kmf.sample_dataset() / "aktivitet.csv")
    assert activity in shown
    assert any(str(p) == activity for p in calls[0])


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs a FIFO and /proc")
def test_a_stopped_command_ends_its_child(tmp_path: Path) -> None:
    """The child waits on a FIFO nobody writes to; Ctrl-C of the command ends it too."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    script = (
        "import os, sys, time\n"
        "from pathlib import Path\n"
        "from kmf import _signals\n"
        "from kmf.io import hashing\n"
        "from kmf.io.hashing import hash_in_child\n"
        "hashing.CHILD_BYTES = 0\n"
        "_signals.install()\n"
        "hash_in_child([Path(sys.argv[1])], lambda path: None)\n"
        "print('klar', flush=True)\n"
        "time.sleep(60)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script, str(fifo)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as command:
        assert command.stdout is not None and command.stdout.readline() == b"klar\n"
        child = _child_of(command.pid)
        assert _running(child)
        command.send_signal(signal.SIGINT)
        assert command.wait(timeout=30) == 130
        assert b"Afbrudt." in command.stderr.read()  # type: ignore[union-attr]
    deadline = time.monotonic() + 10
    while _running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(child)


def _child_of(pid: int) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                return int(stat.parent.name)
        time.sleep(0.05)
    raise AssertionError("no child process")


def _running(pid: int) -> bool:
    """Alive and not a zombie (nobody may reap an orphan in a container)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_sha256_of_a_foreign_entry_is_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry under the file's identity holding a cut the file does not hold is not the
    file's (kmf/io/reader.py): its sha256 is not used either, though the hashing of the
    files the cache knows nothing of starts before the cuts are known."""
    import polars as pl
    import pyarrow.parquet as pq

    from kmf.io.cache import CellCache, Entry

    folder = tmp_path / "data"
    (folder / "aktivitet").mkdir(parents=True)
    records = pl.read_csv(kmf.sample_dataset() / "aktivitet.csv", try_parse_dates=True)
    cuts = records.sort("aar", "opgoerelse", "takstaar", "opgoerelsesdato").partition_by(
        "aar", "opgoerelse", "takstaar", "opgoerelsesdato"
    )
    with pq.ParquetWriter(folder / "aktivitet" / "alle.parquet", cuts[0].to_arrow().schema) as w:
        for part in cuts:  # one cut per row group: the cuts are known from the metadata
            w.write_table(part.to_arrow())
    for name in ("budget.csv", "kmf.toml"):
        (folder / name).write_bytes((kmf.sample_dataset() / name).read_bytes())
    activity = folder / "aktivitet" / "alle.parquet"
    cut = pl.DataFrame({"aar": pl.Series([2001], dtype=pl.Int16), "rows": [1]})
    foreign = Entry("f" * 64, {(2001, "endelig", 2001, None): cut}, complete=True)
    real_get = CellCache.get

    def get(self: CellCache, identity: dict[str, object]) -> Entry | None:
        return foreign if identity["sti"] == str(activity.resolve()) else real_get(self, identity)

    monkeypatch.setenv("KMF_CACHE", str(tmp_path / "c"))
    monkeypatch.setattr(CellCache, "get", get)
    shown = _manifest_sha(kmf.run(folder))
    assert shown[str(activity)] == _sha(activity)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A dataset folder with three activity files (only their bytes matter here)."""
    (tmp_path / "data" / "aktivitet" / "aar=2018").mkdir(parents=True)
    for i, name in enumerate(["a.parquet", "b.parquet", "aar=2018/c.parquet"]):
        (tmp_path / "data" / "aktivitet" / name).write_bytes(os.urandom(1000 + i))
    return tmp_path / "data"


def _early_started(
    monkeypatch: pytest.MonkeyPatch, pids: list[int] | None = None
) -> list[list[Path]]:
    """Every hashing process started, by its paths (and in ``pids`` its process id); from
    0 bytes on."""
    started: list[list[Path]] = []
    real = _hashing._launch

    def spy(files: list[tuple[Path, object]], *args: object, **options: object) -> object:
        launched = real(files, *args, **options)  # type: ignore[arg-type]
        if launched is not None:
            started.append([path for path, _ in files])
        if pids is not None and launched is not None:
            pids.append(launched[1].args[0].pid)  # type: ignore[attr-defined]
        return launched

    monkeypatch.setattr(_hashing, "_launch", spy)
    monkeypatch.setattr(_hashing, "CHILD_BYTES", 0)
    return started


def test_early_hashing_is_adopted_while_the_file_is_unchanged(
    folder: Path, here: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked, fallback = here
    started = _early_started(monkeypatch)
    _hashing.start_early(folder, cache=False)
    files = sorted((folder / "aktivitet").rglob("*.parquet"))
    assert started == [files]
    changed = files[2]
    changed.write_bytes(b"andet indhold")  # after the start: the early sha256 is not its
    adopted = {path: _hashing.adopt(path, fallback) for path in files}
    assert adopted[changed] is None
    assert _hashing.adopt(files[0], fallback) is None  # adopted once
    _hashing.release_early([f for f in adopted.values() if f is not None])
    for path in files[:2]:
        assert adopted[path].result(timeout=60) == _sha(path)  # type: ignore[union-attr]
    assert asked == []
    assert _hashing._early == {}


def test_early_hashing_skips_what_the_cache_seems_to_know_and_small_data(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = _early_started(monkeypatch)
    files = sorted((folder / "aktivitet").rglob("*.parquet"))
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("KMF_CACHE", str(cache))
    (cache / _hashing.entry_name(str(files[1].resolve()))).write_bytes(b"")  # newer than it
    old = cache / _hashing.entry_name(str(files[2].resolve()))
    old.write_bytes(b"")
    os.utime(old, ns=(files[2].stat().st_mtime_ns - 1,) * 2)  # older than the file
    _hashing.start_early(folder, cache=True)
    _hashing.start_early(folder, cache=False)  # --uden-cache: all of them
    _hashing.start_early(folder / "aktivitet" / "a.parquet", cache=False)  # not a folder
    assert started == [[files[0], files[2]], files]
    monkeypatch.setattr(_hashing, "CHILD_BYTES", sum(f.stat().st_size for f in files) + 1)
    _hashing.start_early(folder, cache=False)
    assert len(started) == 2
    _hashing.release_early([])


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs a FIFO and /proc")
def test_early_hashing_nobody_adopts_is_ended(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The early process waits on a FIFO; the reader wants none of it: it is ended."""
    pids: list[int] = []
    _early_started(monkeypatch, pids)
    os.mkfifo(folder / "aktivitet" / "0.parquet")  # first in line
    _hashing.start_early(folder, cache=False)
    (child,) = pids
    assert _running(child)
    _hashing.release_early([])
    deadline = time.monotonic() + 10
    while _running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(child)


@pytest.fixture
def data_folder(tmp_path: Path) -> Path:
    """The sample as one Parquet file per cut in aktivitet/."""
    import polars as pl

    folder = tmp_path / "datasaet"
    (folder / "aktivitet").mkdir(parents=True)
    records = pl.read_csv(kmf.sample_dataset() / "aktivitet.csv", try_parse_dates=True)
    cuts = records.partition_by("aar", "opgoerelse", "takstaar", "opgoerelsesdato")
    for i, part in enumerate(cuts):
        part.write_parquet(folder / "aktivitet" / f"del_{i:02d}.parquet")
    for name in ("budget.csv", "kmf.toml"):
        (folder / name).write_bytes((kmf.sample_dataset() / name).read_bytes())
    return folder


def test_a_command_adopts_the_early_hashing(
    data_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kmf run starts the hashing before its imports and the reading takes it over; the
    manifest has each file's sha256."""
    from typer.testing import CliRunner

    from kmf.cli import app

    started = _early_started(monkeypatch)
    adopted: list[Path] = []
    real = _hashing.adopt

    def spy(path: Path, hash_here: object) -> object:
        future = real(path, hash_here)  # type: ignore[arg-type]
        if future is not None:
            adopted.append(path)
        return future

    monkeypatch.setattr(reader, "adopt", spy)
    out = tmp_path / "ud"
    result = CliRunner().invoke(app, ["run", str(data_folder), "--out", str(out), "--uden-cache"])
    assert result.exit_code == 0, result.output
    files = sorted((data_folder / "aktivitet").rglob("*.parquet"))
    assert started[0] == files
    assert sorted(adopted) == files
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["filer"]
    shown = {f["sti"]: f["sha256"] for f in manifest}
    assert shown == {path: _sha(Path(path)) for path in shown}
    assert {str(f) for f in files} <= set(shown)


def test_at_exit_only_entries_of_hashed_files_are_waited_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hashing threads are daemons: at exit the cache entries of files already hashed
    are written to the end, but a file still being hashed (a command that failed) is not
    waited for."""
    import threading

    monkeypatch.setattr(reader, "_storing", {})
    hashed: Future[str] = Future()
    hashed.set_result("a" * 64)
    writing: Future[None] = Future()
    reader._storing[writing] = hashed
    threading.Timer(0.3, writing.set_result, [None]).start()
    reader._finish_storing()
    assert writing.done()
    never: Future[None] = Future()
    reader._storing = {never: Future()}
    start = time.monotonic()
    reader._finish_storing()
    assert time.monotonic() - start < 5 and not never.done()


def test_an_answer_for_another_file_than_the_one_started_is_not_used(
    files: list[Path], here: tuple
) -> None:
    """The child says which file it hashed (size, time, file number): a file replaced since
    the start (here: a stamp that is not the file's) is hashed here."""
    asked, fallback = here
    launched = _hashing._launch([(files[1], (1, 2, 3)), (files[2], _hashing._stamp_of(files[2]))],
                                fallback)  # fmt: skip
    assert launched is not None
    futures = launched[0]
    assert futures[files[1]].result(timeout=60) == _sha(files[1])
    assert futures[files[2]].result(timeout=60) == _sha(files[2])
    assert asked == [files[1]]


def test_a_fallback_that_cannot_start_leaves_no_future_unresolved(
    files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At interpreter shutdown an executor refuses new work: the future gets that error
    instead of waiting forever."""
    monkeypatch.setattr(_hashing, "CHILD_BYTES", 0)

    def refuse(path: Path) -> Future[str]:
        raise RuntimeError("cannot schedule new futures after interpreter shutdown")

    futures = _hashing.hash_in_child([files[0], tmp_path / "væk.parquet"], refuse)
    assert futures is not None
    assert futures[files[0]].result(timeout=60) == _sha(files[0])
    with pytest.raises(RuntimeError, match="shutdown"):
        futures[tmp_path / "væk.parquet"].result(timeout=60)


def test_a_file_replaced_with_the_same_size_and_time_is_not_adopted(
    folder: Path, here: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As rsync -t does: new contents, new file number, the old size and time."""
    _early_started(monkeypatch)
    _hashing.start_early(folder, cache=False)
    path = folder / "aktivitet" / "a.parquet"
    info = path.stat()
    other = path.with_name("ny.tmp")
    other.write_bytes(os.urandom(info.st_size))
    os.utime(other, ns=(info.st_atime_ns, info.st_mtime_ns))
    os.replace(other, path)
    assert _hashing.adopt(path, here[1]) is None
    _hashing.release_early([])


def test_on_windows_the_child_runs_at_idle_priority(
    files: list[Path], here: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows has no os.nice: the process is started in IDLE_PRIORITY_CLASS instead (a
    creation flag only Windows' subprocess has, simulated here)."""
    seen: list[dict[str, object]] = []
    real = subprocess.Popen

    def popen(args: list[str], **options: object) -> subprocess.Popen[bytes]:
        seen.append(options)
        return real(args, **{**options, "creationflags": 0})  # type: ignore[call-overload]

    monkeypatch.setattr(subprocess, "IDLE_PRIORITY_CLASS", 0x40, raising=False)
    monkeypatch.setattr(_hashing.subprocess, "Popen", popen)
    futures = _hashing.hash_in_child(files, here[1])
    assert futures is not None
    assert {p: f.result(timeout=60) for p, f in futures.items()} == {p: _sha(p) for p in files}
    assert [o["creationflags"] for o in seen] == [0x40]


def test_the_child_hashes_where_there_is_no_nice(
    files: list[Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """hash_child.main() without os.nice (Windows), its signals left as they were after."""
    import io

    from kmf.io import hash_child

    monkeypatch.delattr(os, "nice", raising=False)
    stdin = io.TextIOWrapper(io.BytesIO(json.dumps([str(p) for p in files]).encode("ascii")))
    monkeypatch.setattr(sys, "stdin", stdin)
    before = signal.getsignal(signal.SIGINT)
    try:
        hash_child.main()
    finally:
        signal.signal(signal.SIGINT, before)
    lines = capsys.readouterr().out.splitlines()
    answers = {line.split()[0]: line.split()[1:] for line in lines}
    assert answers == {
        str(i): [_sha(p), str(p.stat().st_size), str(p.stat().st_mtime_ns), str(p.stat().st_ino)]
        for i, p in enumerate(files)
    }


def test_a_file_changed_just_before_the_early_hashing_is_not_remembered(
    data_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The racy-file rule (kmf/io/reader.py, RACY_NS) counts from when a file's contents may
    first have been read: the early hashing's start, if that came first."""
    from kmf.io.cache import CellCache

    now = time.time_ns()
    for path in data_folder.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(now - 5 * 10**9, now - 5 * 10**9))  # changed 5 s ago
    monkeypatch.setenv("KMF_CACHE", str(tmp_path / "c1"))
    kmf.run(data_folder)
    assert CellCache(tmp_path / "c1").entries() != []  # 5 s before the reading: remembered
    monkeypatch.setenv("KMF_CACHE", str(tmp_path / "c2"))
    monkeypatch.setattr(_hashing, "_early", {"en anden fil": ((0, 0, 0), Future())})
    monkeypatch.setattr(_hashing, "_early_ns", [now - 4 * 10**9])  # 1 s after the change
    kmf.run(data_folder)
    assert CellCache(tmp_path / "c2").entries() == []
