"""An independent, plain-Python reading of SPEC §7 (forecast dates, the track, its accuracy,
the history) and of SPEC §8's numbers (contributions per age group, the comparison group,
the rank), used as the expected values in tests.

It shares no code with ``kmf``: dictionaries and loops, written from the SPEC's text, on top
of the §4 reading in ``tests/oracle.py``. Rows are dicts with the SPEC §3 columns
(``aldersgruppe`` resolved, ``takstaar`` present) and ``opgoerelsesdato`` a
``datetime.date`` or None.
"""

from __future__ import annotations

import csv
import math
import statistics
from datetime import date
from pathlib import Path

from tests import oracle

KOMMUNER_CSV = Path(__file__).resolve().parents[1] / "kmf" / "data" / "kommuner.csv"


def kommuner_table() -> dict[int, tuple[str, int, str]]:
    """kommunekode -> (navn, regionskode, regionsnavn), read with the csv module."""
    with KOMMUNER_CSV.open(encoding="utf-8") as f:
        return {
            int(r["kommunekode"]): (r["kommune"], int(r["regionskode"]), r["region"])
            for r in csv.DictReader(f)
        }


# --- choosing the cuts -----------------------------------------------------------------------


def _dates(rows, aar, opg, takstaar):
    return {
        r["opgoerelsesdato"]
        for r in rows
        if r["aar"] == aar and r["opgoerelse"] == opg and r["takstaar"] == takstaar
    }


def year_before(d: date) -> date:
    """The same calendar day one year earlier; 29 February → 28 February."""
    if d.month == 2 and d.day == 29:
        return date(d.year - 1, 2, 28)
    return date(d.year - 1, d.month, d.day)


def choose(rows, T, d):
    """The four cuts (aar, opgoerelse, takstaar, dato) a forecast for T made on d reads,
    or None where one is missing (no basis)."""
    fore_t = (T, "foreloebig", T)
    fore_1 = (T - 1, "foreloebig", T - 1)
    end_1 = (T - 1, "endelig", T - 1)
    base = (T - 2, "endelig", T)
    if d not in _dates(rows, *fore_t):
        return None
    if d is None:
        # an undated d pairs with undated cuts only
        picks = [None if None in _dates(rows, *c) else "missing" for c in (fore_1, end_1, base)]
    else:
        partner = year_before(d)
        picks = [partner if partner in _dates(rows, *fore_1) else "missing"]
        for c in (end_1, base):
            seen = [x for x in _dates(rows, *c) if x is not None and x <= d]
            picks.append(max(seen) if seen else "missing")
    if "missing" in picks:
        return None
    return [(*fore_t, d), (*fore_1, picks[0]), (*end_1, picks[1]), (*base, picks[2])]


def forecast_dates(rows, T):
    """Every date of a T foreløbig cut (takstaar T), in order; None (undated) sorts first."""
    ds = _dates(rows, T, "foreloebig", T)
    return sorted(ds, key=lambda x: (x is not None, x or date.min))


def dates_with_basis(rows, T):
    return [d for d in forecast_dates(rows, T) if choose(rows, T, d) is not None]


def default_date(rows, T):
    """The latest T foreløbig date with a basis (the "NO" string where there is none)."""
    ds = dates_with_basis(rows, T)
    return ds[-1] if ds else "NO"


def rows_of(rows, cuts):
    keys = set(cuts)
    return [
        r for r in rows if (r["aar"], r["opgoerelse"], r["takstaar"], r["opgoerelsesdato"]) in keys
    ]


def cells_at(rows, T, d, budget):
    """§4 on the four cuts of (T, d): {k: {(age, area): (Pf, Kf, Pb, Kb)}}."""
    cuts = choose(rows, T, d)
    assert cuts is not None, (T, d)
    return oracle.cells(rows_of(rows, cuts), T, budget)


# --- B1 --------------------------------------------------------------------------------------


def b1(cells, table=None):
    """{(niveau, kode): dict of the B1 numbers} for the kommuner, their regions and land."""
    table = table or kommuner_table()
    units = {("kommune", str(k)): [k] for k in cells}
    for k in cells:
        units.setdefault(("region", str(table[k][1])), []).append(k)
    units[("land", "DK")] = list(cells)
    out = {}
    for key, members in units.items():
        parts = [oracle.decompose(cells[k]) for k in members]
        total = {x: sum(p[x] for p in parts) for x in ("Kb", "Kf", "d", "A", "B", "C", "O")}
        row = {
            "kmf_budget_kr": total["Kb"],
            "kmf_prognose_kr": total["Kf"],
            "aendring_kr": total["d"],
            "aktivitetseffekt_kr": total["A"],
            "aldersgruppeeffekt_kr": total["B"],
            "sundhedsomraadeeffekt_kr": total["C"],
            "oevrige_kr": total["O"],
        }
        for name in ("aendring", "aktivitetseffekt", "aldersgruppeeffekt"):
            row[f"{name}_pct"] = 100 * row[f"{name}_kr"] / total["Kb"]
        row["sundhedsomraadeeffekt_pct"] = 100 * total["C"] / total["Kb"]
        row["oevrige_pct"] = 100 * total["O"] / total["Kb"]
        out[key] = row
    return out


