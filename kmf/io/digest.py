"""The sha256 of an input file, and a dataclass field that may hold it while it is still
being computed (the manifest waits for it only where it shows it)."""

from __future__ import annotations

import hashlib
from concurrent.futures import Future
from pathlib import Path

from kmf.errors import DataError, os_error_message


def file_sha256(path: Path) -> str:
    """The file's sha256; a file that cannot be read is a ``DataError`` naming it (the
    digest may be read long after the records, outside :func:`reading_errors`)."""
    try:
        with path.open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        raise DataError(os_error_message(exc, exc.filename or str(path))) from None


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
