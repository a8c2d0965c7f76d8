"""Træfsikkerhed: how far the forecasts of the track were from the endelig opgørelse
(SPEC §7). The truth of budget year T is its endelig cut at year-T takster, at its latest
date whatever the forecast's date; its KMF is summed per kommune, region and land."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from kmf import codes
from kmf.compute.forecast import basis_for, build_cells
from kmf.compute.tables import stack_levels
from kmf.compute.timeline import cut_keys, dates_of, year_before
from kmf.errors import DataError
from kmf.io import Dataset, exact_sum

CutKey = tuple[int, str, int, date | None]

UNIT_COLUMNS: tuple[str, ...] = (
    "opgoerelsesdato",
    "niveau",
    "kode",
    "navn",
    "region",
    "kmf_prognose_kr",
    "kmf_endelig_kr",
    "fejl_pct",
)
SUMMARY_COLUMNS: tuple[str, ...] = (
    "opgoerelsesdato",
    "land_fejl_pct",
    "kommuner_mae_pct",
    "kommuner_median_abs_pct",
    "kommuner_max_abs_pct",
    "andel_kommuner_inden_for_2pct",
)
# a kommune's forecast is "on target" within this many pct. of the endelig opgørelse
WITHIN_PCT = 2.0


def truth(dataset: Dataset, year: int) -> tuple[pl.DataFrame, date | None] | None:
    """K^e per kommune (``kommunekode``, ``kmf_endelig_kr``) from T endelig (takstaar T) at
    its latest date, and that date (None where undated); None where there is no such cut."""
    cut = dataset.cells.filter(
        (pl.col("aar") == year) & (pl.col("opgoerelse") == "endelig") & (pl.col("takstaar") == year)
    )
    if cut.is_empty():
        return None
    latest = cut["opgoerelsesdato"].max()
    if latest is not None:
        cut = cut.filter(pl.col("opgoerelsesdato") == latest)
    per_kommune = (
        cut.sort("kommunekode", "aldersgruppe", "sundhedsomraade")
        .group_by("kommunekode")
        .agg(exact_sum("kmf").alias("kmf_endelig_kr"))
        .sort("kommunekode")
    )
    return per_kommune, latest  # type: ignore[return-value]


def require_truth_for(
    truth_by_kommune: pl.DataFrame, kommuner: list[int], year: int, dato: date | None
) -> None:
    """The truth has exactly the track's kommuner, each with KMF above 0: else a region's or
    the land's error would compare unlike sets of kommuner, and a kommune's has no
    denominator (SPEC §6: a kommune missing from a cut, a zero KMF denominator)."""
    have = dict(truth_by_kommune.select("kommunekode", "kmf_endelig_kr").iter_rows())
    missing = sorted(set(kommuner) - set(have))
    extra = sorted(set(have) - set(kommuner))
    zero = sorted(k for k in kommuner if k in have and have[k] <= 0)
    if not (missing or extra or zero):
        return
    when = f" pr. {dato.isoformat()}" if dato is not None else ""
    cut = f"{year} endelig opgørelse{when} i {year}-takster"
    listed = codes.kommune_list
    gaps = [
        *([f"- mangler kommune(r) {listed(missing)}"] if missing else []),
        *([f"- har kommune(r) {listed(extra)}, som prognosen ikke har"] if extra else []),
        *([f"- har KMF 0 eller under for kommune(r) {listed(zero)}"] if zero else []),
    ]
    raise DataError(
        f"Aktivitetsdata (kolonnen 'kommunekode'): {cut}, som prognosesporets "
        "træfsikkerhed måles mod, passer ikke til prognoserne:\n"
        + "\n".join(gaps)
        + f"\nDen skal have de samme kommuner som prognoserne for {year}, hver med KMF over 0. "
        f"Ret opgørelsen, eller fjern rækkerne med aar = {year}, opgoerelse = endelig og "
        f"takstaar = {year}, så laves sporet uden træfsikkerhed."
    )


def accuracy_units(track: pl.DataFrame, truth_by_kommune: pl.DataFrame) -> pl.DataFrame:
    """``tabel_traefsikkerhed_enheder``: every row of the track (date × unit) with K^e summed
    over the unit's kommuner and ``fejl_pct`` = 100 · (K^f − K^e) / K^e."""
    kode_truth = stack_levels(truth_by_kommune, ["kmf_endelig_kr"])
    # K^e > 0 for every kommune (require_truth_for), so for every region and the land too
    error = 100 * (pl.col("kmf_prognose_kr") - pl.col("kmf_endelig_kr")) / pl.col("kmf_endelig_kr")
    return (
        track.with_row_index("_orden")
        .join(kode_truth, on="kode", how="left")
        .sort("_orden")
        .with_columns(error.alias("fejl_pct"))
        .select(UNIT_COLUMNS)
    )


