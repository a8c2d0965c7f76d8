"""Faults while writing and interrupted runs (SPEC §6: a failed run leaves no half-written
files). A fault gives exit code 2 and one Danish line naming the path and what to do; Ctrl-C
gives 130 and SIGTERM 143 with one Danish line; never a traceback. The earlier output stays
byte for byte, or is wholly replaced, and no hidden staging folder is left behind.

Real faults where the machine allows them (a small tmpfs, a read-only remount, ``chattr
+i``, a process without root's file-permission override, real signals); the same errors
simulated where it does not, so every case runs everywhere.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner, Result

import kmf
from kmf.cli import app
from tests.factory import national_budget, random_rows, write_dataset

ROOT = Path(__file__).parent.parent
T = 2018
KOMMUNER = [101, 147, 851]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


# --- helpers --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = random_rows(KOMMUNER, T, seed=5)
    return write_dataset(tmp_path_factory.mktemp("data"), rows, national_budget(rows, T))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, data: Path) -> Path:
    """A complete output folder, written once; tests copy it as 'the earlier output'."""
    out = tmp_path_factory.mktemp("template") / "ud"
    kmf.run(data).write(out)
    return out


@pytest.fixture
def old(tmp_path: Path, template: Path) -> Path:
    out = tmp_path / "ud"
    shutil.copytree(template, out)
    return out


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def leftovers(folder: Path) -> list[str]:
    """kmf's hidden staging, aside, trash and lock names next to ``folder``."""
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}."))


def complete(folder: Path) -> bool:
    """The folder holds exactly the files one run wrote, as its manifest lists them."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    names = sorted(p.name for p in folder.iterdir())
    return names == manifest["filer_skrevet"] and "tabel_b1.parquet" in names


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def assert_refused(result: Result, *fragments: str) -> str:
    """Exit 2 and one Danish line on stderr that starts 'Fejl: ' and holds ``fragments``."""
    message = result.stderr
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert message.startswith("Fejl: "), message
    assert message.strip().count("\n") == 0, message
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


def python_kmf(*args: str | Path, tmp: Path | None = None) -> subprocess.Popen[str]:
    """``python -m kmf ARGS`` in a subprocess (with its temporary files in ``tmp``)."""
    return subprocess.Popen(
        [sys.executable, "-m", "kmf", *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp)} if tmp else None,
    )


def dead_pid() -> int:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


# --- the operating system refuses a write (simulated: runs everywhere) -----------------


def fail_on_call(n: int, exc: BaseException) -> Callable[..., None]:
    calls = {"n": 0}
    original = pl.DataFrame.write_parquet

    def write_parquet(self: pl.DataFrame, file: object, *args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == n:
            raise exc
        original(self, file, *args, **kwargs)

    return write_parquet


@pytest.mark.parametrize(
    ("exc", "fragment"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "ikke plads nok på disken"),
        # how polars reports it: no errno, the number in the text
        (pl.exceptions.ComputeError("parquet: IO error: No space (os error 28)"), "plads"),
        (OSError(errno.EROFS, "Read-only file system"), "skrivebeskyttet drev"),
        (OSError(errno.EPERM, "Operation not permitted"), "låst mod ændringer"),
        (OSError(errno.EACCES, "Permission denied"), "ikke lov til at skrive"),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), "diskkvote"),
    ],
    ids=["ENOSPC", "ENOSPC-polars", "EROFS", "EPERM", "EACCES", "EDQUOT"],
)
def test_a_refused_write_keeps_the_old_output(
    old: Path, data: Path, monkeypatch: pytest.MonkeyPatch, exc: Exception, fragment: str
) -> None:
    before = snapshot(old)
    monkeypatch.setattr(pl.DataFrame, "write_parquet", fail_on_call(3, exc))
    message = assert_refused(cli("run", data, "--out", old, "--force"), fragment, f"'{old}'")
    assert ".kmf-" not in message  # names the folder, not kmf's hidden staging folder
    assert snapshot(old) == before
    assert leftovers(old) == []


@pytest.mark.parametrize("failing", [2, 30], ids=["moving-old-aside", "moving-new-in"])
def test_a_failed_swap_is_rolled_back(
    old: Path, data: Path, monkeypatch: pytest.MonkeyPatch, failing: int
) -> None:
    # the swap renames the old files aside (25), then the new ones in: fail midway in each
    before = snapshot(old)
    calls = {"n": 0}
    rename = os.rename

    def flaky(src: object, dst: object) -> None:
        if Path(str(dst)).parent == old or Path(str(src)).parent == old:
            calls["n"] += 1
            if calls["n"] == failing:
                raise OSError(errno.EIO, "Input/output error", str(dst))
        rename(src, dst)

    monkeypatch.setattr(os, "rename", flaky)
    assert_refused(cli("run", data, "--out", old, "--force"), "læse-/skrivefejl", f"'{old}'")
    assert calls["n"] >= failing
    assert snapshot(old) == before
    assert leftovers(old) == []


def test_an_unreadable_input_file_gives_a_danish_message(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    activity = data / "aktivitet.csv"

    def refuse(path: object, **options: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(activity))

    monkeypatch.setattr("kmf.io.load", refuse)
    for command in (["run", data, "--out", tmp_path / "ud"], ["validate", data]):
        assert_refused(cli(*command), "ikke lov til at læse", f"'{activity}'")
    assert not (tmp_path / "ud").exists()


def test_a_file_that_cannot_be_hashed_stops_the_run_and_keeps_the_old_output(
    old: Path, data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sha256 is computed while the tables are written; a file read only by the hash
    (a cut the run does not use) that cannot be read still stops the run with exit 2 and
    the file's name, and the earlier output stays."""
    folder = tmp_path / "data"
    (folder / "aktivitet").mkdir(parents=True)
    activity = pl.read_csv(data / "aktivitet.csv")
    activity.write_parquet(folder / "aktivitet" / "brugt.parquet")
    unused = folder / "aktivitet" / "ubrugt_2015.parquet"  # a cut of no forecast of 2018
    activity.head(1).with_columns(aar=pl.lit(2015), takstaar=pl.lit(2015)).write_parquet(unused)
    shutil.copy(data / "budget.csv", folder / "budget.csv")
    before = snapshot(old)
    real = hashlib.file_digest

    def refuse(fh: Any, digest: str) -> Any:
        if Path(fh.name).name == unused.name:
            raise PermissionError(errno.EACCES, "Permission denied", fh.name)
        return real(fh, digest)

    monkeypatch.setattr("kmf.io.digest.hashlib.file_digest", refuse)
    result = cli("run", folder, "--out", old, "--force", "--uden-cache")
    assert_refused(result, "ikke lov til at læse", unused.name)
    assert snapshot(old) == before
    assert leftovers(old) == []
    monkeypatch.setattr("kmf.io.digest.hashlib.file_digest", real)  # the same run, readable
    manifest = kmf.run(folder).manifest.as_json()["filer"]
    assert [f["fil"] for f in manifest if f["raekker_brugt"] == 0] == [f"aktivitet/{unused.name}"]


