"""The bundled sample: synthetic national data for budget year 2018 (``kmf/data/sample/``,
see its README).

Its activity, 70.000 records in 42 cuts, is a 5 MB CSV file: too big to keep in the package,
but the format a user opens to see what kmf reads. So the package holds it packed
(``kmf/data/eksempel_aktivitet.parquet``, every value as the text it has in the CSV file,
0,7 MB), and the first use unpacks it, byte for byte the CSV file it was packed from, into a
folder of its own in the temporary folder (``kmf-eksempel-<digest>``; unpacked again if the
system has cleaned it away)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import polars as pl

from kmf.errors import DataError

#: the packed activity, next to the sample's folder in ``kmf/data``
PACKED = "eksempel_aktivitet.parquet"


def pack(csv: Path, packed: Path) -> None:
    """The CSV file ``csv`` as ``packed``: every value as its text, so :func:`unpack` gives
    the same bytes back (``data/pack_sample.py``)."""
    frame = pl.read_csv(csv, infer_schema_length=0)
    frame.write_parquet(packed, compression="zstd", compression_level=22)


def unpack(packed: Path, csv: Path) -> None:
    pl.read_parquet(packed).write_csv(csv)


def sample_dataset() -> Path:
    """The bundled sample's folder, unpacked on first use (see the module's docstring)."""
    located = _located()
    if located is None:
        raise DataError(
            "Der er ikke noget eksempeldatasæt i denne installation. Angiv et datasæt: "
            "kmf beregn MAPPE --out RESULTATMAPPE."
        )
    source, packed, target = located
    if (target / "aktivitet.csv").is_file():
        return target
    try:
        return _unpacked(source, packed, target)
    except OSError as exc:
        raise DataError(
            f"Eksempeldatasættet kan ikke pakkes ud i {target.parent}: {exc.strerror}. "
            "Sæt miljøvariablen TMP (Windows) eller TMPDIR til en mappe, du kan skrive i, og "
            "prøv igen."
        ) from None


def is_sample(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is the bundled sample's folder (without unpacking it)."""
    located = _located()
    return located is not None and Path(path).resolve() == located[2].resolve()


def _located() -> tuple[Path, Path, Path] | None:
    """The sample's files in the package, its packed activity and the folder it is unpacked
    in (named by a digest of them all, so a new version is unpacked anew); None where this
    installation has no sample."""
    from importlib import resources

    data = Path(str(resources.files("kmf").joinpath("data")))
    source, packed = data / "sample", data / PACKED
    if not (source / "budget.csv").is_file() or not packed.is_file():
        return None
    parts = [packed, *sorted(p for p in source.iterdir() if p.is_file())]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()[:16]
    return source, packed, Path(tempfile.gettempdir()) / f"kmf-eksempel-{digest}"


def _unpacked(source: Path, packed: Path, target: Path) -> Path:
    """``source``'s files and the unpacked activity in ``target``, all at once: written in a
    folder beside it and renamed, so two runs at once never see half a sample."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".eksempel-", dir=target.parent))
    try:
        for part in source.iterdir():
            if part.is_file():
                shutil.copy2(part, staging / part.name)
        unpack(packed, staging / "aktivitet.csv")
        try:
            os.replace(staging, target)
        except OSError:  # another run was first (a folder is not replaced)
            if not (target / "aktivitet.csv").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
