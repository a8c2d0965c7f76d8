"""Small datasets for tests: rows as plain dicts, written in any supported format."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl

from tests import oracle

CELLS = [
    (age, area)
    for age in ("0-2", "3-64", "65-79", "80+", "ej_aldersdiff")
    for area in ("somatik", "psykiatri", "speciallaege", "almen_praksis", "oevrig_primaer")
    if (age == "ej_aldersdiff") == (area == "psykiatri")
]

# (aar offset from T, opgoerelse, takstaar offset from T)
CUTS = [(0, "foreloebig", 0), (-1, "foreloebig", -1), (-1, "endelig", -1), (-2, "endelig", 0)]

ACTIVITY_SCHEMA = {
    "kommunekode": pl.Int64,
    "aar": pl.Int64,
    "opgoerelse": pl.String,
    "takstaar": pl.Int64,
    "opgoerelsesdato": pl.String,
    "aldersgruppe": pl.String,
    "alder": pl.Int64,
    "sundhedsomraade": pl.String,
    "produktionsvaerdi": pl.Float64,
    "kmf": pl.Float64,
}


def random_rows(
    kommuner: list[int],
    year: int,
    seed: int = 0,
    *,
    empty_share: float = 0.0,
    extra_cut: bool = True,
) -> list[dict]:
    """Cells for every kommune in the four cuts a run for ``year`` uses (and one unused cut).

    ``empty_share`` is the chance that a cell is left out (zero).
    """
    rng = random.Random(seed)
    rows = []
    cuts = list(CUTS) + ([(-2, "endelig", -2)] if extra_cut else [])
    for k in kommuner:
        size = rng.uniform(0.5, 5.0)
        for d_aar, opg, d_takst in cuts:
            for age, area in CELLS:
                if rng.random() < empty_share and (age, area) != ("3-64", "somatik"):
                    continue
                p = size * rng.uniform(1e5, 1e7)
                share = rng.uniform(0.05, 0.6)
                rows.append(
                    {
                        "kommunekode": k,
                        "aar": year + d_aar,
                        "opgoerelse": opg,
                        "takstaar": year + d_takst,
                        "aldersgruppe": age,
                        "sundhedsomraade": area,
                        "produktionsvaerdi": p,
                        "kmf": p * share,
                    }
                )
    return rows


def frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={k: v for k, v in ACTIVITY_SCHEMA.items() if rows and k in rows[0]}
    )


def write_dataset(
    folder: Path,
    rows: list[dict],
    budget: list[dict],
    fmt: str = "csv",
) -> Path:
    """Write ``aktivitet`` and ``budget`` as ``fmt`` (``csv`` or ``parquet``); return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    activity = frame(rows)
    budget_frame = pl.DataFrame(budget)
    if fmt == "csv":
        activity.write_csv(folder / "aktivitet.csv")
        budget_frame.write_csv(folder / "budget.csv")
    elif fmt == "parquet":
        activity.write_parquet(folder / "aktivitet.parquet")
        budget_frame.write_parquet(folder / "budget.parquet")
    else:
        raise ValueError(fmt)
    return folder


def plausible(rows: list[dict], year: int, given: dict[int, float]) -> bool:
    """Whether a run on random ``rows`` with the budget ``given`` per kommune gets past the
    check that a budget and its forecast are within 10 times of each other (SPEC §6, a
    budget in mio. kr.; tests/test_implausible.py), for every kommune and their sum, by the
    oracle's forecast. Random cells can, rarely, make a kommune's forecast a tenth of its
    base: such a draw is not an example of a property test (``hypothesis.assume``)."""
    cells = oracle.cells(rows, year, given)
    kb = {k: sum(c[3] for c in unit.values()) for k, unit in cells.items()}
    kf = {k: sum(c[1] for c in unit.values()) for k, unit in cells.items()}
    pairs = [(kb[k], kf[k]) for k in cells] + [(sum(kb.values()), sum(kf.values()))]
    return all(max(b, f) <= 10 * min(b, f) for b, f in pairs)


def national_budget(rows: list[dict], year: int, level: float = 1.05) -> list[dict]:
    """A budget near the base cut's KMF (so percentages are realistic): one row for the
    whole country where the rows hold all 98 kommuner; else, as a national budget needs
    all 98 (SPEC §3), one row per kommune with the share a national budget would give it
    (K^b_k = level · K⁰_k, the same numbers)."""
    base_rows = [r for r in rows if r["aar"] == year - 2 and r["takstaar"] == year]
    by_kommune: dict[int, float] = {}
    for r in base_rows:
        by_kommune[r["kommunekode"]] = by_kommune.get(r["kommunekode"], 0.0) + r["kmf"]
    if len(by_kommune) >= 98:
        base = sum(by_kommune.values())
        return [
            {"aar": year, "kmf_budget_kr": base * level},
            {"aar": year - 1, "kmf_budget_kr": 1.0},
        ]
    return [
        {"aar": year, "kommunekode": k, "kmf_budget_kr": v * level}
        for k, v in sorted(by_kommune.items())
    ]