def test_ctrl_c_in_a_notebook_keeps_the_old_output(
    old: Path, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # no kmf handlers in a notebook: Python raises KeyboardInterrupt, the write cleans up
    before = snapshot(old)
    result = kmf.run(data)
    monkeypatch.setattr(pl.DataFrame, "write_parquet", fail_on_call(4, KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        result.write(old, force=True)
    assert snapshot(old) == before
    assert leftovers(old) == []


def test_a_signal_inside_a_held_section_waits_for_its_end() -> None:
    from kmf._signals import held

    steps = []
    # Python's own handler (whatever an earlier test in this process left) raises
    # KeyboardInterrupt, once the section is over
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with pytest.raises(KeyboardInterrupt), held():
        signal.raise_signal(signal.SIGINT)
        steps.append("the section went on")
    assert steps == ["the section went on"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# --- real faults ----------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs (needs root and mount permission)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("a tmpfs cannot be mounted here (simulated in the tests above)")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_disk_full_on_a_real_small_disk(small_disk: Path, template: Path, data: Path) -> None:
    old = small_disk / "ud"
    shutil.copytree(template, old)
    before = snapshot(old)
    # leave less room than a second output needs
    free = shutil.disk_usage(small_disk).free
    (small_disk / "fyld").write_bytes(b"\0" * max(0, free - 100_000))
    assert_refused(cli("run", data, "--out", old, "--force"), "ikke plads nok", f"'{old}'")
    assert snapshot(old) == before
    assert leftovers(old) == []
    new = small_disk / "ny"
    assert_refused(cli("run", data, "--out", new), "ikke plads nok", f"'{new}'")
    assert not new.exists() and leftovers(new) == []


def test_converting_onto_a_full_disk_keeps_the_old_file(small_disk: Path, data: Path) -> None:
    target = small_disk / "aktivitet.parquet"
    target.write_bytes(b"den gamle fil")
    big = small_disk.parent / "stor.csv"
    pl.concat([pl.read_csv(data / "aktivitet.csv")] * 40).write_csv(big)
    (small_disk / "fyld").write_bytes(b"\0" * (shutil.disk_usage(small_disk).free - 4096))
    assert_refused(cli("konverter", big, target, "--force"))
    assert target.read_bytes() == b"den gamle fil"
    assert sorted(p.name for p in small_disk.iterdir()) == ["aktivitet.parquet", "fyld"]


def test_out_is_a_mount_point(small_disk: Path, data: Path) -> None:
    # the hidden folders cannot sit next to it: a rename does not cross file systems
    for args in (("--metode", "alle"), ("--force",)):
        result = cli("run", data, "--out", small_disk, *args)
        assert result.exit_code == 0, result.output
        (small_disk / "noter.txt").write_text("mine noter\n")
        hidden = [p.name for p in small_disk.iterdir() if p.name.startswith(".")]
        assert hidden == [] and leftovers(small_disk) == []
    assert (small_disk / "noter.txt").read_text() == "mine noter\n"
    assert not (small_disk / "tabel_metoder.csv").exists()


def test_read_only_file_system(small_disk: Path, template: Path, data: Path) -> None:
    old = small_disk / "ud"
    shutil.copytree(template, old)
    before = snapshot(old)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    assert_refused(cli("run", data, "--out", old, "--force"), "skrivebeskyttet", f"'{old}'")
    assert snapshot(old) == before
    assert leftovers(old) == []
    assert_refused(cli("run", data, "--out", small_disk / "a" / "b"), "skrivebeskyttet")


def test_immutable_folder(old: Path, data: Path) -> None:
    before = snapshot(old)
    if subprocess.run(["chattr", "+i", str(old)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not possible here (EPERM is simulated above)")
    try:
        assert_refused(cli("run", data, "--out", old, "--force"), "låst", f"'{old}'")
    finally:
        subprocess.run(["chattr", "-i", str(old)], check=True)
    assert snapshot(old) == before
    assert leftovers(old) == []


@pytest.mark.parametrize("below", ["ud", "a/ud"])
def test_out_below_a_file(tmp_path: Path, data: Path, below: str) -> None:
    (tmp_path / "fil").write_text("ikke en mappe\n")
    out = tmp_path / "fil" / below
    assert_refused(cli("run", data, "--out", out), f"'{tmp_path / 'fil'}' er en fil", "--out")
    assert (tmp_path / "fil").read_text() == "ikke en mappe\n"


def test_no_permission_as_an_ordinary_user(tmp_path: Path, data: Path) -> None:
    """Root without its override of file permissions (CAP_DAC_OVERRIDE) meets them like any
    user: a folder it may not write in, an input file it may not read."""
    setpriv = shutil.which("setpriv")
    if not IS_ROOT or setpriv is None:
        pytest.skip("needs root and setpriv (EACCES is simulated above)")
    drop = "-dac_override,-dac_read_search"
    as_user = [setpriv, f"--inh-caps={drop}", f"--bounding-set={drop}", "--"]
    locked = tmp_path / "låst"
    locked.mkdir(mode=0o555)
    mine = tmp_path / "data"
    shutil.copytree(data, mine)

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        cmd = [*as_user, sys.executable, "-m", "kmf.cli", *map(str, args)]
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)

    done = run("run", mine, "--out", locked / "ud")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("Fejl: ") and "Traceback" not in done.stderr
    assert "ikke lov til at skrive" in done.stderr and f"'{locked / 'ud'}'" in done.stderr
    assert list(locked.iterdir()) == []
    (mine / "aktivitet.csv").chmod(0)
    for command in (("run", mine, "--out", tmp_path / "ud"), ("validate", mine)):
        done = run(*command)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("Fejl: ") and "Traceback" not in done.stderr
        assert f"'{mine / 'aktivitet.csv'}'" in done.stderr and "adgang" in done.stderr
    assert not (tmp_path / "ud").exists()


# --- what --force replaces ------------------------------------------------------------


def test_force_removes_the_earlier_runs_files_and_keeps_the_users(
    tmp_path: Path, data: Path
) -> None:
    out = tmp_path / "ud"
    assert cli("run", data, "--out", out, "--metode", "alle").exit_code == 0
    assert (out / "tabel_metoder.csv").is_file()
    (out / "noter.txt").write_text("mine noter\n")
    (out / "tabel_egen.csv").write_text("min egen tabel\n")  # named like kmf's, not kmf's
    assert cli("run", data, "--out", out, "--force").exit_code == 0
    names = sorted(p.name for p in out.iterdir())
    assert "tabel_metoder.csv" not in names and "tabel_metoder.parquet" not in names
    assert (out / "noter.txt").read_text() == "mine noter\n"
    assert (out / "tabel_egen.csv").read_text() == "min egen tabel\n"
    written = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["filer_skrevet"]
    assert sorted([*written, "noter.txt", "tabel_egen.csv"]) == names
    assert leftovers(out) == []


def test_an_older_output_without_a_file_list_is_recognised_by_kmf_names(
    old: Path, data: Path
) -> None:
    manifest = json.loads((old / "manifest.json").read_text(encoding="utf-8"))
    del manifest["filer_skrevet"]
    (old / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    for name in ("tabel_metoder.csv", "figur_9.png", "sammenfatning.md"):
        (old / name).write_text("fra en ældre kørsel\n")
    (old / "noter.txt").write_text("mine noter\n")
    assert cli("run", data, "--out", old, "--force").exit_code == 0
    assert not any((old / n).exists() for n in ("tabel_metoder.csv", "figur_9.png"))
    # this run writes its own summary in place of the old one
    assert (old / "sammenfatning.md").read_text(encoding="utf-8").startswith("# Sammenfatning")
    assert (old / "noter.txt").read_text() == "mine noter\n"


def test_a_rerun_without_force_stops_before_reading_the_data(
    old: Path, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(path: object) -> None:
        raise AssertionError("the data were read although the output cannot be written")

    monkeypatch.setattr("kmf.io.load", never)
    assert_refused(cli("run", data, "--out", old), "--force", f"'{old}'")


# --- leftovers of a killed run --------------------------------------------------------


def test_leftovers_of_a_killed_run_are_removed(old: Path, data: Path) -> None:
    gone, alive = dead_pid(), os.getppid()
    for name in (f".ud.kmf-{gone}", f".ud.kmf-slet-{gone}", f".ud.kmf-{alive}"):
        (old.parent / name).mkdir()
        (old.parent / name / "tabel_b1.csv").write_text("halvt\n")
    (old.parent / ".ud.kmf-lock").touch()
    (old.parent / f".ud.kmf-{gone}.delvis").write_text("halvt\n")
    assert cli("run", data, "--out", old, "--force").exit_code == 0
    # no process is asked whether it lives: a run writes only while it holds the lock, so
    # what the run holding it finds is left over, also under the number of a live process
    # (numbers are reused)
    assert leftovers(old) == []
    assert complete(old)


def test_without_a_lock_a_live_process_keeps_its_folder(old: Path) -> None:
    from kmf.report.write import remove_leftovers

    gone, alive = dead_pid(), os.getppid()
    for name in (f".ud.kmf-{gone}", f".ud.kmf-{alive}", f".ud.kmf-{os.getpid()}"):
        (old.parent / name).mkdir()
    # a drive without file locks: only what is known to be left over goes
    remove_leftovers(old, locked=False)
    assert leftovers(old) == [f".ud.kmf-{alive}"]


@pytest.mark.parametrize("cut_off", ["while-moving-old-aside", "while-moving-new-in"])
def test_a_swap_cut_off_by_a_kill_is_undone(old: Path, cut_off: str) -> None:
    from kmf.report.write import remove_leftovers

    before = snapshot(old)
    pid = dead_pid()
    aside, staging = old.parent / f".ud.kmf-gammel-{pid}", old.parent / f".ud.kmf-{pid}"
    aside.mkdir()
    staging.mkdir()
    names = sorted(before)
    (old / "noter.txt").write_text("mine noter\n")
    if cut_off == "while-moving-old-aside":
        for name in names[:10]:
            os.rename(old / name, aside / name)
    else:
        for name in names:
            os.rename(old / name, aside / name)
        new = [*names, "tabel_metoder.csv"]
        (aside / "nye-filer.txt").write_text("\n".join(new) + "\n")
        for name in new[:12]:
            (old / name).write_text("ny\n")
        for name in new[12:]:
            (staging / name).write_text("ny\n")
    remove_leftovers(old)
    assert snapshot(old) == {**before, "noter.txt": b"mine noter\n"}
    assert leftovers(old) == []


def test_a_run_killed_while_writing_is_cleaned_up_by_the_next(old: Path, data: Path) -> None:
    before = snapshot(old)
    proc = python_kmf("run", data, "--out", old, "--force")
    deadline = time.monotonic() + 30
    staging = old.parent / f".ud.kmf-{proc.pid}"
    while not staging.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.002)
    proc.kill()
    proc.communicate(timeout=120)
    assert staging.exists(), "the run ended before it was killed"
    assert snapshot(old) == before
    assert cli("run", data, "--out", old, "--force").exit_code == 0
    assert leftovers(old) == []
    assert complete(old)


# --- two runs at once -----------------------------------------------------------------


def test_two_runs_at_once_never_mix_their_files(tmp_path: Path, data: Path) -> None:
    out = tmp_path / "ud"
    # with --force: the later replaces the earlier whole ('alle' writes two more files)
    runs = [python_kmf("run", data, "--out", out, "--force", "--metode", m)
            for m in ("alle", "ministeriet")]  # fmt: skip
    ended = [(p.communicate(timeout=120)[1], p.returncode) for p in runs]
    assert [code for _, code in ended] == [0, 0], ended
    assert complete(out)
    has_methods = (out / "tabel_metoder.csv").exists()
    assert has_methods == (json.loads((out / "manifest.json").read_text())["metode"] == "alle")
    assert leftovers(out) == []
    # without --force: one writes, the other finds the folder taken
    shutil.rmtree(out)
    runs = [python_kmf("run", data, "--out", out) for _ in range(2)]
    errors = [p.communicate(timeout=120)[1] for p in runs]
    ended = sorted(zip([p.returncode for p in runs], errors, strict=True))
    assert [code for code, _ in ended] == [0, 2], ended
    assert ended[1][1].startswith("Fejl: ") and "--force" in ended[1][1]
    assert complete(out)
    assert leftovers(out) == []


# --- Ctrl-C and SIGTERM ---------------------------------------------------------------


def handlers_installed(pid: int) -> bool:
    """kmf's handlers are in place: the process catches SIGTERM (Python alone does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True  # no /proc (or the process has ended): cannot tell, do not wait
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) >> (signal.SIGTERM - 1) & 1)


@pytest.mark.parametrize(("signum", "tries"), [(signal.SIGINT, 6), (signal.SIGTERM, 5)])
def test_a_signal_at_any_moment(tmp_path: Path, data: Path, signum: int, tries: int) -> None:
    out, tmp = tmp_path / "ud", tmp_path / "tmp"
    tmp.mkdir()
    start = time.perf_counter()
    first = python_kmf("run", data, "--out", out)
    assert first.communicate(timeout=120)[1] == "" and first.returncode == 0
    duration = time.perf_counter() - start
    rng = random.Random(signum)
    expected = 128 + signum
    seen: list[tuple[float, int, str]] = []
    # from the first moment kmf handles signals (imports) to past the end of a run; then, as
    # long as no try has stopped the writing itself (a short part of a quick run, easily
    # missed on a busy machine), tries that wait until the run has begun to write
    delays: list[float | None] = [duration * (i + rng.random()) / tries for i in range(tries)]
    delays += [None] * 3
    for i, delay in enumerate(delays):
        if i >= tries and any(f"Intet er ændret i '{out}'" in err for *_, err in seen):
            break
        before = snapshot(out)
        proc = python_kmf("run", data, "--out", out, "--force", tmp=tmp)
        deadline = time.monotonic() + 10
        while not handlers_installed(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.001)
        if delay is None:
            staging = out.parent / f".{out.name}.kmf-{proc.pid}"
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                if staging.is_dir() and any(staging.iterdir()):
                    break
                time.sleep(0.002)
            delay = 0.0
        else:
            time.sleep(delay)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=120)
        seen.append((round(delay, 2), proc.returncode, err.strip()))
        assert proc.returncode in (0, expected), seen
        assert "Traceback" not in err and "error" not in err.lower(), seen
        if proc.returncode == expected:
            assert err.strip().count("\n") == 0, seen
            assert err.startswith(
                "Afbrudt." if signum == signal.SIGINT else "Stoppet (SIGTERM)."
            ), seen
        assert leftovers(out) == [], seen
        assert list(tmp.iterdir()) == [], seen  # e.g. openpyxl's temporary files
        assert snapshot(out) == before or complete(out), seen
    # at least one try stopped the run itself (not only the start-up)
    assert any(f"Intet er ændret i '{out}'" in err for *_, err in seen), seen
    print(seen)


def test_a_stop_cleans_up_like_a_normal_exit(tmp_path: Path) -> None:
    # the registered cleanups and the atexit functions (openpyxl removes its temporary
    # files there) run, then the process ends with 128 + the signal number
    script = (
        "import atexit, os, pathlib, signal, sys, time\n"
        "from kmf import _signals\n"
        "_signals.install()\n"
        "folder = pathlib.Path(sys.argv[1])\n"
        "atexit.register(lambda: (folder / 'atexit').touch())\n"
        "with _signals.cleanup_on_stop(lambda: (folder / 'cleanup').touch()):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    time.sleep(10)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 143, done.stderr
    assert done.stderr == "Stoppet (SIGTERM).\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atexit", "cleanup"]


def test_python_m_kmf_and_a_light_import() -> None:
    check = (
        "import sys, kmf\n"
        "assert 'polars' not in sys.modules, 'import kmf loads polars'\n"
        "from kmf import run, load, Result, Dataset, sample_dataset, DataError, OutputError\n"
        "assert issubclass(kmf.DataError, ValueError) and kmf.__version__\n"
        "assert set(kmf.__all__) <= set(dir(kmf))\n"
    )
    done = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    helped = subprocess.run([sys.executable, "-m", "kmf", "--help"], cwd=ROOT,
                            capture_output=True, text=True)  # fmt: skip
    assert helped.returncode == 0 and "beregn" in helped.stdout, helped.stderr


# --- kmf konverter --------------------------------------------------------------------


def test_convert_with_force_replaces_and_keeps_the_old_file_on_failure(
    tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "aktivitet.parquet"
    csv = data / "aktivitet.csv"
    assert cli("konverter", csv, target).exit_code == 0
    first = target.read_bytes()
    assert_refused(cli("konverter", csv, target), "--force", f"'{target}'")
    assert target.read_bytes() == first
    result = cli("konverter", csv, target, "--force")
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(target).height == pl.read_csv(csv).height
    before = target.read_bytes()

    import kmf.io

    def half_then_full(source: object, dst: Path) -> int:
        Path(dst).write_bytes(b"halv")
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr(kmf.io, "convert_csv", half_then_full)
    assert_refused(cli("konverter", csv, target, "--force"), "plads", f"'{target}'")
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aktivitet.parquet"]


EVERYDAY_ERRNOS = [
    "EACCES", "EPERM", "ENOENT", "EISDIR", "ENOSPC", "EDQUOT", "EFBIG", "EROFS",
    "ENAMETOOLONG", "EIO", "EMFILE", "ENFILE", "EBUSY", "ETXTBSY", "EEXIST", "ENOTDIR",
    "ENOTEMPTY", "EXDEV", "ELOOP", "EINVAL", "EAGAIN", "ESTALE", "ETIMEDOUT", "ENODEV",
    "ENXIO", "ENOMEM", "ENOLCK", "EPIPE", "ECONNRESET",
]  # fmt: skip


@pytest.mark.parametrize("name", EVERYDAY_ERRNOS)
@pytest.mark.parametrize("writing", [False, True])
def test_every_everyday_os_error_is_said_in_danish(name: str, writing: bool, tmp_path) -> None:
    from kmf.errors import os_error_message

    code = getattr(errno, name)
    english = os.strerror(code)
    where = tmp_path / "ud"  # a path with nothing in the way
    text = os_error_message(OSError(code, english, str(where)), where, writing=writing)
    assert english not in text and f"fejl {code}" not in text, text
    assert str(where) in text
    assert text.endswith(".")
