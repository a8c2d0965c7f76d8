"""Writing an output folder as a whole: the old output stays until the new one is complete.

``write_folder`` lets its caller write every file into a hidden staging folder next to the
target, then swaps the files in under a lock:

1. kmf's files from the earlier run (and any file this run replaces) move into a hidden
   *aside* folder; a list of the new names goes with them;
2. the new files move in;
3. the aside folder is renamed to a *trash* name (from here on the new output stands) and
   deleted.

If a step fails (on Windows: a file held open by Excel cannot be moved), the new files go
and the old ones move back, so the folder is as it was. Files the user put in the folder
themselves stay. A run that was killed (SIGKILL, a power cut) leaves its hidden folders
behind; the next run for the same target removes them and, if the swap was cut short, puts
the old files back first. Every run holds the target's lock (``filelock``: ``flock`` on
POSIX, ``msvcrt.locking`` on Windows) while it writes, so a hidden folder found by the run
holding the lock is a leftover: no process ID needs to be asked whether it lives.

The hidden folders sit next to the target, on the same drive, so that a rename moves the
files (a move across drives fails on Windows).

Hidden names, next to the target ``ud``: ``.ud.kmf-<pid>`` (staging),
``.ud.kmf-gammel-<pid>`` (aside), ``.ud.kmf-slet-<pid>`` (trash), ``.ud.kmf-lock``.

``write_file`` does the same for a single file (``kmf konverter``, ``kmf figur``): written
under a hidden name next to it, then moved over it in one step.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TypeVar

from kmf import _signals
from kmf.errors import (
    OTHER_FOLDER,
    DataError,
    OutputError,
    errno_of,
    held_open_message,
    os_error_message,
    require_utf8_path,
)

MANIFEST = "manifest.json"
FILES_KEY = "filer_skrevet"
#: kmf's own files, for an output folder whose manifest does not list them (older kmf)
#: (only in a folder that has kmf's manifest.json: a folder without one is not kmf's output)
KMF_PATTERNS = (
    "tabel_*.csv",
    "tabel_*.parquet",
    "figur_*.png",
    "kmf_*.xlsx",
    MANIFEST,
    "sammenfatning.md",
    "notat_*.docx",
)
_NEW_NAMES = "nye-filer.txt"  # in the aside folder: the names being moved in
ASIDE, TRASH = "gammel", "slet"
# errors only a write can cause (a full disk is never a reason a file cannot be read)
_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})

T = TypeVar("T")
_HIDDEN = re.compile(rf"\..+\.kmf-(?:lock|(?:(?:{ASIDE}|{TRASH})-)?\d+(?:\..+)?)")


def check_target(target: str | Path, force: bool) -> None:
    """Raise ``OutputError`` if ``target`` cannot take the output: it is not a folder, or it
    has files and ``force`` is not given. Cheap: call it before the work."""
    target = Path(target)
    require_utf8_path(target, OutputError)
    if target.exists() and not target.is_dir():
        raise OutputError(f"'{target}' findes allerede og er ikke en mappe. Vælg en anden --out.")
    # kmf's own hidden names do not count: they sit inside a target that is a mount point
    if (
        not force
        and target.is_dir()
        and any(not _HIDDEN.fullmatch(p.name) for p in target.iterdir())
    ):
        raise OutputError(
            f"Mappen '{target}' findes allerede og er ikke tom. Brug --force for at "
            "overskrive resultaterne, eller vælg en anden mappe med --out."
        )


def write_folder(target: str | Path, force: bool, fill: Callable[[Path], None]) -> list[Path]:
    """Write an output folder all at once and return the paths of its new files.

    ``fill`` writes every file into the folder it is given (a hidden staging folder next to
    ``target``). Without ``force``, ``target`` must be missing or empty. With ``force``,
    kmf's files from an earlier run that this run does not write are removed; other files
    stay. On any failure, or Ctrl-C, ``target`` is left exactly as it was.

    Raises
    ------
    OutputError
        With a Danish message when ``target`` cannot be written (exists and ``force`` is not
        given, disk full, read-only, no permission, …).
    """
    named = Path(target)
    try:
        check_target(named, force)
        named.parent.mkdir(parents=True, exist_ok=True)
        target = Path(os.path.realpath(named))  # through a symlink: stage beside the real folder
        with locked(target) as have_lock:
            with _signals.held():
                remove_leftovers(target, locked=have_lock)
            check_target(named, force)  # another run may have written it meanwhile
            staging = sibling(target, os.getpid())
            with _signals.cleanup_on_stop(lambda: shutil.rmtree(staging, ignore_errors=True)):
                staging.mkdir()
                try:
                    fill(staging)
                    names = sorted(p.name for p in staging.iterdir())
                    with _signals.held():
                        _commit(staging, target, names)
                except BaseException:
                    with _signals.held():
                        shutil.rmtree(staging, ignore_errors=True)
                    raise
    except Exception as exc:
        _raise_as_output_error(exc, named)
        raise
    return [named / name for name in names]


def write_file(target: str | Path, force: bool, fill: Callable[[Path], T]) -> T:
    """Write one file all at once and return what ``fill`` returns.

    ``fill`` writes the file at the path it is given (a hidden name next to ``target``, with
    the same suffix); that file then replaces ``target`` in one step. Without ``force`` an
    existing ``target`` is an error; on any failure, or Ctrl-C, ``target`` stays as it was.
    """
    target = Path(target)
    try:
        check_file_target(target, force)
        target.parent.mkdir(parents=True, exist_ok=True)
        with locked(target) as have_lock:
            with _signals.held():
                remove_leftovers(target, locked=have_lock)
            value = _write_file(target, force, fill)
    except Exception as exc:
        _raise_as_output_error(exc, target, "gem filen et andet sted")
        raise
    return value


def _write_file(target: Path, force: bool, fill: Callable[[Path], T]) -> T:
    partial = Path(f"{sibling(target, os.getpid())}{target.suffix}")
    partial.touch()  # can files be made here? Ask before the work, not after
    partial.unlink()

    def remove_partial() -> None:
        # also what ``fill`` may have made next to it (e.g. '<partial>.delvis')
        for path in partial.parent.glob(glob.escape(partial.name) + "*"):
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)

    try:
        with _signals.cleanup_on_stop(remove_partial):
            value = fill(partial)
            with _signals.held():
                if force:
                    os.replace(partial, target)
                else:
                    _link_new(partial, target, _exists(target))
    finally:
        with _signals.held():
            remove_partial()
    return value


def check_file_target(target: str | Path, force: bool) -> None:
    """Raise ``OutputError`` if ``target`` cannot take a file: it is a folder, or it exists
    and ``force`` is not given. Cheap: call it before the work."""
    target = Path(target)
    require_utf8_path(target, OutputError)
    if target.is_dir():
        raise OutputError(f"'{target}' er en mappe. Angiv et filnavn.")
    if target.exists() and not force:
        raise OutputError(_exists(target))


def _exists(target: Path) -> str:
    return (
        f"'{target}' findes allerede. Brug --force for at erstatte filen, eller vælg et andet "
        "filnavn."
    )


def _link_new(partial: Path, target: Path, exists: str) -> None:
    """Put ``partial`` at ``target`` unless a file appeared there meanwhile: a hard link,
    unlike a rename, fails if the name is taken."""
    try:
        os.link(partial, target)
    except FileExistsError:
        raise OutputError(exists) from None
    except OSError:  # a file system without hard links
        if target.exists():
            raise OutputError(exists) from None
        os.replace(partial, target)


def _raise_as_output_error(exc: Exception, target: Path, alternative: str = OTHER_FOLDER) -> None:
    """Raise an ``OutputError`` in Danish if ``exc`` is the operating system refusing to
    write ``target``; otherwise return (the caller re-raises ``exc``)."""
    code = errno_of(exc)
    if isinstance(exc, OutputError) or code is None:
        return
    held = held_open_message(exc, target, alternative)
    if held is not None:  # Windows: a file open in Excel cannot be replaced or deleted
        raise OutputError(held) from exc
    if isinstance(exc, DataError) and code not in _WRITE_ERRNOS:
        return  # a reader wraps what the engine says; only a write can fill the disk
    filename = exc.filename if isinstance(exc, OSError) else None
    if isinstance(filename, str | bytes) and not belongs_to(Path(os.fsdecode(filename)), target):
        return  # e.g. an input file that cannot be read
    raise OutputError(os_error_message(exc, target, writing=True, alternative=alternative)) from exc


def belongs_to(path: Path, target: Path) -> bool:
    """``path`` is ``target``, inside it, a folder it is to be made in, or (inside) one of
    kmf's hidden names next to it."""
    path, target = Path(os.path.abspath(path)), Path(os.path.abspath(target))
    if path == target or target in path.parents or path in target.parents:
        return True
    hidden = f".{target.name}.kmf-"
    return any(
        p.parent == target.parent and p.name.startswith(hidden) for p in (path, *path.parents)
    )


