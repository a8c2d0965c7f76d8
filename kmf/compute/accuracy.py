"""Træfsikkerhed: how far the forecasts of the track were from the endelig opgørelse
(SPEC §7). The truth of budget year T is its endelig cut at year-T takster, at its latest
date whatever the forecast's date; its KMF is summed per kommune, region and land."""

from __future__ import annotations

from datetime import date

import polars as pl

from kmf import codes
from kmf.compute.tables import stack_levels
from kmf.errors import DataError
from kmf.io import Dataset, exact_sum

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
    error = pl.when(pl.col("kmf_endelig_kr") != 0).then(
        100 * (pl.col("kmf_prognose_kr") - pl.col("kmf_endelig_kr")) / pl.col("kmf_endelig_kr")
    )
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
