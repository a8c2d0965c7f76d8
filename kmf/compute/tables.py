"""Tables B1–B4 and tabel 1–6 from the cells and the effects (SPEC §4.5–4.7, §5)."""

from __future__ import annotations

import polars as pl

from kmf import codes
from kmf.compute.decompose import EFFECT_COLUMNS, SPLIT_COLUMNS, age_factors, fixed_sum
from kmf.compute.forecast import K_BUDGET, K_FORECAST, P_BUDGET, P_FORECAST

ID_COLUMNS: tuple[str, ...] = ("niveau", "kode", "navn", "region")
AMOUNT_COLUMNS: tuple[str, ...] = ("aendring_kr", *EFFECT_COLUMNS)
B1_COLUMNS: tuple[str, ...] = (
    *ID_COLUMNS,
    "kmf_budget_kr",
    "kmf_prognose_kr",
    *AMOUNT_COLUMNS,
    *(c.removesuffix("_kr") + "_pct" for c in AMOUNT_COLUMNS),
)
EFFECTS: tuple[str, ...] = ("aktivitetseffekt", "aldersgruppeeffekt", "sundhedsomraadeeffekt")

_P_F, _K_F, _P_B, _K_B = P_FORECAST, K_FORECAST, P_BUDGET, K_BUDGET


def units(kommunekoder: pl.Series) -> pl.DataFrame:
    """The units of a report for the kommuner present, in report order.

    Columns: ``niveau``, ``kode``, ``navn``, ``region``, ``regionskode``, ``kommunekode``
    (null for land and regions) and ``orden``.
    """
    every = codes.kommuner()
    ref = every.filter(pl.col("kommunekode").is_in(kommunekoder.to_list()))
    rows: list[dict[str, object]] = [
        {
            "niveau": "land",
            "kode": codes.LAND_CODE,
            # the sum is "Hele landet" only where the data hold every kommune
            "navn": codes.land_name(ref.height),
            "region": None,
            "regionskode": None,
            "kommunekode": None,
        }
    ]
    for region_code in codes.REGION_ORDER:
        members = ref.filter(pl.col("regionskode") == region_code)
        if members.is_empty():
            continue
        region_name = members["region"][0]
        of = every.filter(pl.col("regionskode") == region_code).height
        rows.append(
            {
                "niveau": "region",
                "kode": str(region_code),
                "navn": codes.region_name(region_name, members.height, of),
                "region": region_name,
                "regionskode": region_code,
                "kommunekode": None,
            }
        )
        rows.extend(
            {
                "niveau": "kommune",
                "kode": str(k),
                "navn": name,
                "region": region_name,
                "regionskode": region_code,
                "kommunekode": k,
            }
            for k, name in zip(members["kommunekode"], members["kommune"], strict=True)
        )
    return pl.DataFrame(
        rows,
        schema={
            "niveau": pl.String,
            "kode": pl.String,
            "navn": pl.String,
            "region": pl.String,
            "regionskode": pl.Int64,
            "kommunekode": pl.Int64,
        },
    ).with_row_index("orden")


def stack_levels(
    by_kommune: pl.DataFrame,
    sum_columns: list[str],
    keys: tuple[str, ...] = (),
) -> pl.DataFrame:
    """Kommune rows plus their sums per region and for the whole country, keyed by ``kode``."""
    # sorted: the sums below must see the rows in the same order in every run
    with_region = (
        by_kommune.with_columns(pl.col("kommunekode").cast(pl.Int64))
        .join(codes.kommuner().select("kommunekode", "regionskode"), on="kommunekode")
        .sort("kommunekode", *keys)
    )
    kommune = with_region.select(
        pl.col("kommunekode").cast(pl.String).alias("kode"), *keys, *sum_columns
    )
    # summed in a fixed order within each group (fixed_sum): a plain sum in a group_by may
    # add partial sums of its threads in any order, and differ in the last bit between runs
    region = with_region.group_by(pl.col("regionskode").cast(pl.String).alias("kode"), *keys).agg(
        fixed_sum(*sum_columns)
    )
    land = (
        with_region.group_by(*keys).agg(fixed_sum(*sum_columns))
        if keys
        else (with_region.select(fixed_sum(*sum_columns)))
    )
    land = land.with_columns(pl.lit(codes.LAND_CODE).alias("kode"))
    columns = ["kode", *keys, *sum_columns]
    stacked = pl.concat([kommune.select(columns), region.select(columns), land.select(columns)])
    return stacked.sort("kode", *keys)


