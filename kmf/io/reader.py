"""Reading the activity cut by cut, and remembering what was read.

The reader knows every file's cuts before it decodes a record: a Parquet file's from its
metadata (:mod:`kmf.io.cuts`), any other file's by reading it whole once. A command asks for
the cuts it uses; the reader sums only the row groups of those cuts that it has not summed
before — in this process or, through the cache (:mod:`kmf.io.cache`), in an earlier one.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from kmf import codes
from kmf.io.aggregate import CELL_SCHEMA, Slice, checked, piece_cells
from kmf.io.cache import CellCache, Entry, file_identity
from kmf.io.cuts import CUT_COLUMNS, CutKey, FileCuts, file_cuts, partition_key
from kmf.io.digest import file_sha256
from kmf.io.hashing import adopt, early_started_ns, hash_in_child, release_early
from kmf.io.sources import Piece

#: the records to read per file index (0: not known) → a context giving
#: ``advance(file index, records)``
ProgressFactory = Callable[[dict[int, int]], AbstractContextManager[Callable[[int, int], None]]]
_progress: list[ProgressFactory] = []


@contextlib.contextmanager
def reporting_progress(factory: ProgressFactory) -> Iterator[None]:
    """Within the block, long reads report their progress to ``factory`` (the command line's
    progress bar)."""
    _progress.append(factory)
    try:
        yield
    finally:
        _progress.remove(factory)


@dataclass
class _File:
    piece: Piece
    index: int
    cuts: FileCuts | None  # None: not known from metadata; read whole
    identity: dict[str, object] | None
    entry: Entry
    cached: set[CutKey] = field(default_factory=set)  # cuts taken from the cache
    decoded: bool = False  # records of it summed in this process
    dirty: bool = False  # the entry has cuts the cache has not

    def need(self, wanted: frozenset[CutKey] | None) -> set[CutKey]:
        """The file's cuts a command using ``wanted`` (None: all) holds."""
        if self.cuts is None:
            return set(self.entry.cuts)
        have = set(self.cuts.groups)
        return have if wanted is None else have & wanted


#: a file changed this recently (ns) before it is read is not remembered
RACY_NS = 2_000_000_000

CATALOGUE_SCHEMA: dict[str, Any] = {
    "fil": pl.UInt32,
    "aar": pl.Int16,
    "opgoerelse": codes.Opgoerelse,
    "takstaar": pl.Int16,
    "opgoerelsesdato": pl.Date,
    "rows": pl.Int64,
}


