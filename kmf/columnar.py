"""Sum a Parquet file's activity records into cells on small integer codes.

The common case — a Parquet file whose year, cut and price year are the same in every row
(files written one per cut), with integer kommunekoder and ages and dictionary-encoded
text — is summed here without decoding the text: pyarrow reads each batch with its
dictionaries, the kommunekode, the age and the area become small integer codes through
lookup tables, and numpy adds the two amounts per code (``bincount``). Files are summed in
parallel; memory stays at a batch per worker.

Anything unusual — a null, a value outside the lookup tables, another column type, a year
that varies within the file — makes :func:`sum_file` return ``None``, and the caller takes
the general path (:mod:`kmf.io`), which checks every value and names the offending rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from kmf import codes

BATCH_ROWS = 1 << 20

_KOMMUNER = sorted(codes.kommune_codes())
_KOMMUNE_INDEX = np.full(max(_KOMMUNER) + 1, -1, dtype=np.int64)
_KOMMUNE_INDEX[_KOMMUNER] = np.arange(len(_KOMMUNER))

# whole years 0..MAX_AGE → index of the age group; each group is written back as its
# youngest age, which maps to the same group downstream
_UPPER = [upper for upper, _ in codes.AGE_BOUNDS]
_AGE_BY_YEAR = np.searchsorted(_UPPER, np.arange(codes.MAX_AGE + 1))
_YOUNGEST = [0] + [upper + 1 for upper in _UPPER[:-1]]

_AREAS = list(codes.AREAS)
_GROUPS = list(codes.AGE_GROUPS)


def sum_file(
    path: Path,
    metadata: pq.FileMetaData,
    names: Mapping[str, str],
    age_column: str,
    constants: Mapping[str, object],
) -> pl.DataFrame | None:
    """The file's records summed per (kommunekode, age, sundhedsomraade), or ``None``.

    ``metadata`` is the file's footer, already read; ``names`` maps the normalised column
    names to the file's own; ``constants`` holds the columns known to have one value in the
    whole file. The result has the raw key columns (kommunekode, ``age_column``,
    sundhedsomraade), the sums ``produktionsvaerdi`` and ``kmf``, the record count ``rows``
    and null counts ``_p_null``/``_k_null`` (always 0).
    """
    if "aar" not in constants or "opgoerelse" not in constants:
        return None
    if "takstaar" in names and "takstaar" not in constants:
        return None
    keys = ["kommunekode", age_column, "sundhedsomraade"]
    wanted = [*keys, "produktionsvaerdi", "kmf"]
    if any(name not in names for name in wanted):
        return None
    text = [names[k] for k in ("aldersgruppe", "sundhedsomraade") if k in keys]
    try:
        parquet = pq.ParquetFile(path, metadata=metadata, read_dictionary=text)
    except (OSError, pa.ArrowException):
        return None
    schema = parquet.schema_arrow
    if not (
        pa.types.is_integer(schema.field(names["kommunekode"]).type)
        and all(_numeric(schema.field(names[k]).type) for k in ("produktionsvaerdi", "kmf"))
        and _is_text(schema.field(names["sundhedsomraade"]).type)
        and (
            _is_text(schema.field(names[age_column]).type)
            if age_column == "aldersgruppe"
            else pa.types.is_integer(schema.field(names[age_column]).type)
        )
    ):
        return None
    n_age = len(_GROUPS) if age_column == "aldersgruppe" else len(_YOUNGEST)
    size = len(_KOMMUNER) * n_age * len(_AREAS)
    production = np.zeros(size)
    kmf = np.zeros(size)
    rows = np.zeros(size, dtype=np.int64)
    try:
        batches = parquet.iter_batches(
            batch_size=BATCH_ROWS, columns=[names[c] for c in wanted], use_threads=False
        )
        for batch in batches:
            if any(column.null_count for column in batch.columns):
                return None
            kommune = _kommune_codes(batch.column(0))
            age = (
                _text_codes(batch.column(1), _GROUPS)
                if age_column == "aldersgruppe"
                else _age_codes(batch.column(1))
            )
            area = _text_codes(batch.column(2), _AREAS)
            if kommune is None or age is None or area is None:
                return None
            key = (kommune * n_age + age) * len(_AREAS) + area
            production += np.bincount(key, _floats(batch.column(3)), size)
            kmf += np.bincount(key, _floats(batch.column(4)), size)
            rows += np.bincount(key, minlength=size)
    except (OSError, pa.ArrowException):
        return None
    if not (np.isfinite(production).all() and np.isfinite(kmf).all()):
        return None
    used = np.flatnonzero(rows)
    kommune_i, rest = np.divmod(used, n_age * len(_AREAS))
    age_i, area_i = np.divmod(rest, len(_AREAS))
    ages = (
        pl.Series(age_column, [_GROUPS[i] for i in age_i], dtype=pl.String)
        if age_column == "aldersgruppe"
        else pl.Series(age_column, np.asarray(_YOUNGEST)[age_i], dtype=pl.Int64)
    )
    return pl.DataFrame(
        [
            pl.Series("kommunekode", np.asarray(_KOMMUNER)[kommune_i], dtype=pl.Int64),
            ages,
            pl.Series("sundhedsomraade", [_AREAS[i] for i in area_i], dtype=pl.String),
            pl.Series("produktionsvaerdi", production[used]),
            pl.Series("kmf", kmf[used]),
            pl.Series("rows", rows[used]),
            pl.Series("_p_null", np.zeros(len(used), dtype=np.int64)),
            pl.Series("_k_null", np.zeros(len(used), dtype=np.int64)),
        ]
    )


def _numeric(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind)


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _floats(column: pa.Array) -> np.ndarray:
    return column.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)


def _kommune_codes(column: pa.Array) -> np.ndarray | None:
    values = column.to_numpy(zero_copy_only=False)
    if len(values) and (values.min() < 0 or values.max() >= len(_KOMMUNE_INDEX)):
        return None
    index = _KOMMUNE_INDEX[values]
    if len(index) and index.min() < 0:
        return None
    return index


def _age_codes(column: pa.Array) -> np.ndarray | None:
    values = column.to_numpy(zero_copy_only=False)
    if len(values) and (values.min() < 0 or values.max() > codes.MAX_AGE):
        return None
    return _AGE_BY_YEAR[values]


def _text_codes(column: pa.Array, labels: list[str]) -> np.ndarray | None:
    """Codes of a text column (dictionary-encoded or not) in ``labels``; None if any is not."""
    if not pa.types.is_dictionary(column.type):
        column = column.dictionary_encode()
    words = column.dictionary.to_pylist()
    lookup = np.array([labels.index(w.strip()) if w.strip() in labels else -1 for w in words])
    if len(lookup) == 0:
        return np.zeros(len(column), dtype=np.int64)
    index = lookup[column.indices.to_numpy(zero_copy_only=False)]
    if len(index) and index.min() < 0:
        return None
    return index