def _ordered(
    frame: pl.DataFrame, order: pl.DataFrame, extra_sort: tuple[str, ...] = ()
) -> pl.DataFrame:
    return (
        order.select("orden", *ID_COLUMNS)
        .join(frame, on="kode", how="left")
        .sort("orden", *extra_sort)
        .drop("orden")
    )


def table_b1(
    effects: pl.DataFrame, order: pl.DataFrame, keys: tuple[str, ...] = ()
) -> pl.DataFrame:
    """B1: the decomposition in kr. and in pct. of the budget; regions and land as sums.

    With the exact methods the split of C (``SPLIT_COLUMNS``) follows at the end, in kr. and
    in pct. With ``keys`` (e.g. the forecast's key, SPEC §7) every key has its own B1, summed
    within the key; the key columns come first.
    """
    split = [c for c in SPLIT_COLUMNS if c in effects.columns]
    amounts = [_K_B, _K_F, *AMOUNT_COLUMNS, *split]
    stacked = stack_levels(effects, amounts, keys)
    pct = [
        (pl.col(c) / pl.col(_K_B) * 100).alias(c.removesuffix("_kr") + "_pct")
        for c in (*AMOUNT_COLUMNS, *split)
    ]
    columns = [*keys, *B1_COLUMNS, *split, *(c.removesuffix("_kr") + "_pct" for c in split)]
    table = _ordered(stacked.with_columns(pct), order, keys).select(columns)
    return table.sort(*keys, maintain_order=True) if keys else table


METHOD_EFFECTS: tuple[str, ...] = (
    "aktivitetseffekt",
    "aldersgruppeeffekt",
    "sundhedsomraadeeffekt",
    "omraademikseffekt",
    "andelseffekt",
    "oevrige",
)


