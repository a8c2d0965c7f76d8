"""Read and validate a dataset (SPEC §3, §6).

A dataset is a folder with ``aktivitet`` (CSV, Parquet or a folder of Parquet files),
``budget`` (CSV or Parquet) and an optional ``kmf.toml``; or one ``.xlsx`` workbook with
a sheet per table. The activity records are never materialised: one lazy, streaming pass
casts them, checks them and sums them into cells. Only when that pass shows a problem is
the input read again, file by file, to name the offending rows.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import polars as pl

from kmf import codes, formats
from kmf.danish import format_kr
from kmf.errors import DataError, os_error_message

if TYPE_CHECKING:
    import pyarrow.parquet as pq

    from kmf import columnar

Kind = Literal["int", "number", "code"]

# Rows shown per problem in an error message.
SHOWN = 5

CELL_KEY = ("kommunekode", "aar", "opgoerelse", "takstaar", "aldersgruppe", "sundhedsomraade")


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
OPGOERELSE = Column("opgoerelse", "code", "'foreloebig' eller 'endelig'", enum=codes.Cut)
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


def _activity_columns(age_column: str) -> list[Column]:
    """The required activity columns with the age column the data uses."""
    columns = list(ACTIVITY_REQUIRED)
    columns.insert(3, ALDERSGRUPPE if age_column == "aldersgruppe" else ALDER)
    return columns


SETTINGS_KEYS = {"aar": int, "metode": str, "titel": str, "decimaltegn": str}


@dataclass(frozen=True)
class Piece:
    """One physical source of rows: a CSV file, a Parquet file or a workbook sheet."""

    table: str  # "aktivitet" or "budget"
    path: Path
    display: str  # how messages name it
    fmt: Literal["csv", "parquet", "xlsx"]
    sheet: str | None = None
    hive: tuple[tuple[str, str], ...] = ()
    separator: str = ","
    encoding: str = "utf8"
    decimal: str = "."  # how numbers written as text are read: "," (1.234,5) or "." (1234.5)
    note: str | None = None  # e.g. a CSV file read as Windows-1252

    @property
    def decimal_comma(self) -> bool:
        return self.decimal == ","

    @property
    def row_word(self) -> str:
        return "linje" if self.fmt == "csv" else "række"

    @property
    def first_row(self) -> int:
        """Row label of the first data row: the header is line/row 1 in CSV and Excel."""
        return 1 if self.fmt == "parquet" else 2

    def scan(self) -> pl.LazyFrame:
        """The raw rows with lower-cased, trimmed column names."""
        if self.fmt == "csv":
            lf = pl.scan_csv(
                self.path,
                separator=self.separator,
                infer_schema=False,
                with_column_names=_normalise_names,
                encoding=self.encoding,  # type: ignore[arg-type]
            )
        elif self.fmt == "parquet":
            lf = pl.scan_parquet(self.path, hive_partitioning=False)
            names = lf.collect_schema().names()
            lf = lf.rename(dict(zip(names, _normalise_names(names), strict=True)))
        else:
            stat = self.path.stat()
            key = (stat.st_mtime_ns, stat.st_size)
            lf = _read_sheet(self.path, self.sheet or self.table, key).lazy()
        if self.hive:
            present = set(lf.collect_schema().names())
            lf = lf.with_columns(
                pl.lit(value).alias(key) for key, value in self.hive if key not in present
            )
        return lf

    def constants(
        self, columns: Collection[str], metadata: pq.FileMetaData | None = None
    ) -> dict[str, object]:
        """Columns of a Parquet file that hold one value in every row: from its statistics,
        or from its hive path where the file itself lacks the column.

        Files written one per year or cut are common; such a column need not be read row by
        row. Nothing is assumed where the statistics are missing or show a null. ``metadata``
        is the file's footer where the caller has read it already.
        """
        if self.fmt != "parquet":
            return {}
        import pyarrow.parquet as pq

        try:
            meta = metadata or pq.ParquetFile(self.path).metadata
        except Exception:  # an unreadable file is reported by the normal read
            return {}
        own = meta.schema.names
        index_of = {name: i for i, name in enumerate(_normalise_names(own))}
        found: dict[str, object] = {
            k: v for k, v in self.hive if k in columns and k not in index_of
        }
        for column in columns:
            if column not in index_of or meta.num_rows == 0:
                continue
            index = index_of[column]
            values = set()
            for g in range(meta.num_row_groups):
                stats = meta.row_group(g).column(index).statistics
                if stats is None or not stats.has_min_max or stats.null_count != 0:
                    break
                values.update({stats.min, stats.max})
            else:
                if len(values) == 1:
                    value = values.pop()
                    if isinstance(value, str | int) and not isinstance(value, bool):
                        found[column] = value
        return found


@dataclass(frozen=True)
class InputFile:
    """An input file as the manifest records it."""

    table: str
    path: Path
    display: str
    sha256: str
    rows: int


@dataclass(frozen=True)
class Settings:
    """What ``kmf.toml`` says; the CLI's flags win."""

    aar: int | None = None
    metode: str | None = None
    titel: str | None = None
    decimaltegn: str | None = None  # "," or "."; else decided from the data


