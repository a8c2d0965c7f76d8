"""The optional population table ``befolkning`` (SPEC §9): where it is, how its rows are
cast and checked, and the persons summed per kommune, year and age group.

Columns: ``kommunekode`` (or ``kommune``, the name as in ``kommuner.csv``), ``aar``,
``alder`` (whole years 0–130) or ``aldersgruppe`` (``0-2``, ``3-64``, ``65-79``, ``80+``)
and ``antal`` (persons, a whole number, 0 or more). Other columns (e.g. sex or quarter in
an export from Statistikbanken) are ignored; rows with the same key are summed.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from kmf import codes
from kmf.errors import DataError
from kmf.io.schema import AAR, ALDER, KOMMUNEKODE, Column, cast_column
from kmf.io.sources import Piece, file_piece
from kmf.io.validate import _column_problems, _require_columns, raise_problems

TABLE = "befolkning"
#: the age groups a population has: every group but ``ej_aldersdiff`` (psykiatri, every age)
GROUPS: tuple[str, ...] = tuple(a for a in codes.AGE_GROUPS if a != codes.AGE_FREE_GROUP)
#: the summed population: one row per key, ``antal`` persons and the input ``rows``
KEY = ("kommunekode", "aar", "aldersgruppe")

ANTAL = Column(
    "antal", "int", "et antal personer (et helt tal, 0 eller mere)", lo=0, hi=1_000_000_000
)
KOMMUNE = Column(
    "kommune",
    "code",
    "et kommunenavn som i kmf's kommuneliste, fx 'København' eller 'Aalborg' "
    "(eller brug kolonnen kommunekode)",
    enum=pl.Enum(sorted(codes.kommuner()["kommune"].to_list())),
)
ALDERSGRUPPE = Column(
    "aldersgruppe",
    "code",
    "en af " + ", ".join(f"'{a}'" for a in GROUPS),
    enum=pl.Enum(GROUPS),
)
#: what the message for a missing population says to add
COLUMNS_HINT = (
    "kolonnerne kommunekode (eller kommune, kommunens navn), aar, alder (hele år) eller "
    "aldersgruppe (0-2, 3-64, 65-79, 80+) og antal (personer)"
)


def population_piece(folder: Path) -> Piece | None:
    """``befolkning.parquet`` or ``befolkning.csv`` in ``folder``; None where there is none."""
    candidates = [c for c in (folder / f"{TABLE}.parquet", folder / f"{TABLE}.csv") if c.is_file()]
    if len(candidates) > 1:
        raise DataError(
            f"Mappen '{folder}' har både '{TABLE}.parquet' og '{TABLE}.csv'. Behold kun én af dem."
        )
    return file_piece(TABLE, candidates[0], candidates[0].name) if candidates else None


def population_sheet(path: Path, sheets: list[str]) -> Piece | None:
    """The sheet "befolkning" of a dataset workbook; None where it has none."""
    match = [s for s in sheets if s.strip().lower() == TABLE]
    if not match:
        return None
    return Piece(TABLE, path, f"{path.name} (ark '{match[0]}')", "xlsx", sheet=match[0])


def read_population(piece: Piece) -> tuple[pl.DataFrame, int, list[str]]:
    """The persons summed per ``KEY`` (with ``rows``, the input rows of each), the rows read,
    and notes (a file with both a code and a name column, or both age columns).

    Raises
    ------
    DataError
        Naming the file, the column, the values and their rows: a missing column, a missing
        value, an unknown kommune (code or name), an age outside 0–130 or an unknown age
        group, or an ``antal`` that is negative or not a whole number.
    """
    lf = piece.scan().with_row_index("_row")
    schema = lf.collect_schema()
    names = set(schema.names())
    notes: list[str] = []
    place = "kommunekode" if "kommunekode" in names else "kommune" if "kommune" in names else None
    age = "aldersgruppe" if "aldersgruppe" in names else "alder" if "alder" in names else None
    _require_columns(piece, names, ["aar", "antal"])
    missing = [
        what
        for what, found in (
            ("'kommunekode' (eller 'kommune' med kommunens navn)", place),
            ("'alder' (hele år) eller 'aldersgruppe'", age),
        )
        if found is None
    ]
    if missing:
        raise DataError(
            f"{piece.display} mangler kolonnen {' og '.join(missing)}. Kolonnerne er: "
            f"{', '.join(sorted(names - {'_row'}))}. Befolkningen skal have {COLUMNS_HINT}."
        )
    assert place is not None and age is not None
    if place == "kommunekode" and "kommune" in names:
        notes.append(f"{piece.display} har både 'kommunekode' og 'kommune'; 'kommunekode' bruges.")
    if age == "aldersgruppe" and "alder" in names:
        notes.append(f"{piece.display} har både 'aldersgruppe' og 'alder'; 'aldersgruppe' bruges.")
    place_col = KOMMUNEKODE if place == "kommunekode" else KOMMUNE
    age_col = ALDERSGRUPPE if age == "aldersgruppe" else ALDER
    columns = [place_col, AAR, age_col, ANTAL]
    problems = [p for col in columns for p in _column_problems(piece, lf, schema, col, False)]
    if problems:
        raise_problems(problems, f"Befolkningen ({piece.display})")
    frame = lf.select(
        _kommunekode(place_col, schema).alias("kommunekode"),
        cast_column(AAR, schema["aar"], False).alias("aar"),
        _age_group(age_col, schema).alias("aldersgruppe"),
        cast_column(ANTAL, schema["antal"], False).alias("antal"),
    ).collect()
    rows = frame.height
    summed = (
        frame.group_by(KEY)
        .agg(pl.col("antal").sum(), pl.len().cast(pl.Int64).alias("rows"))
        .sort(KEY)
    )
    return summed, rows, notes


def _kommunekode(col: Column, schema: pl.Schema) -> pl.Expr:
    typed = cast_column(col, schema[col.name], False)
    if col is KOMMUNEKODE:
        return typed
    by_name = dict(
        zip(codes.kommuner()["kommune"].to_list(), codes.kommuner()["kommunekode"].to_list(),
            strict=True)
    )  # fmt: skip
    return typed.cast(pl.String).replace_strict(by_name, return_dtype=pl.Int64)


def _age_group(col: Column, schema: pl.Schema) -> pl.Expr:
    typed = cast_column(col, schema[col.name], False)
    if col is ALDERSGRUPPE:
        return typed.cast(pl.String).cast(codes.AgeGroup)
    expr = pl.lit(None, dtype=codes.AgeGroup)
    for upper, group in reversed(codes.AGE_BOUNDS):
        expr = pl.when(typed <= upper).then(pl.lit(group, dtype=codes.AgeGroup)).otherwise(expr)
    return expr