def accuracy_summary(units: pl.DataFrame) -> pl.DataFrame:
    """``tabel_traefsikkerhed``: per date, the land's error and the spread over kommuner."""
    # sorted: a group's rows come in any order, and a float mean in another order may differ
    absolute = pl.col("fejl_pct").abs().sort()
    kommuner = (
        units.filter(pl.col("niveau") == "kommune")
        .group_by("opgoerelsesdato", maintain_order=True)
        .agg(
            absolute.mean().alias("kommuner_mae_pct"),
            absolute.median().alias("kommuner_median_abs_pct"),
            absolute.max().alias("kommuner_max_abs_pct"),
            (100 * (absolute <= WITHIN_PCT).cast(pl.Float64).mean()).alias(
                "andel_kommuner_inden_for_2pct"
            ),
        )
    )
    land = units.filter(pl.col("niveau") == "land").select(
        "opgoerelsesdato", pl.col("fejl_pct").alias("land_fejl_pct")
    )
    # one land row and one group of kommuner per date, both in the track's date order
    return land.with_columns(kommuner.drop("opgoerelsesdato")).select(SUMMARY_COLUMNS)


@dataclass(frozen=True)
class Settlement:
    """One forecast held against its budget year's endelig opgørelse: ``enheder`` has
    ``UNIT_COLUMNS`` for every kommune, region and land (one date). ``dato`` is the
    forecast's date, ``endelig_dato`` the endelig cut's (None where undated)."""

    aar: int
    dato: date | None
    endelig_dato: date | None
    enheder: pl.DataFrame

    def unit(self, kode: str) -> dict[str, Any] | None:
        """The row of the unit ``kode`` (``"DK"``, a regionskode or a kommunekode)."""
        rows = self.enheder.filter(pl.col("kode") == kode)
        return rows.row(0, named=True) if rows.height else None

    def within(self) -> tuple[int, int]:
        """How many kommuner missed by at most ``WITHIN_PCT`` pct., and how many there are."""
        errors = self.enheder.filter(pl.col("niveau") == "kommune")["fejl_pct"].abs()
        return int((errors <= WITHIN_PCT).sum()), errors.len()


def settlement_cuts(dataset: Dataset, year: int, dato: date | None) -> set[CutKey]:
    """The cuts :func:`settlement` and :func:`settlement_last_year` read beyond the forecast's
    own four: T endelig and T−1 endelig at their latest dates, and the four cuts of T−1's
    forecast on the same calendar day a year before ``dato`` (those the data have)."""
    found: set[CutKey] = set()
    for aar in (year, year - 1):
        days = dates_of(dataset, aar, "endelig", aar)
        if days:
            found.add((aar, "endelig", aar, days[-1]))
    try:
        earlier, _ = basis_for(dataset, year - 1, None if dato is None else year_before(dato))
    except DataError:
        return found
    return found | cut_keys([earlier])


def settlement(
    dataset: Dataset, year: int, dato: date | None, b1: pl.DataFrame
) -> Settlement | None:
    """The forecast of ``b1`` (made on ``dato``) against T endelig, where the data have it and
    it covers the same kommuner; else None."""
    found = truth(dataset, year)
    if found is None:
        return None
    kommuner = b1.filter(pl.col("niveau") == "kommune")["kode"].cast(pl.Int64).to_list()
    try:
        require_truth_for(found[0], kommuner, year, found[1])
    except DataError:
        return None
    track = b1.with_columns(pl.lit(dato, dtype=pl.Date).alias("opgoerelsesdato"))
    return Settlement(year, dato, found[1], accuracy_units(track, found[0]))


def settlement_last_year(
    dataset: Dataset, year: int, dato: date | None, b1: pl.DataFrame
) -> Settlement | None:
    """How far the forecast for T−1, made on the same calendar day a year before ``dato``,
    was from T−1's endelig opgørelse: None where the data hold no such forecast (a cut or
    the budget of T−1 missing) or no endelig opgørelse of T−1 for the same kommuner."""
    earlier = year - 1
    try:
        basis, _ = basis_for(dataset, earlier, None if dato is None else year_before(dato))
        cells = build_cells(dataset, earlier, basis)
    except DataError:
        return None
    # sorted: the same bits in any row order, as every other sum of forecasts
    per_kommune = cells.cells.group_by("kommunekode").agg(pl.col("kmf_prognose_kr").sort().sum())
    names = b1.select("niveau", "kode", "navn", "region")
    forecast = names.join(stack_levels(per_kommune, ["kmf_prognose_kr"]), on="kode", how="inner")
    if forecast.height != b1.height:  # another set of kommuner than this year's
        return None
    return settlement(dataset, earlier, basis.dato, forecast)
