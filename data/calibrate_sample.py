"""Build the synthetic sample dataset for budget year 2018, calibrated to the published tables.

Real KMF settlement data is not public. This script makes a national dataset in the kmf input
format (all 98 kommuner, the four cuts a 2018 run uses, the 17 cells per kommune and the
national ØA18 budget) whose decomposition reproduces the ministry's published tables B1, B2
and B4 ("Udviklingen i den kommunale medfinansiering 2018", copied to ``tests/fixtures/``).

How:

1. Aims. Real unrounded values fall anywhere inside the published rounding, so no aim sits
   on a published value: each is the published value plus a seeded offset spread inside
   ±80 % of the rounding (±0.4 pct.-point for B1, ±0.04 for B2 and B4). B2 and B4 rows sum
   to zero and share psykiatri (= ej_aldersdiff): their offsets also take up the rows'
   rounding residual, each moved smoothly (tanh) so that none lands on the bound. B1's
   offsets lean to one side in a column whose budget-weighted mean would leave Hele
   landet more than 0.25 pct.-point from its published value (A matching the lean of B),
   and per kommune the four take up what they can of the mismatch between the rounded B1
   and the published B2 and B3 (the shares' conditions fix d − a − b − c given Σ B2·B3).
   With the mean KMF share free, the aldersgruppeeffekt fixes the ratio Σ B2·s / Σ w·s of
   the forecast age-group shares s and the sundhedsområdeeffekt that of the budget shares;
   each ratio has an interval it can reach with plausible shares (found by bisection on a
   linear programme). A search over d and a within the published rounding (±0.45
   pct.-point) and, where it is needed, over the kommune's age mix of consumption (up to
   ±20 % per group from its prior) brings as many kommuner as possible inside those
   intervals; B and C are then clipped into them. Where B or C still misses, the
   kommune's B2 and B4 offsets are drawn once more.
2. Shares per age group. The nearest point to a prior (national pattern; forecast = budget
   + B3) that meets the four linear conditions of step 1 inside the bounds, with a move of
   B3 away from its aim counted dearly (Dykstra's alternating projections). B3 is no
   target per kommune, but Hele landet's B3 (on the summed cells, as kmf computes it) is
   aimed at the published row plus an offset inside ±0.04: every kommune's B3 aim moves
   alike by what is still missing (less what the kommuner's C holds fixed), five solves.
3. Cells. The within-age area mixes of both sides, nearest a mix that suits the share
   (practice-heavy – national – somatik-heavy), are fitted jointly so that the area margins
   move by B4 and plausible rates can give each age group its share (Dykstra again, over
   half-spaces); the rates are then fitted inside their ranges. Every cell's KMF share of
   the takst stays within: somatik 20.2–55.8 %, speciallæge/almen praksis/øvrig primær
   7.15–17.85 %, psykiatri 30.2–59.8 %. Hele landet's B4 (summed cells) also depends on how
   the kommuner's area mixes go with their growth; the mixes' priors lean with growth until
   it lands near the published row plus an offset inside ±0.04 (four fits).
4. Levels. Kommune budgets are proportional to population (approximate 2018 figures in
   ``kmf/data/folketal_2018.csv``) with an age factor, summing to the ØA18 level; the
   production value follows from the shares and from the activity effect.
5. The cuts. 2016 endelig at 2018 takster is the budget side over a common growth factor;
   2018 foreløbig is the forecast over the kommune's efterregistrering factor f, which the
   2017 foreløbig and endelig cuts carry.

Deterministic: the same inputs give byte-identical files. From the repository root:

    python data/calibrate_sample.py [OUT_FOLDER]     # default: kmf/data/sample (about 8 s)
"""

from __future__ import annotations