def table_methods(b1_by_method: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Every effect under every method side by side: ``<effekt>_<kr|pct>_<metode>``.

    The split of C exists only for the exact methods; it is null for the ministry's.
    """
    first = next(iter(b1_by_method.values()))
    out = first.select(*ID_COLUMNS, "kmf_budget_kr", "aendring_kr", "aendring_pct")
    for method, b1 in b1_by_method.items():
        columns = []
        for effect in METHOD_EFFECTS:
            for unit in ("kr", "pct"):
                name = f"{effect}_{unit}"
                value = pl.col(name) if name in b1.columns else pl.lit(None, dtype=pl.Float64)
                columns.append(value.alias(f"{name}_{method}"))
        out = out.with_columns(b1.select(columns))
    return out


def _level_cells(cells: pl.DataFrame) -> pl.DataFrame:
    """The cells of every unit (kommuner, regions, land) keyed by ``kode``."""
    return stack_levels(cells, [_P_F, _K_F, _P_B, _K_B], keys=("aldersgruppe", "sundhedsomraade"))


def _wide(
    long: pl.DataFrame, order: pl.DataFrame, on: str, values: str, labels: tuple[str, ...]
) -> pl.DataFrame:
    wide = long.with_columns(pl.col(on).cast(pl.String)).pivot(on=on, index="kode", values=values)
    for label in labels:
        if label not in wide.columns:
            wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(label))
    return _ordered(wide.select("kode", *labels), order)


def table_b2_b3(cells: pl.DataFrame, order: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """B2: change in the age mix of consumption, B3: change in the KMF share, pct.-point.

    B3 is null where an age group has no production value on one side.
    """
    f = age_factors(_level_cells(cells), "kode").with_columns(
        ((pl.col("w_prognose") - pl.col("w_budget")) * 100).alias("b2"),
        pl.when(pl.col("s_prognose_defined") & pl.col("s_budget_defined"))
        .then((pl.col("s_prognose") - pl.col("s_budget")) * 100)
        .alias("b3"),
    )
    return (
        _wide(f, order, "aldersgruppe", "b2", codes.AGE_GROUPS),
        _wide(f, order, "aldersgruppe", "b3", codes.AGE_GROUPS),
    )


def table_b4(cells: pl.DataFrame, order: pl.DataFrame) -> pl.DataFrame:
    """B4: change in the distribution of consumption on sundhedsområder, pct.-point."""
    level = _level_cells(cells)
    areas = (
        level.group_by("kode", "sundhedsomraade")
        .agg(fixed_sum(_P_F, _P_B))
        .sort("kode", "sundhedsomraade")
    )
    v = areas.with_columns(
        (
            (
                pl.col(_P_F) / fixed_sum(_P_F).over("kode")
                - pl.col(_P_B) / fixed_sum(_P_B).over("kode")
            )
            * 100
        ).alias("b4")
    )
    return _wide(v, order, "sundhedsomraade", "b4", codes.AREAS)


def table_1(b1: pl.DataFrame) -> pl.DataFrame:
    """Tabel 1: B1 for the regions and Hele landet."""
    return b1.filter(pl.col("niveau") != "kommune")


def _kommune_rows(b1: pl.DataFrame) -> pl.DataFrame:
    return b1.filter(pl.col("niveau") == "kommune")


def _per_region(b1: pl.DataFrame, aggs: list[pl.Expr]) -> pl.DataFrame:
    """Counts over the kommuner of each region and of the whole country, in report order."""
    kommuner = _kommune_rows(b1)
    by_region = kommuner.group_by("region").agg(pl.len().alias("antal_kommuner"), *aggs)
    land = kommuner.select(pl.len().alias("antal_kommuner"), *aggs).with_columns(
        pl.lit(None, dtype=pl.String).alias("region")
    )
    regions = table_1(b1).select("niveau", "kode", "navn", "region")
    counted = pl.concat([by_region, land.select(by_region.columns)])
    return (
        regions.with_row_index("_orden")
        .join(counted, on="region", how="left", nulls_equal=True)
        .sort("_orden")
        .drop("_orden")
        .with_columns(pl.exclude("niveau", "kode", "navn", "region").fill_null(0).cast(pl.Int64))
    )


def table_2(b1: pl.DataFrame) -> pl.DataFrame:
    """Tabel 2: per region and Hele landet, the number of kommuner where an effect is more
    than 50 % of the total change (effect / change > 0.5; a kommune may count twice)."""
    change = pl.col("aendring_kr")
    aggs = [((change != 0) & (pl.col(f"{e}_kr") / change > 0.5)).sum().alias(e) for e in EFFECTS]
    return _per_region(b1, aggs)


def table_3(b1: pl.DataFrame) -> pl.DataFrame:
    """Tabel 3: per region and Hele landet, the number of kommuner with a negative and with a
    positive aktivitets-, aldersgruppe- and sundhedsområdeeffekt."""
    aggs = []
    for e in EFFECTS:
        aggs.append((pl.col(f"{e}_kr") < 0).sum().alias(f"{e}_negativ"))
        aggs.append((pl.col(f"{e}_kr") > 0).sum().alias(f"{e}_positiv"))
    return _per_region(b1, aggs)


def ranked(b1: pl.DataFrame) -> pl.DataFrame:
    """The kommuner ranked by change in pct. of the budget, largest first (ties by kode)."""
    kommuner = _kommune_rows(b1).with_columns(pl.col("kode").cast(pl.Int64).alias("_kode"))
    return (
        kommuner.sort(["aendring_pct", "_kode"], descending=[True, False])
        .drop("_kode")
        .with_row_index("rang", offset=1)
        .with_columns(pl.col("rang").cast(pl.Int64))
    )


def _with_land(rows: pl.DataFrame, b1: pl.DataFrame) -> pl.DataFrame:
    land = b1.filter(pl.col("niveau") == "land").with_columns(
        pl.lit(None, dtype=pl.Int64).alias("rang")
    )
    return pl.concat([rows, land.select(rows.columns)])


def table_4_5_6(b1: pl.DataFrame, n: int = 10) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Tabel 4: the ``n`` largest changes, tabel 5: the middle ``n`` (ranks 45–54 of 98),
    tabel 6: the ``n`` most negative; each with Hele landet below."""
    r = ranked(b1)
    total = r.height
    top = r.head(n)
    start = max((total - n) // 2, 0)
    middle = r.slice(start, n)
    bottom = r.tail(n)
    return _with_land(top, b1), _with_land(middle, b1), _with_land(bottom, b1)