@dataclass(frozen=True)
class Dataset:
    """A validated dataset: activity summed into cells, the budget rows and the settings.

    ``aktivitet`` has one row per input file and cell key (``CELL_KEY`` plus ``fil``,
    the index of the file in ``files``) with ``produktionsvaerdi``, ``kmf`` and ``rows``.
    """

    source: Path
    aktivitet: pl.DataFrame
    budget: pl.DataFrame
    settings: Settings
    files: tuple[InputFile, ...]
    age_column: str
    psykiatri_moved: int
    notes: tuple[str, ...] = field(default=())

    @cached_property
    def cells(self) -> pl.DataFrame:
        """Activity cells summed over input files."""
        return summed_cells(self.aktivitet)

    def cuts(self) -> pl.DataFrame:
        """The cuts the data holds: ``aar``, ``opgoerelse``, ``takstaar`` with rows and kommuner."""
        return (
            self.aktivitet.group_by("aar", "opgoerelse", "takstaar")
            .agg(
                pl.col("rows").sum(),
                pl.col("kommunekode").n_unique().alias("kommuner"),
                exact_sum("produktionsvaerdi"),
                exact_sum("kmf"),
            )
            .sort("aar", "opgoerelse", "takstaar")
        )

    def latest_foreloebig_year(self) -> int | None:
        years = self.aktivitet.filter(pl.col("opgoerelse") == "foreloebig")["aar"]
        return None if years.is_empty() else int(years.max())  # type: ignore[arg-type]


def on_grid(kroner: pl.Expr) -> pl.Expr:
    """An amount in kr. as a whole number of steps of ``codes.AMOUNT_STEP`` kr.

    Records are summed in these steps: a sum of whole numbers is exact in any order while
    it stays below 2⁵³ steps (8,6 mia. kr.), so the same records in any order, split over
    any files or read from CSV or Parquet give the same cells to the last bit. A step is a
    power of two (2⁻²⁰ kr.), so the scaling itself is exact; a record moves by at most half
    a step, 5·10⁻⁷ kr. The compiled loop in
    :mod:`kmf.columnar` rounds the same way (half a step up).
    """
    return (kroner * codes.AMOUNT_STEPS + 0.5).floor()


def exact_sum(column: str) -> pl.Expr:
    """The sum of amounts in kr. that are whole steps (see :func:`on_grid`), exact and the
    same in any order."""
    steps = (pl.col(column) * codes.AMOUNT_STEPS).round(0)
    return (steps.sum() / codes.AMOUNT_STEPS).alias(column)


def summed_cells(aktivitet: pl.DataFrame) -> pl.DataFrame:
    """Activity cells summed over input files: ``CELL_KEY`` with the amounts and rows."""
    return (
        aktivitet.group_by(CELL_KEY)
        .agg(exact_sum("produktionsvaerdi"), exact_sum("kmf"), pl.col("rows").sum())
        .sort(CELL_KEY)
    )


# --- locating the tables -------------------------------------------------------------


