"""The effects: how the gap between forecast and budget splits (SPEC §4.3–4.4).

Every function works on all units at once: one polars expression over the cells of every
kommune (or region), never a loop over units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import factorial

import numpy as np
import polars as pl
from numpy.typing import ArrayLike

from kmf.compute.forecast import K_BUDGET, K_FORECAST, P_BUDGET, P_FORECAST

EFFECT_COLUMNS: tuple[str, ...] = (
    "aktivitetseffekt_kr",
    "aldersgruppeeffekt_kr",
    "sundhedsomraadeeffekt_kr",
    "oevrige_kr",
)

SPLIT_COLUMNS: tuple[str, ...] = ("omraademikseffekt_kr", "andelseffekt_kr")

#: the effects of the citizens (SPEC §9): N (more or fewer), n (age structure), u (use per
#: citizen); with ``SPLIT_COLUMNS`` the five effects of the method ``befolkning``
POPULATION_COLUMNS: tuple[str, ...] = (
    "befolkningseffekt_kr",
    "demografieffekt_kr",
    "forbrugseffekt_kr",
)
#: the population on the cells for ``befolkning`` (``kmf.compute.population``): the unit's
#: persons N and its age group's N_a (N for ej_aldersdiff), budget side (T−2) and forecast (T)
N_BUDGET, N_FORECAST = "indbyggere_budget", "indbyggere_prognose"
NA_BUDGET, NA_FORECAST = "indbyggere_aldersgruppe_budget", "indbyggere_aldersgruppe_prognose"

Factors = Callable[[pl.DataFrame, str], tuple[list, np.ndarray, np.ndarray]]
Engine = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Method:
    """A way to split the change: how the cells become factors, the engine that splits the
    change of Σ Π factors, and which effect column each of the engine's outputs is.

    ``outputs`` names the engine's results in order (``None``: a residual, recomputed as
    Øvrige); the sundhedsområdeeffekt is the sum of ``SPLIT_COLUMNS`` where the method
    splits it. ``combined`` makes B1's effects of others (``befolkning``: A = N + u,
    B = n). ``label`` and ``beskrivelse`` are what users read (Danish).
    """

    name: str
    label: str
    beskrivelse: str
    factors: Factors
    engine: Engine
    outputs: tuple[str | None, ...]
    combined: tuple[tuple[str, tuple[str, ...]], ...] = ()


_P_F, _K_F, _P_B, _K_B = P_FORECAST, K_FORECAST, P_BUDGET, K_BUDGET


def fixed_sum(*columns: str) -> pl.Expr:
    """The sum of each float column with its terms in an order fixed by their values.

    A group_by or a window hands a group's rows over in an order that may change from run to
    run, and a float sum in another order may differ in the last bit; sorted first, the same
    numbers always give the same sum, so reruns write the same bytes.
    """
    return pl.col(*columns).sort().sum()


def age_factors(cells: pl.DataFrame, unit: str) -> pl.DataFrame:
    """Per unit and age group: P, K, the age mix w_a = P_a / P and the KMF share s_a = K_a / P_a.

    Where P_a = 0 on one side, s_a there is taken from the other side; where both are 0, s_a
    is 0 (its weight w_a is 0 on both sides, so the term vanishes). ``s_*_defined`` says
    whether the share was observed on that side.
    """
    # sorted before the sums over each unit: a group_by returns its groups in any order,
    # and a sum in another order may differ in the last bit
    groups = (
        cells.sort(unit, "aldersgruppe", "sundhedsomraade")
        .group_by(unit, "aldersgruppe")
        .agg(fixed_sum(_P_F, _K_F, _P_B, _K_B))
        .sort(unit, "aldersgruppe")
    )
    own_f = pl.when(pl.col(_P_F) > 0).then(pl.col(_K_F) / pl.col(_P_F))
    own_b = pl.when(pl.col(_P_B) > 0).then(pl.col(_K_B) / pl.col(_P_B))
    return groups.with_columns(
        (pl.col(_P_F) / fixed_sum(_P_F).over(unit)).alias("w_prognose"),
        (pl.col(_P_B) / fixed_sum(_P_B).over(unit)).alias("w_budget"),
        own_f.is_not_null().alias("s_prognose_defined"),
        own_b.is_not_null().alias("s_budget_defined"),
        pl.coalesce(own_f, own_b, pl.lit(0.0)).alias("s_prognose"),
        pl.coalesce(own_b, own_f, pl.lit(0.0)).alias("s_budget"),
    )


def effects(
    cells: pl.DataFrame, unit: str = "kommunekode", method: str = "ministeriet"
) -> pl.DataFrame:
    """The decomposition of K^f − K^b per unit, in kr., for all units at once.

    Parameters
    ----------
    cells
        Forecast and budget cells (``forecast.Cells.cells``): every unit's 17 cells.
    unit
        The column that names the unit.
    method
        ``"ministeriet"`` (SPEC §4): factors P, w and s per age group, each held at its budget
        level with the others at forecast level; ``oevrige_kr`` is what is left.
        ``"lmdi"`` or ``"shapley"``: factors P, w, v (area mix within the age group) and r
        (KMF share of the cell), exact; C = C1 (v) + C2 (r) and ``oevrige_kr`` ≈ 0.

    Returns
    -------
    One row per unit: ``kmf_budget_kr``, ``kmf_prognose_kr``, ``aendring_kr`` and the effects
    of ``EFFECT_COLUMNS`` (and ``SPLIT_COLUMNS`` for lmdi and shapley).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    chosen = METHODS[method]
    units, base, forecast = chosen.factors(cells, unit)
    values = np.moveaxis(chosen.engine(base, forecast), -1, 0)
    named = {name: v for name, v in zip(chosen.outputs, values, strict=True) if name}
    for target, parts in chosen.combined:
        named[target] = sum(named[p] for p in parts)
    split = {name: named[name] for name in SPLIT_COLUMNS if name in named}
    own = [name for name in POPULATION_COLUMNS if name in named]
    a, b = named["aktivitetseffekt_kr"], named["aldersgruppeeffekt_kr"]
    c = named.get("sundhedsomraadeeffekt_kr", sum(split.values()))
    totals = (
        cells.sort(unit, "aldersgruppe", "sundhedsomraade")
        .group_by(unit)
        .agg(fixed_sum(_K_B, _K_F))
    )
    out = (
        pl.DataFrame({unit: units})
        # in the order of units: the effects below are columns in that order
        .join(totals, on=unit, how="left", maintain_order="left")
        .with_columns(
            (pl.col(_K_F) - pl.col(_K_B)).alias("aendring_kr"),
            pl.Series("aktivitetseffekt_kr", a),
            pl.Series("aldersgruppeeffekt_kr", b),
            pl.Series("sundhedsomraadeeffekt_kr", c),
            *(pl.Series(name, values) for name, values in split.items()),
            *(pl.Series(name, named[name]) for name in own),
        )
    )
    out = out.with_columns(
        (
            pl.col("aendring_kr")
            - pl.col("aktivitetseffekt_kr")
            - pl.col("aldersgruppeeffekt_kr")
            - pl.col("sundhedsomraadeeffekt_kr")
        ).alias("oevrige_kr")
    )
    return out.select(unit, _K_B, _K_F, "aendring_kr", *EFFECT_COLUMNS, *split, *own).sort(unit)


