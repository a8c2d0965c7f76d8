"""The effects: how the gap between forecast and budget splits (SPEC §4.3–4.4).

Every function works on all units at once: one polars expression over the cells of every
kommune (or region), never a loop over units.
"""

from __future__ import annotations

import polars as pl

METHODS: tuple[str, ...] = ("ministeriet",)

EFFECT_COLUMNS: tuple[str, ...] = (
    "aktivitetseffekt_kr",
    "aldersgruppeeffekt_kr",
    "sundhedsomraadeeffekt_kr",
    "oevrige_kr",
)

_P_F, _K_F = "produktionsvaerdi_prognose_kr", "kmf_prognose_kr"
_P_B, _K_B = "produktionsvaerdi_budget_kr", "kmf_budget_kr"


def age_factors(cells: pl.DataFrame, unit: str) -> pl.DataFrame:
    """Per unit and age group: P, K, the age mix w_a = P_a / P and the KMF share s_a = K_a / P_a.

    Where P_a = 0 on one side, s_a there is taken from the other side; where both are 0, s_a
    is 0 (its weight w_a is 0 on both sides, so the term vanishes). ``s_*_defined`` says
    whether the share was observed on that side.
    """
    groups = cells.group_by(unit, "aldersgruppe").agg(pl.col(_P_F, _K_F, _P_B, _K_B).sum())
    own_f = pl.when(pl.col(_P_F) > 0).then(pl.col(_K_F) / pl.col(_P_F))
    own_b = pl.when(pl.col(_P_B) > 0).then(pl.col(_K_B) / pl.col(_P_B))
    return groups.with_columns(
        (pl.col(_P_F) / pl.col(_P_F).sum().over(unit)).alias("w_prognose"),
        (pl.col(_P_B) / pl.col(_P_B).sum().over(unit)).alias("w_budget"),
        own_f.is_not_null().alias("s_prognose_defined"),
        own_b.is_not_null().alias("s_budget_defined"),
        pl.coalesce(own_f, own_b, pl.lit(0.0)).alias("s_prognose"),
        pl.coalesce(own_b, own_f, pl.lit(0.0)).alias("s_budget"),
    ).sort(unit, "aldersgruppe")


def effects(
    cells: pl.DataFrame, unit: str = "kommunekode", method: str = "ministeriet"
) -> pl.DataFrame:
    """The decomposition of K^f − K^b per unit, in kr.

    Parameters
    ----------
    cells
        Forecast and budget cells (``forecast.Cells.cells``) with a ``unit`` column.
    unit
        The column that names the unit.
    method
        ``"ministeriet"``: each factor held at its budget level, the others at forecast level;
        ``oevrige_kr`` is what is left.

    Returns
    -------
    One row per unit: ``kmf_budget_kr``, ``kmf_prognose_kr``, ``aendring_kr`` and the effects
    of ``EFFECT_COLUMNS``.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    f = age_factors(cells, unit)
    w_f, w_b = pl.col("w_prognose"), pl.col("w_budget")
    s_f, s_b = pl.col("s_prognose"), pl.col("s_budget")
    per_unit = f.group_by(unit).agg(
        pl.col(_K_F).sum(),
        pl.col(_K_B).sum(),
        pl.col(_P_F).sum(),
        pl.col(_P_B).sum(),
        (w_f * s_f).sum().alias("_ff"),
        (w_b * s_f).sum().alias("_bf"),
        (w_f * s_b).sum().alias("_fb"),
    )
    k_f = pl.col(_K_F)
    out = per_unit.with_columns(
        (k_f - pl.col(_K_B)).alias("aendring_kr"),
        (k_f - pl.col(_P_B) * pl.col("_ff")).alias("aktivitetseffekt_kr"),
        (k_f - pl.col(_P_F) * pl.col("_bf")).alias("aldersgruppeeffekt_kr"),
        (k_f - pl.col(_P_F) * pl.col("_fb")).alias("sundhedsomraadeeffekt_kr"),
    ).with_columns(
        (
            pl.col("aendring_kr")
            - pl.col("aktivitetseffekt_kr")
            - pl.col("aldersgruppeeffekt_kr")
            - pl.col("sundhedsomraadeeffekt_kr")
        ).alias("oevrige_kr")
    )
    return out.select(unit, _K_B, _K_F, "aendring_kr", *EFFECT_COLUMNS).sort(unit)
