"""The columns of the input tables: names, kinds, what a valid value is, and how a
raw value is cast and checked (SPEC §3). Amounts are summed on an exact grid (on_grid)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

from kmf import codes

Kind = Literal["int", "number", "code", "date"]


CELL_KEY = (
    "kommunekode",
    "aar",
    "opgoerelse",
    "takstaar",
    "opgoerelsesdato",
    "aldersgruppe",
    "sundhedsomraade",
)
# every key but the forecast date, which is null in undated data (SPEC §7)
REQUIRED_KEY = tuple(k for k in CELL_KEY if k != "opgoerelsesdato")


@dataclass(frozen=True)
class Column:
    """A column of an input table and what a valid value is."""

    name: str
    kind: Kind
    what: str  # Danish: what a valid value is, for error messages
    enum: pl.Enum | None = None
    allowed: frozenset[int] | None = None
    lo: int | None = None
    hi: int | None = None


KOMMUNEKODE = Column(
    "kommunekode",
    "int",
    "en af de 98 kommunekoder (fx 101 for København)",
    allowed=codes.kommune_codes(),
)


AAR = Column("aar", "int", "et årstal (heltal, fx 2018)", lo=1900, hi=2200)


TAKSTAAR = Column("takstaar", "int", "et årstal (heltal, fx 2018)", lo=1900, hi=2200)


OPGOERELSESDATO = Column(
    "opgoerelsesdato",
    "date",
    "en dato som ÅÅÅÅ-MM-DD, DD-MM-ÅÅÅÅ eller DD.MM.ÅÅÅÅ (fx 2018-09-10)",
)


OPGOERELSE = Column("opgoerelse", "code", "'foreloebig' eller 'endelig'", enum=codes.Opgoerelse)


ALDERSGRUPPE = Column(
    "aldersgruppe",
    "code",
    "en af " + ", ".join(f"'{a}'" for a in codes.AGE_GROUPS),
    enum=codes.AgeGroup,
)


ALDER = Column(
    "alder", "int", f"en alder i hele år fra 0 til {codes.MAX_AGE}", lo=0, hi=codes.MAX_AGE
)


SUNDHEDSOMRAADE = Column(
    "sundhedsomraade",
    "code",
    "en af " + ", ".join(f"'{o}'" for o in codes.AREAS),
    enum=codes.Area,
)


AMOUNT = "et beløb i kr. (et tal mellem -10^15 og 10^15)"


PRODUKTIONSVAERDI = Column("produktionsvaerdi", "number", AMOUNT)


KMF = Column("kmf", "number", AMOUNT)


KMF_BUDGET = Column("kmf_budget_kr", "number", AMOUNT)


ACTIVITY_REQUIRED = (KOMMUNEKODE, AAR, OPGOERELSE, SUNDHEDSOMRAADE, PRODUKTIONSVAERDI, KMF)


def activity_columns(age_column: str) -> list[Column]:
    """The required activity columns with the age column the data uses."""
    columns = list(ACTIVITY_REQUIRED)
    columns.insert(3, ALDERSGRUPPE if age_column == "aldersgruppe" else ALDER)
    return columns


AMOUNTS = (PRODUKTIONSVAERDI.name, KMF.name)


CONSTANT_KEYS = ("aar", "opgoerelse", "takstaar", "opgoerelsesdato")

# the forms a date may have in text: ISO, and the Danish with dashes or dots
_DATE_FORMS = (
    (r"^\d{4}-\d{2}-\d{2}$", "%Y-%m-%d"),
    (r"^\d{2}-\d{2}-\d{4}$", "%d-%m-%Y"),
    (r"^\d{2}\.\d{2}\.\d{4}$", "%d.%m.%Y"),
)


def date_expr(raw: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A date column as ``pl.Date``: a date type as it is, text in one of the accepted forms
    parsed; null where the value is missing, in another form or not a real date (30-02-2018)."""
    if dtype == pl.Date:
        return raw
    if isinstance(dtype, pl.Datetime):
        return raw.dt.date()
    if dtype != pl.String:
        return pl.lit(None, dtype=pl.Date)
    text = raw.str.strip_chars()
    return pl.coalesce(
        [
            pl.when(text.str.contains(pattern)).then(text.str.strptime(pl.Date, form, strict=False))
            for pattern, form in _DATE_FORMS
        ]
    )