def _age_level_factors(cells: pl.DataFrame, unit: str) -> tuple[list, np.ndarray, np.ndarray]:
    """(units, base, forecast): arrays (units × 5 age groups × factors P, w, s)."""
    f = age_factors(cells, unit).with_columns(
        fixed_sum(_P_F).over(unit).alias("_p_f"), fixed_sum(_P_B).over(unit).alias("_p_b")
    )
    return _arrays(f, unit, ["_p_b", "w_budget", "s_budget"], ["_p_f", "w_prognose", "s_prognose"])


def _cell_level_factors(cells: pl.DataFrame, unit: str) -> tuple[list, np.ndarray, np.ndarray]:
    """(units, base, forecast): arrays (units × 17 cells × factors P, w, v, r).

    A share whose denominator is 0 on one side takes the other side's value (0 if both are).
    """
    age = [unit, "aldersgruppe"]
    frame = cells.sort(unit, "aldersgruppe", "sundhedsomraade").with_columns(
        fixed_sum(_P_F).over(unit).alias("_p_f"),
        fixed_sum(_P_B).over(unit).alias("_p_b"),
        fixed_sum(_P_F).over(age).alias("_pa_f"),
        fixed_sum(_P_B).over(age).alias("_pa_b"),
    )
    own_v_f = pl.when(pl.col("_pa_f") > 0).then(pl.col(_P_F) / pl.col("_pa_f"))
    own_v_b = pl.when(pl.col("_pa_b") > 0).then(pl.col(_P_B) / pl.col("_pa_b"))
    own_r_f = pl.when(pl.col(_P_F) > 0).then(pl.col(_K_F) / pl.col(_P_F))
    own_r_b = pl.when(pl.col(_P_B) > 0).then(pl.col(_K_B) / pl.col(_P_B))
    frame = frame.with_columns(
        (pl.col("_pa_f") / pl.col("_p_f")).alias("_w_f"),
        (pl.col("_pa_b") / pl.col("_p_b")).alias("_w_b"),
        pl.coalesce(own_v_f, own_v_b, pl.lit(0.0)).alias("_v_f"),
        pl.coalesce(own_v_b, own_v_f, pl.lit(0.0)).alias("_v_b"),
        pl.coalesce(own_r_f, own_r_b, pl.lit(0.0)).alias("_r_f"),
        pl.coalesce(own_r_b, own_r_f, pl.lit(0.0)).alias("_r_b"),
    )
    return _arrays(frame, unit, ["_p_b", "_w_b", "_v_b", "_r_b"], ["_p_f", "_w_f", "_v_f", "_r_f"])