def sample_dataset() -> Path:
    """The bundled sample: synthetic national data for budget year 2018 (see its README)."""
    from importlib import resources

    sample = Path(str(resources.files("kmf").joinpath("data/sample")))
    if not (sample / "budget.csv").is_file():
        raise DataError(
            "Der er ikke noget eksempeldatasæt i denne installation. Angiv et datasæt: "
            "kmf run MAPPE --out RESULTATMAPPE."
        )
    return sample


def load(path: str | Path) -> Dataset:
    """Read and validate a dataset.

    Parameters
    ----------
    path
        A dataset folder, a file inside one (``aktivitet.csv``), or an ``.xlsx`` workbook.

    Raises
    ------
    DataError
        With a Danish message naming file, column, values and rows.
    """
    source = Path(path)
    try:
        return _load(source)
    except OSError as exc:  # a file or folder that vanished or may not be read
        where = exc.filename if exc.filename is not None else source
        raise DataError(os_error_message(exc, where)) from None


def _load(source: Path) -> Dataset:
    if not source.exists():
        raise DataError(
            f"Datasættet '{source}' findes ikke. Angiv en mappe med aktivitet og budget "
            "eller en Excel-projektmappe (.xlsx)."
        )
    settings_path: Path | None = None
    if source.is_file() and source.suffix.lower() == ".xlsx":
        sheets = _sheet_names(source)
        activity = [_sheet_piece(source, sheets, "aktivitet")]
        budget = _sheet_piece(source, sheets, "budget")
    else:
        folder = source if source.is_dir() else source.parent
        activity = _activity_pieces(folder)
        budget = _budget_piece(folder)
        if (folder / "kmf.toml").is_file():
            settings_path = folder / "kmf.toml"
    settings = _read_settings(settings_path) if settings_path else Settings()
    with _reading([*activity, budget]):
        activity = [_with_decimal(p, AMOUNTS, settings) for p in activity]
        budget = _with_decimal(budget, (KMF_BUDGET.name,), settings)

    # hash the inputs in a thread while the engine (which releases the GIL) reads them
    paths = [p.path for p in activity] + [budget.path] + ([settings_path] if settings_path else [])
    unique = list(dict.fromkeys(paths))
    with ThreadPoolExecutor(max_workers=1) as pool:
        digests = pool.map(_sha256, unique)
        with _reading(activity):
            age_column, notes = _age_column(activity)
            aktivitet, moved = _aggregate_activity(activity, age_column)
        _check_cell_signs(aktivitet, activity)
        with _reading([budget]):
            budget_frame, budget_rows = _read_budget(budget)
        sha = dict(zip(unique, digests, strict=True))

    rows_by_file = aktivitet.group_by("fil").agg(pl.col("rows").sum())
    rows_read = dict(
        zip(rows_by_file["fil"].to_list(), rows_by_file["rows"].to_list(), strict=True)
    )
    files = [
        InputFile("aktivitet", p.path, p.display, sha[p.path], int(rows_read.get(i, 0)))
        for i, p in enumerate(activity)
    ]
    files.append(InputFile("budget", budget.path, budget.display, sha[budget.path], budget_rows))
    if settings_path:
        files.append(InputFile("kmf.toml", settings_path, "kmf.toml", sha[settings_path], 0))
    return Dataset(
        source=source,
        aktivitet=aktivitet,
        budget=budget_frame,
        settings=settings,
        files=tuple(files),
        age_column=age_column,
        psykiatri_moved=moved,
        notes=tuple(p.note for p in (*activity, budget) if p.note) + tuple(notes),
    )


AMOUNTS = (PRODUKTIONSVAERDI.name, KMF.name)


def _with_decimal(piece: Piece, columns: Iterable[str], settings: Settings) -> Piece:
    """The piece with the number format its amounts use where they are text (in CSV, in
    text cells in Excel, or a text column in Parquet)."""
    lf = piece.scan()
    present = [c for c in columns if c in lf.collect_schema()]
    decimal = formats.decimal_separator(lf, present, piece.display, settings.decimaltegn)
    return replace(piece, decimal=decimal)