import sys
from functools import cache
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
RATE_LO = np.array([0.202, 0.0715, 0.0715, 0.0715])
RATE_HI = np.array([0.558, 0.1785, 0.1785, 0.1785])
PSYK_LO, PSYK_HI = 0.302, 0.598
# Age-group shares the solver may use (reachable by the mixes and rates above, with room).
SHARE_LO, SHARE_HI = 0.08, 0.54
ROUNDING = 0.0045  # how far d and a may move to help B and C: inside the rounding of 0.5
B1_HALF = 0.005  # B1 is published in whole percent: ±0.5 pct.-point (as a fraction)
TABLE_HALF = 0.05  # B2–B4 are published with one decimal: ±0.05 pct.-point
SPREAD = 0.8  # aims: the published values plus offsets inside this part of the half-width
INSIDE = 0.0005  # how far inside the reachable interval B and C are placed (as a ratio)
HIT = 0.0049  # B and C count as met within this of the published value
AGE_MIX_ROOM = 0.2  # a kommune's age mix may move this much (log scale) from its prior
AGE_MIX_TRIES = 200
NATIONAL_ROOM = 0.0025  # B1's national row is aimed within this of its published value
REDRAWS = 1  # new draws of B2 and B4 offsets where B or C misses
B3_GAIN = 2.0  # a move of every kommune's B3 moves the national one by about half as much
B3_ROUNDS = 5  # solves of the shares, each moving the kommuner's B3 towards the national aim
B4_ROUNDS = 4  # fits of the area mixes, each leaning them towards Hele landet's B4 aim
B4_GAIN = 1.5  # a lean moves Hele landet's B4 by about two thirds of what it aims at
MAX_TILT = 0.8  # how far the offsets of a B1 column may lean to one side for the national row
CONSISTENT = 0.75  # how far (of the bound, on average) B1's offsets go to make it fit B3
B3_SCALE = 0.01  # how dearly a move of B3 away from its aim counts, vs. a share's


@cache
def fixture(n: int) -> pl.DataFrame:
    """Published table B<n>, all rows (Hele landet first)."""
    return pl.read_csv(
        FIXTURES / f"rapport2018_tabel_b{n}.csv", schema_overrides={"kode": pl.String}
    )


def published(n: int, kommuner: list[int]) -> pl.DataFrame:
    """The kommune rows of table B<n>, in the order of ``kommuner``."""
    frame = fixture(n).filter(pl.col("kode") != "DK").with_columns(pl.col("kode").cast(pl.Int64))
    return pl.DataFrame({"kode": kommuner}).join(frame, on="kode", how="left")


