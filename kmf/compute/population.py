"""The citizens (SPEC §9): the population a run uses, the cells with it, and the tables
``tabel_befolkning`` (the change split into more citizens, age structure, use per citizen,
area mix and KMF share) and ``tabel_borger`` (KMF per citizen against what the country's use
per citizen of each age group would cost with the unit's own population).

The population of the budget side is that of T−2 (the year of the base activity), of the
forecast side that of T. Every kommune of the run needs both years and persons in each of
the four age groups: the use per citizen of an age group is undefined without them.
"""

from __future__ import annotations

import polars as pl

from kmf import codes
from kmf.compute.decompose import (
    N_BUDGET,
    N_FORECAST,
    NA_BUDGET,
    NA_FORECAST,
    POPULATION_COLUMNS,
    SPLIT_COLUMNS,
)
from kmf.compute.forecast import K_BUDGET, K_FORECAST
from kmf.compute.tables import ID_COLUMNS, stack_levels
from kmf.errors import SHOWN, DataError

#: the five effects of ``tabel_befolkning``, in its order
EFFECTS: tuple[str, ...] = (*POPULATION_COLUMNS, *SPLIT_COLUMNS)
BEFOLKNING_COLUMNS: tuple[str, ...] = (
    *ID_COLUMNS,
    "indbyggere_budget",
    "indbyggere_prognose",
    K_BUDGET,
    K_FORECAST,
    "aendring_kr",
    *EFFECTS,
    "aendring_pct",
    *(c.removesuffix("_kr") + "_pct" for c in EFFECTS),
)
BORGER_COLUMNS: tuple[str, ...] = (
    *ID_COLUMNS,
    "indbyggere",
    K_FORECAST,
    "kmf_pr_indbygger_kr",
    "forventet_kmf_kr",
    "forventet_pr_indbygger_kr",
    "indeks",
)
#: the four age groups a population has (ej_aldersdiff is every age: N_ej = N)
GROUPS: tuple[str, ...] = tuple(a for a in codes.AGE_GROUPS if a != codes.AGE_FREE_GROUP)
#: what the message says to add where the population is missing
HOW_TO_ADD = (
    "Læg befolkningstallene i 'befolkning.csv' eller 'befolkning.parquet' i datasættets mappe "
    "(i en Excel-projektmappe: et ark 'befolkning') med kolonnerne kommunekode (eller kommune, "
    "kommunens navn), aar, alder (hele år, 0-130) eller aldersgruppe (0-2, 3-64, 65-79, 80+) "
    "og antal (personer). Tallene findes i Danmarks Statistiks Statistikbank (tabel FOLK1A, "
    "befolkningen den 1. januar)."
)


def years_of(year: int) -> tuple[int, int]:
    """The population years a budget year T uses: (T−2, T)."""
    return year - 2, year


def population_for(
    befolkning: pl.DataFrame, year: int, kommuner: list[int], display: str
) -> pl.DataFrame:
    """The population a run for budget year ``year`` uses: ``kommunekode``, ``aar``,
    ``aldersgruppe`` (the four groups) and ``antal``, for every kommune of the run in years
    T−2 and T.

    Raises
    ------
    DataError
        Naming the file (``display``), the kommuner, years and age groups without persons.
    """
    years = years_of(year)
    grid = pl.DataFrame(
        [(k, y, a) for k in sorted(kommuner) for y in years for a in GROUPS],
        schema={"kommunekode": pl.Int64, "aar": pl.Int64, "aldersgruppe": pl.String},
        orient="row",
    ).with_columns(pl.col("aldersgruppe").cast(codes.AgeGroup))
    given = befolkning.select(
        pl.col("kommunekode").cast(pl.Int64), pl.col("aar").cast(pl.Int64), "aldersgruppe", "antal"
    )
    used = grid.join(given, on=["kommunekode", "aar", "aldersgruppe"], how="left")
    missing = used.filter(pl.col("antal").is_null() | (pl.col("antal") <= 0))
    if not missing.is_empty():
        raise DataError(_missing_message(befolkning, missing, years, display))
    return used.with_columns(pl.col("antal").cast(pl.Int64))


def _missing_message(
    befolkning: pl.DataFrame, missing: pl.DataFrame, years: tuple[int, int], display: str
) -> str:
    by_place = (
        missing.group_by("kommunekode", "aar")
        .agg(pl.col("aldersgruppe").cast(pl.String).sort(), pl.col("antal").is_null().all())
        .sort("kommunekode", "aar")
    )
    shown = []
    for r in by_place.head(SHOWN).iter_rows(named=True):
        ages = r["aldersgruppe"]
        what = (
            "ingen rækker"
            if len(ages) == len(GROUPS) and r["antal"]
            else "ingen personer i aldersgruppe " + ", ".join(ages)
        )
        shown.append(f"kommune {codes.kommune_label(r['kommunekode'])}, {r['aar']}: {what}")
    more = f" (og {by_place.height - SHOWN} flere)" if by_place.height > SHOWN else ""
    have = sorted(set(befolkning["aar"].to_list()))
    kommuner = missing["kommunekode"].n_unique()
    return (
        f"{display}, kolonnerne 'kommunekode', 'aar', 'aldersgruppe'/'alder' og 'antal': "
        f"befolkningen mangler for {kommuner} kommune(r) i de år, budgetåret bruger "
        f"({years[0]} til budgettet og {years[1]} til prognosen){more}:\n"
        + "\n".join(f"- {s}" for s in shown)
        + (
            "\nTabellen har ingen rækker."
            if not have
            else f"\nFilen har årene {', '.join(map(str, have))}."
        )
        + " Hver kommune i "
        f"aktivitetsdata skal have personer (antal over 0) i alle fire aldersgrupper "
        f"(0-2, 3-64, 65-79 og 80+) i både {years[0]} og {years[1]}. Tilføj de manglende "
        "rækker (Statistikbanken, tabel FOLK1A)."
    )