def _activity_pieces(folder: Path) -> list[Piece]:
    candidates = [
        c
        for c in (folder / "aktivitet.parquet", folder / "aktivitet.csv", folder / "aktivitet")
        if c.exists()
    ]
    if not candidates:
        raise DataError(
            f"Mappen '{folder}' har ingen aktivitetsdata. Læg dem i 'aktivitet.parquet', "
            "'aktivitet.csv' eller en mappe 'aktivitet/' med Parquet-filer."
        )
    if len(candidates) > 1:
        names = ", ".join(f"'{c.name}'" for c in candidates)
        raise DataError(
            f"Mappen '{folder}' har aktivitetsdata flere steder ({names}). "
            "Behold kun ét af dem, så det er entydigt, hvad der skal bruges."
        )
    chosen = candidates[0]
    if chosen.is_file():
        return [_file_piece("aktivitet", chosen, chosen.name)]
    files = sorted(p for p in chosen.rglob("*.parquet") if p.is_file())
    others = sorted(
        p.relative_to(folder)
        for p in chosen.rglob("*")
        if p.is_file() and p.suffix.lower() != ".parquet" and not p.name.startswith((".", "_"))
    )
    if not files:
        raise DataError(
            f"Mappen '{chosen}' indeholder ingen Parquet-filer (*.parquet). "
            "Læg aktivitetsdata i den som Parquet-filer."
        )
    note: str | None = None
    if others:
        shown = ", ".join(str(p) for p in others[:5]) + (" …" if len(others) > 5 else "")
        note = (
            f"{len(others)} fil(er) i '{chosen.name}/' er ikke læst, fordi mappen kun læses som "
            f"Parquet-filer: {shown}."
        )
    pieces: list[Piece] = []
    for f in files:
        rel = f.relative_to(folder)
        formats.check_parquet(f, str(rel))
        hive = tuple(tuple(part.split("=", 1)) for part in rel.parts[:-1] if "=" in part)
        pieces.append(
            Piece(
                "aktivitet",
                f,
                str(rel),
                "parquet",
                hive=tuple((k.strip().lower(), v) for k, v in hive),
                note=None if pieces else note,  # said once
            )
        )
    return pieces


def _budget_piece(folder: Path) -> Piece:
    candidates = [c for c in (folder / "budget.parquet", folder / "budget.csv") if c.is_file()]
    if not candidates:
        raise DataError(
            f"Mappen '{folder}' har ingen budgetfil. Læg budgettet (ØA-niveauet) i 'budget.csv' "
            "eller 'budget.parquet' med kolonnerne aar og kmf_budget_kr "
            "(og kommunekode, hvis budgettet er pr. kommune)."
        )
    if len(candidates) > 1:
        raise DataError(
            f"Mappen '{folder}' har både 'budget.parquet' og 'budget.csv'. Behold kun én af dem."
        )
    return _file_piece("budget", candidates[0], candidates[0].name)


def _file_piece(table: str, path: Path, display: str) -> Piece:
    if path.suffix.lower() == ".csv":
        layout = formats.inspect_csv(path, display)
        return Piece(
            table,
            path,
            display,
            "csv",
            separator=layout.separator,
            encoding=layout.encoding,
            note=layout.note,
        )
    formats.check_parquet(path, display)
    return Piece(table, path, display, "parquet")


def _normalise_names(names: list[str]) -> list[str]:
    return [n.lstrip("\ufeff").strip().lower() for n in names]


def _sheet_names(path: Path) -> list[str]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:
        raise DataError(os_error_message(exc, path)) from None
    except Exception:  # openpyxl raises many kinds for a broken file
        raise DataError(_broken_workbook(path)) from None
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def _broken_workbook(path: Path) -> str:
    return (
        f"Excel-filen '{path.name}' kan ikke læses: den er ikke en gyldig .xlsx-projektmappe "
        "(den kan være beskadiget, tom eller i et andet format, fx .xls). Åbn den i Excel, og "
        "gem den igen som 'Excel-projektmappe (*.xlsx)'."
    )


def _sheet_piece(path: Path, sheets: list[str], table: str) -> Piece:
    match = [s for s in sheets if s.strip().lower() == table]
    if not match:
        raise DataError(
            f"Excel-filen '{path.name}' har intet ark, der hedder '{table}'. "
            f"Arkene er: {', '.join(sheets)}. Datasættet skal have arkene 'aktivitet' og 'budget'."
        )
    return Piece(table, path, f"{path.name} (ark '{match[0]}')", "xlsx", sheet=match[0])