class Reader:
    """The activity files of a dataset, read as far as asked."""

    def __init__(
        self, pieces: list[Piece], age_column: str, cache: CellCache, layout: dict[str, Any]
    ) -> None:
        self.pieces, self.age_column, self.cache = pieces, age_column, cache
        _wait_for_stored()
        # a file's contents may have been read from here on (by the early hashing, before)
        self.started_ns = min(time.time_ns(), early_started_ns() or time.time_ns())
        self._lock = threading.Lock()
        # hashing gives way to the reading: it takes the time the reading leaves (while the
        # tables and figures are written)
        self._hashing = ThreadPoolExecutor(
            max_workers=os.cpu_count() or 2, initializer=_low_priority
        )
        self._digests: dict[Path, Future[str]] = {}
        with ThreadPoolExecutor(max_workers=4) as pool:
            # what the cache knows first, so that the hashing of the rest starts at once
            known = list(pool.map(lambda piece: self._identify(piece, layout), pieces))
            self._known = {p.path: e.sha256 for p, (_, e) in zip(pieces, known, strict=True)
                           if p.path is not None and e is not None and e.sha256}  # fmt: skip
            self.hash_files()
            self.files = list(pool.map(self._open, range(len(pieces)), pieces, known))

    def _identify(
        self, piece: Piece, layout: dict[str, Any]
    ) -> tuple[dict[str, object] | None, Entry | None]:
        """The file's identity and its entry in the cache, if any."""
        if piece.path is None or self.cache.folder is None:
            return None, None
        own = {**layout, "decimal": piece.decimal, "separator": piece.separator,
               "encoding": piece.encoding, "hive": [list(h) for h in piece.hive],
               "sheet": piece.sheet}  # fmt: skip
        try:
            identity = file_identity(piece.path, own)
        except OSError:
            return None, None
        return identity, self.cache.get(identity)

    def _open(
        self, index: int, piece: Piece, known: tuple[dict[str, object] | None, Entry | None]
    ) -> _File:
        cuts: FileCuts | None = None
        if piece.fmt == "parquet":
            import pyarrow.parquet as pq

            try:
                cuts = file_cuts(piece, pq.read_metadata(piece.file))
            except Exception:  # unreadable: the whole read reports it
                cuts = None
        identity, entry = known
        if entry is not None and cuts is not None and not set(entry.cuts) <= set(cuts.groups):
            entry = None  # cuts the file does not hold: not this file's entry, nor its sha256
            with self._lock:
                self._known.pop(piece.path, None)  # type: ignore[arg-type]
                self._digests[piece.path] = self._hash(piece.path)  # type: ignore[index,arg-type]
        file = _File(piece, index, cuts, identity, entry or Entry(None))
        file.cached = set(file.entry.cuts)
        if cuts is None and not file.entry.complete:
            file.entry.cuts, file.cached = {}, set()
        return file

    def hash_files(self, extra: Iterable[Path | None] = ()) -> None:
        """Start hashing the files whose sha256 the cache does not know (in a thread, while
        the records are read)."""
        known = self._known
        paths = [p.path for p in self.pieces] + list(extra)
        todo: list[Path] = []
        for path in dict.fromkeys(paths):
            if path is None or path in self._digests:
                continue
            if path in known:
                self._digests[path] = Future()
                self._digests[path].set_result(known[path])
            elif (early := adopt(path, self._hash)) is not None:
                self._digests[path] = early  # begun before the imports (kmf.io.hashing)
            else:
                todo.append(path)
        release_early([self._digests[p] for p in self._digests])
        futures = hash_in_child(todo, self._hash)  # None: threads here hash them
        self._digests.update(futures or {path: self._hash(path) for path in todo})

    def _hash(self, path: Path) -> Future[str]:
        return self._hashing.submit(file_sha256, path)

    def sha256(self, path: Path | None) -> str | None:
        future = self.digest(path)
        return None if future is None else future.result()

    def digest(self, path: Path | None) -> Future[str] | None:
        """The file's sha256 as a future (started if it was not)."""
        if path is None:
            return None
        if path not in self._digests:
            self.hash_files([path])
        return self._digests[path]

    def ensure(self, wanted: frozenset[CutKey] | None) -> None:
        """Sum what a command using the cuts ``wanted`` (None: all) needs and has not been
        summed yet: the missing cuts of files known by cut, unknown files whole."""
        items: list[tuple[int, Piece, list[Slice] | None]] = []
        expected: dict[int, int] = {}
        for f in self.files:
            if f.cuts is None:
                if not f.entry.complete:
                    items.append((f.index, f.piece, None))
                    expected[f.index] = 0  # not known before it is read
                continue
            missing = sorted(f.need(wanted) - set(f.entry.cuts), key=_order)
            if missing:
                slices = [(k, f.cuts.groups[k], f.cuts.constants[k]) for k in missing]
                items.append((f.index, f.piece, slices))
                expected[f.index] = sum(f.cuts.rows[k] for k in missing)
        if not items:
            return
        with self._progress(expected) as advance:
            frames = piece_cells(items, self.age_column, advance)
        # bad values stop here, before anything of them is remembered
        checked(list(frames.values()), self.pieces, self.age_column)
        for index, frame in frames.items():
            f = self.files[index]
            f.decoded = f.dirty = True
            cells = frame.drop("fil")
            for key, part in _by_cut(cells).items():
                f.entry.cuts[key] = part
            f.entry.complete = f.cuts is None or set(f.entry.cuts) >= set(f.cuts.groups)

    def _progress(
        self, expected: dict[int, int]
    ) -> AbstractContextManager[Callable[[int, int], None] | None]:
        if not _progress:
            return contextlib.nullcontext(None)
        return _progress[-1](expected)

    def catalogue(self) -> pl.DataFrame:
        """Every cut of every file with its records: from metadata, or from the cells of a
        file read whole."""
        rows: list[tuple[object, ...]] = []
        for f in self.files:
            if f.cuts is not None:
                rows += [(f.index, *key, n) for key, n in f.cuts.rows.items()]
            else:
                rows += [(f.index, *key, int(part["rows"].sum()))
                         for key, part in f.entry.cuts.items()]  # fmt: skip
        frame = pl.DataFrame(rows, schema=CATALOGUE_SCHEMA, orient="row")
        return frame.sort("fil", *CUT_COLUMNS)

    def rows_of(self, index: int) -> int:
        f = self.files[index]
        if f.cuts is not None:
            return f.cuts.total
        return sum(int(part["rows"].sum()) for part in f.entry.cuts.values())

    def cells(self, wanted: frozenset[CutKey] | None) -> tuple[pl.DataFrame, int]:
        """The cells of the cuts ``wanted`` (None: all) per file, in kroner, and the psykiatri
        records moved."""
        parts = []
        for f in self.files:
            for key in sorted(f.need(wanted), key=_order):
                part = f.entry.cuts.get(key)
                if part is not None and part.height:
                    parts.append(part.with_columns(pl.lit(f.index, dtype=pl.UInt32).alias("fil")))
        frames = [_typed(p) for p in parts]
        return checked(frames, self.pieces, self.age_column)

    def from_cache(self, index: int, wanted: frozenset[CutKey] | None) -> bool | None:
        """Whether the file's cells a command holds all came from the cache (None: it holds
        none of them)."""
        f = self.files[index]
        need = f.need(wanted)
        if not need:
            return None
        return not f.decoded and need <= f.cached

    def remember(self) -> None:
        """Write what was summed to the cache, with each file's sha256, as soon as the file
        is hashed (the command goes on meanwhile; the hashing threads are waited for before
        the process ends).

        A file changed less than RACY_NS before it was read is not remembered: a change
        within the same tick of the file system's clock would keep its size and time, and
        the entry would be trusted for other contents (git's "racily clean" files)."""
        for f in self.files:
            if f.identity is None or f.piece.path is None:
                continue
            if int(f.identity["mtime_ns"]) > self.started_ns - RACY_NS:  # type: ignore[call-overload]
                continue
            # what is known now, and not what a later read of the same reader adds
            entry = Entry(f.entry.sha256, dict(f.entry.cuts), f.entry.complete)
            dirty, f.dirty = f.dirty, False
            future = self.digest(f.piece.path)
            assert future is not None
            stored: Future[None] = Future()
            with _lock:
                _storing[stored] = future
            future.add_done_callback(functools.partial(self._put, f, entry, dirty, stored))

    def _put(self, f: _File, entry: Entry, dirty: bool, stored: Future[None],
             done: Future[str]) -> None:  # fmt: skip
        try:
            if done.exception() is None:  # unreadable: the command needing the digest says so
                sha = done.result()
                if dirty or entry.sha256 != sha:
                    entry.sha256 = f.entry.sha256 = sha
                    self.cache.put(f.identity, entry)  # type: ignore[arg-type]
        finally:
            stored.set_result(None)
            with _lock:
                _storing.pop(stored, None)


