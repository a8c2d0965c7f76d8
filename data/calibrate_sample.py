"""Build the synthetic sample dataset for budget year 2018, calibrated to the published tables.

Real KMF settlement data is not public. This script makes a national dataset in the kmf input
format (all 98 kommuner, the four cuts a 2018 run uses, the 17 cells per kommune and the
national ØA18 budget) whose decomposition reproduces the ministry's published tables B1, B2
and B4 ("Udviklingen i den kommunale medfinansiering 2018", copied to ``tests/fixtures/``).

How:

1. Targets. B2 and B4 keep psykiatri (= ej_aldersdiff) and spread their rounding residual
   over the other four columns. For B1, given ændring (d) and aktivitetseffekt (a), the
   aldersgruppeeffekt fixes the age contrast Σ B2·s of the forecast KMF shares s and the
   sundhedsområdeeffekt the one of the budget shares. Each contrast can only take values in
   an interval when the shares are plausible (a linear programme, solved exactly); a small
   search over d and a within the published rounding (±0.45 pct.-point) centres those
   intervals on the published values, and B and C are clipped into them.
2. Shares per age group. The nearest point to a prior (national pattern; forecast = budget
   + published B3) that meets the four linear conditions of step 1 inside the bounds
   (Dykstra's alternating projections).
3. Cells. On the budget side the area mix within an age group moves between a
   practice-heavy mix, the national mix and a somatik-heavy mix to give the age group its
   share, and the cell rates are then fitted inside their plausible ranges. On the forecast
   side the area mix is fitted to the B4 margins (iterative proportional fitting) and the
   rates are fitted again. Every cell's KMF share of the takst stays within: somatik
   21–55 %, speciallæge/almen praksis/øvrig primær 7.5–17.5 %, psykiatri 31–59 %.
4. Levels. Kommune budgets are proportional to population (approximate 2018 figures in
   ``kmf/data/folketal_2018.csv``) with an age factor, summing to the ØA18 level; the
   production value follows from the shares and from the activity effect.
5. The cuts. 2016 endelig at 2018 takster is the budget side over a common growth factor;
   2018 foreløbig is the forecast over the kommune's efterregistrering factor f, which the
   2017 foreløbig and endelig cuts carry.

Deterministic: the same inputs give byte-identical files. From the repository root:

    python data/calibrate_sample.py [OUT_FOLDER]     # default: kmf/data/sample
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
YEAR = 2018
BUDGET_KR = 21_500_000_000.0  # national level, ØA18 (order of magnitude: 21–22 mia. kr.)
GROWTH = 1.03  # budget level over the 2016 activity at 2018 takster
SEED = 2018

AGES = ["0-2", "3-64", "65-79", "80+"]  # the age-differentiated groups; ej_aldersdiff is psyk
AREAS = ["somatik", "speciallaege", "almen_praksis", "oevrig_primaer"]  # psykiatri apart
# National age mix of production value (0-2, 3-64, 65-79, 80+, ej_aldersdiff = psykiatri).
AGE_MIX = np.array([0.020, 0.500, 0.210, 0.120, 0.150])
# National area mix within each age group (rows: AGES, columns: AREAS).
AREA_MIX = np.array(
    [
        [0.70, 0.05, 0.18, 0.07],
        [0.62, 0.09, 0.18, 0.11],
        [0.78, 0.07, 0.09, 0.06],
        [0.82, 0.04, 0.08, 0.06],
    ]
)
# The extremes the within-age area mix may move to.
PRACTICE_HEAVY = np.array([0.03, 0.30, 0.40, 0.27])
SOMATIK_HEAVY = np.array([0.97, 0.01, 0.01, 0.01])
MIX_FLOOR = 0.005  # no area below half a percent of an age group's consumption
# National KMF share of the takst per cell (rows: AGES, columns: AREAS) and for psykiatri.
RATES = np.array(
    [
        [0.45, 0.15, 0.15, 0.14],
        [0.22, 0.08, 0.08, 0.08],
        [0.45, 0.15, 0.15, 0.14],
        [0.52, 0.16, 0.16, 0.15],
    ]
)
PSYK_RATE = 0.42
# Plausible KMF shares of the takst per cell: somatik, the three practice areas; psykiatri.
RATE_LO = np.array([0.21, 0.075, 0.075, 0.075])
RATE_HI = np.array([0.55, 0.175, 0.175, 0.175])
PSYK_LO, PSYK_HI = 0.31, 0.59
# Age-group shares the solver may use (reachable by the mixes and rates above, with room).
SHARE_LO, SHARE_HI = 0.10, 0.52
MAX_SHARE_CHANGE = 0.06  # an age group's KMF share moves at most this much in a year
ROUNDING = 0.0045  # how far a B1 target may move: inside the published rounding of 0.5


def published(n: int, kommuner: list[int]) -> pl.DataFrame:
    frame = pl.read_csv(
        FIXTURES / f"rapport2018_tabel_b{n}.csv", schema_overrides={"kode": pl.String}
    )
    frame = frame.filter(pl.col("kode") != "DK").with_columns(pl.col("kode").cast(pl.Int64))
    return pl.DataFrame({"kode": kommuner}).join(frame, on="kode", how="left")


def targets(kommuner: list[int]) -> dict[str, np.ndarray]:
    """Targets per kommune from the published (rounded) tables, as fractions."""
    b1 = published(1, kommuner)
    cols = ("aendring_pct", "aktivitetseffekt_pct", "aldersgruppeeffekt_pct",
            "sundhedsomraadeeffekt_pct")  # fmt: skip
    d, a, b, c = (b1[col].to_numpy().astype(float) / 100 for col in cols)
    b2 = published(2, kommuner).select([*AGES, "ej_aldersdiff"]).to_numpy().astype(float)
    b4 = published(4, kommuner).select([*AREAS, "psykiatri"]).to_numpy().astype(float)
    psyk = b2[:, 4]
    b2[:, :4] -= (b2[:, :4].sum(axis=1) + psyk)[:, None] / 4
    b4[:, :4] -= (b4[:, :4].sum(axis=1) + psyk)[:, None] / 4
    b4[:, 4] = psyk
    b3 = published(3, kommuner).select([*AGES, "ej_aldersdiff"]).to_numpy().astype(float)
    return {"d": d, "a": a, "b": b, "c": c, "b2": b2 / 100, "b3": b3 / 100, "b4": b4 / 100}


# --- numerical helpers ------------------------------------------------------------------


def contrast_range(
    contrast: np.ndarray, weight: np.ndarray, total: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest Σ contrast·s over lo <= s <= hi with Σ weight·s = total.

    A linear programme with one equality: fill the box greedily in the order of
    contrast / weight (a fractional knapsack), vectorised over kommuner.
    """
    rows = np.arange(len(total))
    out = []
    for sign in (1.0, -1.0):
        order = np.argsort(-sign * contrast / weight, axis=1, kind="stable")
        s = lo.copy()
        rest = total - (weight * lo).sum(axis=1)
        for j in range(order.shape[1]):
            idx = order[:, j]
            step = np.clip(rest / weight[rows, idx], 0.0, hi[rows, idx] - lo[rows, idx])
            s[rows, idx] += step
            rest = rest - weight[rows, idx] * step
        out.append((contrast * s).sum(axis=1))
    return out[1], out[0]


