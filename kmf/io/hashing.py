"""Hashing input files in a process of its own (:mod:`kmf.io.hash_child`), and starting it
early: a data command calls :func:`start_early` first thing, before polars and the rest are
imported, so that the hashing has the core the imports leave idle. Only the standard
library here (``kmf.io`` imports its modules when they are asked for).

The early hashing is a guess at what the reading will want (the data files of the dataset
folder whose sha256 the cache does not seem to know). The reader adopts what it wants
(:func:`adopt`) and hashes the rest itself; once the adopted files are hashed, or if none
were, the early process is ended. The sha256 shown never depends on the guess.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path

#: from this many bytes to hash on, they are hashed in a process of its own (hash_child.py);
#: below, a process would take longer to start than the threads of this one take
CHILD_BYTES = 256 << 20
_CHILD = Path(__file__).with_name("hash_child.py")

#: environment variable naming another cache folder
ENV_FOLDER = "KMF_CACHE"
#: the file name ending of a cache entry
ENTRY_SUFFIX = ".kmfc"
#: the files a data folder's reading may use
DATA_SUFFIXES = frozenset({".parquet", ".csv", ".tsv", ".txt", ".xlsx", ".toml"})


def cache_folder() -> Path:
    """``KMF_CACHE`` where set, else the user's cache folder (platformdirs)."""
    given = os.environ.get(ENV_FOLDER)
    if given:
        return Path(given)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("kmf", appauthor=False)) / "celler"


def entry_name(resolved: str) -> str:
    """The name of the cache entry of the file at ``resolved`` (its resolved path)."""
    return hashlib.sha256(resolved.encode("utf-8")).hexdigest()[:40] + ENTRY_SUFFIX


def hash_in_child(
    paths: Sequence[Path], fallback: Callable[[Path], Future[str]]
) -> dict[Path, Future[str]] | None:
    """The files' sha256 as futures, computed in a process of its own at the lowest priority
    (:mod:`kmf.io.hash_child`); ``None`` if they are less than CHILD_BYTES in all, or no
    such process can be started. A file the
    process cannot read, that is not the file it was when the hashing started (size, time
    or file number), and every file left when the process ends early, is hashed by
    ``fallback`` instead (which names the file in its error).

    The thread reading the answers is a daemon: a command that ends without the digests
    does not wait for them, and the process is ended when Python exits or the command is
    stopped (an ``atexit`` function, which :mod:`kmf._signals` runs before it exits)."""
    launched = _launch([(path, _stamp_of(path)) for path in paths], fallback)
    return None if launched is None else launched[0]


#: (size, modification time in ns, file number) of a file
Stamp = tuple[int, int, int]
_NO_STAMP: Stamp = (-1, -1, -1)

#: the early hashing's futures by resolved path, with the file's stamp when it started
_early: dict[str, tuple[Stamp, Future[str]]] = {}
_early_end: list[Callable[[], None]] = []
_early_ns: list[int] = []


def start_early(dataset: Path | None, cache: bool) -> None:
    """Start hashing the activity files of the dataset folder ``dataset`` whose sha256 the
    cache does not seem to know (no entry newer than the file; with ``cache`` False, all),
    if they are large enough for a process of its own. Nothing is said if it fails: the
    reading hashes what it needs itself."""
    now = time.time_ns()
    try:
        if dataset is None or not dataset.is_dir():
            return
        if (dataset / "aktivitet.parquet").is_file():
            candidates = [dataset / "aktivitet.parquet"]
        else:
            candidates = sorted((dataset / "aktivitet").rglob("*.parquet"))
        folder = cache_folder() if cache else None
        picked: list[tuple[Path, Stamp]] = []
        for path in candidates:
            info = path.stat()
            if folder is None or not _seems_known(folder, path, info):
                picked.append((path, _stamp(info)))
        launched = _launch(picked, _not_here)
    except (OSError, ValueError, RuntimeError):  # ValueError: a path that is not UTF-8
        return
    if launched is None:
        return
    futures, end = launched
    _early_end.append(end)
    _early_ns.append(now)
    for path, stamp in picked:
        _early[str(path.resolve())] = (stamp, futures[path])


def early_started_ns() -> int | None:
    """When the early hashing still to be adopted began (``time.time_ns``), if it did: a
    file's contents may have been read from then on."""
    return min(_early_ns) if _early and _early_ns else None