def targets(kommuner: list[int], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Targets per kommune from the published (rounded) tables, as fractions.

    B1 (``d``, ``a``, ``b``, ``c``) and B3 are the published values (B1's aims come from
    ``aims``). B2 and B4 are aims: each published value plus an offset spread inside
    ±SPREAD of its rounding, such that each row sums to zero and B2's ej_aldersdiff equals
    B4's psykiatri (the rows of the rounded tables do not sum to zero; the offsets take up
    that residual too).
    """
    b1 = published(1, kommuner)
    cols = ("aendring_pct", "aktivitetseffekt_pct", "aldersgruppeeffekt_pct",
            "sundhedsomraadeeffekt_pct")  # fmt: skip
    d, a, b, c = (b1[col].to_numpy().astype(float) / 100 for col in cols)
    b2_published = published(2, kommuner).select([*AGES, "ej_aldersdiff"]).to_numpy()
    b4_published = published(4, kommuner).select([*AREAS, "psykiatri"]).to_numpy()
    b2, b4 = table_aims(b2_published.astype(float), b4_published.astype(float), rng)
    b3 = published(3, kommuner).select([*AGES, "ej_aldersdiff"]).to_numpy().astype(float)
    land = fixture(1).filter(pl.col("kode") == "DK")
    national = {key: land[col].item() / 100 for key, col in zip("dabc", cols, strict=True)}
    land_b3 = fixture(3).filter(pl.col("kode") == "DK").select([*AGES, "ej_aldersdiff"])
    bound = SPREAD * TABLE_HALF
    national_b3 = land_b3.to_numpy()[0].astype(float) + rng.uniform(-bound, bound, 5)
    return {"d": d, "a": a, "b": b, "c": c, "b2": b2, "b3": b3 / 100, "b4": b4,
            "national": national, "national_b3": national_b3 / 100}  # fmt: skip


def table_aims(b2: np.ndarray, b4: np.ndarray, rng: np.random.Generator):
    """B2 and B4 aims (fractions) from the published values (pct.-point): offsets spread
    inside ±SPREAD of the rounding, each row summing to zero, psykiatri shared."""
    bound = SPREAD * TABLE_HALF
    r2, r4 = b2.sum(axis=1), b4.sum(axis=1)
    # the shared offset of psykiatri leaves each table's other four a sum they can reach
    low = np.maximum.reduce([np.full(len(r2), -bound), -r2 - 4 * bound, -r4 - 4 * bound])
    high = np.minimum.reduce([np.full(len(r2), bound), -r2 + 4 * bound, -r4 + 4 * bound])
    psyk = low + rng.uniform(0, 1, len(r2)) * (high - low)
    out = []
    for table, residual in ((b2, r2), (b4, r4)):
        start = rng.uniform(-bound, bound, (len(r2), 4))
        aim = table.copy()
        aim[:, :4] += offsets_summing_to(start, -residual - psyk, bound)
        aim[:, 4] += psyk
        out.append(aim / 100)
    return out[0], out[1]


def offsets_summing_to(start: np.ndarray, total: np.ndarray, bound: float) -> np.ndarray:
    """Offsets near ``start`` (n, k), inside ±bound, whose rows sum to ``total``: each moved
    as bound·tanh(artanh(start / bound) + κ), one κ per row (by bisection), so that they
    stay spread and none lands on the bound. ``total`` must lie inside ±k·bound."""
    z = np.arctanh(np.clip(start / bound, -1 + 1e-9, 1 - 1e-9))
    below, above = np.full(len(start), -30.0), np.full(len(start), 30.0)
    for _ in range(100):
        mid = (below + above) / 2
        over = bound * np.tanh(z + mid[:, None]).sum(axis=1) > total
        below, above = np.where(over, below, mid), np.where(over, mid, above)
    out = bound * np.tanh(z + ((below + above) / 2)[:, None])
    return out + (total - out.sum(axis=1))[:, None] / start.shape[1]  # the last ulps


# --- numerical helpers ------------------------------------------------------------------


def ratio_range(
    num: np.ndarray, den: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest Σ num·s / Σ den·s over lo <= s <= hi (den, lo > 0), per kommune.

    The largest ratio is at least λ exactly when max Σ (num − λ·den)·s >= 0, and that
    maximum takes each s at a bound by the sign of its coefficient: bisection on λ.
    """
    out = []
    for sign in (1.0, -1.0):
        below, above = np.full(len(num), -1.0), np.full(len(num), 1.0)
        for _ in range(60):
            mid = (below + above) / 2
            coef = sign * num - mid[:, None] * den
            reached = np.where(coef > 0, coef * hi, coef * lo).sum(axis=1) >= 0
            below, above = np.where(reached, mid, below), np.where(reached, above, mid)
        out.append(sign * below)
    return out[1], out[0]


def affine_projection(matrix: np.ndarray, rhs: np.ndarray):
    """Orthogonal projection onto {x: matrix @ x = rhs}, per kommune (matrix (n, k, m))."""
    inverse = np.linalg.inv(np.einsum("nkm,njm->nkj", matrix, matrix))

    def project(x: np.ndarray) -> np.ndarray:
        gap = np.einsum("nkm,nm->nk", matrix, x) - rhs
        return x - np.einsum("nkm,nk->nm", matrix, np.einsum("nkj,nj->nk", inverse, gap))

    return project


def dykstra(x: np.ndarray, projections, sweeps: int) -> np.ndarray:
    """Dykstra's alternating projections from ``x`` onto the intersection of the sets
    (closed, convex) that ``projections`` project onto: the nearest point in it."""
    increments = [np.zeros_like(x) for _ in projections]
    for _ in range(sweeps):
        for j, project in enumerate(projections):
            new = project(x + increments[j])
            increments[j] = x + increments[j] - new
            x = new
    return x


def nearest_feasible(
    prior: np.ndarray,
    scale: np.ndarray,
    matrix: np.ndarray,
    rhs: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    sweeps: int = 20000,
) -> np.ndarray:
    """The point nearest ``prior`` (each coordinate measured in units of ``scale``) with
    ``matrix @ x = rhs`` and ``lo <= x <= hi``: Dykstra's alternating projections,
    vectorised over kommuner.

    prior, scale, lo, hi (n, m); matrix (n, k, m); rhs (n, k). The last step projects onto
    the equalities, so they hold exactly; the bounds then hold up to the convergence error.
    """
    # in y = x / scale the distance is Euclidean
    affine = affine_projection(matrix * scale[:, None, :], rhs)

    def box(y: np.ndarray) -> np.ndarray:
        return np.clip(y, lo / scale, hi / scale)

    return scale * affine(dykstra(box(prior / scale), (affine, box), sweeps))


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


