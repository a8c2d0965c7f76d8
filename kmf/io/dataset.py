"""A validated dataset (SPEC §3): ``load`` reads every table, checks it and sums the activity
into cells; the records themselves are never held in memory."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, TypeAlias

import polars as pl

from kmf.danish import format_kr
from kmf.errors import DataError, os_error_message, require_utf8_path
from kmf.io.cache import CellCache
from kmf.io.cuts import NO_DATE, CutKey, only_cuts
from kmf.io.digest import Digest
from kmf.io.population import population_piece, population_sheet, read_population
from kmf.io.reader import Reader
from kmf.io.sample import is_sample, sample_dataset
from kmf.io.schema import AMOUNTS, KMF_BUDGET, exact_sum, summed_cells
from kmf.io.sources import (
    Piece,
    Settings,
    activity_pieces,
    budget_piece,
    read_settings,
    reading_errors,
    sheet_names,
    sheet_piece,
    with_decimal,
)
from kmf.io.validate import (
    check_cell_signs,
    check_dates_not_mixed,
    find_age_column,
    read_budget,
)

# A table handed over from Python: a polars DataFrame or LazyFrame, or a pandas DataFrame.
Frame: TypeAlias = Any
# ``{"aktivitet": frame or list of frames, "budget": frame}``
Frames: TypeAlias = Mapping[str, Frame | Sequence[Frame]]


@dataclass(frozen=True)
class InputFile:
    """An input as the manifest records it; a data frame from Python has no path and no
    sha256."""

    table: str
    path: Path | None
    display: str
    sha256: str | None  # may be set to a Future of it (Digest)
    rows: int
    # whether its cells came from the cache (None: the command used none of its cells)
    fra_cache: bool | None = None


Digest.install(InputFile)


@dataclass(frozen=True)
class Dataset:
    """A validated dataset: activity summed into cells, the budget rows and the settings.

    ``aktivitet`` has one row per input file and cell key (``CELL_KEY`` plus ``fil``,
    the index of the file in ``files``) with ``produktionsvaerdi``, ``kmf`` and ``rows``;
    ``cells`` is the same summed over input files (one row per cell key).
    """

    source: Path | None  # None: data frames handed over from Python
    aktivitet: pl.DataFrame
    budget: pl.DataFrame
    settings: Settings
    files: tuple[InputFile, ...]
    age_column: str
    psykiatri_moved: int
    cells: pl.DataFrame
    notes: tuple[str, ...] = field(default=())
    #: the population (SPEC §9), summed per kommunekode, aar and aldersgruppe (``antal``,
    #: ``rows``); None where the dataset has none
    befolkning: pl.DataFrame | None = None
    # every cut of every file (``fil``, the cut columns, ``rows``), read or not
    catalogue: pl.DataFrame | None = field(default=None, repr=False)
    # the cuts ``aktivitet`` holds (None: all of them)
    loaded: frozenset[CutKey] | None = field(default=None, repr=False)
    reader: Reader | None = field(default=None, repr=False, compare=False)

    def cuts(self) -> pl.DataFrame:
        """The cuts the data holds: ``aar``, ``opgoerelse``, ``takstaar``, ``opgoerelsesdato``
        (null where undated) with rows and kommuner (and the amounts) — these last null for
        a cut this dataset has not read (see :meth:`including`)."""
        return self._cuts

    @cached_property
    def _cuts(self) -> pl.DataFrame:
        # summed once: choosing the cuts of every forecast date looks at them many times
        key = ["aar", "opgoerelse", "takstaar", "opgoerelsesdato"]
        read = self.aktivitet.group_by(key).agg(
            pl.col("rows").sum(),
            pl.col("kommunekode").n_unique().cast(pl.UInt32).alias("kommuner"),
            exact_sum("produktionsvaerdi"),
            exact_sum("kmf"),
        )
        if self.catalogue is None:
            return read.sort(key)
        every = self.catalogue.group_by(key).agg(pl.col("rows").sum())
        day = pl.col("opgoerelsesdato").fill_null(NO_DATE).alias("_dato")
        joined = every.with_columns(day).join(
            read.drop("rows", "aar", "opgoerelse", "takstaar")
            .with_columns(read.select(day, "aar", "opgoerelse", "takstaar"))
            .drop("opgoerelsesdato"),
            on=["aar", "opgoerelse", "takstaar", "_dato"],
            how="left",
        )
        return joined.drop("_dato").select(read.columns).sort(key)

    def including(self, cuts: Iterable[CutKey] | None) -> Dataset:
        """The dataset with the cells of ``cuts`` (keys (aar, opgoerelse, takstaar,
        opgoerelsesdato); None: every cut) read too: only what is not read yet is read."""
        if self.reader is None or self.loaded is None:
            return self
        wanted = None if cuts is None else self.loaded | frozenset(cuts)
        return _assemble(self, wanted)

    @property
    def dated(self) -> bool:
        """Whether the activity has forecast dates (SPEC §7)."""
        frame = self.aktivitet if self.catalogue is None else self.catalogue
        return frame["opgoerelsesdato"].null_count() < frame.height

    @property
    def budget_per_kommune(self) -> bool:
        """Whether the budget has one row per kommune (else one for the whole country)."""
        return self.budget.height > 0 and self.budget["kommunekode"].null_count() == 0

    def __repr__(self) -> str:
        """A line on what was read, not the frames: source, files, rows, cuts, years."""
        if self.source is None:
            where = "tabeller givet fra Python"
        else:
            sample = is_sample(self.source)
            where = "eksempeldata, der følger med kmf" if sample else str(self.source)
        files = [f for f in self.files if f.table == "aktivitet"]
        rows = sum(f.rows for f in files)
        cuts = self.cuts()
        years = sorted(set(cuts["aar"].to_list()))
        span = f"{years[0]}–{years[-1]}" if len(years) > 1 else "".join(map(str, years))
        budget = "pr. kommune" if self.budget_per_kommune else "hele landet"
        population = ""
        if self.befolkning is not None and self.befolkning.height:
            years = sorted(self.befolkning["aar"].unique().to_list())
            first, last = int(years[0]), int(years[-1])
            population = (
                f"; befolkning {first}–{last}" if first != last else f"; befolkning {first}"
            )
        return (
            f"<kmf.Dataset: {where}; aktivitet {format_kr(rows)} rækker i {len(files)} "
            f"{'fil' if len(files) == 1 else 'filer'}, {cuts.height} "
            f"{'opgørelse' if cuts.height == 1 else 'opgørelser'} for {span}; budget {budget}"
            f"{population}>"
        )

    def latest_foreloebig_year(self) -> int | None:
        frame = self.aktivitet if self.catalogue is None else self.catalogue
        years = frame.filter(pl.col("opgoerelse") == "foreloebig")["aar"]
        return None if years.is_empty() else int(years.max())  # type: ignore[arg-type]


def load(
    path: str | Path | Frames | None = None, *, kun_brugte: bool = False, cache: bool = True
) -> Dataset:
    """Read and validate a dataset.

    Parameters
    ----------
    path
        Default: the bundled sample (:func:`sample_dataset`), as ``kmf run`` without a
        dataset. A dataset folder, a file inside one (``aktivitet.csv``), or an ``.xlsx`` workbook;
        or the tables themselves as data frames (polars or pandas):
        ``{"aktivitet": frame, "budget": frame}``, where ``aktivitet`` may also be a list of
        frames (they are read as one). The frames have the columns of the files.

    Raises
    ------
    DataError
        With a Danish message naming file (or frame), column, values and rows.
    """
    if isinstance(path, Mapping):
        activity, budget, population = _frame_pieces(path)
        return _validated(None, activity, budget, Settings(), None, population)
    source = sample_dataset() if path is None else Path(path)
    require_utf8_path(source, DataError)
    try:
        return _load(source, kun_brugte, cache)
    except OSError as exc:  # a file or folder that vanished or may not be read
        where = exc.filename if exc.filename is not None else source
        raise DataError(os_error_message(exc, where)) from None


def _load(source: Path, lazy: bool = False, cache: bool = True) -> Dataset:
    if not source.exists():
        raise DataError(
            f"Datasættet '{source}' findes ikke. Angiv en mappe med aktivitet og budget "
            "eller en Excel-projektmappe (.xlsx)."
        )
    settings_path: Path | None = None
    if source.is_file() and source.suffix.lower() == ".xlsx":
        sheets = sheet_names(source)
        activity = [sheet_piece(source, sheets, "aktivitet")]
        budget = sheet_piece(source, sheets, "budget")
        population = population_sheet(source, sheets)
    else:
        folder = source if source.is_dir() else source.parent
        activity = activity_pieces(folder)
        budget = budget_piece(folder)
        population = population_piece(folder)
        if (folder / "kmf.toml").is_file():
            settings_path = folder / "kmf.toml"
    settings = read_settings(settings_path) if settings_path else Settings()
    return _validated(source, activity, budget, settings, settings_path, population, lazy, cache)


def _frame_pieces(frames: Frames) -> tuple[list[Piece], Piece, Piece | None]:
    unknown = sorted(set(frames) - {"aktivitet", "budget", "befolkning"})
    missing = [t for t in ("aktivitet", "budget") if t not in frames]
    if unknown or missing:
        raise DataError(
            "Data givet som tabeller skal være en ordbog med nøglerne 'aktivitet' og 'budget'"
            + (f"; '{missing[0]}' mangler" if missing else "")
            + (f"; ukendt nøgle: {', '.join(repr(u) for u in unknown)}" if unknown else "")
            + ". Fx kmf.load({'aktivitet': aktivitet_df, 'budget': budget_df}) (og evt. "
            "'befolkning': befolkning_df)."
        )
    given = frames["aktivitet"]
    many = isinstance(given, Sequence) and not isinstance(given, str)
    activity = list(given) if many else [given]
    if not activity:
        raise DataError("'aktivitet' er en tom liste. Giv mindst én tabel med aktivitetsdata.")
    pieces = [
        _frame_piece("aktivitet", f, f"aktivitet[{i}]" if many else "aktivitet")
        for i, f in enumerate(activity)
    ]
    population = (
        _frame_piece("befolkning", frames["befolkning"], "befolkning")
        if frames.get("befolkning") is not None
        else None
    )
    return pieces, _frame_piece("budget", frames["budget"], "budget"), population


def _frame_piece(table: str, frame: Frame, name: str) -> Piece:
    if isinstance(frame, pl.DataFrame):
        lazy = frame.lazy()
    elif isinstance(frame, pl.LazyFrame):
        lazy = frame
    elif type(frame).__module__.split(".")[0] == "pandas" and hasattr(frame, "columns"):
        try:
            lazy = pl.from_pandas(frame).lazy()
        except Exception:  # pyarrow's many conversion errors
            mixed = [
                str(c)
                for c in frame.columns
                if frame[c].dtype == object and frame[c].dropna().map(type).nunique() > 1
            ]
            where = f"kolonne {', '.join(repr(c) for c in mixed)}" if mixed else "en kolonne"
            raise DataError(
                f"Tabellen '{name}' kan ikke læses: {where} har værdier af blandede typer, fx "
                "tal og tekst. Giv kolonnen én type, fx df[kolonne].astype(int) eller "
                ".astype(str)."
            ) from None
    else:
        raise DataError(
            f"Tabellen '{name}' er en {type(frame).__name__}; kmf læser en polars- eller "
            "pandas-DataFrame (eller en sti til en mappe med filerne)."
        )
    return Piece(table, None, f"Tabellen '{name}'", "frame", frame=lazy)


def require_no_copies(pieces: Iterable[Piece], sha256: dict[Path | None, str | None]) -> None:
    """Two activity files with the same bytes, such as Explorer's "aktivitet - Kopi.parquet"
    or "aktivitet (1).parquet" beside the original, would be summed twice: a DataError naming
    both. Parts of one cut split over several files differ in their bytes and stay legal, as
    do equal files in different hive partitions (the folder names make their rows differ)."""
    seen: dict[tuple[object, ...], Piece] = {}
    for piece in pieces:
        if piece.path is None:
            continue
        key = (piece.hive, piece.path.stat().st_size, sha256.get(piece.path))
        first = seen.setdefault(key, piece)
        if first is not piece:
            raise DataError(
                f"Aktivitetsdata: filerne '{first.display}' og '{piece.display}' har præcis "
                "det samme indhold (samme bytes), så deres rækker ville blive talt med to "
                "gange. Den ene er sikkert en kopi (fx lavet i Stifinder: '… - Kopi' eller "
                "'… (1)'). Slet eller flyt kopien, og kør igen. Dele af én opgørelse fordelt "
                "på flere forskellige filer er i orden."
            )


def _copy_candidates(pieces: list[Piece], reader: Reader) -> dict[Path | None, str | None]:
    """The sha256 of the activity files that share their size (and hive partition) with
    another: only those can be copies, so only those are hashed before the records are read."""
    sizes: dict[tuple[object, ...], int] = {}
    for p in pieces:
        if p.path is not None:
            key = (p.hive, p.path.stat().st_size)
            sizes[key] = sizes.get(key, 0) + 1
    return {
        p.path: reader.sha256(p.path)
        for p in pieces
        if p.path is not None and sizes[(p.hive, p.path.stat().st_size)] > 1
    }


def _validated(
    source: Path | None,
    activity: list[Piece],
    budget: Piece,
    settings: Settings,
    settings_path: Path | None,
    population: Piece | None = None,
    lazy: bool = False,
    cache: bool = True,
) -> Dataset:
    with reading_errors([*activity, budget]):
        activity = [with_decimal(p, AMOUNTS, settings) for p in activity]
        budget = with_decimal(budget, (KMF_BUDGET.name,), settings)
    store = CellCache.open(cache and source is not None)
    with reading_errors(activity):
        age_column, notes = find_age_column(activity)
        layout = {"alder": age_column, "decimaltegn": settings.decimaltegn}
        reader = Reader(activity, age_column, store, layout)
        # hashed in a thread while the engine (which releases the GIL) reads
        reader.hash_files([budget.path, settings_path, population.path if population else None])
        reader.ensure(frozenset() if lazy else None)  # files not known by cut: whole
    catalogue = reader.catalogue()
    check_dates_not_mixed(catalogue, activity)
    require_no_copies(activity, _copy_candidates(activity, reader))
    with reading_errors([budget]):
        budget_frame, budget_rows = read_budget(budget)
    befolkning: pl.DataFrame | None = None
    population_rows, population_notes = 0, list[str]()
    if population is not None:
        with reading_errors([population]):
            befolkning, population_rows, population_notes = read_population(population)
    notes += population_notes
    if store.problem:
        notes.append(store.problem)
    dataset = Dataset(
        source=source,
        aktivitet=pl.DataFrame(),
        budget=budget_frame,
        settings=settings,
        files=(
            *(InputFile("aktivitet", p.path, p.display, None, 0) for p in activity),
            InputFile("budget", budget.path, budget.display, None, budget_rows),
            *(
                [
                    InputFile(
                        "befolkning", population.path, population.display, None, population_rows
                    )
                ]
                if population is not None
                else []
            ),
            *([InputFile("kmf.toml", settings_path, "kmf.toml", None, 0)] if settings_path else []),
        ),
        age_column=age_column,
        psykiatri_moved=0,
        cells=pl.DataFrame(),
        notes=tuple(p.note for p in (*activity, budget) if p.note) + tuple(notes),
        befolkning=befolkning,
        catalogue=catalogue,
        loaded=frozenset(),
        reader=reader,
    )
    return _assemble(dataset, None if not lazy else frozenset(), final=not lazy)


def _assemble(base: Dataset, wanted: frozenset[CutKey] | None, final: bool = True) -> Dataset:
    """``base`` with the cells of the cuts ``wanted`` (None: all), read where they are not
    yet, checked; with ``final``, the files' sha256 too, and the cache written."""
    reader = base.reader
    assert reader is not None
    with reading_errors(reader.pieces):
        reader.ensure(wanted)
        aktivitet, moved = reader.cells(wanted)
    cells = summed_cells(aktivitet)  # summed once: checked here, read by the forecast
    # a cut's sign is known once every file holding it is read: the cuts wanted (all, with
    # None). A lazy first load has read files unknown by cut whole and the others not yet,
    # so a correction may be read before the record it corrects.
    check_cell_signs(cells if wanted is None else only_cuts(cells, wanted), reader.pieces)
    # a cell a step or so below 0 (records that cancel, each rounded to the grid) is 0, as
    # check_cell_signs says: the methods take logarithms and shares of P, K ≥ 0
    cells = cells.with_columns(pl.col("produktionsvaerdi", "kmf").clip(lower_bound=0.0))
    files: list[InputFile] = []
    for f in base.files:
        if f.table == "aktivitet":
            index = len(files)
            f = replace(f, rows=reader.rows_of(index), fra_cache=reader.from_cache(index, wanted))
        # the digest as a future: the command waits for it only where it shows it
        files.append(replace(f, sha256=reader.digest(f.path)) if final else f)  # type: ignore[arg-type]
    if final:
        reader.remember()
    return replace(
        base,
        aktivitet=aktivitet,
        cells=cells,
        psykiatri_moved=moved,
        files=tuple(files),
        loaded=wanted,
    )
