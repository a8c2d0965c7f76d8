"""A table sheet as data: its columns and its rows, titles and notes
(:func:`kmf.report.excel.table_sheet` writes it)."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl


@dataclass(frozen=True)
class Col:
    """A column of a table: the frame's column, its Danish header, decimals, width; with
    ``group`` a header over several columns (Tabel 3's "Negativt bidrag")."""

    name: str
    header: str
    decimals: int = 1
    width: float = 12
    thousands: bool = False
    group: str | None = None
    mio: bool = False  # an amount in kr. shown in mio. kr. (``decimals`` of a million)


@dataclass(frozen=True)
class Table:
    """A table sheet: title, unit, rows, columns, the header over the names, notes."""

    title: str
    unit: str
    frame: pl.DataFrame
    columns: list[Col]
    names: str = "Kommune/region"
    notes: list[str] = field(default_factory=list)
