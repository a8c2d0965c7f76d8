"""The sha256 of an input file, and a dataclass field that may hold it while it is still
being computed (the manifest waits for it only where it shows it)."""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path

from kmf.errors import DataError, os_error_message

#: from this many bytes to hash on, they are hashed in a process of its own (hash_child.py);
#: below, a process would take longer to start than the threads of this one take
CHILD_BYTES = 256 << 20
_CHILD = Path(__file__).with_name("hash_child.py")


def file_sha256(path: Path) -> str:
    """The file's sha256; a file that cannot be read is a ``DataError`` naming it (the
    digest may be read long after the records, outside :func:`reading_errors`)."""
    try:
        with path.open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        raise DataError(os_error_message(exc, exc.filename or str(path))) from None


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
        name="kmf-sha256",
    ).start()  # fmt: skip
    return futures


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


class Digest:
    """A dataclass field holding a sha256 that may still be computed in a thread: set, it
    takes the hex digest, ``None`` or a ``Future`` of the digest; read, it waits for the
    future. A command can so write its tables and figures while the files are hashed, and
    waits only where the digest is shown (the manifest, "Om kørslen").

    Installed on a dataclass (``Digest.install(cls)``) after it is made, so that the field
    stays an ordinary ``str | None`` field to dataclasses and type checkers."""

    def __init__(self, name: str) -> None:
        self._name = f"_{name}"

    def __get__(self, obj: object | None, objtype: type | None = None) -> object:
        if obj is None:
            return self
        value = obj.__dict__[self._name]
        if isinstance(value, Future):
            value = value.result()
            obj.__dict__[self._name] = value
        return value

    def __set__(self, obj: object, value: str | Future[str] | None) -> None:
        obj.__dict__[self._name] = value

    @classmethod
    def install(cls, owner: type, name: str = "sha256") -> None:
        setattr(owner, name, cls(name))

        def __getstate__(self: object) -> dict[str, object]:
            """Pickled or copied, with the digest (a future cannot be)."""
            getattr(self, name)
            return dict(self.__dict__)

        setattr(owner, "__getstate__", __getstate__)  # noqa: B010 (a method set on a class)

    @staticmethod
    def pending(obj: object, name: str = "sha256") -> str | None:
        """The field's value as set, without waiting (a future passes through as is)."""
        return obj.__dict__[f"_{name}"]
