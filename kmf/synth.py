"""A synthetic national record-level dataset, for benchmarks and tests (``kmf synth``).

Deterministic for a given (rows, year, seed): records are made in fixed-size chunks, each from
its own seeded generator, and written as Parquet files one chunk at a time, so memory stays
bounded however many records are asked for.

Realism, roughly: kommune sizes follow population; consumption rises steeply with age;
the area mix depends on age (somatik dominates among the old); production values are
long-tailed (lognormal); the KMF share depends on area and age; a small share of records
come as a correction pair (a record and its reversal, so sums are unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from kmf.codes import AREAS
from kmf.compute.forecast import cuts_for

CHUNK = 2_000_000
CORRECTION_SHARE = 0.005
# Consumption weight per person by age band (0-2, 3-64, 65-79, 80+), and the band widths.
AGE_BANDS = ((0, 3, 1.2), (3, 65, 0.55), (65, 80, 1.9), (80, 101, 3.0))
# Area probabilities by age band (somatik, psykiatri, speciallaege, almen_praksis, oevrig).
AREA_MIX = np.array(
    [
        [0.62, 0.02, 0.05, 0.22, 0.09],
        [0.52, 0.12, 0.08, 0.18, 0.10],
        [0.72, 0.04, 0.07, 0.10, 0.07],
        [0.76, 0.03, 0.04, 0.10, 0.07],
    ]
)
# Median production value per record (kr.) and lognormal spread by area.
MEDIAN_KR = np.array([9000.0, 6000.0, 900.0, 350.0, 450.0])
SPREAD = np.array([1.3, 1.1, 0.8, 0.6, 0.7])
# KMF share of the takst by area for (3-64, other ages); psykiatri is age-free.
RATE = np.array([[0.22, 0.45], [0.42, 0.42], [0.09, 0.15], [0.09, 0.15], [0.08, 0.14]])


@dataclass(frozen=True)
class SynthCut:
    """A cut to make: which one (as a run reads it) and how it drifts from the others."""

    aar: int
    opgoerelse: str
    takstaar: int
    volume: float  # relative number of records
    price: float  # relative price level
    dato: date | None = None  # the forecast date (SPEC §7); None: undated


# (volume, price) by the role a cut plays in a run, in the order the cuts are made
DRIFT = {
    "grundlag": (0.97, 1.00),
    "efterreg_foreloebig": (0.96, 0.98),
    "efterreg_endelig": (0.99, 0.98),
    "prognose": (1.00, 1.01),
}


def cuts(year: int) -> tuple[SynthCut, ...]:
    """The four cuts a run for ``year`` reads (``forecast.cuts_for``), with drifts that make
    effects visible."""
    by_role = {cut.name: cut for cut in cuts_for(year)}
    return tuple(
        SynthCut(by_role[role].aar, by_role[role].opgoerelse, by_role[role].takstaar, *drift)
        for role, drift in DRIFT.items()
    )


def dated_cuts(year: int, dates: int) -> tuple[SynthCut, ...]:
    """The cuts of a forecast track: T foreløbig on the 10th of each of the first ``dates``
    months of T, each with its T−1 partner on the same day a year earlier; T−1 endelig and
    the base dated before the first forecast date, so every date has a basis (SPEC §7)."""
    drift = dict(DRIFT)
    out = [
        SynthCut(year - 2, "endelig", year, *drift["grundlag"], date(year - 1, 12, 1)),
        SynthCut(year - 1, "endelig", year - 1, *drift["efterreg_endelig"], date(year, 1, 5)),
    ]
    for month in range(1, dates + 1):
        # later in the year more has been registered (volume) in both years alike
        seen = 0.9 + 0.1 * month / 12
        before, volume_price = drift["efterreg_foreloebig"], drift["prognose"]
        out.append(SynthCut(year - 1, "foreloebig", year - 1, before[0] * seen, before[1],
                            date(year - 1, month, 10)))  # fmt: skip
        out.append(SynthCut(year, "foreloebig", year, volume_price[0] * seen, volume_price[1],
                            date(year, month, 10)))  # fmt: skip
    return tuple(out)


def budget_years_cuts(year: int, dates: int = 0, years: int = 1) -> tuple[SynthCut, ...]:
    """The cuts of budget years T−years+1 … T (undated, or dated as :func:`dated_cuts`); a
    cut two years share (T−1 foreløbig is the year before's forecast cut) is made once."""
    made: dict[tuple, SynthCut] = {}
    for y in range(year - years + 1, year + 1):
        for cut in dated_cuts(y, dates) if dates else cuts(y):
            made.setdefault((cut.aar, cut.opgoerelse, cut.takstaar, cut.dato), cut)
    return tuple(made.values())


def _kommuner() -> tuple[np.ndarray, np.ndarray]:
    source = resources.files("kmf").joinpath("data/folketal_2018.csv")
    with source.open("rb") as fh:
        pop = pl.read_csv(fh).sort("kommunekode")
    weights = pop["folketal"].to_numpy().astype(float)
    return pop["kommunekode"].to_numpy().astype(np.int16), weights / weights.sum()


def _ages() -> tuple[np.ndarray, np.ndarray]:
    ages = np.arange(0, 101)
    weight = np.zeros(len(ages))
    for low, high, w in AGE_BANDS:
        weight[low:high] = w
    weight *= np.where(ages < 60, 1.0, np.exp(-(ages - 60) / 30))  # fewer people at high ages
    return ages, weight / weight.sum()


def _chunk(rng: np.random.Generator, n: int, cut: SynthCut, codes, code_p, ages, age_p) -> pa.Table:
    kommune = codes[rng.choice(len(codes), size=n, p=code_p)]
    # a cut with more volume leans slightly older, so the age effect is visible
    tilted = age_p * np.linspace(0.98, 1.02, len(ages)) ** cut.volume
    age = rng.choice(ages, size=n, p=tilted / tilted.sum())
    band = np.searchsorted([3, 65, 80], age, side="right")
    u = rng.random(n)
    area = (u[:, None] > np.cumsum(AREA_MIX[band], axis=1)).sum(axis=1)
    area = np.minimum(area, len(AREAS) - 1)
    value = MEDIAN_KR[area] * cut.price * rng.lognormal(0.0, SPREAD[area])
    elderly_or_infant = (band != 1).astype(int)
    share = RATE[area, elderly_or_infant] * rng.uniform(0.9, 1.1, n)
    kmf = value * np.minimum(share, 0.6)
    # correction pairs: the record again, reversed, right after the original
    pairs = rng.random(n) < CORRECTION_SHARE
    index = np.concatenate([np.arange(n), np.flatnonzero(pairs)])
    sign = np.concatenate([np.ones(n), -np.ones(int(pairs.sum()))])
    order = np.argsort(index, kind="stable")
    index, sign = index[order], sign[order]
    area_names = pa.array(np.array(AREAS, dtype=object)[area[index]]).dictionary_encode()
    size = len(index)
    dated = {} if cut.dato is None else {"opgoerelsesdato": pa.array([cut.dato] * size)}
    return pa.table(
        {
            **dated,
            "kommunekode": pa.array(kommune[index]),
            "aar": pa.array(np.full(size, cut.aar, dtype=np.int16)),
            "opgoerelse": pa.array([cut.opgoerelse] * size).dictionary_encode(),
            "takstaar": pa.array(np.full(size, cut.takstaar, dtype=np.int16)),
            "alder": pa.array(age[index].astype(np.int16)),
            "sundhedsomraade": area_names,
            "produktionsvaerdi": pa.array(np.round(value[index] * sign, 2)),
            "kmf": pa.array(np.round(kmf[index] * sign, 2)),
        }
    )


def synthesize(
    rows: int, out: Path, year: int = 2018, seed: int = 0, dates: int = 0, years: int = 1
) -> dict[str, int]:
    """Write ``rows`` records per cut to ``out/aktivitet/`` and a national budget per budget
    year: the four undated cuts of a run, or with ``dates`` (1–12) the dated cuts of a
    forecast track (:func:`dated_cuts`: 2 + 2 · ``dates`` cuts); with ``years`` those of the
    budget years T−years+1 … T (for ``kmf historik``).

    Returns the number of records written per file name.
    """
    folder = Path(out)
    activity = folder / "aktivitet"
    activity.mkdir(parents=True, exist_ok=True)
    codes, code_p = _kommuner()
    ages, age_p = _ages()
    written: dict[str, int] = {}
    base_kmf = dict.fromkeys(range(year - years + 1, year + 1), 0.0)
    made = budget_years_cuts(year, dates, years)
    for c, cut in enumerate(made):
        target = round(rows * cut.volume)
        for k, start in enumerate(range(0, target, CHUNK)):
            rng = np.random.default_rng([seed, c, k])
            table = _chunk(rng, min(CHUNK, target - start), cut, codes, code_p, ages, age_p)
            day = "" if cut.dato is None else f"_{cut.dato.isoformat()}"
            name = f"{cut.aar}_{cut.opgoerelse}_{cut.takstaar}{day}_{k:05d}.parquet"
            pq.write_table(table, activity / name, compression="zstd", row_group_size=500_000)
            written[name] = table.num_rows
            if cut.opgoerelse == "endelig" and cut.takstaar == cut.aar + 2:  # a base
                base_kmf[cut.takstaar] += float(pa.compute.sum(table["kmf"]).as_py())
    budget = pl.DataFrame(
        {
            "aar": list(base_kmf),
            "kmf_budget_kr": [round(kmf * 1.03, 0) for kmf in base_kmf.values()],
        }
    )
    budget.write_csv(folder / "budget.csv")
    return written
