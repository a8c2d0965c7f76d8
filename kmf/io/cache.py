"""What was read, remembered: per input file its cells of each cut and its sha256, in the
user's cache folder, so that a later command reads only files that are new or changed.

An entry is keyed by the file's path, size, modification time and inode (as git's index
does) and by kmf's version and cell layout; anything else about it (a damaged or partial
entry, another file's, another version's) is ignored and rebuilt, never trusted: each entry
carries the sha256 of its own contents. Entries are written to a temporary file and moved
into place, so two runs at once never see half an entry. The folder is kept below a total
size; the entries used longest ago go first.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from kmf.io.cuts import CUT_COLUMNS, CutKey, partition_key
from kmf.io.hashing import ENTRY_SUFFIX, ENV_FOLDER, entry_name
from kmf.io.hashing import cache_folder as default_folder

#: the total size the folder is kept under
MAX_BYTES = 256 * 2**20
#: bumped whenever the cells stored change meaning or columns
LAYOUT = "celler-1"
_MAGIC = b"KMF-CELLER\n"
_SUFFIX = ENTRY_SUFFIX


@dataclass
class Entry:
    """One input file's cells by cut (``complete``: every cut of the file is there) and
    its sha256."""

    sha256: str | None
    cuts: dict[CutKey, pl.DataFrame] = field(default_factory=dict)
    complete: bool = False


def file_identity(path: Path, layout: Mapping[str, object]) -> dict[str, object]:
    """What an entry is keyed by: the file as the operating system sees it now, kmf's
    version and how the file is read (``layout``)."""
    from kmf._meta import version

    info = path.stat()
    return {
        "sti": str(path.resolve()),
        "stoerrelse": info.st_size,
        "mtime_ns": info.st_mtime_ns,
        "inode": info.st_ino,
        "kmf": version(),
        "layout": LAYOUT,
        **{k: layout[k] for k in sorted(layout)},
    }


class CellCache:
    """The cache folder; ``folder`` None: no cache (``--uden-cache``)."""

    def __init__(self, folder: Path | None, max_bytes: int = MAX_BYTES) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.problem: str | None = None

    @classmethod
    def open(cls, enabled: bool = True) -> CellCache:
        """The user's cache, checked writable; an unwritable folder gives a cache that
        neither reads nor writes, with ``problem`` saying why (in Danish)."""
        if not enabled:
            return cls(None)
        folder = default_folder()
        cache = cls(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=folder, prefix=".proeve-")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            cache.folder = None
            cache.problem = (
                f"Mellemlageret '{folder}' kan ikke bruges ({exc.strerror or exc}); data læses "
                f"uden. Sæt miljøvariablen {ENV_FOLDER} til en mappe, du kan skrive i, eller "
                "brug --uden-cache."
            )
        return cache

    def _path(self, identity: Mapping[str, object]) -> Path:
        assert self.folder is not None
        return self.folder / entry_name(str(identity["sti"]))

    def get(self, identity: Mapping[str, object]) -> Entry | None:
        """The entry for the file, or None where there is none that can be trusted."""
        if self.folder is None:
            return None
        path = self._path(identity)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            entry = _decode(data, identity)
        except Exception:  # a damaged, partial or foreign entry: not trusted
            entry = None
        if entry is not None:
            with contextlib.suppress(OSError):
                os.utime(path)  # used now: evicted last
        return entry

    def put(self, identity: Mapping[str, object], entry: Entry) -> None:
        """Store the entry (atomically); a failure to write is not an error."""
        if self.folder is None:
            return
        target = self._path(identity)
        tmp: str | None = None
        try:
            data = _encode(entry, identity)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".ny-", suffix=_SUFFIX)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
            tmp = None
            self.evict()
        except OSError:
            pass
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    def entries(self) -> list[tuple[Path, int, int]]:
        """(path, size, mtime_ns) of every entry file."""
        if self.folder is None or not self.folder.is_dir():
            return []
        found = []
        for item in os.scandir(self.folder):
            if item.name.endswith(_SUFFIX) and not item.name.startswith("."):
                try:
                    info = item.stat()
                except OSError:
                    continue
                found.append((Path(item.path), info.st_size, info.st_mtime_ns))
        return found

    def size(self) -> tuple[int, int]:
        """(entries, bytes) in the folder."""
        listed = self.entries()
        return len(listed), sum(s for _, s, _ in listed)

    def evict(self) -> None:
        """Delete the entries used longest ago until the folder is below ``max_bytes``, and
        temporary files an interrupted run left (older than an hour)."""
        if self.folder is not None:
            stale = time.time() - 3600
            for item in os.scandir(self.folder):
                with contextlib.suppress(OSError):
                    if item.name.startswith(".ny-") and item.stat().st_mtime < stale:
                        os.unlink(item.path)
        listed = sorted(self.entries(), key=lambda e: e[2])
        total = sum(s for _, s, _ in listed)
        for path, size, _ in listed:
            if total <= self.max_bytes:
                break
            try:
                path.unlink()
            except OSError:  # in use by another run (Windows) or already gone
                continue
            total -= size

    def clear(self) -> int:
        """Delete every entry (and left-over temporary files); the number deleted."""
        if self.folder is None or not self.folder.is_dir():
            return 0
        deleted = 0
        for item in os.scandir(self.folder):
            if item.name.endswith(_SUFFIX) or item.name.startswith((".ny-", ".proeve-")):
                try:
                    os.unlink(item.path)
                    deleted += not item.name.startswith(".")
                except OSError:
                    pass
        return deleted


def _key_text(key: CutKey) -> list[object]:
    return [key[0], key[1], key[2], None if key[3] is None else key[3].isoformat()]


def _encode(entry: Entry, identity: Mapping[str, object]) -> bytes:
    frames = [f for f in entry.cuts.values() if f.height]
    payload = b""
    if frames:
        buffer = io.BytesIO()
        pl.concat(frames).write_ipc(buffer, compression="zstd")
        payload = buffer.getvalue()
    header = {
        "identitet": dict(identity),
        "sha256": entry.sha256,
        "komplet": entry.complete,
        "opgoerelser": [_key_text(k) for k in entry.cuts],
        "laengde": len(payload),
        "indhold_sha256": hashlib.sha256(payload).hexdigest(),
    }
    head = json.dumps(header, sort_keys=True).encode("utf-8")
    return _MAGIC + len(head).to_bytes(8, "little") + head + payload


def _decode(data: bytes, identity: Mapping[str, object]) -> Entry | None:
    if not data.startswith(_MAGIC):
        return None
    start = len(_MAGIC) + 8
    length = int.from_bytes(data[len(_MAGIC) : start], "little")
    header = json.loads(data[start : start + length].decode("utf-8"))
    if header["identitet"] != json.loads(json.dumps(dict(identity))):
        return None  # another file, or this one changed, or another kmf
    payload = data[start + length :]
    if len(payload) != header["laengde"]:
        return None
    if hashlib.sha256(payload).hexdigest() != header["indhold_sha256"]:
        return None
    keys: list[CutKey] = [
        (int(a), str(o), int(t), None if d is None else date.fromisoformat(d))
        for a, o, t, d in header["opgoerelser"]
    ]
    sha = header["sha256"]
    if sha is not None and (not isinstance(sha, str) or len(sha) != 64):
        return None
    entry = Entry(sha, {}, bool(header["komplet"]))
    if payload:
        frame = pl.read_ipc(io.BytesIO(payload))
        parts = frame.partition_by(list(CUT_COLUMNS), as_dict=True, maintain_order=True)
        found = {partition_key(key): part for key, part in parts.items()}
    else:
        found = {}
    if set(found) - set(keys):
        return None  # cells of a cut the header does not name
    for key in keys:
        entry.cuts[key] = found.get(key, pl.DataFrame())
    return entry