def fit_mixes(w_b, w_f, b4, s_b, s_f, prior_b, prior_f, sweeps: int = 4000):
    """Within-age area mixes for both sides, nearest the priors, such that the area margins
    move by exactly B4 and plausible rates can give each age group its share:
    u·RATE_LO < s < u·RATE_HI, every area at least MIX_FLOOR. Dykstra's alternating
    projections over the equalities, the two sets of half-spaces and the box."""
    n = len(s_b)
    prior = np.hstack([prior_b.reshape(n, 16), prior_f.reshape(n, 16)])
    rows = []
    for side in range(2):
        for age in range(4):
            row = np.zeros((n, 32))
            row[:, side * 16 + age * 4 : side * 16 + age * 4 + 4] = 1.0
            rows.append(row)
    for area in range(3):  # the fourth margin follows from the others
        row = np.zeros((n, 32))
        row[:, [age * 4 + area for age in range(4)]] = -w_b[:, :4]
        row[:, [16 + age * 4 + area for age in range(4)]] = w_f[:, :4]
        rows.append(row)
    matrix = np.stack(rows, axis=1)
    rhs = np.hstack([np.ones((n, 8)), b4[:, :3]])
    affine = affine_projection(matrix, rhs)
    shares = np.stack([s_b[:, :4], s_f[:, :4]], axis=1)[:, :, :, None]  # (n, side, age, 1)
    margin = 2e-4

    def halfspace(bound, sign):
        def project(x):
            u = x.reshape(n, 2, 4, 4)
            excess = sign * ((u * bound).sum(axis=3, keepdims=True) - shares) + margin
            return (u - sign * np.maximum(excess, 0) * bound / (bound @ bound)).reshape(n, 32)

        return project

    def box(x):
        return np.clip(x, MIX_FLOOR, 1.0)

    projections = (affine, halfspace(RATE_LO, 1.0), halfspace(RATE_HI, -1.0), box)
    x = affine(dykstra(prior.copy(), projections, sweeps)).reshape(n, 2, 4, 4)
    return x[:, 0], x[:, 1]


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


def aims(t, k_b, tie, rng):
    """Where each kommune's d, a, b and c should land inside its published rounding: the
    published value plus an offset spread inside ±SPREAD of the rounding.

    Three steps, each keeping the offsets spread and inside the bound:

    1. Uniform draws u in (−1, 1), one per kommune and column.
    2. Hele landet: where the budget-weighted mean would leave the national row more than
       NATIONAL_ROOM from its published value, that column's draws lean to one side,
       (1 − |τ|)·u + τ. A lean of ændring, B or C is matched in A, so that the national
       d − a − b − c, and with it B3 (step 3), is kept.
    3. Each kommune: with shares that keep the published B3, the four conditions of
       ``solve_shares`` give d − a − b − c = −a(b + c)/(1 + d) − Σ B2·B3 / m (``tie`` is
       the last term). The rounded tables miss this by up to a few points; the four offsets
       take up as much of the miss as they can (at most CONSISTENT of the bound each, on
       average), each moved as bound·tanh(artanh(u) ± κ) with one κ per kommune.
    """
    bound = SPREAD * B1_HALF
    u = rng.uniform(-1.0, 1.0, (len(k_b), 4))
    gap = np.array([t["national"][key] - np.average(t[key], weights=k_b) for key in "dabc"])
    mean_u = np.average(u, axis=0, weights=k_b)
    # the weighted mean of the offsets must lie in gap ± NATIONAL_ROOM
    wanted = np.clip(bound * mean_u, gap - NATIONAL_ROOM, gap + NATIONAL_ROOM)
    # A takes up what the others moved from their draws' mean: d − a − b − c as drawn
    moved = wanted - bound * mean_u
    wanted[1] = np.clip(wanted[1] + moved[0] - moved[1] - moved[2] - moved[3],
                        gap[1] - NATIONAL_ROOM, gap[1] + NATIONAL_ROOM)  # fmt: skip
    want = wanted / bound
    tilt = (want - mean_u) / np.where(want > mean_u, 1 - mean_u, 1 + mean_u)
    tilt = np.clip(tilt, -MAX_TILT, MAX_TILT)
    u = np.clip((1 - np.abs(tilt)) * u + tilt, -1 + 1e-9, 1 - 1e-9)

    sign = np.array([1.0, -1.0, -1.0, -1.0])
    d, a, b, c = (t[key] + bound * u[:, j] for j, key in enumerate("dabc"))
    published = t["d"] - t["a"] - t["b"] - t["c"]
    miss = -a * (b + c) / (1 + d) - tie - published
    miss = np.clip(miss, -4 * CONSISTENT * bound, 4 * CONSISTENT * bound)
    z = np.arctanh(u)
    low, high = np.full(len(k_b), -20.0), np.full(len(k_b), 20.0)
    for _ in range(80):
        kappa = (low + high) / 2
        over = bound * (sign * np.tanh(z + sign * kappa[:, None])).sum(axis=1) > miss
        low, high = np.where(over, low, kappa), np.where(over, kappa, high)
    offsets = bound * np.tanh(z + sign * ((low + high) / 2)[:, None])
    return {key: t[key] + offsets[:, j] for j, key in enumerate("dabc")}