def nearest_feasible(
    prior: np.ndarray,
    matrix: np.ndarray,
    rhs: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    max_change: float | None = None,
    sweeps: int = 20000,
) -> np.ndarray:
    """The point nearest ``prior`` (in relative terms) with ``matrix @ x = rhs``,
    ``lo <= x <= hi`` and |x_f − x_b| <= ``max_change`` between the two halves of x:
    Dykstra's cyclic projections, vectorised over kommuner.

    prior, lo, hi (n, 2m); matrix (n, k, 2m); rhs (n, k). The last step projects onto the
    equalities, so they hold exactly; the bounds then hold up to the convergence error.
    """
    a = matrix * prior[:, None, :]  # in y = x / prior the distance is Euclidean
    inverse = np.linalg.inv(np.einsum("nkm,njm->nkj", a, a))
    half = prior.shape[1] // 2
    pf, pb = prior[:, :half], prior[:, half:]
    limit = 0.0 if max_change is None else max_change

    def affine(y: np.ndarray) -> np.ndarray:
        gap = np.einsum("nkm,nm->nk", a, y) - rhs
        return y - np.einsum("nkm,nk->nm", a, np.einsum("nkj,nj->nk", inverse, gap))

    def box(y: np.ndarray) -> np.ndarray:
        return np.clip(y, lo / prior, hi / prior)

    def slab(y: np.ndarray) -> np.ndarray:
        diff = pf * y[:, :half] - pb * y[:, half:]
        excess = diff - np.clip(diff, -limit, limit)
        step = excess / (pf**2 + pb**2)
        return np.hstack([y[:, :half] - step * pf, y[:, half:] + step * pb])

    projections = (affine, box) if max_change is None else (affine, box, slab)
    x = box(np.ones_like(prior))
    increments = [np.zeros_like(prior) for _ in projections]
    for _ in range(sweeps):
        for j, project in enumerate(projections):
            new = project(x + increments[j])
            increments[j] = x + increments[j] - new
            x = new
    return prior * affine(x), prior * x


