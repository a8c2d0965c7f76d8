"""The one pass over the activity records: each file summed into cells on its raw key values,
by the columnar path (:mod:`kmf.io.columnar`) where it can, else by a lazy, streaming polars
query; then typed and checked."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import polars as pl

from kmf import codes
from kmf.io.schema import (
    AAR,
    CELL_KEY,
    CONSTANT_KEYS,
    KMF,
    KOMMUNEKODE,
    OPGOERELSE,
    PRODUKTIONSVAERDI,
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
    literal_types = {k: pl.String if isinstance(v, str) else pl.Int64 for k, v in constants.items()}
    schema = pl.Schema({**dict(schema), **literal_types})
    if sums is None:
        keys = ["kommunekode", "aar", "opgoerelse", age_column, "sundhedsomraade"]
        keys += ["takstaar"] if "takstaar" in schema else []
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
    is_psyk = area == codes.AGE_FREE_AREA
    return raw.select(
        pl.lit(index, dtype=pl.UInt32).alias("fil"),
        cast_column(KOMMUNEKODE, schema["kommunekode"], dc).cast(pl.Int16).alias("kommunekode"),
        aar.cast(pl.Int16).alias("aar"),
        cast_column(OPGOERELSE, schema["opgoerelse"], dc).alias("opgoerelse"),
        (aar if takst is None else pl.when(pl.col("takstaar").is_null()).then(aar).otherwise(takst))
        .cast(pl.Int16)
        .alias("takstaar"),
        pl.when(is_psyk)
        .then(pl.lit(codes.AGE_FREE_GROUP, dtype=codes.AgeGroup))
        .otherwise(age)
        .alias("aldersgruppe"),
        area.alias("sundhedsomraade"),
        pl.col("produktionsvaerdi", "kmf", "rows", "_p_null", "_k_null"),
        pl.when(is_psyk & (age.is_null() | (age != codes.AGE_FREE_GROUP)))
        .then(pl.col("rows"))
        .otherwise(0)
        .alias("_moved"),
    )


def aggregate_activity(pieces: list[Piece], age_column: str) -> tuple[pl.DataFrame, int]:
    from kmf.io import columnar

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        specs = list(pool.map(lambda p: _file_spec(p, age_column), pieces))
        parquet = [spec for spec, _ in specs if spec is not None]
        summed = iter(columnar.sum_files(parquet, pool))
    grouped = pl.concat(
        [
            _grouped_activity(p, i, age_column, constants, next(summed) if spec else None)
            for i, (p, (spec, constants)) in enumerate(zip(pieces, specs, strict=True))
        ]
    )
    agg = (
        grouped.group_by("fil", *CELL_KEY)
        .agg(pl.col("produktionsvaerdi", "kmf", "rows", "_p_null", "_k_null", "_moved").sum())
        .collect(engine="streaming")
    )
    bad = agg.filter(
        pl.any_horizontal(pl.col(CELL_KEY).is_null())
        | (pl.col("_p_null") > 0)
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
    return agg.drop("_p_null", "_k_null", "_moved").with_columns(kroner), moved