@lru_cache(maxsize=4)
def _read_sheet(path: Path, sheet: str, version: tuple[int, int]) -> pl.DataFrame:
    """A worksheet as a frame: a column of numbers where every cell is a number, else of
    text (cast later like CSV), so that a typed number is never read as text.

    Cached: a run scans a sheet several times; ``version`` (mtime, size) keys a changed file anew.
    """
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except OSError:
        raise
    except Exception:  # openpyxl raises many kinds for a broken file
        raise DataError(_broken_workbook(path)) from None
    try:
        rows = wb[sheet].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return pl.DataFrame()
        names = _normalise_names(["" if h is None else str(h) for h in header])
        columns: list[list[object]] = [[] for _ in names]
        for row in rows:
            if row is None or all(v is None or v == "" for v in row):
                continue
            for j in range(len(names)):
                columns[j].append(row[j] if j < len(row) else None)
    finally:
        wb.close()
    keep = [(n, c) for n, c in zip(names, columns, strict=True) if n]
    return pl.DataFrame([_sheet_column(n, c) for n, c in keep])


def _sheet_column(name: str, values: list[object]) -> pl.Series:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pl.Series(name, values, dtype=pl.Float64)
    return pl.Series(name, [_cell_text(v) for v in values], dtype=pl.String)


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text if text.strip() else None


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _read_settings(path: Path) -> Settings:
    text: str | None = None
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError(formats.toml_message(path, exc, text)) from None
    except OSError as exc:
        raise DataError(os_error_message(exc, path)) from None
    unknown = sorted(set(data) - set(SETTINGS_KEYS))
    if unknown:
        raise DataError(
            f"'{path.name}' har ukendte nøgler: {', '.join(unknown)}. "
            f"Tilladte nøgler er: {', '.join(SETTINGS_KEYS)}."
        )
    for key, typ in SETTINGS_KEYS.items():
        if key in data and (not isinstance(data[key], typ) or isinstance(data[key], bool)):
            wanted = "et heltal" if typ is int else "en tekst"
            raise DataError(
                f"'{path.name}': nøglen '{key}' skal være {wanted}, men er {data[key]!r}."
            )
    if data.get("decimaltegn", ",") not in (",", "."):
        raise DataError(
            f"'{path.name}': nøglen 'decimaltegn' skal være \",\" (1.234,56) eller \".\" "
            f"(1234.56), men er {data['decimaltegn']!r}."
        )
    return Settings(
        aar=data.get("aar"),
        metode=data.get("metode"),
        titel=data.get("titel"),
        decimaltegn=data.get("decimaltegn"),
    )


@contextmanager
def _reading(pieces: Iterable[Piece]) -> Iterator[None]:
    """Turn the engine's errors on unreadable files into a Danish ``DataError`` that says
    what is wrong where it can be found (e.g. the CSV lines with too many fields)."""
    pieces = list(pieces)
    try:
        yield
    except OSError as exc:
        where = exc.filename or ", ".join(sorted({p.display for p in pieces}))
        raise DataError(os_error_message(exc, where)) from None
    except (pl.exceptions.PolarsError, pa_errors()):
        raise DataError(_unreadable(pieces)) from None


def _unreadable(pieces: list[Piece]) -> str:
    for piece in pieces:
        if piece.fmt == "csv":
            layout = formats.CsvLayout(piece.separator, piece.encoding)
            problem = formats.csv_structure_problem(piece.path, piece.display, layout)
            if problem:
                return problem
    kinds = {p.fmt for p in pieces}
    names = ", ".join(sorted({p.display for p in pieces}))
    if kinds == {"parquet"}:
        return (
            f"{names} kan ikke læses: filen er beskadiget eller ikke en gyldig Parquet-fil. "
            "Skriv den igen, eller gem data som CSV."
        )
    separators = " eller ".join(
        sorted({formats.SEPARATORS[p.separator] for p in pieces if p.fmt == "csv"})
    )
    return (
        f"{names} kan ikke læses. Kontrollér, at filen er CSV med {separators or 'komma'} "
        "som skilletegn og samme antal felter i hver linje, at anførselstegn er lukket, og "
        "at Parquet-filer er skrevet færdige; gem den evt. igen."
    )


