"""A validated dataset (SPEC §3): ``load`` reads every table, checks it and sums the activity
into cells; the records themselves are never held in memory."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import polars as pl

from kmf.errors import DataError, os_error_message, require_utf8_path
from kmf.io.aggregate import aggregate_activity
from kmf.io.schema import AMOUNTS, KMF_BUDGET, exact_sum, summed_cells
from kmf.io.sources import (
    Settings,
    activity_pieces,
    budget_piece,
    file_sha256,
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


@dataclass(frozen=True)
class InputFile:
    """An input file as the manifest records it."""

    table: str
    path: Path
    display: str
    sha256: str
    rows: int


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
        """The cuts the data holds: ``aar``, ``opgoerelse``, ``takstaar``, ``opgoerelsesdato``
        (null where undated) with rows and kommuner."""
        return (
            self.aktivitet.group_by("aar", "opgoerelse", "takstaar", "opgoerelsesdato")
            .agg(
                pl.col("rows").sum(),
                pl.col("kommunekode").n_unique().alias("kommuner"),
                exact_sum("produktionsvaerdi"),
                exact_sum("kmf"),
            )
            .sort("aar", "opgoerelse", "takstaar", "opgoerelsesdato")
        )

    @property
    def dated(self) -> bool:
        """Whether the activity has forecast dates (SPEC §7)."""
        return self.aktivitet["opgoerelsesdato"].null_count() < self.aktivitet.height

    @property
    def budget_per_kommune(self) -> bool:
        """Whether the budget has one row per kommune (else one for the whole country)."""
        return self.budget.height > 0 and self.budget["kommunekode"].null_count() == 0

    def latest_foreloebig_year(self) -> int | None:
        years = self.aktivitet.filter(pl.col("opgoerelse") == "foreloebig")["aar"]
        return None if years.is_empty() else int(years.max())  # type: ignore[arg-type]


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
    require_utf8_path(source, DataError)
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
        sheets = sheet_names(source)
        activity = [sheet_piece(source, sheets, "aktivitet")]
        budget = sheet_piece(source, sheets, "budget")
    else:
        folder = source if source.is_dir() else source.parent
        activity = activity_pieces(folder)
        budget = budget_piece(folder)
        if (folder / "kmf.toml").is_file():
            settings_path = folder / "kmf.toml"
    settings = read_settings(settings_path) if settings_path else Settings()
    with reading_errors([*activity, budget]):
        activity = [with_decimal(p, AMOUNTS, settings) for p in activity]
        budget = with_decimal(budget, (KMF_BUDGET.name,), settings)

    # hash the inputs in a thread while the engine (which releases the GIL) reads them
    paths = [p.path for p in activity] + [budget.path] + ([settings_path] if settings_path else [])
    unique = list(dict.fromkeys(paths))
    with ThreadPoolExecutor(max_workers=1) as pool:
        digests = pool.map(file_sha256, unique)
        with reading_errors(activity):
            age_column, notes = find_age_column(activity)
            aktivitet, moved = aggregate_activity(activity, age_column)
        check_cell_signs(aktivitet, activity)
        check_dates_not_mixed(aktivitet, activity)
        with reading_errors([budget]):
            budget_frame, budget_rows = read_budget(budget)
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