def ipf(start: np.ndarray, rows: np.ndarray, cols: np.ndarray, sweeps: int = 500) -> np.ndarray:
    """Scale ``start`` (kommune × age × area) to the row and column sums given."""
    m = start.copy()
    for _ in range(sweeps):
        m *= (rows / m.sum(axis=2))[:, :, None]
        m *= (cols / m.sum(axis=1))[:, None, :]
    return m


def mix_for(shares: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Within-age area mixes giving each age group its share at the given rates.

    The mix moves along practice-heavy → national → somatik-heavy (piecewise linear), and
    stops at the ends; ``fit_rates`` then covers the rest.
    """
    points = np.stack(
        [
            np.broadcast_to(PRACTICE_HEAVY, AREA_MIX.shape),
            AREA_MIX,
            np.broadcast_to(SOMATIK_HEAVY, AREA_MIX.shape),
        ]
    )  # fmt: skip  (3, age, area)
    level = np.einsum("pao,nao->npa", points, rates)  # share at each point
    low_t = (shares - level[:, 0]) / (level[:, 1] - level[:, 0])
    high_t = (shares - level[:, 1]) / (level[:, 2] - level[:, 1])
    theta = np.where(shares <= level[:, 1], np.clip(low_t, 0, 1), 1 + np.clip(high_t, 0, 1))
    first = np.clip(theta, 0, 1)[:, :, None]
    second = np.clip(theta - 1, 0, 1)[:, :, None]
    return points[0] + first * (points[1] - points[0]) + second * (points[2] - points[1])


def forecast_mix(w: np.ndarray, v: np.ndarray, shares: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Within-age area mixes with the age margins ``w`` and area margins ``v`` (iterative
    proportional fitting from ``start``), such that plausible rates can give each age group
    its share: where one cannot, its mix moves towards the somatik-heavy (or practice-heavy)
    end and the fit is repeated."""
    guide = start.copy()
    for _ in range(60):
        joint = ipf(w[:, :, None] * guide, w, v)
        mix = joint / joint.sum(axis=2, keepdims=True)
        above = shares > mix @ RATE_HI - 1e-4
        below = shares < mix @ RATE_LO + 1e-4
        thin = mix.min(axis=2) < MIX_FLOOR / 2
        if not (above.any() or below.any() or thin.any()):
            break
        guide = np.where(above[:, :, None], 0.7 * mix + 0.3 * SOMATIK_HEAVY, mix)
        guide = np.where(below[:, :, None], 0.7 * mix + 0.3 * PRACTICE_HEAVY, guide)
        guide = np.maximum(guide, MIX_FLOOR)
    return mix


def fit_rates(mix: np.ndarray, start: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Rates inside their bounds with Σ mix·rate = share per age group.

    Each rate's position between its bounds, θ in (0, 1), is shifted on the logit scale by
    the same κ for the whole age group, found by bisection: κ = 0 keeps ``start``, the order
    of the rates is kept, and both bounds can be approached from anywhere.
    """
    theta = np.clip((start - RATE_LO) / (RATE_HI - RATE_LO), 1e-9, 1 - 1e-9)
    logit = np.log(theta / (1 - theta))

    def rates_at(kappa: np.ndarray) -> np.ndarray:
        return RATE_LO + (RATE_HI - RATE_LO) / (1 + np.exp(-(logit + kappa[:, :, None])))

    lo_k, hi_k = np.full(shares.shape, -60.0), np.full(shares.shape, 60.0)
    for _ in range(100):
        mid = (lo_k + hi_k) / 2
        too_high = np.einsum("nao,nao->na", mix, rates_at(mid)) > shares
        hi_k = np.where(too_high, mid, hi_k)
        lo_k = np.where(too_high, lo_k, mid)
    return rates_at((lo_k + hi_k) / 2)


# --- the calibration --------------------------------------------------------------------


def choose_targets(t, w_b, w_f, m_bb, lo, hi):
    """d, a, b, c per kommune: B and C as close to published as plausible shares allow,
    using the rounding of d and a to centre what is reachable."""
    best = None
    steps = np.linspace(-ROUNDING, ROUNDING, 7)
    for dd in steps:
        for da in steps:
            d, a = t["d"] + dd, t["a"] + da
            m_ff = (1 + d - a) * m_bb
            f_lo, f_hi = contrast_range(t["b2"], w_f, m_ff, lo, hi)
            b_lo, b_hi = contrast_range(t["b2"], w_b, m_bb, lo, hi)
            b = np.clip(t["b"], f_lo * (1 + d) / m_ff, f_hi * (1 + d) / m_ff)
            c = np.clip(
                t["c"], (1 + d) * (1 - (m_bb + b_hi) / m_ff), (1 + d) * (1 - (m_bb + b_lo) / m_ff)
            )
            # the two contrasts differ by at most MAX_SHARE_CHANGE · Σ|B2| (with some room)
            forecast = b * m_ff / (1 + d)
            budget = m_ff * (1 + d - c) / (1 + d) - m_bb
            room = 0.8 * MAX_SHARE_CHANGE * np.abs(t["b2"]).sum(axis=1)
            gap = forecast - budget
            excess = gap - np.clip(gap, -room, room)
            forecast = np.clip(forecast - excess / 2, f_lo, f_hi)
            budget = np.clip(budget + excess / 2, b_lo, b_hi)
            b = forecast * (1 + d) / m_ff
            c = (1 + d) * (1 - (m_bb + budget) / m_ff)
            miss = np.maximum(np.abs(b - t["b"]), np.abs(c - t["c"])) + 0.01 * (abs(dd) + abs(da))
            candidate = (miss, d, a, b, c)
            if best is None:
                best = candidate
            else:
                better = miss < best[0]
                best = tuple(
                    np.where(better, new, old) for new, old in zip(candidate, best, strict=True)
                )
    _, d, a, b, c = best
    return d, a, b, c


def solve_shares(w_b, w_f, m_bb, d, a, b, c, prior, lo, hi):
    """Age-group shares (s_f, s_b) nearest ``prior`` that give exactly d, a, b and c."""
    n = len(d)
    m_ff = (1 + d - a) * m_bb
    zero = np.zeros((n, 5))
    # Σ w_b s_b = m_bb, Σ w_f s_f = m_ff, Σ w_b s_f = m_ff (1+d−b)/(1+d),
    # Σ w_f s_b = m_ff (1+d−c)/(1+d)
    matrix = np.stack(
        [np.hstack([zero, w_b]), np.hstack([w_f, zero]),
         np.hstack([w_b, zero]), np.hstack([zero, w_f])],
        axis=1,
    )  # fmt: skip
    rhs = np.column_stack([m_bb, m_ff, m_ff * (1 + d - b) / (1 + d), m_ff * (1 + d - c) / (1 + d)])
    return nearest_feasible(prior, matrix, rhs, lo, hi, MAX_SHARE_CHANGE)


def build() -> tuple[pl.DataFrame, pl.DataFrame, dict[str, float]]:
    rng = np.random.default_rng(SEED)
    ref = pl.read_csv(ROOT / "kmf" / "data" / "kommuner.csv").sort("kommunekode")
    ref = ref.join(pl.read_csv(ROOT / "kmf" / "data" / "folketal_2018.csv"), on="kommunekode")
    kommuner = ref["kommunekode"].to_list()
    n = len(kommuner)
    t = targets(kommuner)

    # budget age mix: older populations in smaller kommuner; forecast = budget + B2
    size = np.log(ref["folketal"].to_numpy().astype(float))
    older = -0.6 * (size - size.mean()) / size.std() + 0.6 * rng.standard_normal(n)
    w_b = AGE_MIX * np.exp(
        np.column_stack([-0.10 * older, -0.05 * older, 0.12 * older, 0.18 * older,
                         0.10 * rng.standard_normal(n)])
        + 0.04 * rng.standard_normal((n, 5))
    )  # fmt: skip
    w_b /= w_b.sum(axis=1, keepdims=True)
    w_f = w_b + t["b2"]
    national_rates = RATES * np.exp(0.02 * rng.standard_normal((n, 4, 4)))
    psyk_rate = PSYK_RATE * np.exp(0.03 * rng.standard_normal(n))

    # shares per age group
    s_b0 = np.column_stack([np.einsum("ao,nao->na", AREA_MIX, national_rates), psyk_rate])
    s_f0 = s_b0 + t["b3"]
    m_bb = np.einsum("na,na->n", w_b, s_b0)
    lo = np.tile(np.array([SHARE_LO] * 4 + [PSYK_LO + 0.005]), (n, 1))
    hi = np.tile(np.array([SHARE_HI] * 4 + [PSYK_HI - 0.005]), (n, 1))
    d, a, b, c = choose_targets(t, w_b, w_f, m_bb, lo, hi)
    box_lo, box_hi = np.hstack([lo, lo]), np.hstack([hi, hi])
    prior = np.clip(np.hstack([s_f0, s_b0]), box_lo, box_hi)
    x, inside = solve_shares(w_b, w_f, m_bb, d, a, b, c, prior, box_lo, box_hi)
    # Where no plausible shares meet the targets, take the targets the nearest plausible
    # shares give, and solve again.
    h = 5
    off = (np.maximum(box_lo - x, 0) + np.maximum(x - box_hi, 0)).max(axis=1) + np.maximum(
        np.abs(x[:, :h] - x[:, h:]) - MAX_SHARE_CHANGE, 0
    ).max(axis=1)
    stuck = off > 1e-6
    sf, sb = inside[:, :h], inside[:, h:]
    m_bb_in = np.einsum("na,na->n", w_b, sb)
    m_ff_in = np.einsum("na,na->n", w_f, sf)
    ratio = m_ff_in / m_bb_in  # = 1 + d − a
    d_in = np.where(stuck, d, d)
    a_in = 1 + d_in - ratio
    b_in = (1 + d_in) * (1 - np.einsum("na,na->n", w_b, sf) / m_ff_in)
    c_in = (1 + d_in) * (1 - np.einsum("na,na->n", w_f, sb) / m_ff_in)
    a = np.where(stuck, a_in, a)
    b = np.where(stuck, b_in, b)
    c = np.where(stuck, c_in, c)
    m_bb = np.where(stuck, m_bb_in, m_bb)
    x, _ = solve_shares(
        w_b, w_f, m_bb, d, a, b, c, np.where(stuck[:, None], inside, prior), box_lo, box_hi
    )
    s_f, s_b = x[:, :5], x[:, 5:]

    # cells: budget mixes and rates, then the forecast's mixes (B4 margins) and rates
    u_b = mix_for(s_b[:, :4], national_rates)
    rates_b = fit_rates(u_b, national_rates, s_b[:, :4])
    v_f = np.einsum("na,nao->no", w_b[:, :4], u_b) + t["b4"][:, :4]
    u_f = forecast_mix(w_f[:, :4], v_f, s_f[:, :4], start=u_b)
    rates_f = fit_rates(u_f, rates_b, s_f[:, :4])

    # levels
    weight = ref["folketal"].to_numpy() * np.exp(0.15 * older)
    k_b = BUDGET_KR * weight / weight.sum()
    p_b = k_b / np.einsum("na,na->n", w_b, s_b)
    p_f = p_b * (1 + d) / (1 + d - a)
    prod_b, kmf_b = _cells(p_b, w_b, u_b, rates_b, s_b[:, 4])
    prod_f, kmf_f = _cells(p_f, w_f, u_f, rates_f, s_f[:, 4])
    report = _check(t, d, a, b, c, rates_b, rates_f, s_b, s_f, w_f, u_f, prod_f, kmf_f)

    # the four cuts
    f = rng.uniform(1.01, 1.05, n)
    mid_noise = np.exp(0.02 * rng.standard_normal(prod_b.shape))
    prod_mid = np.sqrt(prod_b * prod_f) * mid_noise
    kmf_mid = np.sqrt(kmf_b * kmf_f) * mid_noise
    end_noise = np.exp(0.01 * rng.standard_normal(prod_b.shape))
    scale = f * _total(kmf_mid) / _total(kmf_mid * end_noise)
    kmf_end = kmf_mid * end_noise * scale[:, None, None]
    prod_end = prod_mid * end_noise * scale[:, None, None]
    cuts = [
        (YEAR - 2, "endelig", YEAR, prod_b / GROWTH, kmf_b / GROWTH),
        (YEAR - 1, "foreloebig", YEAR - 1, prod_mid, kmf_mid),
        (YEAR - 1, "endelig", YEAR - 1, prod_end, kmf_end),
        (YEAR, "foreloebig", YEAR, prod_f / f[:, None, None], kmf_f / f[:, None, None]),
    ]
    aktivitet = pl.concat(
        [_long(kommuner, aar, opg, takst, p, k) for aar, opg, takst, p, k in cuts]
    ).sort("kommunekode", "aar", "opgoerelse", "aldersgruppe", "sundhedsomraade")
    budget = pl.DataFrame({"aar": [YEAR], "kmf_budget_kr": [BUDGET_KR]})
    return aktivitet, budget, report


def _cells(total, w, u, rates, s_psyk):
    """Production value and KMF: kommune × (4 age groups + psykiatri) × area slot."""
    n = len(total)
    psyk = np.zeros((n, 1, 4))
    psyk[:, 0, 0] = total * w[:, 4]
    prod = np.concatenate([(total[:, None] * w[:, :4])[:, :, None] * u, psyk], axis=1)
    psyk_share = np.zeros((n, 1, 4))
    psyk_share[:, 0, 0] = s_psyk
    return prod, prod * np.concatenate([rates, psyk_share], axis=1)


def _total(kmf: np.ndarray) -> np.ndarray:
    return kmf[:, :4, :].sum(axis=(1, 2)) + kmf[:, 4, 0]


def _long(kommuner, aar, opg, takst, prod, kmf) -> pl.DataFrame:
    rows = []
    for i, k in enumerate(kommuner):
        for ai, age in enumerate(AGES):
            for oi, area in enumerate(AREAS):
                rows.append((k, age, area, prod[i, ai, oi], kmf[i, ai, oi]))
        rows.append((k, "ej_aldersdiff", "psykiatri", prod[i, 4, 0], kmf[i, 4, 0]))
    frame = pl.DataFrame(
        rows,
        schema=["kommunekode", "aldersgruppe", "sundhedsomraade", "produktionsvaerdi", "kmf"],
        orient="row",
    )
    return frame.select(
        "kommunekode",
        pl.lit(aar).alias("aar"),
        pl.lit(opg).alias("opgoerelse"),
        pl.lit(takst).alias("takstaar"),
        "aldersgruppe",
        "sundhedsomraade",
        pl.col("produktionsvaerdi").round(2),
        pl.col("kmf").round(2),
    )


def _check(t, d, a, b, c, rates_b, rates_f, s_b, s_f, w_f, u_f, prod_f, kmf_f) -> dict[str, float]:
    """Fail loudly if the calibration left the plausible ranges; report what it gave up."""
    problems = []
    for name, r in (("budget", rates_b), ("prognose", rates_f)):
        if (r < RATE_LO - 1e-9).any() or (r > RATE_HI + 1e-9).any():
            problems.append(f"{name} rates {r.min():.3f}–{r.max():.3f}")
    psyk = np.concatenate([s_b[:, 4], s_f[:, 4]])
    if psyk.min() < PSYK_LO - 1e-6 or psyk.max() > PSYK_HI + 1e-6:
        problems.append(f"psykiatri shares {psyk.min():.3f}–{psyk.max():.3f}")
    if w_f.min() <= 0 or u_f.min() <= 0 or prod_f.min() < 0 or kmf_f.min() < 0:
        problems.append("negative mix or cell")
    share = np.einsum("nao,nao->na", u_f, rates_f)
    short = np.abs(share - s_f[:, :4]).max(axis=1) > 1e-6
    if problems:
        raise SystemExit("calibration out of range: " + "; ".join(problems))
    return {
        "B moved beyond rounding": int(np.sum(np.abs(b - t["b"]) > 0.005)),
        "C moved beyond rounding": int(np.sum(np.abs(c - t["c"]) > 0.005)),
        "largest move of ændring/A": float(max(np.abs(d - t["d"]).max(), np.abs(a - t["a"]).max())),
        "kommuner whose forecast shares fell short": int(short.sum()),
    }


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "kmf" / "data" / "sample"
    out.mkdir(parents=True, exist_ok=True)
    aktivitet, budget, report = build()
    aktivitet.write_csv(out / "aktivitet.csv", float_precision=2)
    budget.write_csv(out / "budget.csv", float_precision=0)
    print(f"calibration: {report}", file=sys.stderr)


if __name__ == "__main__":
    main()