def adopt(path: Path, hash_here: Callable[[Path], Future[str]]) -> Future[str] | None:
    """The early hashing's future of ``path`` if the file is as it was when that started
    (a file it cannot read is hashed by ``hash_here``); ``None`` if it was not started."""
    try:
        key = str(path.resolve())
        stamp = _stamp(path.stat())
    except OSError:
        return None
    started = _early.pop(key, None)
    if started is None or started[0] != stamp:
        return None
    future: Future[str] = Future()

    def settle(done: Future[str]) -> None:
        if done.exception() is None:
            future.set_result(done.result())
        else:
            _fall_back(hash_here, path, future)

    started[1].add_done_callback(settle)
    return future


def release_early(adopted: Sequence[Future[str]]) -> None:
    """The reader has taken what it wants: end the early hashing once ``adopted`` are
    hashed (at once, if none were)."""
    ends, _early_end[:] = list(_early_end), []
    _early.clear()
    _early_ns.clear()
    if not ends:
        return

    def end_when_all_done(_: object = None) -> None:
        if all(f.done() for f in adopted):  # ending twice does no harm
            for end in ends:
                end()

    end_when_all_done()
    for f in adopted:
        f.add_done_callback(end_when_all_done)


def _stamp(info: os.stat_result) -> Stamp:
    return (info.st_size, info.st_mtime_ns, info.st_ino)


def _stamp_of(path: Path) -> Stamp:
    try:
        return _stamp(path.stat())
    except OSError:
        return _NO_STAMP  # the hashing process will not match it: the fallback names it


def _seems_known(folder: Path, path: Path, info: os.stat_result) -> bool:
    """A cache entry for the file newer than it: the reading will likely find its sha256."""
    try:
        entry = (folder / entry_name(str(path.resolve()))).stat()
    except OSError:
        return False
    return entry.st_mtime_ns >= info.st_mtime_ns


def _not_here(path: Path) -> Future[str]:
    future: Future[str] = Future()
    future.set_exception(LookupError(str(path)))
    return future


def _launch(
    files: Sequence[tuple[Path, Stamp]], fallback: Callable[[Path], Future[str]]
) -> tuple[dict[Path, Future[str]], Callable[[], None]] | None:
    """Start the hashing process; its futures and a function that ends it. ``None`` below
    CHILD_BYTES (a process would take longer to start than threads take to hash)."""
    if sum(max(stamp[0], 0) for _, stamp in files) < CHILD_BYTES:
        return None
    if not sys.executable or not _CHILD.is_file():
        return None
    flags = getattr(subprocess, "IDLE_PRIORITY_CLASS", 0)  # Windows; os.nice elsewhere
    try:
        child = subprocess.Popen(
            [sys.executable, "-I", str(_CHILD)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            creationflags=flags,
        )  # fmt: skip
    except (OSError, ValueError):
        return None
    stop = functools.partial(_end, child)  # its own object, to unregister this one only
    atexit.register(stop)
    assert child.stdin is not None and child.stdout is not None
    try:
        with child.stdin:
            child.stdin.write(json.dumps([str(p) for p, _ in files]).encode("ascii"))
    except OSError:
        stop()
        atexit.unregister(stop)
        return None
    futures = {path: Future[str]() for path, _ in files}
    answers = [(path, stamp, futures[path]) for path, stamp in files]
    threading.Thread(
        target=_answers, args=(child, stop, answers, fallback), name="kmf-sha256", daemon=True
    ).start()
    return futures, stop


def _answers(
    child: subprocess.Popen[bytes],
    stop: Callable[[], None],
    files: list[tuple[Path, Stamp, Future[str]]],
    fallback: Callable[[Path], Future[str]],
) -> None:
    """Set each future as the child answers, where the file it hashed is the file as it was
    when the hashing started; the rest goes to ``fallback``."""
    assert child.stdout is not None
    with child.stdout:
        for line in child.stdout:
            index, sha, *hashed = line.decode("ascii", "replace").split() or ["-", "-"]
            with contextlib.suppress(ValueError, IndexError):
                path, stamp, future = files[int(index)]
                if len(sha) == 64 and tuple(map(int, hashed)) == stamp and not future.done():
                    future.set_result(sha)
    child.wait()
    atexit.unregister(stop)
    for path, _, future in files:
        if not future.done():
            _fall_back(fallback, path, future)


def _fall_back(hash_here: Callable[[Path], Future[str]], path: Path, target: Future[str]) -> None:
    """``target`` from ``hash_here(path)``; if that cannot even start (Python is shutting
    down), its error."""
    try:
        source = hash_here(path)
    except Exception as exc:
        if not target.done():
            target.set_exception(exc)
        return

    def copy(done: Future[str]) -> None:
        error = done.exception()
        if error is not None:
            target.set_exception(error)
        else:
            target.set_result(done.result())

    source.add_done_callback(copy)


def _end(child: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(OSError):
        if child.poll() is None:
            child.kill()
