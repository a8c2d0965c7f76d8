"""The tables as CSV: standard (comma, decimal point) or for Danish Excel (``csv="dansk"``)."""

from __future__ import annotations

import codecs
from pathlib import Path

import polars as pl

from kmf.errors import OutputError

CSV_FORMATS = ("standard", "dansk")


def check_csv_format(csv: str) -> None:
    """Raise a Danish ``OutputError`` for a CSV format kmf does not write."""
    if csv not in CSV_FORMATS:
        raise OutputError(
            f"CSV-formatet '{csv}' kendes ikke. Vælg 'standard' (komma og decimalpunktum) "
            "eller 'dansk' (semikolon og decimalkomma, til dansk Excel)."
        )


def write_csv(frame: pl.DataFrame, path: Path, csv: str = "standard") -> None:
    """Write ``frame`` to ``path``. ``"dansk"``: semicolons, decimal commas and a UTF-8
    byte order mark, which Danish Excel needs to open the file as columns of numbers with
    æ, ø and å intact. The digits are the same as in the standard file."""
    check_csv_format(csv)
    if csv == "standard":
        frame.write_csv(path)
        return
    # polars < 1.26 has no decimal_comma: floats are written as their shortest text
    # (as write_csv does) with the point made a comma
    floats = [name for name, kind in frame.schema.items() if kind.is_float()]
    danish = frame.with_columns(pl.col(floats).cast(pl.String).str.replace(".", ",", literal=True))
    with path.open("wb") as fh:
        fh.write(codecs.BOM_UTF8)
        danish.write_csv(fh, separator=";")