#: entries being written once their file is hashed (with the hashing); a new reader waits
#: for them, so that one process reads what it has just remembered
_storing: dict[Future[None], Future[str]] = {}
_lock = threading.Lock()


@atexit.register
def _finish_storing() -> None:
    """At exit, the entries of files that are hashed are written to the end (the hashing
    threads are daemons); a file still being hashed is not waited for."""
    with _lock:
        writing = [stored for stored, digest in _storing.items() if digest.done()]
    wait(writing, timeout=30)


def _low_priority() -> None:
    """This thread at the lowest scheduling priority, where the system has thread
    priorities that an ordinary user may lower (Linux); elsewhere unchanged."""
    if hasattr(os, "setpriority") and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


def _wait_for_stored() -> None:
    with _lock:
        pending = list(_storing)
    wait(pending)


def _order(key: CutKey) -> tuple[object, ...]:
    return (key[0], key[1], key[2], key[3] is not None, key[3])


def _by_cut(cells: pl.DataFrame) -> dict[CutKey, pl.DataFrame]:
    if cells.is_empty():
        return {}
    parts = cells.partition_by(list(CUT_COLUMNS), as_dict=True, maintain_order=True)
    return {partition_key(key): part for key, part in parts.items()}


def _typed(frame: pl.DataFrame) -> pl.DataFrame:
    """A file's cells with the columns and types the checks expect (a cached entry's
    columns are read back as stored)."""
    return frame.select(pl.col(name).cast(kind) for name, kind in CELL_SCHEMA.items())
