"""An independent, plain-Python reading of SPEC §9 (the citizens), used as expected values.

It shares no code with ``kmf``: dictionaries, loops and ``math``, written from the text of
§9. Cells come from :func:`tests.oracle.cells` ({kommune: {(age, area): (Pf, Kf, Pb, Kb)}});
a population is {(kommune, year, age group): persons} for the four age groups.
"""

from __future__ import annotations

import math

GROUPS = ["0-2", "3-64", "65-79", "80+"]
EJ = "ej_aldersdiff"


def group_of_age(alder: int) -> str:
    """§3's mapping of whole years to age groups."""
    if alder <= 2:
        return "0-2"
    if alder <= 64:
        return "3-64"
    if alder <= 79:
        return "65-79"
    return "80+"


def _persons(population, k, year):
    by_group = {a: population[(k, year, a)] for a in GROUPS}
    total = sum(by_group.values())
    by_group[EJ] = total
    return total, by_group


def _side_factors(unit_cells, total, by_group, index_p, index_k):
    """{(age, area): [N, n, u, v, r]} of one side, r and v None where undefined."""
    p_age = {}
    for (age, _area), values in unit_cells.items():
        p_age[age] = p_age.get(age, 0.0) + values[index_p]
    out = {}
    for (age, area), values in unit_cells.items():
        p, k = values[index_p], values[index_k]
        n = 1.0 if age == EJ else by_group[age] / total
        u = p_age[age] / by_group[age] if p_age[age] != 0 else 0.0
        v = p / p_age[age] if p_age[age] != 0 else None
        r = k / p if p != 0 else None
        out[(age, area)] = [float(total), n, u, v, r]
    return out


def effects(unit_cells, population, k, year):
    """The five effects [N, n, u, v, r] of kommune ``k`` for budget year ``year``."""
    total_b, groups_b = _persons(population, k, year - 2)
    total_f, groups_f = _persons(population, k, year)
    fore = _side_factors(unit_cells, total_f, groups_f, 0, 1)
    base = _side_factors(unit_cells, total_b, groups_b, 2, 3)
    result = [0.0] * 5
    for cell in unit_cells:
        xf, xb = list(fore[cell]), list(base[cell])
        for j in (3, 4):  # v and r: the other side's value where undefined, else 0
            if xf[j] is None and xb[j] is None:
                xf[j] = xb[j] = 0.0
            elif xf[j] is None:
                xf[j] = xb[j]
            elif xb[j] is None:
                xb[j] = xf[j]
        value_f = math.prod(xf)
        value_b = math.prod(xb)
        if value_f > 0 and value_b > 0:
            if value_f == value_b:
                weight = value_f
            else:
                weight = (value_f - value_b) / (math.log(value_f) - math.log(value_b))
            for j in range(5):
                result[j] += weight * math.log(xf[j] / xb[j])
        elif value_f > 0 or value_b > 0:
            side = xb if value_b == 0 else xf
            zeros = [j for j in range(5) if side[j] == 0]
            for j in zeros:
                result[j] += (value_f - value_b) / len(zeros)
    return result


def borger(cells, population, year):
    """{kommune: (N, K^f, E, indeks)} of §9's tabel_borger, forecast side (year T)."""
    k_land = {a: 0.0 for a in [*GROUPS, EJ]}
    n_land = {a: 0 for a in [*GROUPS, EJ]}
    persons = {}
    kmf = {}
    for k, unit_cells in cells.items():
        total, by_group = _persons(population, k, year)
        persons[k] = (total, by_group)
        kmf[k] = {a: 0.0 for a in [*GROUPS, EJ]}
        for (age, _area), values in unit_cells.items():
            kmf[k][age] += values[1]
        for a in [*GROUPS, EJ]:
            k_land[a] += kmf[k][a]
            n_land[a] += by_group[a]
    out = {}
    for k in cells:
        total, by_group = persons[k]
        expected = sum(by_group[a] * k_land[a] / n_land[a] for a in [*GROUPS, EJ])
        k_f = sum(kmf[k].values())
        out[k] = (total, k_f, expected, 100 * k_f / expected)
    return out