def _population_factors(cells: pl.DataFrame, unit: str) -> tuple[list, np.ndarray, np.ndarray]:
    """(units, base, forecast): arrays (units × 17 cells × factors N, n, u, v, r) (SPEC §9).

    N: the unit's persons; n_a = N_a / N (1 for ej_aldersdiff, whose N_a is N); u_a =
    P_a / N_a, the production value per citizen of the age group (0 where P_a = 0);
    v_o|a = P_ao / P_a and r_ao = K_ao / P_ao, each taken from the other side where its
    denominator is 0 on one side (0 if on both). The cells need the columns ``N_BUDGET``,
    ``N_FORECAST``, ``NA_BUDGET`` and ``NA_FORECAST``.
    """
    missing = [c for c in (N_BUDGET, N_FORECAST, NA_BUDGET, NA_FORECAST) if c not in cells.columns]
    if missing:
        raise ValueError(f"the method 'befolkning' needs the population on the cells: {missing}")
    age = [unit, "aldersgruppe"]
    frame = cells.sort(unit, "aldersgruppe", "sundhedsomraade").with_columns(
        fixed_sum(_P_F).over(age).alias("_pa_f"),
        fixed_sum(_P_B).over(age).alias("_pa_b"),
    )

    def per_citizen(p: str, n: str) -> pl.Expr:
        return pl.when((pl.col(p) > 0) & (pl.col(n) > 0)).then(pl.col(p) / pl.col(n))

    own_v_f = pl.when(pl.col("_pa_f") > 0).then(pl.col(_P_F) / pl.col("_pa_f"))
    own_v_b = pl.when(pl.col("_pa_b") > 0).then(pl.col(_P_B) / pl.col("_pa_b"))
    own_r_f = pl.when(pl.col(_P_F) > 0).then(pl.col(_K_F) / pl.col(_P_F))
    own_r_b = pl.when(pl.col(_P_B) > 0).then(pl.col(_K_B) / pl.col(_P_B))
    frame = frame.with_columns(
        pl.col(N_FORECAST).cast(pl.Float64).alias("_N_f"),
        pl.col(N_BUDGET).cast(pl.Float64).alias("_N_b"),
        (pl.col(NA_FORECAST) / pl.col(N_FORECAST)).alias("_n_f"),
        (pl.col(NA_BUDGET) / pl.col(N_BUDGET)).alias("_n_b"),
        per_citizen("_pa_f", NA_FORECAST).fill_null(0.0).alias("_u_f"),
        per_citizen("_pa_b", NA_BUDGET).fill_null(0.0).alias("_u_b"),
        pl.coalesce(own_v_f, own_v_b, pl.lit(0.0)).alias("_v_f"),
        pl.coalesce(own_v_b, own_v_f, pl.lit(0.0)).alias("_v_b"),
        pl.coalesce(own_r_f, own_r_b, pl.lit(0.0)).alias("_r_f"),
        pl.coalesce(own_r_b, own_r_f, pl.lit(0.0)).alias("_r_b"),
    )
    return _arrays(
        frame,
        unit,
        ["_N_b", "_n_b", "_u_b", "_v_b", "_r_b"],
        ["_N_f", "_n_f", "_u_f", "_v_f", "_r_f"],
    )


