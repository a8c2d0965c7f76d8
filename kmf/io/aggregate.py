"""The one pass over the activity records: each file summed into cells on its raw key values,
by the columnar path (:mod:`kmf.io.columnar`) where it can, else by a lazy, streaming polars
query; then typed and checked."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl

from kmf import codes
from kmf.io.cuts import CutKey, only_cuts
from kmf.io.schema import (
    AAR,
    CELL_KEY,
    CONSTANT_KEYS,
    KMF,
    KOMMUNEKODE,
    OPGOERELSE,
    OPGOERELSESDATO,
    PRODUKTIONSVAERDI,
    REQUIRED_KEY,
    SUNDHEDSOMRAADE,
    TAKSTAAR,
    age_expr,
    cast_column,
    normalise_names,
    on_grid,
)
from kmf.io.sources import Piece
from kmf.io.validate import diagnose_activity, raise_problems

if TYPE_CHECKING:
    from kmf.io import columnar


def _file_spec(piece: Piece, age_column: str) -> tuple[columnar.FileSpec | None, dict[str, object]]:
    """The columns with one value in the whole file, and, for a Parquet file, what the
    columnar path (:mod:`kmf.io.columnar`) needs to try summing it."""
    if piece.fmt != "parquet":
        return None, {}
    import pyarrow.parquet as pq

    from kmf.io import columnar

    try:
        metadata = pq.read_metadata(piece.file)
    except Exception:  # unreadable: the general path reports it
        return None, {}
    own = metadata.schema.names
    names = dict(zip(normalise_names(own), own, strict=True))
    constants = piece.constants(CONSTANT_KEYS, metadata)
    return columnar.FileSpec(piece.file, metadata, names, age_column, constants), constants


def _grouped_activity(
    piece: Piece,
    index: int,
    age_column: str,
    constants: dict[str, object],
    sums: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """One file's records summed on their raw key values, then typed and checked; the
    amounts are summed in whole steps (see :func:`on_grid`).

    The hot loop only hashes the raw keys and adds the two amounts; casting, trimming and
    checking codes happens on the grouped rows, which are few. Columns with one value in
    the whole file (``constants``) are not read row by row. ``sums``, where given, are the
    grouped rows already (from :mod:`kmf.io.columnar`).
    """
    lf = piece.scan() if sums is None else sums.lazy()
    schema = lf.collect_schema()
    dc = piece.decimal_comma
    literal_types = {
        k: pl.String if isinstance(v, str) else pl.Date if isinstance(v, date) else pl.Int64
        for k, v in constants.items()
    }
    schema = pl.Schema({**dict(schema), **literal_types})
    if sums is None:
        keys = ["kommunekode", "aar", "opgoerelse", age_column, "sundhedsomraade"]
        keys += [k for k in ("takstaar", "opgoerelsesdato") if k in schema]
        read_keys = [k for k in keys if k not in constants]
        lf = (
            lf.select(
                *read_keys,
                on_grid(cast_column(PRODUKTIONSVAERDI, schema["produktionsvaerdi"], dc)).alias(
                    "produktionsvaerdi"
                ),
                on_grid(cast_column(KMF, schema["kmf"], dc)).alias("kmf"),
            )
            .group_by(read_keys)
            .agg(
                pl.col("produktionsvaerdi").sum(),
                pl.col("kmf").sum(),
                pl.len().cast(pl.Int64).alias("rows"),
                pl.col("produktionsvaerdi").null_count().cast(pl.Int64).alias("_p_null"),
                pl.col("kmf").null_count().cast(pl.Int64).alias("_k_null"),
            )
        )
    raw = lf.with_columns(pl.lit(v, dtype=literal_types[k]).alias(k) for k, v in constants.items())
    area = cast_column(SUNDHEDSOMRAADE, schema["sundhedsomraade"], dc)
    age = age_expr(age_column, schema, dc)
    aar = cast_column(AAR, schema["aar"], dc)
    takst = cast_column(TAKSTAAR, schema["takstaar"], dc) if "takstaar" in schema else None
    dated = "opgoerelsesdato" in schema
    dato = cast_column(OPGOERELSESDATO, schema["opgoerelsesdato"], dc) if dated else None
    is_psyk = area == codes.AGE_FREE_AREA
    return raw.select(
        pl.lit(index, dtype=pl.UInt32).alias("fil"),
        cast_column(KOMMUNEKODE, schema["kommunekode"], dc).cast(pl.Int16).alias("kommunekode"),
        aar.cast(pl.Int16).alias("aar"),
        cast_column(OPGOERELSE, schema["opgoerelse"], dc).alias("opgoerelse"),
        (aar if takst is None else pl.when(pl.col("takstaar").is_null()).then(aar).otherwise(takst))
        .cast(pl.Int16)
        .alias("takstaar"),
        (pl.lit(None, dtype=pl.Date) if dato is None else dato).alias("opgoerelsesdato"),
        pl.when(is_psyk)
        .then(pl.lit(codes.AGE_FREE_GROUP, dtype=codes.AgeGroup))
        .otherwise(age)
        .alias("aldersgruppe"),
        area.alias("sundhedsomraade"),
        pl.col("produktionsvaerdi", "kmf", "rows", "_p_null", "_k_null"),
        (
            pl.lit(0, dtype=pl.Int64)
            if dato is None
            else pl.when(pl.col("opgoerelsesdato").is_not_null() & dato.is_null())
            .then(pl.col("rows"))
            .otherwise(0)
        ).alias("_d_bad"),
        pl.when(is_psyk & (age.is_null() | (age != codes.AGE_FREE_GROUP)))
        .then(pl.col("rows"))
        .otherwise(0)
        .alias("_moved"),
    )


Slice = tuple[CutKey, tuple[int, ...], Mapping[str, object]]
# the sums per file and cell, with the counts the checks look at
_SUMS = ("produktionsvaerdi", "kmf", "rows", "_p_null", "_k_null", "_d_bad", "_moved")


def piece_cells(
    items: Sequence[tuple[int, Piece, list[Slice] | None]],
    age_column: str,
    progress: Callable[[int, int], None] | None = None,
) -> dict[int, pl.DataFrame]:
    """Each file's records summed per ``fil`` (its index) and cell key, with the counts of
    nulls and bad values the checks look at (:func:`checked`); amounts in whole steps.

    An item is (index, piece, slices): slices None reads the whole file; else only the
    listed cuts (row groups and their cut columns' values, see :mod:`kmf.io.cuts`) — where
    the columnar path cannot sum one of them, the whole file is read and the result kept
    to those cuts.
    """
    from kmf.io import columnar

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        found = list(pool.map(lambda item: _file_spec(item[1], age_column), items))
        jobs: list[tuple[int, columnar.FileSpec, Mapping[str, object]]] = []
        for n, ((_, _, slices), (spec, constants)) in enumerate(zip(items, found, strict=True)):
            if spec is None:
                continue
            if slices is None:
                jobs.append((n, spec, constants))
            else:
                jobs += [(n, replace(spec, constants=raw, row_groups=groups), raw)
                         for _, groups, raw in slices]  # fmt: skip
        owner = [items[n][0] for n, _, _ in jobs]
        step = None if progress is None else lambda j, rows: progress(owner[j], rows)
        summed = columnar.sum_files([spec for _, spec, _ in jobs], pool, step)
    by_item: dict[int, list[tuple[Mapping[str, object], pl.DataFrame | None]]] = {}
    for (n, _, raw), sums in zip(jobs, summed, strict=True):
        by_item.setdefault(n, []).append((raw, sums))
    out: dict[int, pl.DataFrame] = {}
    for n, (index, piece, slices) in enumerate(items):
        parts = by_item.get(n, [])
        constants = found[n][1]
        if parts and all(sums is not None for _, sums in parts):
            lf = pl.concat(
                [
                    _grouped_activity(piece, index, age_column, dict(raw), sums)
                    for raw, sums in parts
                ]
            )
            general = False
        else:
            lf = _grouped_activity(piece, index, age_column, constants)
            general = True
        frame = (
            lf.group_by("fil", *CELL_KEY)
            .agg(pl.col(*_SUMS).sum())
            .collect(engine="streaming")
            .sort(CELL_KEY)
        )
        if general and progress is not None:
            progress(index, int(frame["rows"].sum()))
        if general and slices is not None:
            frame = only_cuts(frame, [key for key, _, _ in slices])
        out[index] = frame
    return out


def checked(
    frames: Sequence[pl.DataFrame], pieces: Sequence[Piece], age_column: str
) -> tuple[pl.DataFrame, int]:
    """The files' cells (:func:`piece_cells`) as one frame in kroner, checked: a null or bad
    value stops with the offending rows named (the file is read again for them). Also the
    number of psykiatri records moved to ej_aldersdiff."""
    agg = pl.concat(frames) if frames else _EMPTY
    bad = agg.filter(
        pl.any_horizontal(pl.col(REQUIRED_KEY).is_null())
        | (pl.col("_p_null") > 0)
        | (pl.col("_d_bad") > 0)
        | (pl.col("_k_null") > 0)
        | (
            (pl.col("aldersgruppe") == codes.AGE_FREE_GROUP)
            & (pl.col("sundhedsomraade") != codes.AGE_FREE_AREA)
        )
    )
    if not bad.is_empty():
        problems: list[str] = []
        for i in sorted(set(bad["fil"].to_list())):
            problems.extend(diagnose_activity(pieces[i], age_column))
        raise_problems(problems, "Aktivitetsdata")
    moved = int(agg["_moved"].sum())
    kroner = (pl.col("produktionsvaerdi", "kmf") / codes.AMOUNT_STEPS).name.keep()
    return agg.drop("_p_null", "_k_null", "_d_bad", "_moved").with_columns(kroner), moved


#: the summed cells of one file, as the reader keeps them (and the cache holds them)
CELL_SCHEMA: dict[str, Any] = {
    "fil": pl.UInt32,
    "kommunekode": pl.Int16,
    "aar": pl.Int16,
    "opgoerelse": codes.Opgoerelse,
    "takstaar": pl.Int16,
    "opgoerelsesdato": pl.Date,
    "aldersgruppe": codes.AgeGroup,
    "sundhedsomraade": codes.Area,
    **dict.fromkeys(("produktionsvaerdi", "kmf"), pl.Float64),
    **dict.fromkeys(("rows", "_p_null", "_k_null", "_d_bad", "_moved"), pl.Int64),
}
_EMPTY = pl.DataFrame(schema=CELL_SCHEMA)


def aggregate_activity(pieces: list[Piece], age_column: str) -> tuple[pl.DataFrame, int]:
    """Every record of every file summed into cells per file and checked."""
    frames = piece_cells([(i, p, None) for i, p in enumerate(pieces)], age_column)
    return checked([frames[i] for i in range(len(pieces))], pieces, age_column)
