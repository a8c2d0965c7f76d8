"""Checking and naming what is wrong: missing columns, invalid values with their rows,
negative cells, the budget (SPEC §6). The row-by-row diagnosis only runs when the fast
pass has found a problem."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from kmf import codes
from kmf.danish import format_kr
from kmf.errors import SHOWN, DataError
from kmf.io import formats
from kmf.io.schema import (
    AAR,
    ACTIVITY_REQUIRED,
    ALDER,
    ALDERSGRUPPE,
    KMF_BUDGET,
    KOMMUNEKODE,
    OPGOERELSESDATO,
    SUNDHEDSOMRAADE,
    TAKSTAAR,
    Column,
    activity_columns,
    cast_column,
)
from kmf.io.sources import Piece


def find_age_column(pieces: list[Piece]) -> tuple[str, list[str]]:
    """Which age column the activity uses (every file must have one) and a note if both."""
    found: set[str] = set()
    notes: list[str] = []
    for piece in pieces:
        names = set(piece.scan().collect_schema().names())
        _require_columns(piece, names, [c.name for c in ACTIVITY_REQUIRED])
        if "aldersgruppe" in names:
            found.add("aldersgruppe")
            if "alder" in names:
                notes.append(
                    f"{piece.display} har både 'aldersgruppe' og 'alder'; 'aldersgruppe' bruges."
                )
        elif "alder" in names:
            found.add("alder")
        else:
            raise DataError(
                f"{piece.display} mangler kolonnen 'aldersgruppe' (eller 'alder' i hele år). "
                f"Kolonnerne er: {', '.join(sorted(names))}."
            )
    if len(found) > 1:
        raise DataError(
            "Aktivitetsfilerne angiver alder forskelligt: nogle har 'aldersgruppe', andre kun "
            "'alder'. Brug samme kolonne i alle filer."
        )
    return found.pop(), notes


def _require_columns(piece: Piece, names: Iterable[str], required: Iterable[str]) -> None:
    present = set(names)
    missing = [c for c in required if c not in present]
    if missing:
        plural = "kolonnerne" if len(missing) > 1 else "kolonnen"
        hint = ""
        if piece.fmt == "csv":
            separator = formats.SEPARATORS[piece.separator]
            hint = f" (filen er læst med {separator} som skilletegn)"
            if len(present) == 1:
                hint = (
                    ". Hele overskriften blev læst som én kolonne, så filen bruger nok et "
                    "andet skilletegn; kmf læser CSV adskilt af komma, semikolon eller "
                    "tabulator. Gem filen med et af dem"
                )
        # a name written with æ, ø or å: say which it should be
        spelled = {_ascii(n): n for n in present if _ascii(n) != n}
        renames = [f"'{spelled[m]}' skal hedde '{m}'" for m in missing if m in spelled]
        rename = f" Kolonnenavnene skrives uden æ, ø og å: {', '.join(renames)}." if renames else ""
        raise DataError(
            f"{piece.display} mangler {plural} {', '.join(repr(m) for m in missing)}. "
            f"Kolonnerne i {'tabellen' if piece.fmt == 'frame' else 'filen'} er: "
            f"{', '.join(sorted(present)) or '(ingen)'}{hint}.{rename} "
            "De krævede kolonner står i README under 'Dataformat'."
        )


def _ascii(name: str) -> str:
    """A column name as the data format writes Danish letters: æ → ae, ø → oe, å → aa."""
    return name.replace("æ", "ae").replace("ø", "oe").replace("å", "aa")


def diagnose_activity(piece: Piece, age_column: str) -> list[str]:
    """Name the offending rows of one file (only called when the fast pass found a problem)."""
    lf = piece.scan().with_row_index("_row")
    schema = lf.collect_schema()
    dc = piece.decimal_comma
    columns = activity_columns(age_column)
    area = cast_column(SUNDHEDSOMRAADE, schema["sundhedsomraade"], dc)
    # psykiatri goes to ej_aldersdiff whatever its age, so its age is never an error
    not_psyk = area.is_null() | (area != codes.AGE_FREE_AREA)
    problems = [
        p
        for col in columns
        for p in _column_problems(
            piece, lf, schema, col, dc, only=not_psyk if col is ALDER else None
        )
    ]
    if "takstaar" in schema:
        # A missing takstaar means "same as aar"; only invalid values are errors.
        problems.extend(_column_problems(piece, lf, schema, TAKSTAAR, dc, allow_null=True))
    if "opgoerelsesdato" in schema:
        # an undated row is allowed here; a cut mixing dated and undated rows is not (dataset)
        problems.extend(_column_problems(piece, lf, schema, OPGOERELSESDATO, dc, allow_null=True))
    if age_column == "aldersgruppe":
        age = cast_column(ALDERSGRUPPE, schema["aldersgruppe"], dc)
        mismatch = (
            (age == codes.AGE_FREE_GROUP) & area.is_not_null() & (area != codes.AGE_FREE_AREA)
        )
        problems.extend(
            _report(
                piece,
                lf,
                mismatch,
                ["aldersgruppe", "sundhedsomraade"],
                "har aldersgruppen 'ej_aldersdiff' med et andet sundhedsområde end psykiatri",
                "'ej_aldersdiff' bruges kun til psykiatri; de andre områder skal have en af "
                "aldersgrupperne '0-2', '3-64', '65-79' eller '80+'",
            )
        )
    return problems


def _column_problems(
    piece: Piece,
    lf: pl.LazyFrame,
    schema: pl.Schema,
    col: Column,
    decimal_comma: bool,
    *,
    allow_null: bool = False,
    only: pl.Expr | None = None,
) -> list[str]:
    """What is wrong with one column: wrong type, missing or invalid values.

    ``only`` limits the rows considered (the rows where it is true).
    """
    dtype = schema[col.name]
    raw = pl.col(col.name)
    typed = cast_column(col, dtype, decimal_comma)
    scope = pl.lit(True) if only is None else only
    problems: list[str] = []
    wrong_type = col.kind == "code" and not (
        dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)
    )
    if col.kind == "date":
        wrong_type = not (dtype in (pl.String, pl.Date) or isinstance(dtype, pl.Datetime))
    else:
        wrong_type |= col.kind != "code" and not (dtype == pl.String or dtype.is_numeric())
    if wrong_type:
        return [
            f"{piece.display}, kolonne '{col.name}': har typen {dtype}, men skal være "
            f"{col.what}. Ret kolonnens type i {'tabellen' if piece.fmt == 'frame' else 'filen'}."
        ]
    if not allow_null:
        problems.extend(
            _report(
                piece,
                lf,
                scope & raw.is_null(),
                [col.name],
                "mangler en værdi",
                f"hver række skal have {col.what}",
            )
        )
    adjective = "ukendt" if col.kind == "code" or col.allowed is not None else "ugyldig"
    problems.extend(
        _report(
            piece,
            lf,
            scope & raw.is_not_null() & typed.is_null(),
            [col.name],
            f"har en {adjective} værdi",
            f"værdien skal være {col.what}",
        )
    )
    return problems


def _report(
    piece: Piece,
    lf: pl.LazyFrame,
    condition: pl.Expr,
    shown: list[str],
    what: str,
    fix: str,
) -> list[str]:
    found = lf.filter(condition)
    count = int(found.select(pl.len()).collect(engine="streaming").item())
    if count == 0:
        return []
    first = found.select("_row", *shown).head(SHOWN).collect(engine="streaming")
    examples = []
    for row in first.iter_rows(named=True):
        label = f"{piece.row_word} {row['_row'] + piece.first_row}"
        values = ", ".join(_show(row[c]) for c in shown)
        examples.append(f"{label}: {values}")
    rows = "række" if count == 1 else "rækker"
    more = " …" if count > SHOWN else ""
    columns = " og ".join(f"'{c}'" for c in shown)
    return [
        f"{piece.display}, kolonne {columns}: {count} {rows} {what} "
        f"({'; '.join(examples)}{more}). Ret det: {fix}."
    ]


def _show(value: object) -> str:
    return "(tom)" if value is None else repr(value) if isinstance(value, str) else str(value)


def raise_problems(problems: list[str], subject: str) -> None:
    if not problems:  # the fast pass saw a problem the diagnosis could not name
        problems = ["ukendt fejl i data; kontrollér filernes kolonner og værdier."]
    n = len(problems)
    head = f"{subject} kan ikke bruges ({n} fejl):"
    raise DataError("\n".join([head, *(f"- {p}" for p in problems)]))


def check_cell_signs(cells: pl.DataFrame, pieces: list[Piece]) -> None:
    """A cell summed over input files (``Dataset.cells``) may not be negative (a single record
    may: it is a correction). Each record moves by up to half a step of the grid it is summed
    on (``on_grid``), so records that cancel (3 × 0,07 − 0,21 kr.) may sum to a step or so
    below 0: that much is 0, not negative."""
    slack = pl.col("rows") * (0.5 / codes.AMOUNT_STEPS)
    negative = cells.filter((pl.col("produktionsvaerdi") < -slack) | (pl.col("kmf") < -slack))
    if negative.is_empty():
        return
    names = ", ".join(sorted({p.display for p in pieces}))
    shown = [
        f"kommune {r['kommunekode']}, {r['aar']} {codes.CUT_LABELS[r['opgoerelse']]} "
        f"(takstår {r['takstaar']}), {r['aldersgruppe']}, {r['sundhedsomraade']}: "
        f"produktionsværdi {format_kr(r['produktionsvaerdi'])} kr., "
        f"kmf {format_kr(r['kmf'])} kr."
        for r in negative.head(SHOWN).iter_rows(named=True)
    ]
    more = f" (og {negative.height - SHOWN} flere)" if negative.height > SHOWN else ""
    raise DataError(
        f"Aktivitetsdata kan ikke bruges: {negative.height} celler i {names} (kolonnerne "
        f"'produktionsvaerdi' og 'kmf') summer til et negativt beløb{more}:\n"
        + "\n".join(f"- {s}" for s in shown)
        + "\nEnkelte rettelsesrækker må være negative, men summen for en celle "
        "(kommune, år, opgørelse, takstår, aldersgruppe, sundhedsområde) skal være 0 eller mere."
    )


def check_dates_not_mixed(aktivitet: pl.DataFrame, pieces: list[Piece]) -> None:
    """Within one (aar, opgoerelse, takstaar) the rows are all dated or all undated (SPEC §7)."""
    mixed = (
        aktivitet.group_by("aar", "opgoerelse", "takstaar")
        .agg(
            pl.col("rows").filter(pl.col("opgoerelsesdato").is_null()).sum().alias("uden"),
            pl.col("rows").filter(pl.col("opgoerelsesdato").is_not_null()).sum().alias("med"),
            pl.col("fil").filter(pl.col("opgoerelsesdato").is_null()).unique().alias("filer"),
        )
        .filter((pl.col("uden") > 0) & (pl.col("med") > 0))
        .sort("aar", "opgoerelse", "takstaar")
    )
    if mixed.is_empty():
        return
    shown = [
        f"{r['aar']} {codes.CUT_LABELS[r['opgoerelse']]} i {r['takstaar']}-takster: "
        f"{r['med']} rækker med dato og {r['uden']} uden (rækkerne uden dato er i "
        + ", ".join(sorted(pieces[i].display for i in r["filer"]))
        + ")"
        for r in mixed.head(SHOWN).iter_rows(named=True)
    ]
    raise DataError(
        "Aktivitetsdata, kolonne 'opgoerelsesdato': "
        f"{mixed.height} opgørelse(r) blander rækker med og uden opgørelsesdato:\n"
        + "\n".join(f"- {s}" for s in shown)
        + "\nInden for én opgørelse (aar, opgoerelse, takstaar) skal enten alle rækker have en "
        "opgørelsesdato eller ingen. Udfyld datoen i de tomme rækker."
    )


def read_budget(piece: Piece) -> tuple[pl.DataFrame, int]:
    """The budget rows, typed and checked.

    Columns ``aar``, ``kommunekode`` (null for a national budget), ``kmf_budget_kr`` and
    ``raekke``, the row as messages name it (``linje 3`` in a CSV file).
    """
    lf = piece.scan().with_row_index("_row")
    schema = lf.collect_schema()
    _require_columns(piece, schema.names(), ["aar", "kmf_budget_kr"])
    dc = piece.decimal_comma
    columns = [AAR, KMF_BUDGET] + ([KOMMUNEKODE] if "kommunekode" in schema else [])
    problems = [p for col in columns for p in _column_problems(piece, lf, schema, col, dc)]
    if problems:
        raise_problems(problems, "Budgettet")
    frame = lf.select(
        pl.col("_row"),
        cast_column(AAR, schema["aar"], dc).alias("aar"),
        (
            cast_column(KOMMUNEKODE, schema["kommunekode"], dc)
            if "kommunekode" in schema
            else pl.lit(None, dtype=pl.Int64)
        ).alias("kommunekode"),
        cast_column(KMF_BUDGET, schema["kmf_budget_kr"], dc).alias("kmf_budget_kr"),
    ).collect()
    frame = frame.with_columns(
        pl.format("{} {}", pl.lit(piece.row_word), pl.col("_row") + piece.first_row).alias("raekke")
    ).drop("_row")
    return frame, frame.height
