"""An independent, plain-Python reading of SPEC §4, used as the expected values in tests.

It shares no code with ``kmf``: dictionaries and loops, written straight from the formulas.
Rows are dicts with the SPEC §3 columns (``aldersgruppe`` already resolved).
"""

from __future__ import annotations

from collections import defaultdict

AGES = ["0-2", "3-64", "65-79", "80+", "ej_aldersdiff"]
AREAS = ["somatik", "psykiatri", "speciallaege", "almen_praksis", "oevrig_primaer"]


def _sum_cut(rows, aar, opg, takstaar):
    """(kommune, age, area) -> [P, K] for one cut."""
    out = defaultdict(lambda: [0.0, 0.0])
    for r in rows:
        if r["aar"] == aar and r["opgoerelse"] == opg and r.get("takstaar", r["aar"]) == takstaar:
            key = (r["kommunekode"], r["aldersgruppe"], r["sundhedsomraade"])
            out[key][0] += r["produktionsvaerdi"]
            out[key][1] += r["kmf"]
    return out


def _kommune_total(cut, k, index):
    return sum(v[index] for (kk, _, _), v in cut.items() if kk == k)


def cells(rows, T, budget):
    """Forecast and budget cells per kommune: {k: {(age, area): (Pf, Kf, Pb, Kb)}}.

    ``budget`` is a number (national) or a dict kommune -> K^b_k.
    """
    fore_t = _sum_cut(rows, T, "foreloebig", T)
    fore_1 = _sum_cut(rows, T - 1, "foreloebig", T - 1)
    end_1 = _sum_cut(rows, T - 1, "endelig", T - 1)
    base = _sum_cut(rows, T - 2, "endelig", T)
    kommuner = sorted({k for (k, _, _) in fore_t})
    k0 = {k: _kommune_total(base, k, 1) for k in kommuner}
    if isinstance(budget, dict):
        kb = dict(budget)
    else:
        kb = {k: budget * k0[k] / sum(k0.values()) for k in kommuner}
    out = {}
    for k in kommuner:
        f = _kommune_total(end_1, k, 1) / _kommune_total(fore_1, k, 1)
        g = kb[k] / k0[k]
        out[k] = {}
        for age in AGES:
            for area in AREAS:
                pf, kf = fore_t.get((k, age, area), (0.0, 0.0))
                pb, kbc = base.get((k, age, area), (0.0, 0.0))
                out[k][(age, area)] = (f * pf, f * kf, g * pb, g * kbc)
    return out


def _by_age(unit_cells):
    agg = {a: [0.0, 0.0, 0.0, 0.0] for a in AGES}
    for (age, _), vals in unit_cells.items():
        for i in range(4):
            agg[age][i] += vals[i]
    return agg


def _factors(unit_cells):
    agg = _by_age(unit_cells)
    pf = sum(v[0] for v in agg.values())
    pb = sum(v[2] for v in agg.values())
    w_f = {a: agg[a][0] / pf for a in AGES}
    w_b = {a: agg[a][2] / pb for a in AGES}
    s_f, s_b = {}, {}
    for a in AGES:
        own_f = agg[a][1] / agg[a][0] if agg[a][0] > 0 else None
        own_b = agg[a][3] / agg[a][2] if agg[a][2] > 0 else None
        s_f[a] = own_f if own_f is not None else (own_b if own_b is not None else 0.0)
        s_b[a] = own_b if own_b is not None else (own_f if own_f is not None else 0.0)
    return agg, pf, pb, w_f, w_b, s_f, s_b


def decompose(unit_cells):
    """The ministry's decomposition of one unit: dict with Kb, Kf, d, A, B, C, O (kr.)."""
    agg, pf, pb, w_f, w_b, s_f, s_b = _factors(unit_cells)
    kf = sum(v[1] for v in agg.values())
    kb = sum(v[3] for v in agg.values())
    a_eff = kf - pb * sum(w_f[a] * s_f[a] for a in AGES)
    b_eff = kf - pf * sum(w_b[a] * s_f[a] for a in AGES)
    c_eff = kf - pf * sum(w_f[a] * s_b[a] for a in AGES)
    d = kf - kb
    return {
        "Kb": kb,
        "Kf": kf,
        "d": d,
        "A": a_eff,
        "B": b_eff,
        "C": c_eff,
        "O": d - a_eff - b_eff - c_eff,
    }