def choose_targets(t, aim, w_prior, lo, hi, rng):
    """The budget age mix w_b and d, a, b, c per kommune: as many of B and C within the
    published rounding as plausible shares allow, then as close as possible, using the
    rounding of d and a and, where needed, an age mix up to AGE_MIX_ROOM from the prior.
    ``aim`` holds the values aimed at (see ``aims``), ``t`` the published ones.

    With the mean share free, B only fixes the ratio Σ B2·s_f / Σ w_f·s_f of the forecast
    shares (= b / (1 + d)) and C the ratio γ = Σ B2·s_b / Σ w_b·s_b of the budget shares
    (1 + γ = (1 + d − a)(1 + d − c) / (1 + d)); each ratio has a reachable interval.
    """
    b2 = t["b2"]
    moves = rng.uniform(-AGE_MIX_ROOM, AGE_MIX_ROOM, (AGE_MIX_TRIES, 5))
    moves = np.vstack([np.zeros(5), moves[np.argsort(np.abs(moves).max(axis=1))]])
    # the aim itself, or (for B and C's sake) a grid over the rounding that misses its
    # middle, its width a little different per kommune so that no two share an end
    steps = np.linspace(-ROUNDING, ROUNDING, 8) * rng.uniform(0.9, 1.0, (len(w_prior), 1))
    grid = [t["d"] + step for step in steps.T]
    a_options = [aim["a"], *(t["a"] + step for step in steps.T)]
    best = None
    for move in moves:
        w_b = w_prior * np.exp(move)
        w_b /= w_b.sum(axis=1, keepdims=True)
        # stay a little inside, so that the shares are found without sitting on a corner
        f_lo, f_hi = ratio_range(b2, w_b + b2, lo, hi)
        g_lo, g_hi = ratio_range(b2, w_b, lo, hi)
        f_lo, f_hi, g_lo, g_hi = f_lo + INSIDE, f_hi - INSIDE, g_lo + INSIDE, g_hi - INSIDE
        for a in a_options:
            for d in [aim["d"], *grid]:
                b = np.clip(aim["b"], (1 + d) * f_lo, (1 + d) * f_hi)
                # c falls as γ rises: 1 + γ = (1 + d − a)(1 + d − c) / (1 + d)
                c_lo = (1 + d) * (1 - (1 + g_hi) / (1 + d - a))
                c_hi = (1 + d) * (1 - (1 + g_lo) / (1 + d - a))
                c = np.clip(aim["c"], c_lo, c_hi)
                off = np.abs(b - aim["b"]) + np.abs(c - aim["c"])
                off += 0.01 * (np.abs(d - aim["d"]) + np.abs(a - aim["a"]))
                outside = (np.abs(b - t["b"]) > HIT) * 1.0 + (np.abs(c - t["c"]) > HIT)
                score = outside + np.minimum(off, 0.5)
                candidate = (score, w_b, d, a, b, c)
                if best is None:
                    best = candidate
                    continue
                better = score < best[0] - 1e-12  # ties keep the smaller move
                best = tuple(
                    np.where(better.reshape(-1, *[1] * (new.ndim - 1)), new, old)
                    for new, old in zip(candidate, best, strict=True)
                )
    return best[1:]


