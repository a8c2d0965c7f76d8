"""Where rows come from: locating the files of a dataset, what each file is (CSV, Parquet,
a workbook sheet) and how to scan it, ``kmf.toml``, and the engines' read errors in Danish."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import polars as pl

from kmf.errors import DataError, os_error_message, require_utf8_path
from kmf.io import formats
from kmf.io.schema import normalise_names

if TYPE_CHECKING:
    import pyarrow.parquet as pq

SETTINGS_KEYS = {"aar": int, "metode": str, "titel": str, "decimaltegn": str}


@dataclass(frozen=True)
class Piece:
    """One source of rows: a CSV file, a Parquet file, a workbook sheet, or a data frame
    handed over from Python (``frame``; it has no file, so ``path`` is ``None``)."""

    table: str  # "aktivitet" or "budget"
    path: Path | None
    display: str  # how messages name it
    fmt: Literal["csv", "parquet", "xlsx", "frame"]
    sheet: str | None = None
    hive: tuple[tuple[str, str], ...] = ()
    separator: str = ","
    encoding: str = "utf8"
    decimal: str = "."  # how numbers written as text are read: "," (1.234,5) or "." (1234.5)
    note: str | None = None  # e.g. a CSV file read as Windows-1252
    frame: pl.LazyFrame | None = field(default=None, repr=False, compare=False)

    @property
    def decimal_comma(self) -> bool:
        return self.decimal == ","

    @property
    def row_word(self) -> str:
        return "linje" if self.fmt == "csv" else "række"

    @property
    def first_row(self) -> int:
        """Row label of the first data row: the header is line/row 1 in CSV and Excel; a
        data frame's rows are numbered from 0, as polars and pandas show them."""
        return {"parquet": 1, "frame": 0}.get(self.fmt, 2)

    @property
    def file(self) -> Path:
        """The file the rows are in (a frame's piece has none)."""
        if self.path is None:
            raise ValueError(f"{self.display} is not a file")
        return self.path

    def scan(self) -> pl.LazyFrame:
        """The raw rows with lower-cased, trimmed column names."""
        if self.frame is not None:
            names = self.frame.collect_schema().names()
            lf = self.frame.rename(dict(zip(names, normalise_names(names), strict=True)))
        elif self.fmt == "csv":
            lf = pl.scan_csv(
                self.file,
                separator=self.separator,
                infer_schema=False,
                with_column_names=normalise_names,
                encoding=self.encoding,  # type: ignore[arg-type]
            )
        elif self.fmt == "parquet":
            lf = pl.scan_parquet(self.file, hive_partitioning=False)
            names = lf.collect_schema().names()
            lf = lf.rename(dict(zip(names, normalise_names(names), strict=True)))
        else:
            stat = self.file.stat()
            key = (stat.st_mtime_ns, stat.st_size)
            lf = _read_sheet(self.file, self.sheet or self.table, key).lazy()
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
            meta = metadata or pq.ParquetFile(self.file).metadata
        except Exception:  # an unreadable file is reported by the normal read
            return {}
        own = meta.schema.names
        index_of = {name: i for i, name in enumerate(normalise_names(own))}
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
                    if isinstance(value, str | int | date) and not isinstance(value, bool):
                        found[column] = value
        return found


@dataclass(frozen=True)
class Settings:
    """What ``kmf.toml`` says; the CLI's flags win."""

    aar: int | None = None
    metode: str | None = None
    titel: str | None = None
    decimaltegn: str | None = None  # "," or "."; else decided from the data


def with_decimal(piece: Piece, columns: Iterable[str], settings: Settings) -> Piece:
    """The piece with the number format its amounts use where they are text (in CSV, in
    text cells in Excel, or a text column in Parquet)."""
    lf = piece.scan()
    present = [c for c in columns if c in lf.collect_schema()]
    decimal = formats.decimal_separator(lf, present, piece.display, settings.decimaltegn)
    return replace(piece, decimal=decimal)


def activity_pieces(folder: Path) -> list[Piece]:
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
            "Behold kun ét af dem, så det er entydigt, hvad der skal bruges (er Parquet-filen "
            "lavet med kmf konverter, så flyt eller slet CSV-filen)."
        )
    chosen = candidates[0]
    if chosen.is_file():
        return [file_piece("aktivitet", chosen, chosen.name)]
    entries = _walk(chosen)
    files = sorted(p for p in entries if p.suffix.lower() == ".parquet")
    others = sorted(
        p.relative_to(folder)
        for p in entries
        if p.suffix.lower() != ".parquet" and not p.name.startswith((".", "_"))
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


def _walk(folder: Path) -> list[Path]:
    """Every file below ``folder``. A folder that may not be read, or a link that leads
    nowhere, is an error: its data would otherwise be left out unseen."""

    def refuse(exc: OSError) -> None:
        raise DataError(os_error_message(exc, exc.filename)) from None

    found = []
    for root, _dirs, names in os.walk(folder, onerror=refuse, followlinks=True):
        for name in names:
            path = Path(root) / name
            if not path.is_file():
                raise DataError(
                    f"'{path}' kan ikke læses: den er en henvisning (link) til en fil, der ikke "
                    "findes. Slet henvisningen, eller læg filen, den peger på, på plads."
                )
            require_utf8_path(path, DataError)
            found.append(path)
    return found


def budget_piece(folder: Path) -> Piece:
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
    return file_piece("budget", candidates[0], candidates[0].name)


def file_piece(table: str, path: Path, display: str) -> Piece:
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


def sheet_names(path: Path) -> list[str]:
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


def sheet_piece(path: Path, sheets: list[str], table: str) -> Piece:
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
        names = normalise_names(["" if h is None else str(h) for h in header])
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
    if present and all(isinstance(v, date) for v in present):  # datetime is a date too
        days = [v.date() if isinstance(v, datetime) else v for v in values]
        return pl.Series(name, days, dtype=pl.Date)
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pl.Series(name, values, dtype=pl.Float64)
    return pl.Series(name, [_cell_text(v) for v in values], dtype=pl.String)


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):  # a date cell among text: as ISO, read like CSV
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text if text.strip() else None


def read_settings(path: Path) -> Settings:
    text: str | None = None
    try:
        text = path.read_text(encoding="utf-8-sig")  # Notepad may add a BOM
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
def reading_errors(pieces: Iterable[Piece]) -> Iterator[None]:
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
            problem = formats.csv_structure_problem(piece.file, piece.display, layout)
            if problem:
                return problem
    kinds = {p.fmt for p in pieces}
    names = ", ".join(sorted({p.display for p in pieces}))
    if kinds == {"frame"}:
        return (
            f"{names} kan ikke læses: en kolonne har en type, kmf ikke kan omsætte. Giv "
            "koder og år som heltal eller tekst og beløb som tal."
        )
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