def sibling(target: Path, pid: int, kind: str = "") -> Path:
    """The hidden name next to ``target`` for a run's staging (or aside, trash) folder."""
    return _home(target) / f".{target.name}.kmf-{f'{kind}-' if kind else ''}{pid}"


def _home(target: Path) -> Path:
    """Where the hidden names go: next to ``target``, or inside it if it is a mount point
    (a file cannot be renamed from one file system to another)."""
    return target if os.path.ismount(target) else target.parent


def kmf_files(folder: Path) -> list[str]:
    """Names of the files in ``folder`` that an earlier kmf run wrote: those its manifest
    lists, or, for a manifest without the list, those named like kmf's files."""
    present = {p.name for p in folder.iterdir() if not p.is_dir() or p.is_symlink()}
    if MANIFEST not in present:  # not a folder kmf wrote: only files of the same name go
        return []
    try:
        listed = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))[FILES_KEY]
        if isinstance(listed, list) and all(isinstance(n, str) for n in listed):
            return sorted(present & ({*listed, MANIFEST}))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return sorted(n for n in present if any(fnmatchcase(n, p) for p in KMF_PATTERNS))


def _commit(staging: Path, target: Path, names: list[str]) -> None:
    if not target.exists():
        staging.rename(target)  # one atomic step
        return
    old = sorted({*kmf_files(target), *(n for n in names if os.path.lexists(target / n))})
    aside = sibling(target, os.getpid(), ASIDE)
    aside.mkdir()
    try:
        for name in old:
            os.rename(target / name, aside / name)
        (aside / _NEW_NAMES).write_text("\n".join(names) + "\n", encoding="utf-8", newline="\n")
        for name in names:
            os.rename(staging / name, target / name)
        trash = sibling(target, os.getpid(), TRASH)
        aside.rename(trash)  # the new output stands from here on
    except BaseException:
        # Undo as a later run's remove_leftovers would: the new files out, then the list
        # of them, then the old files back; if that fails too, the next run finishes it.
        with contextlib.suppress(OSError):
            _restore(aside, target)
            aside.rmdir()
        raise
    # what is left is tidying: a file that cannot go now goes with the next run
    shutil.rmtree(trash, ignore_errors=True)
    with contextlib.suppress(OSError):
        staging.rmdir()