def redraw_where_missed(t, kommuner, aim, chosen, w_prior, lo, hi, rng, spread):
    """Where B or C misses its rounding, the kommune's draw of B2 offsets may be to blame
    (B2 sets the interval B and C can reach): draw them anew there and keep the new draw
    (in ``t``) and choice where fewer are missed."""
    missed = missing_b1(t, chosen)
    b2 = published(2, kommuner).select([*AGES, "ej_aldersdiff"]).to_numpy().astype(float)
    b4 = published(4, kommuner).select([*AREAS, "psykiatri"]).to_numpy().astype(float)
    b2, b4 = table_aims(b2, b4, spread)
    trial = dict(t, b2=np.where(missed[:, None], b2, t["b2"]),
                 b4=np.where(missed[:, None], b4, t["b4"]))  # fmt: skip
    again = choose_targets(trial, aim, w_prior, lo, hi, rng)
    better = missing_b1(t, again) < missed
    t["b2"] = np.where(better[:, None], trial["b2"], t["b2"])
    t["b4"] = np.where(better[:, None], trial["b4"], t["b4"])
    return tuple(
        np.where(better.reshape(-1, *[1] * (new.ndim - 1)), new, old)
        for new, old in zip(again, chosen, strict=True)
    )


def missing_b1(t, chosen) -> np.ndarray:
    """How many of B and C each kommune misses the published rounding by (0, 1 or 2)."""
    _, _, _, b, c = chosen
    return (np.abs(b - t["b"]) > HIT).astype(int) + (np.abs(c - t["c"]) > HIT)


def solve_shares(w_b, w_f, b3, d, a, b, c, prior, lo, hi):
    """Age-group shares (s_f, s_b), nearest ``prior``, that give exactly d, a, b and c.

    Unknowns: s_f, s_b, the budget mean share m and the change δ = s_f − s_b − B3 (how far
    B3 moves from the published one, kept small by a tight scale):
    Σ w_b s_b = m,  Σ w_f s_f = (1+d−a) m,  Σ w_b s_f = (1+d−a)(1+d−b)/(1+d) m,
    Σ w_f s_b = (1+d−a)(1+d−c)/(1+d) m."""
    n = len(d)
    zero, one = np.zeros((n, 5)), np.ones(n)
    ratio = 1 + d - a
    column = lambda v: -v[:, None]  # noqa: E731
    rows = [
        np.hstack([zero, w_b, column(one), zero]),
        np.hstack([w_f, zero, column(ratio), zero]),
        np.hstack([w_b, zero, column(ratio * (1 + d - b) / (1 + d)), zero]),
        np.hstack([zero, w_f, column(ratio * (1 + d - c) / (1 + d)), zero]),
    ]
    for age in range(5):  # δ − s_f + s_b = −B3
        row = np.zeros((n, 16))
        row[:, [age, 5 + age, 11 + age]] = [-1.0, 1.0, 1.0]
        rows.append(row)
    matrix = np.stack(rows, axis=1)
    rhs = np.hstack([np.zeros((n, 4)), -b3])
    full_prior = np.hstack([prior, np.zeros((n, 5))])
    scale = np.hstack([prior, np.full((n, 5), B3_SCALE)])
    box_lo = np.hstack([lo, np.full((n, 5), -1.0)])
    box_hi = np.hstack([hi, np.full((n, 5), 1.0)])
    x = nearest_feasible(full_prior, scale, matrix, rhs, box_lo, box_hi)
    return x[:, :5], x[:, 5:10], x[:, 10]