def pa_errors() -> type[Exception]:
    import pyarrow as pa

    return pa.ArrowException


# --- casting and checking -------------------------------------------------------------


def _typed(col: Column, dtype: pl.DataType, decimal_comma: bool) -> pl.Expr:
    """The column cast to its type; null where the raw value is missing or invalid."""
    raw = pl.col(col.name)
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


def _age_expr(age_column: str, schema: pl.Schema, decimal_comma: bool) -> pl.Expr:
    """The age group of a row: from ``aldersgruppe`` or from ``alder`` in whole years."""
    if age_column == "aldersgruppe":
        return _typed(ALDERSGRUPPE, schema["aldersgruppe"], decimal_comma)
    alder = _typed(ALDER, schema["alder"], decimal_comma)
    expr = pl.lit(None, dtype=codes.AgeGroup)
    for upper, group in reversed(codes.AGE_BOUNDS):
        expr = pl.when(alder <= upper).then(pl.lit(group, dtype=codes.AgeGroup)).otherwise(expr)
    return expr


def _age_column(pieces: list[Piece]) -> tuple[str, list[str]]:
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
        raise DataError(
            f"{piece.display} mangler {plural} {', '.join(repr(m) for m in missing)}. "
            f"Kolonnerne i filen er: {', '.join(sorted(present)) or '(ingen)'}{hint}. "
            "De krævede kolonner står i README under 'Dataformat'."
        )


CONSTANT_KEYS = ("aar", "opgoerelse", "takstaar")