def rows_used(befolkning: pl.DataFrame, years: list[int], kommuner: list[int]) -> int:
    """The population's input rows of the budget years and kommuner a run uses (each
    budget year T uses T−2 and T)."""
    wanted = sorted({y for year in years for y in years_of(year)})
    used = befolkning.filter(pl.col("aar").is_in(wanted) & pl.col("kommunekode").is_in(kommuner))
    return int(used["rows"].sum())


def with_population(cells: pl.DataFrame, used: pl.DataFrame, year: int) -> pl.DataFrame:
    """The cells with the columns the method ``befolkning`` needs: each kommune's persons N
    and its age group's N_a (N for ej_aldersdiff), of T−2 (budget) and T (forecast)."""
    base, forecast = years_of(year)
    wide = (
        used.filter(pl.col("aar").is_in([base, forecast]))
        .with_columns(
            pl.when(pl.col("aar") == base).then(pl.lit("b")).otherwise(pl.lit("f")).alias("_side")
        )
        .pivot(on="_side", index=["kommunekode", "aldersgruppe"], values="antal")
    )
    totals = wide.group_by("kommunekode").agg(
        pl.col("b").sum().alias(N_BUDGET), pl.col("f").sum().alias(N_FORECAST)
    )
    keyed = cells.with_columns(pl.col("kommunekode").cast(pl.Int64).alias("_k"))
    return (
        keyed.join(totals.rename({"kommunekode": "_k"}), on="_k", how="left")
        .join(
            wide.rename({"kommunekode": "_k", "b": "_na_b", "f": "_na_f"}),
            on=["_k", "aldersgruppe"],
            how="left",
        )
        .with_columns(
            pl.coalesce("_na_b", N_BUDGET).alias(NA_BUDGET),
            pl.coalesce("_na_f", N_FORECAST).alias(NA_FORECAST),
        )
        .drop("_k", "_na_b", "_na_f")
    )


def _ordered(frame: pl.DataFrame, order: pl.DataFrame) -> pl.DataFrame:
    return (
        order.select("orden", *ID_COLUMNS)
        .join(frame, on="kode", how="left")
        .sort("orden")
        .drop("orden")
    )


def table_befolkning(
    effects: pl.DataFrame, used: pl.DataFrame, year: int, order: pl.DataFrame
) -> pl.DataFrame:
    """``tabel_befolkning``: per unit in B1's order the persons of T−2 and T, the budget,
    the forecast, the change and the five effects of the method ``befolkning`` in kr. and
    in pct. of the budget. Regions and land: sums over their kommuner."""
    base, forecast = years_of(year)
    persons = used.group_by("kommunekode").agg(
        pl.col("antal").filter(pl.col("aar") == base).sum().alias("indbyggere_budget"),
        pl.col("antal").filter(pl.col("aar") == forecast).sum().alias("indbyggere_prognose"),
    )
    by_kommune = effects.with_columns(pl.col("kommunekode").cast(pl.Int64)).join(
        persons, on="kommunekode"
    )
    amounts = [K_BUDGET, K_FORECAST, "aendring_kr", *EFFECTS]
    stacked = stack_levels(by_kommune, ["indbyggere_budget", "indbyggere_prognose", *amounts])
    pct = [
        (pl.col(c) / pl.col(K_BUDGET) * 100).alias(c.removesuffix("_kr") + "_pct")
        for c in ("aendring_kr", *EFFECTS)
    ]
    return _ordered(stacked.with_columns(pct), order).select(BEFOLKNING_COLUMNS)