def build() -> tuple[pl.DataFrame, pl.DataFrame, dict[str, float]]:
    rng = np.random.default_rng(SEED)
    spread = np.random.default_rng([SEED, 1])  # the offsets of the aims, a stream of their own
    ref = pl.read_csv(ROOT / "kmf" / "data" / "kommuner.csv").sort("kommunekode")
    ref = ref.join(pl.read_csv(ROOT / "kmf" / "data" / "folketal_2018.csv"), on="kommunekode")
    kommuner = ref["kommunekode"].to_list()
    n = len(kommuner)
    t = targets(kommuner, spread)

    # budget age mix: older populations in smaller kommuner; forecast = budget + B2
    size = np.log(ref["folketal"].to_numpy().astype(float))
    older = -0.6 * (size - size.mean()) / size.std() + 0.6 * rng.standard_normal(n)
    w_b = AGE_MIX * np.exp(
        np.column_stack([-0.10 * older, -0.05 * older, 0.12 * older, 0.18 * older,
                         0.10 * rng.standard_normal(n)])
        + 0.04 * rng.standard_normal((n, 5))
    )  # fmt: skip
    w_b /= w_b.sum(axis=1, keepdims=True)
    national_rates = RATES * np.exp(0.02 * rng.standard_normal((n, 4, 4)))
    psyk_rate = PSYK_RATE * np.exp(0.03 * rng.standard_normal(n))

    # shares per age group
    s_b0 = np.column_stack([np.einsum("ao,nao->na", AREA_MIX, national_rates), psyk_rate])
    lo = np.tile(np.array([SHARE_LO] * 4 + [PSYK_LO + 0.005]), (n, 1))
    hi = np.tile(np.array([SHARE_HI] * 4 + [PSYK_HI - 0.005]), (n, 1))
    weight = ref["folketal"].to_numpy() * np.exp(0.15 * older)
    k_b = BUDGET_KR * weight / weight.sum()
    # Σ B2·B3 / m that the published B3 gives, at the prior's shares
    tie = np.einsum("na,na->n", t["b2"], t["b3"]) / np.einsum("na,na->n", w_b, s_b0)
    aim = aims(t, k_b, tie, spread)
    chosen = choose_targets(t, aim, w_b, lo, hi, rng)
    for _ in range(REDRAWS):
        chosen = redraw_where_missed(t, kommuner, aim, chosen, w_b, lo, hi, rng, spread)
    w_b, d, a, b, c = chosen
    w_f = w_b + t["b2"]
    m0 = np.einsum("na,na->n", w_b, s_b0)[:, None]
    box_lo = np.hstack([lo, lo, np.full((n, 1), SHARE_LO)])
    box_hi = np.hstack([hi, hi, np.full((n, 1), SHARE_HI)])
    # B3 is no target per kommune, but Hele landet's B3 (on the summed cells) should land
    # near its aim: move every kommune's B3 alike by what is still missing, and solve again
    b3_shift = np.zeros(5)
    national_w = np.average(w_f, axis=0, weights=k_b)
    for _ in range(B3_ROUNDS):
        b3 = t["b3"] + b3_shift
        prior = np.clip(np.hstack([s_b0 + b3, s_b0, m0]), box_lo, box_hi)
        s_f, s_b, _ = solve_shares(w_b, w_f, b3, d, a, b, c, prior, box_lo, box_hi)
        missing = t["national_b3"] - national_b3(k_b, w_b, w_f, s_b, s_f, d, a)
        # what the kommuner's C holds fixed (Σ w_f·B3) cannot move: only the rest of it
        b3_shift += B3_GAIN * (missing - national_w @ missing)

    # cells: budget mixes and rates, then the forecast's mixes (B4 margins) and rates
    land_b4 = fixture(4).filter(pl.col("kode") == "DK").select(AREAS).to_numpy()[0]
    aim_b4 = (land_b4 + spread.uniform(-1, 1, 4) * SPREAD * TABLE_HALF) / 100
    u_b, u_f = national_mixes(aim_b4, t["b4"], k_b, w_b, w_f, s_b, s_f, d, a, national_rates)
    rates_b = fit_rates(u_b, national_rates, s_b[:, :4])
    rates_f = fit_rates(u_f, rates_b, s_f[:, :4])

    # levels
    p_b = k_b / np.einsum("na,na->n", w_b, s_b)
    p_f = p_b * (1 + d) / (1 + d - a)
    prod_b, kmf_b = _cells(p_b, w_b, u_b, rates_b, s_b[:, 4])
    prod_f, kmf_f = _cells(p_f, w_f, u_f, rates_f, s_f[:, 4])
    report = _check(t, d, a, b, c, rates_b, rates_f, s_b, s_f, w_f, u_f, prod_f, kmf_f)
    miss_b3 = national_b3(k_b, w_b, w_f, s_b, s_f, d, a) - t["national_b3"]
    report["largest miss of Hele landet's B3 aim (pct.-point)"] = float(np.abs(miss_b3).max() * 100)
    pi_b, pi_f = prod_b.sum(axis=(1, 2)), prod_f.sum(axis=(1, 2))
    v_b = prod_b[:, :4].sum(axis=1) / pi_b[:, None]
    v_f = prod_f[:, :4].sum(axis=1) / pi_f[:, None]
    miss_b4 = (pi_f @ v_f / pi_f.sum() - pi_b @ v_b / pi_b.sum()) - aim_b4
    report["largest miss of Hele landet's B4 aim (pct.-point)"] = float(np.abs(miss_b4).max() * 100)

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


