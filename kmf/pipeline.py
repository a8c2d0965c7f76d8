"""From a dataset to the report tables: ``run()`` makes the ``Result`` and hands it the
report writer, so ``Result.write`` works without the result importing the report."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

import polars as pl

from kmf import codes
from kmf._meta import version
from kmf.compute import population as citizens
from kmf.compute import tables
from kmf.compute.accuracy import settlement, settlement_cuts, settlement_last_year
from kmf.compute.checks import unusual_changes
from kmf.compute.decompose import METHODS, NEEDS_POPULATION, effects
from kmf.compute.forecast import Basis, Cells, basis_for, build_cells, choose_year, require_finite
from kmf.compute.timeline import cut_keys, parse_date
from kmf.errors import DataError
from kmf.io import Dataset, Frames, load
from kmf.io.digest import Digest
from kmf.report import write_report
from kmf.result import Manifest, ManifestCut, ManifestFile, Result

ALL_METHODS = "alle"


def run(
    dataset: Dataset | str | Path | Frames | None = None,
    aar: int | None = None,
    metode: str | None = None,
    dato: date | str | None = None,
) -> Result:
    """Decompose the gap between the KMF forecast and the budget for budget year ``aar``.

    For every kommune, region and Hele landet the change from budget to forecast is split
    into aktivitetseffekt (A), aldersgruppeeffekt (B), sundhedsområdeeffekt (C) and Øvrige,
    in kr. and in pct. of the budget, as in the ministry's analysis "Udviklingen i den
    kommunale medfinansiering 2018".

    Parameters
    ----------
    dataset
        Default: the bundled sample, as the command line without a dataset. A loaded
        ``Dataset``, a path to one (a folder with ``aktivitet`` and ``budget``, and
        optionally ``kmf.toml``, or an .xlsx workbook), or its tables as data frames
        (``{"aktivitet": ..., "budget": ...}``); see ``kmf.load``.
    aar
        Budget year T; default ``aar`` from ``kmf.toml``, else the latest year with a
        foreløbig cut.
    metode
        ``"ministeriet"`` (the default unless ``kmf.toml`` says otherwise): the analysis'
        own method, each factor held at its budget level in turn, the interaction left as
        Øvrige. ``"lmdi"`` or ``"shapley"``: exact, no remainder, with C split into area mix
        (C1) and KMF share (C2). ``"befolkning"`` (needs a population): exact, with the
        change from more citizens, the age structure and use per citizen; in B1 A = more
        citizens + use per citizen, B = age structure. ``"alle"``: the ministry's tables
        plus ``Result.metoder`` comparing all methods the data allow.
    dato
        The forecast date d (opgørelsesdato) where the activity has ``opgoerelsesdato``: a ``date``
        or text (``"2018-09-10"``, ``"10-09-2018"``, ``"10.09.2018"``). Default: the latest
        T foreløbig date with all the cuts a forecast needs.

    Returns
    -------
    Result
        Every table as a polars DataFrame (``result.b1``, ``result.tabel(4)``); in Jupyter
        it shows Hele landet and the regions. ``result.write(folder)`` writes the same files
        as ``kmf run``. Where the dataset has a population (``befolkning``, whatever the
        method): ``result.tabel("befolkning")`` and ``result.tabel("borger")`` too.

    Raises
    ------
    DataError
        With a Danish message when the data cannot give the tables.
    """
    data = dataset if isinstance(dataset, Dataset) else load(dataset, kun_brugte=True)
    method = choose_method(metode, data.settings.metode)
    year = choose_year(data, aar)
    require_population_for(data, method)
    basis, later = basis_for(data, year, _day(dato))
    # only the four cuts are read, and those the forecast is held against: T endelig, and
    # last year's forecast on the same calendar day with T−1 endelig (settlement_cuts)
    data = data.including(cut_keys([basis]) | settlement_cuts(data, year, basis.dato))
    cells = build_cells(data, year, basis)
    order = tables.units(cells.kommuner["kommunekode"])
    used = population_used(data, year, cells)
    with_pop = None if used is None else citizens.with_population(cells.cells, used, year)
    chosen = (
        [m for m in METHODS if m not in NEEDS_POPULATION or with_pop is not None]
        if method == ALL_METHODS
        else [method]
    )
    found = {
        m: effects(with_pop if m in NEEDS_POPULATION and with_pop is not None else cells.cells,
                   "kommunekode", m)
        for m in chosen
    }  # fmt: skip
    b1_by_method = {m: tables.table_b1(e, order) for m, e in found.items()}
    befolkning: pl.DataFrame | None = None
    borger: pl.DataFrame | None = None
    if used is not None and with_pop is not None:
        split = found.get("befolkning")
        if split is None:
            split = effects(with_pop, "kommunekode", "befolkning")
        befolkning = citizens.table_befolkning(split, used, year, order)
        borger = citizens.table_borger(cells.cells, used, year, order)
    # with "alle" the report tables are the ministry's, and the comparison comes on top
    b1 = b1_by_method["ministeriet" if method == ALL_METHODS else method]
    b2, b3 = tables.table_b2_b3(cells.cells, order)
    b4 = tables.table_b4(cells.cells, order)
    t4, t5, t6 = tables.table_4_5_6(b1)
    if not codes.whole_country(cells.kommuner.height):
        # tabel 4–6 rank all 98 kommuner: for part of the country they are left empty
        t4, t5, t6 = t4.clear(), t5.clear(), t6.clear()
    tabeller = {
        1: tables.table_1(b1),
        2: tables.table_2(b1),
        3: tables.table_3(b1),
        4: t4,
        5: t5,
        6: t6,
    }
    for name, table in (("B1", b1), ("B2", b2), ("B3", b3), ("B4", b4)):
        require_finite(table, "kode", f"tabel {name}")
    for name, optional in (("befolkning", befolkning), ("borger", borger)):
        if optional is not None:
            require_finite(optional, "kode", f"tabel {name}")
    manifest = manifest_for(data, year, method, cells, later)
    # said, not hidden: data for part of the country, and changes beyond ±25 pct.
    partial = codes.partial_note(cells.kommuner.height)
    extra = ([partial] if partial else []) + unusual_changes(b1)
    manifest = replace(manifest, bemaerkninger=manifest.bemaerkninger + tuple(extra))
    return Result(
        aar=year,
        metode=method,
        b1=b1,
        b2=b2,
        b3=b3,
        b4=b4,
        tabeller=tabeller,
        celler=cells.cells,
        kommuner=cells.kommuner,
        manifest=manifest,
        titel=data.settings.titel,
        metoder=tables.table_methods(b1_by_method) if method == ALL_METHODS else None,
        dato=basis.dato,
        endelig=settlement(data, year, basis.dato, b1),
        sidste_aar=settlement_last_year(data, year, basis.dato, b1),
        writer=write_report,
        befolkning=befolkning,
        borger=borger,
        indbyggere=used,
    )


def _day(dato: date | str | None) -> date | None:
    wanted = parse_date(dato) if isinstance(dato, str) else dato
    if isinstance(wanted, datetime):  # a timestamp (e.g. from pandas) names its day
        wanted = wanted.date()
    return wanted


@dataclass(frozen=True)
class FileCheck:
    """One input file as ``kmf.validate`` found it: rows read, and rows the run would use
    (the activity rows of the forecast's cuts; the budget rows of T)."""

    tabel: str  # "aktivitet", "budget", "befolkning" or "indstillinger"
    navn: str
    raekker: int
    raekker_brugt: int | None  # None: not counted (the settings, the population)


@dataclass(frozen=True, eq=False)
class Validation:
    """What ``kmf.validate`` found: the data are fit for budget year ``aar``.

    ``opgoerelser`` holds the cuts (``aar``, ``opgoerelse``, ``takstaar``,
    ``opgoerelsesdato``, ``rows``, ``kommuner``, ``produktionsvaerdi``, ``kmf``); ``dato``
    is the forecast date ``kmf run`` would use (``None`` for undated data), and
    ``datoer_uden_grundlag`` the later dates of T that lack a cut a forecast needs.
    ``datasaet`` is the loaded dataset, to hand on: ``kmf.run(check.datasaet)``.
    """

    aar: int
    dato: date | None
    datoer_uden_grundlag: tuple[date, ...]
    kommuner: int
    budget_kr: float  # the KMF budget for T, summed over its rows
    budget_pr_kommune: bool
    filer: tuple[FileCheck, ...]
    aarene: tuple[int, ...]  # the years the activity holds
    opgoerelser: pl.DataFrame
    bemaerkninger: tuple[str, ...]
    datasaet: Dataset
    manifest: Manifest  # what a run would record: the files, every cut and its role

    @property
    def aktivitetsraekker(self) -> int:
        return sum(f.raekker for f in self.filer if f.tabel == "aktivitet")

    @property
    def aktivitetsraekker_brugt(self) -> int:
        return sum(f.raekker_brugt or 0 for f in self.filer if f.tabel == "aktivitet")

    def __repr__(self) -> str:
        when = "" if self.dato is None else f" pr. {self.dato.isoformat()}"
        return (
            f"<kmf.Validation: i orden til budgetår {self.aar}{when}, {self.kommuner} "
            f"kommuner; {self.aktivitetsraekker_brugt} af {self.aktivitetsraekker} "
            "aktivitetsrækker bruges>"
        )


def validate(
    dataset: Dataset | str | Path | Frames | None = None,
    aar: int | None = None,
    dato: date | str | None = None,
) -> Validation:
    """Check that a dataset can give the tables for budget year ``aar``, without computing
    them: read and validate it, choose T and the forecast date as ``kmf.run`` would, and
    build the forecast's cells. The same as ``kmf validate`` on the command line.

    Parameters are those of :func:`kmf.run` (default: the bundled sample).

    Returns
    -------
    Validation
        Rows read and used per file, the years and cuts, the date ``kmf.run`` would use,
        the budget for T and the notes on the data.

    Raises
    ------
    DataError
        With a Danish message, as ``kmf.run`` would, when the data cannot give the tables.
    """
    data = dataset if isinstance(dataset, Dataset) else load(dataset)
    year = choose_year(data, aar)
    basis, later = basis_for(data, year, _day(dato))
    cells = build_cells(data, year, basis)
    budget = data.budget.filter(pl.col("aar") == year)
    # the activity files come first in data.files: their position is their index
    used = {
        "aktivitet": lambda i: int(cells.rows_used.get(i, 0)),
        "budget": lambda i: budget.height,
    }
    files = tuple(
        FileCheck(f.table, f.display, f.rows, used[f.table](i) if f.table in used else None)
        for i, f in enumerate(data.files)
    )
    cuts = data.cuts()
    return Validation(
        aar=year,
        dato=basis.dato,
        datoer_uden_grundlag=tuple(b.dato for b in later if b.dato is not None),
        kommuner=cells.kommuner.height,
        budget_kr=float(budget["kmf_budget_kr"].sum()),
        budget_pr_kommune=data.budget_per_kommune,
        filer=files,
        aarene=tuple(sorted(set(cuts["aar"].to_list()))),
        opgoerelser=cuts,
        bemaerkninger=tuple(data.notes),
        datasaet=data,
        manifest=manifest_for(data, year, "ministeriet", cells, later),
    )


def require_population_for(data: Dataset, method: str) -> None:
    """A method that needs the population (``befolkning``) on a dataset without one: a
    DataError saying which file to add and its columns."""
    if method in NEEDS_POPULATION and data.befolkning is None:
        where = "" if data.source is None else f" ('{data.source}')"
        raise DataError(
            f"Metoden '{method}' kræver befolkningstal, men datasættet{where} har ingen "
            f"befolkning. {citizens.HOW_TO_ADD} Fra Python: kmf.load({{'aktivitet': ..., "
            "'budget': ..., 'befolkning': befolkning_df})."
        )


def population_used(data: Dataset, year: int, cells: Cells) -> pl.DataFrame | None:
    """The population of years T−2 and T for every kommune of the run (SPEC §9); None
    without a population. A DataError where a kommune, year or age group lacks persons."""
    if data.befolkning is None:
        return None
    display = next(f.display for f in data.files if f.table == "befolkning")
    kommuner = cells.kommuner["kommunekode"].cast(pl.Int64).unique().to_list()
    return citizens.population_for(data.befolkning, year, kommuner, display)


def choose_method(metode: str | None, default: str | None = None, *, alle: bool = True) -> str:
    """The method: ``metode``, else ``default`` (kmf.toml's), else ``"ministeriet"``.

    Without ``alle`` (the track and the history), ``"alle"`` means the ministry's method.

    Raises
    ------
    DataError
        For a method kmf does not know, naming the ones it does.
    """
    method = metode or default or "ministeriet"
    if method == ALL_METHODS and not alle:  # the comparison of methods belongs to kmf run
        method = "ministeriet"
    known = (*METHODS, ALL_METHODS) if alle else tuple(METHODS)
    if method not in known:
        raise DataError(f"Metoden '{method}' findes ikke. Vælg en af: {', '.join(known)}.")
    return method


def manifest_for(
    data: Dataset,
    year: int,
    method: str,
    cells: Cells,
    later: list[Basis] | None = None,
    roles: dict[tuple, str] | None = None,
    population: bool = True,
) -> Manifest:
    """What a run read and used: the files, every cut with the role it played. ``roles``:
    cuts used beside the forecasts' own, by (aar, opgoerelse, takstaar, opgoerelsesdato)
    (the track's truth), so that their rows count as used. ``population``: whether the
    population's rows of T−2 and T count as used (a run uses them whenever they are given)."""
    files = []
    # the activity files come first in data.files, so their position is their index
    for index, f in enumerate(data.files):
        used: int | None = None
        if f.table == "aktivitet":
            used = int(cells.rows_used.get(index, 0))
        elif f.table == "budget":
            used = int(data.budget.filter(pl.col("aar") == year).height)
        elif f.table == "befolkning" and data.befolkning is not None:
            kommuners = cells.kommuner["kommunekode"].cast(pl.Int64).unique().to_list()
            years = sorted({b.aar for b in cells.bases} or {year})
            used = citizens.rows_used(data.befolkning, years, kommuners) if population else 0
        files.append(
            ManifestFile(
                f.table,
                f.display,
                None if f.path is None else str(f.path.resolve()),
                Digest.pending(f),
                f.rows,
                used,
                f.fra_cache,
            )
        )
    roles = dict(roles or {})
    for basis in cells.bases:
        for c in basis.cuts:
            key = (c.aar, c.opgoerelse, c.takstaar, c.dato)
            # a cut may serve several forecasts in the same role (the track's endelig cuts)
            roles[key] = c.name
    cuts = tuple(
        ManifestCut(
            r["aar"],
            r["opgoerelse"],
            r["takstaar"],
            r["rows"],
            r["kommuner"],
            roles.get((r["aar"], r["opgoerelse"], r["takstaar"], r["opgoerelsesdato"])),
            None if r["opgoerelsesdato"] is None else r["opgoerelsesdato"].isoformat(),
        )
        for r in data.cuts().iter_rows(named=True)
    )
    dato = cells.bases[0].dato if len(cells.bases) == 1 else None
    return Manifest(
        version=version(),
        metode=method,
        aar=year,
        datasaet=None if data.source is None else str(data.source.resolve()),
        budget="hele landet" if cells.budget_kind == "national" else "pr. kommune",
        aldersangivelse=data.age_column,
        psykiatri_flyttet_til_ej_aldersdiff=data.psykiatri_moved,
        raekker_ikke_brugt=sum(c.raekker for c in cuts if c.brugt_som is None),
        opgoerelser=cuts,
        filer=tuple(files),
        # several forecasts (a track, a history) hold each kommune once per forecast
        kommuner=cells.kommuner["kommunekode"].n_unique(),
        bemaerkninger=tuple(data.notes),
        aldersgrupper=tuple(codes.AGE_GROUPS),
        opgoerelsesdato=None if dato is None else dato.isoformat(),
        datoer_uden_grundlag=tuple(b.dato.isoformat() for b in later or [] if b.dato),
    )