_LEFTOVER = re.compile(rf"\.kmf-(?:({ASIDE}|{TRASH})-)?(\d+)(\..+)?")


def remove_leftovers(target: Path, *, locked: bool = True) -> None:
    """Remove the hidden folders and files of earlier runs for ``target`` that were killed
    or failed; where such a run was cut off while swapping files, put the old files back
    first. Call it holding the target's lock (``locked``): every run writes only while it
    holds it, so what is found then is left over. Without the lock (a drive without file
    locks) only the leftovers of processes known to be gone are removed."""
    prefix = f".{target.name}"
    try:
        entries = [p for p in _home(target).iterdir() if p.name.startswith(prefix)]
    except OSError:
        return
    found = []
    for path in entries:
        match = _LEFTOVER.fullmatch(path.name[len(prefix) :])
        if match and (locked or _gone(int(match.group(2)))):
            found.append((match.group(1) or "", path))
    # aside folders first: restoring them needs nothing else
    for kind, path in sorted(found, key=lambda f: f[0] != ASIDE):
        if kind == ASIDE and path.is_dir():
            _restore(path, target)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):  # e.g. held open on Windows: the next run
                path.unlink(missing_ok=True)


def _restore(aside: Path, target: Path) -> None:
    """Undo a swap that was cut off. While the list of new names is in the aside folder,
    every old file of those names is in it too, so the ones in the target are new."""
    listed = aside / _NEW_NAMES
    if listed.is_file():
        for name in listed.read_text(encoding="utf-8").split():
            with contextlib.suppress(FileNotFoundError):
                (target / name).unlink()
        listed.unlink()
    target.mkdir(exist_ok=True)
    for path in aside.iterdir():
        os.replace(path, target / path.name)


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has ended, for leftovers found without the lock. POSIX only:
    on Windows ``os.kill(pid, 0)`` would end the process, so there a leftover is kept (the
    lock works on Windows drives; this path is not tested on Windows)."""
    if pid == os.getpid():
        return True  # an earlier failure of this process: nothing of it is writing now
    if os.name == "nt":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # someone else's process
    return False


@contextlib.contextmanager
def locked(target: Path) -> Iterator[bool]:
    """Hold the lock for writing ``target`` (yields ``True``): another kmf run waits here
    until it is free. The lock is a hidden file next to the target, removed afterwards.
    On a drive that does not lock files, yields ``False`` and the write goes unlocked."""
    from filelock import FileLock  # here: its import costs the light commands time

    path = _home(target) / f".{target.name}.kmf-lock"
    lock = FileLock(path)
    try:
        lock.acquire()
    except OSError as exc:
        if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            raise
        yield False  # a drive without locks: write unlocked, as before locks
        return

    def release() -> None:
        # Remove the file while holding it: a run that waits for it then finds its file
        # gone and locks a new one. (Windows refuses while it is open; filelock removes it
        # there on release.)
        with contextlib.suppress(OSError):
            path.unlink()
        lock.release()

    try:
        with _signals.cleanup_on_stop(lambda: path.unlink(missing_ok=True)):
            yield True
    finally:
        with _signals.held():
            release()
