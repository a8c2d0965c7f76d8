"""Which cut each part of an input file holds, from the file's metadata alone.

A cut is (aar, opgoerelse, takstaar, opgoerelsesdato). A Parquet file's row group holds one
cut where its hive keys, or its statistics (min = max, no nulls), give each of those columns
one value; a file whose every row group is known so can be read cut by cut — the row groups
of cuts a command does not use are counted from the footer, never decoded. Anything else (a
CSV file, a workbook sheet, a row group without statistics, a value that is not a valid code)
leaves the file unknown, and it is read whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl

from kmf import codes
from kmf.io.schema import normalise_names

if TYPE_CHECKING:
    import pyarrow.parquet as pq

    from kmf.io.sources import Piece

#: (aar, opgoerelse, takstaar, opgoerelsesdato or None)
CutKey = tuple[int, str, int, date | None]

CUT_COLUMNS = ("aar", "opgoerelse", "takstaar", "opgoerelsesdato")
# a null date does not join: undated cuts are joined on this day instead
NO_DATE = date(1, 1, 1)


@dataclass(frozen=True)
class FileCuts:
    """The cuts of one Parquet file by row group: ``groups`` maps a cut to its row groups,
    ``rows`` to its number of records, and ``constants`` to the raw values of the cut
    columns the file has (as the columnar path takes them)."""

    total: int
    groups: Mapping[CutKey, tuple[int, ...]]
    rows: Mapping[CutKey, int]
    constants: Mapping[CutKey, Mapping[str, object]]


def file_cuts(piece: Piece, metadata: pq.FileMetaData) -> FileCuts | None:
    """The file's cuts by row group, or ``None`` where the metadata do not tell them all."""
    names = normalise_names(metadata.schema.names)
    index_of = {name: i for i, name in enumerate(names)}
    if len(index_of) != len(names) or "aar" not in {*index_of, *dict(piece.hive)}:
        return None
    hive = {k: v for k, v in piece.hive if k in CUT_COLUMNS and k not in index_of}
    groups: dict[CutKey, list[int]] = {}
    rows: dict[CutKey, int] = {}
    constants: dict[CutKey, dict[str, object]] = {}
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        if group.num_rows == 0:
            continue
        raw: dict[str, object] = dict(hive)
        for column in CUT_COLUMNS:
            if column not in index_of:
                continue
            stats = group.column(index_of[column]).statistics
            if stats is None or not stats.has_min_max or stats.null_count != 0:
                return None
            if stats.min != stats.max:
                return None
            raw[column] = stats.min
        key = cut_key(raw)
        if key is None:
            return None
        groups.setdefault(key, []).append(g)
        rows[key] = rows.get(key, 0) + group.num_rows
        constants[key] = raw
    return FileCuts(metadata.num_rows, {k: tuple(v) for k, v in groups.items()}, rows, constants)


def cut_key(raw: Mapping[str, object]) -> CutKey | None:
    """The cut the raw values name, as the general path would read them; ``None`` where a
    value is not plainly valid (the general path then reads the file and says why)."""
    aar = _year(raw.get("aar"))
    opgoerelse = raw.get("opgoerelse")
    if isinstance(opgoerelse, bytes):
        opgoerelse = opgoerelse.decode("utf-8", "replace")
    if aar is None or not isinstance(opgoerelse, str):
        return None
    opgoerelse = opgoerelse.strip()
    if opgoerelse not in codes.CUT_LABELS:
        return None
    takstaar = _year(raw["takstaar"]) if "takstaar" in raw else aar
    if takstaar is None:
        return None
    dato = raw.get("opgoerelsesdato")
    if dato is not None and (not isinstance(dato, date) or type(dato) is not date):
        return None
    return aar, opgoerelse, takstaar, dato


def _year(value: object) -> int | None:
    if isinstance(value, bytes | str):
        text = value.decode() if isinstance(value, bytes) else value
        return int(text) if text.isdigit() and len(text) == 4 else None
    if isinstance(value, int) and not isinstance(value, bool) and 1000 <= value <= 9999:
        return value
    return None


def keys_frame(keys: Iterable[CutKey]) -> pl.DataFrame:
    """Cut keys as a frame to join on (``_dato``: the date, or NO_DATE where undated)."""
    listed = list(keys)
    return pl.DataFrame(
        {
            "aar": pl.Series([k[0] for k in listed], dtype=pl.Int16),
            "opgoerelse": pl.Series([k[1] for k in listed], dtype=codes.Opgoerelse),
            "takstaar": pl.Series([k[2] for k in listed], dtype=pl.Int16),
            "_dato": pl.Series([k[3] or NO_DATE for k in listed], dtype=pl.Date),
        }
    )


def only_cuts(frame: pl.DataFrame, keys: Iterable[CutKey]) -> pl.DataFrame:
    """The rows of ``frame`` (with the cut columns) that belong to the cuts ``keys``."""
    dated = frame.with_columns(pl.col("opgoerelsesdato").fill_null(NO_DATE).alias("_dato"))
    on = ["aar", "opgoerelse", "takstaar", "_dato"]
    return dated.join(keys_frame(keys), on=on, how="semi").drop("_dato")


def keys_of(frame: pl.DataFrame) -> set[CutKey]:
    """The cuts present in a frame with the cut columns."""
    found = frame.select(CUT_COLUMNS).unique()
    return {(int(a), str(o), int(t), d) for a, o, t, d in found.iter_rows()}


def partition_key(key: tuple[Any, ...]) -> CutKey:
    """A partition's key (aar, opgoerelse, takstaar, opgoerelsesdato) as a cut key, typed
    here: polars' own types of it vary by version."""
    aar, opgoerelse, takstaar, dato = key
    return (int(aar), str(opgoerelse), int(takstaar), dato)
