"""What Windows does differently, made to happen on Linux: a file held open by Excel, no
``fcntl``, Ctrl-Break, text files written with CRLF, Windows' own error numbers.

A file open in Excel cannot be moved or deleted on Windows: the call fails with
``PermissionError`` and ``winerror`` 32 (sharing violation), or 5 (access denied). Here the
same exception (``winerror`` set by hand: on Linux an ``OSError`` has none) is raised at each
step of replacing an output folder; the old output must stay whole and the message must
name the file.
"""

from __future__ import annotations

import ast
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner, Result

import kmf
from kmf.cli import app
from kmf.errors import os_error_message
from kmf.io import sample_dataset
from tests.factory import random_rows, write_dataset

ROOT = Path(__file__).parent.parent
T = 2018
KOMMUNER = [101, 147, 851]
WORKBOOK = "kmf_dekomponering_2018.xlsx"


def held_open(path: object, winerror: int = 32, other: object = None) -> PermissionError:
    """The error Windows raises for a file another program holds open."""
    exc = PermissionError(errno.EACCES, "Processen kan ikke få adgang til filen", str(path))
    if other is not None:
        exc.filename2 = str(other)
    exc.winerror = winerror  # type: ignore[attr-defined]
    return exc


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = random_rows(KOMMUNER, T, seed=7)
    base = {k: sum(r["kmf"] for r in rows if r["kommunekode"] == k and r["aar"] == T - 2
                   and r["takstaar"] == T) for k in KOMMUNER}  # fmt: skip
    budget = [{"aar": T, "kommunekode": k, "kmf_budget_kr": v * 1.04} for k, v in base.items()]
    return write_dataset(tmp_path_factory.mktemp("data"), rows, budget)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, data: Path) -> Path:
    out = tmp_path_factory.mktemp("template") / "Økonomi ud"
    kmf.run(data).write(out)
    return out


