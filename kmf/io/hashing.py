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
from collections.abc import Callable, Sequence
from concurrent.futures import Future, wait
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
    (:mod:`kmf.io.hash_child`); ``None`` if no such process can be started. A file the
    process cannot read, and every file left when it ends early, is hashed by
    ``fallback`` instead (which names the file in its error).

    The process is waited for when Python exits (the thread reading its answers is not a
    daemon), and ended at once when the command is stopped (an ``atexit`` function, which
    :mod:`kmf._signals` runs before it exits)."""
    launched = _launch(paths, fallback, daemon=False)
    return None if launched is None else launched[0]


#: the early hashing's futures by resolved path, with the size and time they were started for
_early: dict[str, tuple[tuple[int, int], Future[str]]] = {}
_early_end: list[Callable[[], None]] = []


def start_early(dataset: Path | None, cache: bool) -> None:
    """Start hashing the activity files of the dataset folder ``dataset`` whose sha256 the
    cache does not seem to know (no entry newer than the file; with ``cache`` False, all),
    if they are large enough for a process of its own. Nothing is said if it fails: the
    reading hashes what it needs itself."""
    try:
        if dataset is None or not dataset.is_dir():
            return
        if (dataset / "aktivitet.parquet").is_file():
            candidates = [dataset / "aktivitet.parquet"]
        else:
            candidates = sorted((dataset / "aktivitet").rglob("*.parquet"))
        folder = cache_folder() if cache else None
        picked: list[tuple[Path, os.stat_result]] = []
        for path in candidates:
            info = path.stat()
            if folder is None or not _seems_known(folder, path, info):
                picked.append((path, info))
        if sum(info.st_size for _, info in picked) < CHILD_BYTES:
            return
        launched = _launch([path for path, _ in picked], _not_here, daemon=True)
    except (OSError, ValueError, RuntimeError):  # ValueError: a path that is not UTF-8
        return
    if launched is None:
        return
    futures, end = launched
    _early_end.append(end)
    for path, info in picked:
        _early[str(path.resolve())] = ((info.st_size, info.st_mtime_ns), futures[path])


def adopt(path: Path, hash_here: Callable[[Path], Future[str]]) -> Future[str] | None:
    """The early hashing's future of ``path`` if the file is as it was when that started
    (a file it cannot read is hashed by ``hash_here``); ``None`` if it was not started."""
    try:
        key = str(path.resolve())
        info = path.stat()
    except OSError:
        return None
    started = _early.pop(key, None)
    if started is None or started[0] != (info.st_size, info.st_mtime_ns):
        return None
    future: Future[str] = Future()

    def settle(done: Future[str]) -> None:
        if done.exception() is None:
            future.set_result(done.result())
        else:
            _chain(hash_here(path), future)

    started[1].add_done_callback(settle)
    return future


def release_early(adopted: Sequence[Future[str]]) -> None:
    """The reader has taken what it wants: end the early hashing once ``adopted`` are
    hashed (at once, if none were)."""
    ends, _early_end[:] = list(_early_end), []
    _early.clear()
    if not ends:
        return
    pending = [f for f in adopted if not f.done()]
    if not pending:
        for end in ends:
            end()
        return
    # the early process's thread is a daemon: Python would not wait for it, and the
    # reader's cache entries are written as the files are hashed
    atexit.register(_wait_unless_stopped, pending)
    left = [len(pending)]
    lock = threading.Lock()

    def one_done(_: Future[str]) -> None:
        with lock:
            left[0] -= 1
            last = left[0] == 0
        if last:
            for end in ends:
                end()

    for f in pending:
        f.add_done_callback(one_done)


def _wait_unless_stopped(pending: list[Future[str]]) -> None:
    """At exit: wait for the adopted files' sha256, unless the command is being stopped."""
    from kmf import _signals

    if not _signals.stopping():
        wait(pending)


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
    paths: Sequence[Path], fallback: Callable[[Path], Future[str]], daemon: bool
) -> tuple[dict[Path, Future[str]], Callable[[], None]] | None:
    """Start the hashing process; its futures and a function that ends it."""
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
    assert child.stdin is not None and child.stdout is not None
    try:
        with child.stdin:
            child.stdin.write(json.dumps([str(p) for p in paths]).encode("ascii"))
    except OSError:
        _end(child)
        return None
    futures = {path: Future[str]() for path in paths}
    stop = functools.partial(_end, child)  # its own object, to unregister this one only
    atexit.register(stop)
    threading.Thread(
        target=_answers, args=(child, stop, list(futures.items()), fallback),
        name="kmf-sha256", daemon=daemon,
    ).start()  # fmt: skip
    return futures, stop


def _answers(
    child: subprocess.Popen[bytes],
    stop: Callable[[], None],
    futures: list[tuple[Path, Future[str]]],
    fallback: Callable[[Path], Future[str]],
) -> None:
    """Set each future as the child answers; what it cannot answer goes to ``fallback``."""
    assert child.stdout is not None
    with child.stdout:
        for line in child.stdout:
            index, _, sha = line.decode("ascii", "replace").strip().partition(" ")
            with contextlib.suppress(ValueError, IndexError):
                path, future = futures[int(index)]
                if len(sha) == 64 and not future.done():
                    future.set_result(sha)
    child.wait()
    atexit.unregister(stop)
    for path, future in futures:
        if not future.done():
            _chain(fallback(path), future)


def _chain(source: Future[str], target: Future[str]) -> None:
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