def on_grid(kroner: pl.Expr) -> pl.Expr:
    """An amount in kr. as a whole number of steps of ``codes.AMOUNT_STEP`` kr.

    Records are summed in these steps: a sum of whole numbers is exact in any order while
    it stays below 2⁵³ steps (8,6 mia. kr.), so the same records in any order, split over
    any files or read from CSV or Parquet give the same cells to the last bit. A step is a
    power of two (2⁻²⁰ kr.), so the scaling itself is exact; a record moves by at most half
    a step, 5·10⁻⁷ kr. The compiled loop in
    :mod:`kmf.io.columnar` rounds the same way (half a step up).
    """
    return (kroner * codes.AMOUNT_STEPS + 0.5).floor()


def exact_sum(column: str) -> pl.Expr:
    """The sum of amounts in kr. that are whole steps (see :func:`on_grid`), exact and the
    same in any order."""
    steps = (pl.col(column) * codes.AMOUNT_STEPS).round(0)
    return (steps.sum() / codes.AMOUNT_STEPS).alias(column)


def cast_column(col: Column, dtype: pl.DataType, decimal_comma: bool) -> pl.Expr:
    """The column cast to its type; null where the raw value is missing or invalid."""
    raw = pl.col(col.name)
    if col.kind == "date":
        return date_expr(raw, dtype)
    if col.kind == "code":
        assert col.enum is not None
        if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum):
            return raw.cast(pl.String).str.strip_chars().cast(col.enum, strict=False)
        return pl.lit(None, dtype=col.enum)
    if dtype == pl.String:
        text = raw.str.strip_chars()
        if decimal_comma:
            text = text.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
        number = text.cast(pl.Float64, strict=False)
    elif dtype.is_numeric():
        number = raw.cast(pl.Float64)
    else:
        return pl.lit(None, dtype=pl.Int64 if col.kind == "int" else pl.Float64)
    if col.kind == "number":
        return pl.when(number.is_finite() & (number.abs() <= codes.MAX_AMOUNT)).then(number)
    number = pl.when(number.is_finite()).then(number)
    if dtype.is_integer():
        value = raw.cast(pl.Int64)
    else:
        value = pl.when(number == number.floor()).then(number).cast(pl.Int64, strict=False)
    if col.allowed is not None:
        value = pl.when(value.is_in(sorted(col.allowed))).then(value)
    if col.lo is not None and col.hi is not None:
        value = pl.when(value.is_between(col.lo, col.hi)).then(value)
    return value


def age_expr(age_column: str, schema: pl.Schema, decimal_comma: bool) -> pl.Expr:
    """The age group of a row: from ``aldersgruppe`` or from ``alder`` in whole years."""
    if age_column == "aldersgruppe":
        return cast_column(ALDERSGRUPPE, schema["aldersgruppe"], decimal_comma)
    alder = cast_column(ALDER, schema["alder"], decimal_comma)
    expr = pl.lit(None, dtype=codes.AgeGroup)
    for upper, group in reversed(codes.AGE_BOUNDS):
        expr = pl.when(alder <= upper).then(pl.lit(group, dtype=codes.AgeGroup)).otherwise(expr)
    return expr


def normalise_names(names: list[str]) -> list[str]:
    return [n.lstrip("\ufeff").strip().lower() for n in names]


def summed_cells(aktivitet: pl.DataFrame) -> pl.DataFrame:
    """Activity cells summed over input files: ``CELL_KEY`` with the amounts and rows."""
    return (
        aktivitet.group_by(CELL_KEY)
        .agg(exact_sum("produktionsvaerdi"), exact_sum("kmf"), pl.col("rows").sum())
        .sort(CELL_KEY)
    )