@pytest.fixture
def old(tmp_path: Path, template: Path) -> Path:
    out = tmp_path / "Økonomi ud"
    shutil.copytree(template, out)
    return out


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}."))


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def refused(result: Result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    message = result.stderr
    assert message.startswith("Fejl: ") and message.strip().count("\n") == 0, message
    return message


def failing_rename(when: Callable[[Path, Path], bool], exc: Callable[[Path, Path], OSError]):
    rename = os.rename

    def flaky(src: object, dst: object) -> None:
        if when(Path(str(src)), Path(str(dst))):
            raise exc(Path(str(src)), Path(str(dst)))
        rename(src, dst)  # type: ignore[arg-type]

    return flaky


# --- a file held open by Excel, at each step of replacing the output ---------------------


@pytest.mark.parametrize("winerror", [32, 5])
@pytest.mark.parametrize("held", [WORKBOOK, "tabel_b1.csv", "figur_1.png"])
def test_moving_an_open_file_aside_fails_and_the_old_output_stays(
    old: Path, data: Path, monkeypatch: pytest.MonkeyPatch, held: str, winerror: int
) -> None:
    # step 1: the earlier run's files move into the aside folder; one of them is open
    before = snapshot(old)
    flaky = failing_rename(lambda src, _: src == old / held, lambda s, d: held_open(s, winerror, d))
    monkeypatch.setattr(os, "rename", flaky)
    message = refused(cli("run", data, "--out", old, "--force"))
    program = "Excel" if held.endswith((".xlsx", ".csv")) else "det program, der har den åben,"
    assert message.startswith(f"Fejl: Luk {held} i {program} og kør igen"), message
    assert f"Intet i '{old}' er ændret" in message
    # access denied may also be a file the user may not change: said as well
    assert ("skrivebeskyttelsen" in message) == (winerror == 5)
    assert snapshot(old) == before
    assert hidden(old) == []


def test_moving_the_new_files_in_fails_and_the_old_output_stays(
    old: Path, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # step 2: a new file cannot take its place in the folder (e.g. a program grabbed the
    # name after the old file moved aside)
    before = snapshot(old)
    monkeypatch.setattr(os, "rename", failing_rename(
        lambda src, dst: dst == old / WORKBOOK and ".kmf-" in src.parent.name,
        lambda src, dst: held_open(src, 32, dst)))  # fmt: skip
    message = refused(cli("run", data, "--out", old, "--force"))
    assert message.startswith(f"Fejl: Luk {WORKBOOK} i Excel og kør igen"), message
    assert snapshot(old) == before
    assert hidden(old) == []


def test_listing_the_new_files_fails_and_the_old_output_stays(
    old: Path, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(old)
    write_text = Path.write_text

    winerror = 32

    def refuse(self: Path, *args: object, **kwargs: object) -> int:
        if self.name == "nye-filer.txt":
            raise held_open(self, winerror)
        return write_text(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", refuse)
    message = refused(cli("run", data, "--out", old, "--force"))
    # kmf's own hidden file is not named: the folder is, and what to do
    assert ".kmf-" not in message and f"'{old}'" in message and "Luk den" in message, message
    assert snapshot(old) == before
    assert hidden(old) == []
    # "access denied" on a file that is none of the output's is not taken for Excel
    winerror = 5
    message = refused(cli("run", data, "--out", old, "--force"))
    assert "Excel" not in message and "ikke lov til at skrive" in message, message
    assert snapshot(old) == before


def test_renaming_the_aside_folder_fails_and_the_old_output_is_put_back(
    old: Path, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # step 3: the aside folder becomes the trash; a folder with an open file in it cannot
    # be renamed on Windows. The new files are all in place by then: they go again.
    before = snapshot(old)
    flaky = failing_rename(
        lambda _, dst: ".kmf-slet-" in dst.name, lambda s, d: held_open(s, 32, d)
    )
    monkeypatch.setattr(os, "rename", flaky)
    refused(cli("run", data, "--out", old, "--force"))
    assert snapshot(old) == before
    assert hidden(old) == []


def test_a_trash_file_that_cannot_be_deleted_waits_for_the_next_run(
    old: Path, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # step 4: the new output stands; an old folder that cannot be deleted yet (a file in it
    # held open) stays hidden and goes with the next run
    rmdir = os.rmdir

    def refuse(path: object, *args: object, **kwargs: object) -> None:
        if ".kmf-slet-" in str(path):
            raise held_open(path)
        rmdir(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "rmdir", refuse)
    assert cli("run", data, "--out", old, "--force").exit_code == 0
    assert [n for n in hidden(old) if ".kmf-slet-" in n], hidden(old)
    manifest = json.loads((old / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(p.name for p in old.iterdir()) == manifest["filer_skrevet"]
    monkeypatch.setattr(os, "rmdir", rmdir)
    assert cli("run", data, "--out", old, "--force").exit_code == 0
    assert hidden(old) == []


@pytest.mark.parametrize(
    ("command", "workbook"),
    [
        (["kommune", "851"], "kommune_851_2018.xlsx"),
        (["historik"], "kmf_historik.xlsx"),
        (["spor"], "kmf_prognosespor_2018.xlsx"),  # on the sample: it has dates
    ],
)
def test_other_commands_name_the_open_workbook(
    tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch, command: list[str],
    workbook: str,
) -> None:  # fmt: skip
    out = tmp_path / "ud"
    source = sample_dataset() if command == ["spor"] else data
    assert cli(*command, source, "--out", out).exit_code == 0, workbook
    before = snapshot(out)
    flaky = failing_rename(lambda src, _: src == out / workbook, lambda s, d: held_open(s, 32, d))
    monkeypatch.setattr(os, "rename", flaky)
    message = refused(cli(*command, source, "--out", out, "--force"))
    assert message.startswith(f"Fejl: Luk {workbook} i Excel og kør igen"), message
    assert snapshot(out) == before
    assert hidden(out) == []


@pytest.mark.parametrize("winerror", [32, 5])
def test_a_single_file_held_open_stays(
    tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch, winerror: int
) -> None:
    # kmf konverter --force (and kmf figur --force) replace one file in one step
    target = tmp_path / "aktivitet æøå.parquet"
    target.write_bytes(b"den gamle fil")
    replace = os.replace

    def refuse(src: object, dst: object) -> None:
        if Path(str(dst)) == target:
            raise held_open(src, winerror, dst)
        replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", refuse)
    message = refused(cli("konverter", data / "aktivitet.csv", target, "--force"))
    assert message.startswith(
        f"Fejl: Luk {target.name} i det program, der har den åben, og kør igen"
    ), message
    assert f"'{target}' er ikke ændret" in message
    assert target.read_bytes() == b"den gamle fil"
    assert hidden(target) == []


def test_a_cut_off_swap_whose_new_file_is_open(
    old: Path, monkeypatch: pytest.MonkeyPatch, data: Path
) -> None:
    # a run killed while swapping left a new workbook in the folder, and the user opened it:
    # the next run cannot undo the swap and says which file to close
    aside = old.parent / f".{old.name}.kmf-gammel-999999"
    aside.mkdir()
    os.rename(old / WORKBOOK, aside / WORKBOOK)
    (aside / "nye-filer.txt").write_text(WORKBOOK + "\n")
    (old / WORKBOOK).write_bytes(b"ny")
    unlink = Path.unlink

    def refuse(self: Path, missing_ok: bool = False) -> None:
        if self == old / WORKBOOK:
            raise held_open(self)
        unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", refuse)
    message = refused(cli("run", data, "--out", old, "--force"))
    assert message.startswith(f"Fejl: Luk {WORKBOOK} i Excel og kør igen"), message


def test_windows_error_numbers_in_danish(tmp_path: Path) -> None:
    long = tmp_path / ("a" * 200) / "ud"
    exc = FileNotFoundError(errno.ENOENT, "Filnavnet eller filtypenavnet er for langt", str(long))
    exc.winerror = 206  # type: ignore[attr-defined]
    assert os_error_message(exc, long, writing=True).startswith(f"Stien '{long}' er for lang")
    # a path as Windows writes it is named as it is, drive letter and backslashes included
    path = r"C:\Users\Søren Ærø\Documents\KMF data\aktivitet.csv"
    denied = PermissionError(errno.EACCES, "Adgang nægtet", path)
    assert f"'{path}'" in os_error_message(denied)


# --- no fcntl (as on Windows) -------------------------------------------------------------


NO_FCNTL = """
import sys
sys.modules["fcntl"] = None  # as on Windows: importing it fails
import threading
from pathlib import Path
from kmf.report.write import write_folder

out = Path(sys.argv[1])
order = []

def fill(name):
    def write(folder):
        order.append(("start", name))
        (folder / "manifest.json").write_text('{"filer_skrevet": ["%s.txt"]}' % name)
        (folder / f"{name}.txt").write_text(name)
        order.append(("end", name))
    return write

runs = [threading.Thread(target=write_folder, args=(out, True, fill(n))) for n in "ab"]
for r in runs: r.start()
for r in runs: r.join()
# one writer at a time: each run's start is followed by its own end
assert [k for k, _ in order] == ["start", "end", "start", "end"], order
assert order[0][1] == order[1][1] and order[2][1] == order[3][1], order
print(sorted(p.name for p in out.iterdir()))
"""


def test_the_lock_works_without_fcntl(tmp_path: Path) -> None:
    out = tmp_path / "ud æøå"
    done = subprocess.run([sys.executable, "-c", NO_FCNTL, str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(eval(done.stdout)) == 2  # manifest.json and the last run's file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ud æøå"]  # no lock file left


def test_the_command_runs_without_fcntl(tmp_path: Path, data: Path) -> None:
    script = ("import sys; sys.modules['fcntl'] = None\n"
              "from kmf.__main__ import main; main()")  # fmt: skip
    out = tmp_path / "ud"
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", script, "run", str(data), "--out", str(out), "--force"],
            cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    assert (out / WORKBOOK).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ud"]


def test_a_run_waits_for_the_lock(tmp_path: Path) -> None:
    from filelock import FileLock, Timeout

    from kmf.report.write import locked

    out = tmp_path / "ud"
    with locked(out) as have_lock:
        assert have_lock
        # another run (here: another lock on the same file) cannot have it meanwhile
        with pytest.raises(Timeout):
            FileLock(tmp_path / ".ud.kmf-lock").acquire(timeout=0.2)
    assert list(tmp_path.iterdir()) == []


def test_a_drive_without_locks_writes_unlocked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import filelock

    def no_locks(self: object, *args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(filelock.FileLock, "acquire", no_locks)
    from kmf.report.write import write_folder

    def fill(folder: Path) -> None:
        (folder / "a.txt").write_text("a")

    assert write_folder(tmp_path / "ud", False, fill) == [tmp_path / "ud" / "a.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ud"]


def test_no_posix_only_calls_in_the_package() -> None:
    # fcntl, pwd, resource and os.getuid do not exist on Windows; os.kill(pid, 0) there
    # ends the process: the one use is guarded by os.name
    package = ROOT / "kmf"
    found = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            posix_only = ("fcntl", "pwd", "grp", "resource", "termios")
            found += [f"{path.name}: import {n}" for n in names if n.split(".")[0] in posix_only]
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                call = f"{node.value.id}.{node.attr}"
                if call in ("os.getuid", "os.geteuid", "os.fork", "os.chown", "signal.SIGKILL",
                            "signal.SIGUSR1", "signal.SIGHUP", "os.killpg"):  # fmt: skip
                    found.append(f"{path.name}: {call}")
                if call == "os.kill" and path.name != "write.py":
                    found.append(f"{path.name}: {call}")
    assert found == []
    write = (package / "report" / "write.py").read_text(encoding="utf-8")
    guarded = write.split("def _gone(")[1].split("def ")[0].split('"""')[2]  # after the doc
    assert guarded.index('os.name == "nt"') < guarded.index("os.kill(pid")


# --- Ctrl-Break -----------------------------------------------------------------------------


def test_ctrl_break_is_handled_where_the_platform_has_it(tmp_path: Path) -> None:
    # SIGBREAK exists on Windows only: stand in another signal for it, as Windows would
    script = (
        "import os, signal, time\n"
        "signal.SIGBREAK = signal.SIGUSR1\n"
        "from kmf import _signals\n"
        "_signals.install()\n"
        "os.kill(os.getpid(), signal.SIGUSR1)\n"
        "time.sleep(10)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 128 + signal.SIGUSR1, done.stderr
    assert done.stderr == "Afbrudt (Ctrl+Break).\n"


# --- line ends -----------------------------------------------------------------------------


def test_text_files_have_lf_line_ends_as_on_windows(
    tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Windows' text mode writes "\n" as "\r\n" unless a newline is given: do the same here,
    # so that a file written without one shows
    write_text = Path.write_text

    def as_windows(self: Path, text: str, encoding: str | None = None, errors: str | None = None,
                   newline: str | None = None) -> int:  # fmt: skip
        if newline is None:
            text, newline = text.replace("\n", "\r\n"), ""
        return write_text(self, text, encoding=encoding, errors=errors, newline=newline)

    monkeypatch.setattr(Path, "write_text", as_windows)
    out = tmp_path / "ud"
    assert cli("run", data, "--out", out).exit_code == 0
    assert cli("kommune", "851", data, "--out", tmp_path / "k").exit_code == 0
    assert cli("historik", data, "--out", tmp_path / "h").exit_code == 0
    texts = [p for d in ("ud", "k", "h") for p in (tmp_path / d).iterdir()
             if p.suffix in (".csv", ".md", ".json")]  # fmt: skip
    assert len(texts) > 10
    for path in texts:
        content = path.read_bytes()
        assert b"\n" in content and b"\r" not in content, path.name
    # the CSV files as pandas and polars read them, one record a line
    b1 = pl.read_csv(out / "tabel_b1.csv")
    assert b1.height == (out / "tabel_b1.csv").read_bytes().count(b"\n") - 1