# --- the track, its accuracy, the history ----------------------------------------------------


def track(rows, T, budget):
    """{d: B1} for every T foreløbig date with a basis."""
    return {d: b1(cells_at(rows, T, d, budget)) for d in dates_with_basis(rows, T)}


def truth(rows, T, table=None):
    """K^e per unit from T endelig (takstaar T) at its latest date; None without that cut."""
    table = table or kommuner_table()
    ds = _dates(rows, T, "endelig", T)
    if not ds:
        return None
    latest = None if ds == {None} else max(x for x in ds if x is not None)
    ke = {}
    for r in rows_of(rows, [(T, "endelig", T, latest)]):
        ke[r["kommunekode"]] = ke.get(r["kommunekode"], 0.0) + r["kmf"]
    return ke


def accuracy(rows, T, budget, table=None):
    """(units, summary): units {(d, niveau, kode): (Kf, Ke, fejl_pct)}; summary {d: dict}."""
    table = table or kommuner_table()
    ke = truth(rows, T, table)
    if ke is None:
        return None
    units, summary = {}, {}
    for d in dates_with_basis(rows, T):
        cells = cells_at(rows, T, d, budget)
        kf = {k: sum(v[1] for v in cells[k].values()) for k in cells}
        groups = {("kommune", str(k)): [k] for k in cells}
        for k in cells:
            groups.setdefault(("region", str(table[k][1])), []).append(k)
        groups[("land", "DK")] = list(cells)
        for (niveau, kode), members in groups.items():
            f = sum(kf[k] for k in members)
            e = sum(ke[k] for k in members)
            units[(d, niveau, kode)] = (f, e, 100 * (f - e) / e)
        errors = [abs(units[(d, "kommune", str(k))][2]) for k in cells]
        summary[d] = {
            "land_fejl_pct": units[(d, "land", "DK")][2],
            "kommuner_mae_pct": sum(errors) / len(errors),
            "kommuner_median_abs_pct": statistics.median(errors),
            "kommuner_max_abs_pct": max(errors),
            "andel_kommuner_inden_for_2pct": 100 * sum(e <= 2 for e in errors) / len(errors),
        }
    return units, summary


def history(rows, budgets):
    """{T: (d, B1)} for every budget year T with a T foreløbig cut, a basis and a budget.

    ``budgets`` maps T to its budget (a number, or a dict kommune -> K^b_k).
    """
    years = sorted({r["aar"] for r in rows if r["opgoerelse"] == "foreloebig"})
    out = {}
    for T in years:
        d = default_date(rows, T)
        if d == "NO" or T not in budgets:
            continue
        out[T] = (d, b1(cells_at(rows, T, d, budgets[T])))
    return out


# --- §8: a kommune's own report --------------------------------------------------------------


def contributions(unit_cells):
    """{age: (A_a, B_a, C_a)} for ``ministeriet``; an undefined share takes the other side's."""
    agg = {a: [0.0, 0.0, 0.0, 0.0] for a in oracle.AGES}
    for (age, _), vals in unit_cells.items():
        for i in range(4):
            agg[age][i] += vals[i]
    pf = sum(v[0] for v in agg.values())
    pb = sum(v[2] for v in agg.values())
    out = {}
    for a in oracle.AGES:
        p_f, k_f, p_b, k_b = agg[a]
        wf, wb = p_f / pf, p_b / pb
        sf = k_f / p_f if p_f > 0 else None
        sb = k_b / p_b if p_b > 0 else None
        if sf is None:
            sf = sb if sb is not None else 0.0
        if sb is None:
            sb = sf
        out[a] = ((pf - pb) * wf * sf, pf * (wf - wb) * sf, pf * wf * (sf - sb))
    return out


def comparison_group(kb, k, n=10):
    """The n other kommuner nearest in K^b (|log K^b_j − log K^b_k|), ties by kode."""
    others = [j for j in kb if j != k]
    others.sort(key=lambda j: (abs(math.log(kb[j]) - math.log(kb[k])), j))
    return others[:n]


def rank(b1_rows, k):
    """The kommune's place among all kommuner by ændring in pct. of budget (1 = largest)."""
    pct = {
        int(kode): r["aendring_pct"] for (niveau, kode), r in b1_rows.items() if niveau == "kommune"
    }
    return 1 + sum(v > pct[k] for v in pct.values())