def table_borger(
    cells: pl.DataFrame, used: pl.DataFrame, year: int, order: pl.DataFrame
) -> pl.DataFrame:
    """``tabel_borger``: the forecast side (year T) per citizen. E = Σ_a N_a · K^f_land,a /
    N_land,a over the five age groups (N_ej = N; land = all kommuner of the run);
    ``indeks`` = 100 · K^f / E. Regions: K^f, E and N summed; Hele landet's indeks is 100."""
    _, forecast = years_of(year)
    groups = used.filter(pl.col("aar") == forecast).select(
        "kommunekode", pl.col("aldersgruppe").cast(pl.String), "antal"
    )
    persons = groups.group_by("kommunekode").agg(pl.col("antal").sum().alias("indbyggere"))
    every = pl.concat(
        [
            groups,
            persons.select(
                "kommunekode",
                pl.lit(codes.AGE_FREE_GROUP).alias("aldersgruppe"),
                pl.col("indbyggere").alias("antal"),
            ),
        ]
    )
    kmf_by_age = (
        cells.sort("kommunekode", "aldersgruppe", "sundhedsomraade")
        .group_by(pl.col("kommunekode").cast(pl.Int64), pl.col("aldersgruppe").cast(pl.String))
        .agg(pl.col(K_FORECAST).sort().sum())  # sorted: the same bits in any row order
    )
    by_age = (
        every.join(kmf_by_age, on=["kommunekode", "aldersgruppe"], how="left")
        .with_columns(pl.col(K_FORECAST).fill_null(0.0))
        .sort("kommunekode", "aldersgruppe")
    )
    land = by_age.group_by("aldersgruppe").agg(
        pl.col(K_FORECAST).sort().sum().alias("_k_land"), pl.col("antal").sum().alias("_n_land")
    )
    expected = (
        by_age.join(land, on="aldersgruppe")
        .sort("kommunekode", "aldersgruppe")
        .group_by("kommunekode")
        .agg(
            (pl.col("antal") * pl.col("_k_land") / pl.col("_n_land"))
            .sort()
            .sum()
            .alias("forventet_kmf_kr"),
            pl.col(K_FORECAST).sort().sum(),
        )
    )
    by_kommune = expected.join(persons, on="kommunekode")
    stacked = stack_levels(by_kommune, ["indbyggere", K_FORECAST, "forventet_kmf_kr"])
    table = stacked.with_columns(
        (pl.col(K_FORECAST) / pl.col("indbyggere")).alias("kmf_pr_indbygger_kr"),
        (pl.col("forventet_kmf_kr") / pl.col("indbyggere")).alias("forventet_pr_indbygger_kr"),
        pl.when(pl.col("kode") == codes.LAND_CODE)
        .then(pl.lit(100.0))
        .otherwise(pl.col(K_FORECAST) / pl.col("forventet_kmf_kr") * 100)
        .alias("indeks"),
    )
    return _ordered(table, order).select(BORGER_COLUMNS)


def index_rank(borger: pl.DataFrame) -> pl.DataFrame:
    """The kommuner ranked by ``indeks``, highest first (ties by kode): ``kode``, ``rang``."""
    kommuner = borger.filter(pl.col("niveau") == "kommune").with_columns(
        pl.col("kode").cast(pl.Int64).alias("_kode")
    )
    return (
        kommuner.sort(["indeks", "_kode"], descending=[True, False])
        .with_row_index("rang", offset=1)
        .select("kode", pl.col("rang").cast(pl.Int64))
    )


def elderly_share(used: pl.DataFrame, year: int) -> pl.DataFrame:
    """Per kommune in year T: ``indbyggere`` and ``andel_65_pct``, the 65+ årige (65-79 and
    80+) in pct. of the population."""
    _, forecast = years_of(year)
    return (
        used.filter(pl.col("aar") == forecast)
        .group_by("kommunekode")
        .agg(
            pl.col("antal").sum().alias("indbyggere"),
            pl.col("antal")
            .filter(pl.col("aldersgruppe").cast(pl.String).is_in(["65-79", "80+"]))
            .sum()
            .alias("_old"),
        )
        .with_columns((pl.col("_old") / pl.col("indbyggere") * 100).alias("andel_65_pct"))
        .drop("_old")
        .sort("kommunekode")
    )


#: the demographic distance: a doubling of the population weighs as much as this many
#: pct.-point of 65+ årige (see :func:`demographic_group`)
ELDERLY_STEP = 5.0


def demographic_group(used: pl.DataFrame, year: int, kode: int, size: int = 10) -> tuple[int, ...]:
    """The ``size`` other kommuner nearest to ``kode`` in population and age, in year T.

    Distance: d = √((log₂ N_j − log₂ N_k)² + ((a_j − a_k) / 5)²), where N is the number of
    citizens and a the 65+ årige in pct. of them: twice (or half) the citizens counts as
    much as 5 pct.-point more (or fewer) 65+ årige, about the spread of that share among
    Danish kommuner. Ties (distances equal to 10 decimals) go by kommunekode.
    """
    shares = elderly_share(used, year)
    own = shares.filter(pl.col("kommunekode") == kode)
    if own.is_empty():
        raise ValueError(f"kommune {kode} has no population")
    n_k, a_k = own["indbyggere"][0], own["andel_65_pct"][0]
    nearest = (
        shares.filter(pl.col("kommunekode") != kode)
        .with_columns(
            (
                ((pl.col("indbyggere") / n_k).log(2)) ** 2
                + ((pl.col("andel_65_pct") - a_k) / ELDERLY_STEP) ** 2
            )
            .sqrt()
            .round(10)
            .alias("_distance")
        )
        .sort("_distance", "kommunekode")
        .head(size)
    )
    return tuple(nearest["kommunekode"].to_list())
