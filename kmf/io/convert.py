"""Converting an activity CSV file to Parquet once, so later runs read it fast."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from kmf.errors import DataError, OutputError, os_error_message
from kmf.io.aggregate import aggregate_activity
from kmf.io.schema import AMOUNTS, OPGOERELSESDATO, TAKSTAAR, activity_columns, cast_column
from kmf.io.sources import Settings, file_piece, read_settings, reading_errors, with_decimal
from kmf.io.validate import find_age_column


def convert_csv(source: str | Path, target: str | Path) -> int:
    """Convert an activity CSV file to Parquet once, so later runs read it fast.

    The CSV is checked first (errors name its lines); the Parquet file gets typed columns:
    integer codes and years, text codes and the amounts as numbers. Returns the row count.
    """
    src, dst = Path(source), Path(target)
    if not src.is_file():
        raise DataError(f"CSV-filen '{src}' findes ikke.")
    if dst.exists():
        raise DataError(f"'{dst}' findes allerede. Vælg et andet filnavn, eller slet filen først.")
    piece = file_piece("aktivitet", src, src.name)
    toml = src.parent / "kmf.toml"
    settings = read_settings(toml) if toml.is_file() else Settings()
    with reading_errors([piece]):
        piece = with_decimal(piece, AMOUNTS, settings)
        age_column, _ = find_age_column([piece])
        cells, _ = aggregate_activity([piece], age_column)
        schema = piece.scan().collect_schema()
        dc = piece.decimal_comma
        columns = activity_columns(age_column)
        if "takstaar" in schema:
            columns.append(TAKSTAAR)
        typed = [
            cast_column(c, schema[c.name], dc)
            .cast(pl.Int16 if c.kind == "int" else pl.String if c.kind == "code" else pl.Float64)
            .alias(c.name)
            for c in columns
        ]
        if "takstaar" in schema:  # a blank takstaar means "the same as aar"
            typed[-1] = pl.coalesce(typed[-1], typed[1]).alias("takstaar")
        if "opgoerelsesdato" in schema:  # the forecast date as a date (SPEC §7)
            typed.append(
                cast_column(OPGOERELSESDATO, schema["opgoerelsesdato"], dc).alias("opgoerelsesdato")
            )
    # the CSV has been read and checked; what fails from here is the writing
    partial = dst.with_name(dst.name + ".delvis")
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        piece.scan().select(typed).sink_parquet(partial, compression="zstd")
        partial.replace(dst)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise OutputError(os_error_message(exc, dst, writing=True)) from None
    finally:
        partial.unlink(missing_ok=True)
    return int(cells["rows"].sum())
