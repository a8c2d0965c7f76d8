"""Time (SPEC §7): the forecast track of a budget year over its forecast dates, its accuracy,
and the history of budget years.

Time is a key, not a loop over runs: the records are read once (``kmf.load``); the cells of
every forecast are built at once under a key (:func:`kmf.compute.forecast.build_keyed_cells`), the
effects are computed for every (key, kommune) in one call and B1 is summed within each key.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from kmf import codes
from kmf.compute import population as citizens
from kmf.compute import tables
from kmf.compute.accuracy import accuracy_summary, accuracy_units, require_truth_for, truth
from kmf.compute.decompose import NEEDS_POPULATION, effects
from kmf.compute.forecast import (
    KEY,
    Basis,
    Cells,
    build_cells,
    build_keyed_cells,
    choose_year,
    require_finite,
)
from kmf.compute.timeline import cut_keys, dates_of, forecast_dates, no_basis_message
from kmf.errors import DataError
from kmf.io import Dataset, Frames, load
from kmf.pipeline import choose_method, manifest_for, require_population_for
from kmf.report.track import write_history, write_track
from kmf.series import Historik, Spor

__all__ = ["historik", "spor"]

# kommunekoder are below 1000: a (key, kommune) pair is one integer unit for the effects
_UNIT_STEP = 1000


def spor(
    dataset: Dataset | str | Path | Frames | None = None,
    aar: int | None = None,
    kommune: int | None = None,
    metode: str | None = None,
) -> Spor:
    """The forecast track (prognosespor) of budget year ``aar``: B1 for every date of a T
    foreløbig cut that has a basis, and its accuracy where the data have T endelig.

    Parameters
    ----------
    dataset
        A loaded ``Dataset`` or a path to one; default the bundled sample.
    aar
        Budget year T; default as in ``kmf.run``.
    kommune
        A kommunekode: the figure shows this kommune instead of Hele landet.
    metode
        ``"ministeriet"`` (default), ``"lmdi"`` or ``"shapley"``.

    Raises
    ------
    DataError
        Where no date of T has a basis, or the data cannot give the tables.
    """
    data = dataset if isinstance(dataset, Dataset) else load(dataset, kun_brugte=True)
    method = choose_method(metode, data.settings.metode, alle=False)
    require_population_for(data, method)
    year = choose_year(data, aar)
    bases = forecast_dates(data, year)
    complete = [b for b in bases if b.complete]
    if not complete:  # the errors of kmf run: what is missing, and the dates that exist
        build_cells(data.including(None), year)
        raise DataError(no_basis_message(bases[0], bases))  # pragma: no cover - raised above
    # said for any date, so that the dates lacking the same are listed together
    lacking = tuple((b.dato, "; ".join(b.lacks)) for b in bases if not b.complete and b.dato)
    # the manifest names each date's own missing cuts, dated as in the data
    missing = {b.dato.isoformat(): "; ".join(b.missing) for b in bases if not b.complete and b.dato}
    # only the cuts of the forecasts and the truth (T endelig at its latest date) are read
    data = data.including(cut_keys(complete) | _truth_cut(data, year))
    cells = build_keyed_cells(data, complete)
    dates = pl.Series("opgoerelsesdato", [b.dato for b in complete], dtype=pl.Date)
    track = _keyed_b1(cells, method, dates, data)
    if kommune is not None and str(kommune) not in track["kode"].to_list():
        raise DataError(
            f"Kommunekoden {kommune} (--kommune) findes ikke i prognosesporet for {year}. "
            "Brug en af de 98 kommunekoder, fx 101 for København."
        )
    found = truth(data, year)
    units = summary = None
    truth_date = None
    if found is not None:
        kommuner = track.filter(pl.col("niveau") == "kommune")["kode"].cast(pl.Int64).unique()
        require_truth_for(found[0], kommuner.to_list(), year, found[1])
        units = accuracy_units(track, found[0])
        summary = accuracy_summary(units)
        truth_date = found[1]
    manifest = _track_manifest(data, year, method, cells, missing, found is not None, truth_date)
    return Spor(
        aar=year,
        metode=method,
        spor=track,
        datoer_uden_grundlag=lacking,
        traefsikkerhed=summary,
        traefsikkerhed_enheder=units,
        endelig_dato=truth_date,
        manifest=manifest,
        kommune=kommune,
        titel=data.settings.titel,
        writer=write_track,
    )


def historik(
    dataset: Dataset | str | Path | Frames | None = None,
    fra: int | None = None,
    til: int | None = None,
    metode: str | None = None,
) -> Historik:
    """B1 for every budget year T (from ``fra`` to ``til``) that has a basis, each at its
    default date (the latest forecast date with a basis) and with its own budget.

    Raises
    ------
    DataError
        Where no year in the range has a basis.
    """
    data = dataset if isinstance(dataset, Dataset) else load(dataset, kun_brugte=True)
    method = choose_method(metode, data.settings.metode, alle=False)
    require_population_for(data, method)
    candidates = _budget_years(data, fra, til)
    if not candidates:
        every = _budget_years(data, None, None)
        raise DataError(
            f"Ingen budgetår ligger mellem {fra or 'første'} og {til or 'sidste'} (--fra, "
            "--til): aktivitetsdata har foreløbige opgørelser (i årets egne takster) for "
            f"{', '.join(map(str, every)) or 'ingen år'}. Vælg år blandt dem."
        )
    budget_years = set(data.budget["aar"].to_list())
    chosen: list[Basis] = []
    lacking: list[tuple[int, str]] = []
    for year in candidates:  # the choice of cuts per year; the cells are built at once below
        if year not in budget_years:
            lacking.append((year, f"budgettet har ingen række for {year}"))
            continue
        bases = forecast_dates(data, year)
        complete = [b for b in bases if b.complete]
        if complete:  # its default date: the latest with a basis, as kmf run takes it
            chosen.append(complete[-1])
        else:
            lacking.append((year, "mangler " + "; ".join(bases[-1].missing)))
    if not chosen:
        span = f"{candidates[0]}–{candidates[-1]}" if candidates else "ingen år"
        raise DataError(
            f"Intet budgetår ({span}) har de opgørelser og det budget, en prognose kræver:\n"
            + "\n".join(f"- {y}: {why}" for y, why in lacking)
            + "\nTilføj de manglende opgørelser eller budgetter, eller vælg andre år med "
            "--fra og --til."
        )
    data = data.including(cut_keys(chosen))
    cells = build_keyed_cells(data, chosen)
    history = _keyed_b1(
        cells, method, pl.Series("aar", [b.aar for b in chosen], dtype=pl.Int64), data
    )
    manifest = manifest_for(
        data, chosen[-1].aar, method, cells, population=method in NEEDS_POPULATION
    ).as_json()
    manifest.pop("opgoerelsesdato", None)
    manifest.pop("datoer_uden_grundlag", None)
    manifest["aar"] = [b.aar for b in chosen]
    manifest["opgoerelsesdatoer"] = {
        str(b.aar): None if b.dato is None else b.dato.isoformat() for b in chosen
    }
    manifest["aar_uden_grundlag"] = [{"aar": y, "mangler": why} for y, why in lacking]
    return Historik(
        metode=method,
        historik=history,
        datoer={b.aar: b.dato for b in chosen},
        aar_uden_grundlag=tuple(lacking),
        manifest=manifest,
        titel=data.settings.titel,
        writer=write_history,
    )


def _truth_cut(data: Dataset, year: int) -> set[tuple[int, str, int, date | None]]:
    """T endelig (takstaar T) at its latest date, where the data have it (SPEC §7)."""
    days = dates_of(data, year, "endelig", year)
    return {(year, "endelig", year, days[-1])} if days else set()


def _budget_years(data: Dataset, fra: int | None, til: int | None) -> list[int]:
    """Years with a foreløbig cut at their own takster, within [fra, til]."""
    years = (
        data.cuts()
        .filter((pl.col("opgoerelse") == "foreloebig") & (pl.col("aar") == pl.col("takstaar")))[
            "aar"
        ]
        .unique()
        .sort()
        .to_list()
    )
    return [y for y in years if (fra is None or y >= fra) and (til is None or y <= til)]


def _keyed_b1(cells: Cells, method: str, names: pl.Series, data: Dataset) -> pl.DataFrame:
    """B1 of every key at once: the effects of every (key, kommune) in one call. ``names``
    (a date or year per key, in key order) replaces the key as the first column. A method
    that needs the population gets each key's own: T−2 and T of its budget year."""
    unit = pl.col(KEY).cast(pl.Int64) * _UNIT_STEP + pl.col("kommunekode").cast(pl.Int64)
    frame = cells.cells
    if method in NEEDS_POPULATION:
        assert data.befolkning is not None  # checked by require_population_for
        display = next(f.display for f in data.files if f.table == "befolkning")
        parts = []
        for key, basis in enumerate(cells.bases):
            own = frame.filter(pl.col(KEY) == key)
            kommuner = own["kommunekode"].cast(pl.Int64).unique().to_list()
            used = citizens.population_for(data.befolkning, basis.aar, kommuner, display)
            parts.append(citizens.with_population(own, used, basis.aar))
        frame = pl.concat(parts)
    keyed = frame.with_columns(unit.alias("_enhed")).drop(KEY, "kommunekode")
    found = effects(keyed, "_enhed", method)
    found = found.with_columns(
        (pl.col("_enhed") // _UNIT_STEP).cast(pl.UInt32).alias(KEY),
        (pl.col("_enhed") % _UNIT_STEP).alias("kommunekode"),
    ).drop("_enhed")
    order = tables.units(cells.kommuner["kommunekode"].unique())
    b1 = tables.table_b1(found, order, keys=(KEY,))
    require_finite(b1, "kode", "tabel B1 for prognoserne")
    keys = pl.DataFrame({KEY: pl.Series(range(len(names)), dtype=pl.UInt32), names.name: names})
    # the units in report order within each key: the join keeps b1's order, the sort is stable
    b1 = b1.join(keys, on=KEY, maintain_order="left").sort(KEY, maintain_order=True).drop(KEY)
    return b1.select(names.name, pl.exclude(names.name))


def _track_manifest(
    data: Dataset,
    year: int,
    method: str,
    cells: Cells,
    lacking: dict[str, str],
    has_truth: bool,
    truth_date: date | None,
) -> dict[str, Any]:
    truth_role = {(year, "endelig", year, truth_date): "traefsikkerhed"} if has_truth else {}
    manifest = manifest_for(
        data, year, method, cells, roles=truth_role, population=method in NEEDS_POPULATION
    ).as_json()
    manifest.pop("opgoerelsesdato", None)
    manifest["opgoerelsesdatoer"] = [
        None if b.dato is None else b.dato.isoformat() for b in cells.bases
    ]
    # as in kmf run's manifest: the dates, ISO; what each lacks beside them
    manifest["datoer_uden_grundlag"] = list(lacking)
    manifest["mangler_pr_dato"] = lacking
    if has_truth:
        manifest["traefsikkerhed"] = {
            "opgoerelse": f"{year} {codes.CUT_LABELS['endelig']} i {year}-takster",
            "opgoerelsesdato": None if truth_date is None else truth_date.isoformat(),
        }
    return manifest