def national_mixes(aim, b4, k_b, w_b, w_f, s_b, s_f, d, a, rates):
    """``fit_mixes`` with Hele landet's B4 (on the summed cells) near ``aim`` (the four areas
    besides psykiatri, which follows B2).

    Hele landet's B4 is the kommuner's, weighted, plus a term from how the kommuner grow:
    Σ (π_f − π_b)·v_b over their shares π of the national production and their area mix v_b.
    Moving every kommune's prior mix (both sides alike, so its B4 stays) by λ·r, with r its
    growth relative to the nation's, moves that term by λ·Σ (π_f − π_b)·r·(1 − w_psyk).
    """
    p_b = k_b / np.einsum("na,na->n", w_b, s_b)
    p_f = p_b * (1 + d) / (1 + d - a)
    pi_b, pi_f = p_b / p_b.sum(), p_f / p_f.sum()
    growth = pi_f / pi_b - 1
    effect = ((pi_f - pi_b) * growth * (1 - w_b[:, 4])).sum()
    prior_b, prior_f = mix_for(s_b[:, :4], rates), mix_for(s_f[:, :4], rates)
    lean = np.zeros(4)
    for _ in range(B4_ROUNDS):
        move = (growth[:, None] * lean)[:, None, :]
        u_b, u_f = fit_mixes(w_b, w_f, b4, s_b, s_f, prior_b + move, prior_f + move)
        v_b = np.einsum("na,nao->no", w_b[:, :4], u_b)
        v_f = np.einsum("na,nao->no", w_f[:, :4], u_f)
        land = pi_f @ v_f - pi_b @ v_b
        lean += B4_GAIN * (aim - land) / effect
    return u_b, u_f


def national_b3(k_b, w_b, w_f, s_b, s_f, d, a) -> np.ndarray:
    """Hele landet's B3 as kmf computes it: the shares of the summed cells per age group."""
    p_b = (k_b / np.einsum("na,na->n", w_b, s_b))[:, None] * w_b
    p_f = p_b.sum(axis=1, keepdims=True) * ((1 + d) / (1 + d - a))[:, None] * w_f
    return (p_f * s_f).sum(axis=0) / p_f.sum(axis=0) - (p_b * s_b).sum(axis=0) / p_b.sum(axis=0)


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
    """The cells as rows: per kommune the 16 age × area cells, then psykiatri."""
    n = len(kommuner)

    def flat(cells: np.ndarray) -> np.ndarray:
        return np.concatenate([cells[:, :4, :].reshape(n, 16), cells[:, 4, :1]], axis=1).ravel()

    frame = pl.DataFrame(
        {
            "kommunekode": np.repeat(np.asarray(kommuner, dtype=np.int64), 17),
            "aldersgruppe": np.tile([*np.repeat(AGES, 4), "ej_aldersdiff"], n),
            "sundhedsomraade": np.tile([*AREAS * 4, "psykiatri"], n),
            "produktionsvaerdi": flat(prod),
            "kmf": flat(kmf),
        }
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