def _arrays(
    frame: pl.DataFrame, unit: str, base: list[str], forecast: list[str]
) -> tuple[list, np.ndarray, np.ndarray]:
    frame = frame.sort(unit, maintain_order=True)
    units = frame[unit].unique(maintain_order=True).to_list()
    n = len(units)
    if frame.height % max(n, 1):
        raise ValueError("every unit needs the same cells")
    shape = (n, frame.height // max(n, 1), len(base))
    return (
        units,
        frame.select(base).to_numpy().reshape(shape),
        frame.select(forecast).to_numpy().reshape(shape),
    )


# --- the generic engine: value = Σ_cells Π_factors ----------------------------------------


def log_mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The logarithmic mean L(a, b) = (a − b) / (ln a − ln b), L(a, a) = a, for a, b > 0.

    Computed as b·x / log1p(x) with x = (a − b) / b, which stays accurate when a ≈ b.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    x = (a - b) / b
    safe = np.where(x == 0, 1.0, x)
    return np.where(x == 0, a, b * safe / np.log1p(safe))


def product_effects(base: ArrayLike, forecast: ArrayLike, method: str) -> np.ndarray:
    """Split the change of Σ_cells Π_factors between two states into one effect per factor.

    Parameters
    ----------
    base, forecast
        Arrays of shape (..., cells, factors): leading axes are units, decomposed at once.
    method
        ``"ministeriet"``: each factor's effect is the forecast value minus the value with that
        factor at its base level; the last entry of the result is the residual.
        ``"shapley"``: the Shapley value, the mean over all orders of the change when the
        factor moves from base to forecast (subset weights |S|!(K−1−|S|)!/K!).
        ``"lmdi"``: additive LMDI-I, Σ_c L(V^f_c, V^b_c)·ln(x^f_c / x^b_c); a cell that is
        zero on one side gives its whole change to the factors that are zero on that side.

    Returns
    -------
    Array of shape (..., factors), or (..., factors + 1) for ``"ministeriet"``. The effects
    (with the residual) sum to Σ Π forecast − Σ Π base.
    """
    b = np.asarray(base, dtype=float)
    f = np.asarray(forecast, dtype=float)
    if b.shape != f.shape or b.ndim < 2:
        raise ValueError("base and forecast must have the same shape (..., cells, factors)")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    return METHODS[method].engine(b, f)


def _value(b: np.ndarray, f: np.ndarray, mask: int) -> np.ndarray:
    """Σ_cells Π_factors with the factors in ``mask`` (bits) at forecast, the rest at base."""
    k = b.shape[-1]
    chosen = np.where([(mask >> j) & 1 for j in range(k)], f, b)
    return chosen.prod(axis=-1).sum(axis=-1)


def _ministry(b: np.ndarray, f: np.ndarray) -> np.ndarray:
    k = b.shape[-1]
    everything = (1 << k) - 1
    total = _value(b, f, everything)
    effects = [total - _value(b, f, everything & ~(1 << j)) for j in range(k)]
    residual = total - _value(b, f, 0) - sum(effects)
    return np.stack([*effects, residual], axis=-1)


def _shapley(b: np.ndarray, f: np.ndarray) -> np.ndarray:
    k = b.shape[-1]
    values = {mask: _value(b, f, mask) for mask in range(1 << k)}
    weight = [factorial(s) * factorial(k - 1 - s) / factorial(k) for s in range(k)]
    effects = []
    for j in range(k):
        bit = 1 << j
        effect = sum(
            weight[mask.bit_count()] * (values[mask | bit] - values[mask])
            for mask in range(1 << k)
            if not mask & bit
        )
        effects.append(effect)
    return np.stack(effects, axis=-1)


def _lmdi(b: np.ndarray, f: np.ndarray) -> np.ndarray:
    if (b < 0).any() or (f < 0).any():
        raise ValueError("LMDI needs factors that are zero or positive")
    vb, vf = b.prod(axis=-1), f.prod(axis=-1)
    both = (vb > 0) & (vf > 0)
    weight = np.where(both, log_mean(np.where(both, vf, 1.0), np.where(both, vb, 1.0)), 0.0)
    ratio = np.where(
        both[..., None], np.log(np.where(both[..., None], f / np.where(b > 0, b, 1.0), 1.0)), 0.0
    )
    effects = (weight[..., None] * ratio).sum(axis=-2)
    # a cell that appears (zero in base) or vanishes (zero in forecast): the limit of LMDI
    # gives its change to the factors that are zero on that side, shared equally
    for side, other_zero in ((b, (vb == 0) & (vf > 0)), (f, (vf == 0) & (vb > 0))):
        zero = side == 0
        count = np.maximum(zero.sum(axis=-1), 1)
        share = np.where(other_zero[..., None], zero / count[..., None], 0.0)
        effects = effects + ((vf - vb)[..., None] * share).sum(axis=-2)
    return effects


_BY_AGE = ("aktivitetseffekt_kr", "aldersgruppeeffekt_kr", "sundhedsomraadeeffekt_kr", None)
_BY_CELL = ("aktivitetseffekt_kr", "aldersgruppeeffekt_kr", *SPLIT_COLUMNS)

#: The methods, by the name users give (``--metode``). Adding a method is one entry here.
METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "ministeriet",
            "ministeriet",
            "som analysen 2018: én faktor ad gangen på budgetniveau; samspillet er Øvrige",
            _age_level_factors,
            _ministry,
            _BY_AGE,
        ),
        Method(
            "lmdi",
            "LMDI",
            "logaritmisk middelværdi (LMDI-I) celle for celle; præcis, C delt i C1 og C2",
            _cell_level_factors,
            _lmdi,
            _BY_CELL,
        ),
        Method(
            "shapley",
            "Shapley",
            "gennemsnit over alle rækkefølger af faktorerne; præcis, C delt i C1 og C2",
            _cell_level_factors,
            _shapley,
            _BY_CELL,
        ),
        Method(
            "befolkning",
            "befolkning",
            "LMDI-I celle for celle med befolkningen: flere borgere, alderssammensætning og "
            "forbrug pr. borger; præcis, C delt i C1 og C2 (kræver befolkningstal)",
            _population_factors,
            _lmdi,
            (*POPULATION_COLUMNS, *SPLIT_COLUMNS),
            (
                ("aktivitetseffekt_kr", ("befolkningseffekt_kr", "forbrugseffekt_kr")),
                ("aldersgruppeeffekt_kr", ("demografieffekt_kr",)),
            ),
        ),
    )
}

#: the methods that need the population (SPEC §9)
NEEDS_POPULATION: frozenset[str] = frozenset({"befolkning"})