def b2_b3_b4(unit_cells):
    """B2, B3 (None where undefined) and B4 of one unit, in pct.-point."""
    agg, pf, pb, w_f, w_b, _, _ = _factors(unit_cells)
    b2 = {a: 100 * (w_f[a] - w_b[a]) for a in AGES}
    b3 = {
        a: (
            100 * (agg[a][1] / agg[a][0] - agg[a][3] / agg[a][2])
            if agg[a][0] > 0 and agg[a][2] > 0
            else None
        )
        for a in AGES
    }
    b4 = {}
    for o in AREAS:
        pfo = sum(v[0] for (_, area), v in unit_cells.items() if area == o)
        pbo = sum(v[2] for (_, area), v in unit_cells.items() if area == o)
        b4[o] = 100 * (pfo / pf - pbo / pb)
    return b2, b3, b4


def summed(many):
    """The cells of a region or the country: the sum of its kommuner's cells."""
    out = defaultdict(lambda: (0.0, 0.0, 0.0, 0.0))
    for unit_cells in many:
        for key, vals in unit_cells.items():
            out[key] = tuple(x + y for x, y in zip(out[key], vals, strict=True))
    return dict(out)


# --- the exact methods of issue 4: K = Σ_c P · w_a · v_{o|a} · r_c ---------------------------


def cell_factors(unit_cells):
    """{cell: ((P, w, v, r) budget, (P, w, v, r) forecast)}; an undefined share takes the
    other side's value (0 if both are undefined)."""
    agg = _by_age(unit_cells)
    pf = sum(v[0] for v in agg.values())
    pb = sum(v[2] for v in agg.values())
    out = {}
    for (age, area), (p_f, k_f, p_b, k_b) in unit_cells.items():
        pa_f, pa_b = agg[age][0], agg[age][2]
        v_f = p_f / pa_f if pa_f > 0 else None
        v_b = p_b / pa_b if pa_b > 0 else None
        r_f = k_f / p_f if p_f > 0 else None
        r_b = k_b / p_b if p_b > 0 else None
        v_f, v_b = (
            (v_f if v_f is not None else (v_b or 0.0)),
            (v_b if v_b is not None else (v_f or 0.0)),
        )
        r_f, r_b = (
            (r_f if r_f is not None else (r_b or 0.0)),
            (r_b if r_b is not None else (r_f or 0.0)),
        )
        out[(age, area)] = ((pb, pa_b / pb, v_b, r_b), (pf, pa_f / pf, v_f, r_f))
    return out


def shapley(unit_cells):
    """Shapley effects (A, B, C1, C2): the mean over all 24 orders of moving the factors."""
    from itertools import permutations

    factors = cell_factors(unit_cells)

    def value(at_forecast):
        total = 0.0
        for base, fore in factors.values():
            product = 1.0
            for j in range(4):
                product *= fore[j] if j in at_forecast else base[j]
            total += product
        return total

    effects = [0.0] * 4
    orders = list(permutations(range(4)))
    for order in orders:
        moved = set()
        for j in order:
            before = value(moved)
            moved.add(j)
            effects[j] += (value(moved) - before) / len(orders)
    return effects


def lmdi(unit_cells):
    """LMDI-I effects (A, B, C1, C2), cell by cell with math.log."""
    import math

    effects = [0.0] * 4
    for base, fore in cell_factors(unit_cells).values():
        vb = math.prod(base)
        vf = math.prod(fore)
        if vb > 0 and vf > 0:
            # L(a, a) = a; also where a and b are so close that their logs are equal
            same = math.log(vf) == math.log(vb)
            weight = vf if same else (vf - vb) / (math.log(vf) - math.log(vb))
            for j in range(4):
                effects[j] += weight * math.log(fore[j] / base[j])
        elif vb != vf:
            zero_side = base if vb == 0 else fore
            zeros = [j for j in range(4) if zero_side[j] == 0]
            for j in zeros:
                effects[j] += (vf - vb) / len(zeros)
    return effects