def _file_spec(piece: Piece, age_column: str) -> tuple[columnar.FileSpec | None, dict[str, object]]:
    """The columns with one value in the whole file, and, for a Parquet file, what the
    columnar path (:mod:`kmf.columnar`) needs to try summing it."""
    if piece.fmt != "parquet":
        return None, {}
    import pyarrow.parquet as pq

    from kmf import columnar

    try:
        metadata = pq.read_metadata(piece.path)
    except Exception:  # unreadable: the general path reports it
        return None, {}
    own = metadata.schema.names
    names = dict(zip(_normalise_names(own), own, strict=True))
    constants = piece.constants(CONSTANT_KEYS, metadata)
    return columnar.FileSpec(piece.path, metadata, names, age_column, constants), constants


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
    grouped rows already (from :mod:`kmf.columnar`).
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
                on_grid(_typed(PRODUKTIONSVAERDI, schema["produktionsvaerdi"], dc)).alias(
                    "produktionsvaerdi"
                ),
                on_grid(_typed(KMF, schema["kmf"], dc)).alias("kmf"),
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
    area = _typed(SUNDHEDSOMRAADE, schema["sundhedsomraade"], dc)
    age = _age_expr(age_column, schema, dc)
    aar = _typed(AAR, schema["aar"], dc)
    takst = _typed(TAKSTAAR, schema["takstaar"], dc) if "takstaar" in schema else None
    is_psyk = area == codes.AGE_FREE_AREA
    return raw.select(
        pl.lit(index, dtype=pl.UInt32).alias("fil"),
        _typed(KOMMUNEKODE, schema["kommunekode"], dc).cast(pl.Int16).alias("kommunekode"),
        aar.cast(pl.Int16).alias("aar"),
        _typed(OPGOERELSE, schema["opgoerelse"], dc).alias("opgoerelse"),
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


def _aggregate_activity(pieces: list[Piece], age_column: str) -> tuple[pl.DataFrame, int]:
    from kmf import columnar

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
            problems.extend(_diagnose_activity(pieces[i], age_column))
        _raise(problems, "Aktivitetsdata")
    moved = int(agg["_moved"].sum())
    kroner = (pl.col("produktionsvaerdi", "kmf") / codes.AMOUNT_STEPS).name.keep()
    return agg.drop("_p_null", "_k_null", "_moved").with_columns(kroner), moved


def _diagnose_activity(piece: Piece, age_column: str) -> list[str]:
    """Name the offending rows of one file (only called when the fast pass found a problem)."""
    lf = piece.scan().with_row_index("_row")
    schema = lf.collect_schema()
    dc = piece.decimal_comma
    columns = _activity_columns(age_column)
    area = _typed(SUNDHEDSOMRAADE, schema["sundhedsomraade"], dc)
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
    if age_column == "aldersgruppe":
        age = _typed(ALDERSGRUPPE, schema["aldersgruppe"], dc)
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
    typed = _typed(col, dtype, decimal_comma)
    scope = pl.lit(True) if only is None else only
    problems: list[str] = []
    wrong_type = col.kind == "code" and not (
        dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)
    )
    wrong_type |= col.kind != "code" and not (dtype == pl.String or dtype.is_numeric())
    if wrong_type:
        return [
            f"{piece.display}, kolonne '{col.name}': har typen {dtype}, men skal være "
            f"{col.what}. Ret kolonnens type i filen."
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


def _raise(problems: list[str], subject: str) -> None:
    if not problems:  # the fast pass saw a problem the diagnosis could not name
        problems = ["ukendt fejl i data; kontrollér filernes kolonner og værdier."]
    n = len(problems)
    head = f"{subject} kan ikke bruges ({n} fejl):"
    raise DataError("\n".join([head, *(f"- {p}" for p in problems)]))


def _check_cell_signs(aktivitet: pl.DataFrame, pieces: list[Piece]) -> None:
    """A summed cell may not be negative (a single record may: it is a correction)."""
    cells = summed_cells(aktivitet)
    negative = cells.filter((pl.col("produktionsvaerdi") < 0) | (pl.col("kmf") < 0))
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


def _read_budget(piece: Piece) -> tuple[pl.DataFrame, int]:
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
        _raise(problems, "Budgettet")
    frame = lf.select(
        pl.col("_row"),
        _typed(AAR, schema["aar"], dc).alias("aar"),
        (
            _typed(KOMMUNEKODE, schema["kommunekode"], dc)
            if "kommunekode" in schema
            else pl.lit(None, dtype=pl.Int64)
        ).alias("kommunekode"),
        _typed(KMF_BUDGET, schema["kmf_budget_kr"], dc).alias("kmf_budget_kr"),
    ).collect()
    frame = frame.with_columns(
        pl.format("{} {}", pl.lit(piece.row_word), pl.col("_row") + piece.first_row).alias("raekke")
    ).drop("_row")
    return frame, frame.height


def describe_problem_rows(frame: pl.DataFrame, label: Callable[[dict], str]) -> str:
    """Up to ``SHOWN`` rows of a small frame, labelled, for a message."""
    shown = [label(r) for r in frame.head(SHOWN).iter_rows(named=True)]
    more = f" (og {frame.height - SHOWN} flere)" if frame.height > SHOWN else ""
    return "; ".join(shown) + more


# --- conversion -------------------------------------------------------------------------


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
    piece = _file_piece("aktivitet", src, src.name)
    with _reading([piece]):
        age_column, _ = _age_column([piece])
        cells, _ = _aggregate_activity([piece], age_column)
        schema = piece.scan().collect_schema()
        dc = piece.decimal_comma
        columns = _activity_columns(age_column)
        if "takstaar" in schema:
            columns.append(TAKSTAAR)
        typed = [
            _typed(c, schema[c.name], dc)
            .cast(pl.Int16 if c.kind == "int" else pl.String if c.kind == "code" else pl.Float64)
            .alias(c.name)
            for c in columns
        ]
        if "takstaar" in schema:  # a blank takstaar means "the same as aar"
            typed[-1] = pl.coalesce(typed[-1], typed[1]).alias("takstaar")
        dst.parent.mkdir(parents=True, exist_ok=True)
        partial = dst.with_name(dst.name + ".delvis")
        try:
            piece.scan().select(typed).sink_parquet(partial, compression="zstd")
            partial.replace(dst)
        finally:
            partial.unlink(missing_ok=True)
    return int(cells["rows"].sum())
