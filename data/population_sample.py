"""Give the sample a population (``befolkning.csv``, SPEC §9) for 2014–2020.

Real sizes, synthetic age structure. Each kommune's total in 2018 is its approximate 2018
population (``kmf/data/folketal_2018.csv``, rounded to thousands). Its split on the four age
groups follows the sample's own activity: the 2018 forecast's production value per age
group divided by a national use per citizen of that group, so that an older activity goes
with an older population, with a seeded spread of a few per cent per group. The country's
age shares are near Denmark's on 1 January 2018 (0-2: 3.1 %, 3-64: 77.6 %, 65-79: 14.9 %,
80+: 4.4 %). The other years move each kommune by a growth of its own (larger kommuner grow,
the smallest shrink) and age it a little (more 65+ årige each year).

Deterministic: the same sample gives the same file. From the repository root, after
``data/calibrate_sample.py`` and ``data/grow_sample.py``:

    python data/population_sample.py [FOLDER]     # default: kmf/data/sample; then pack_sample.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
SEED = 2020
YEARS = range(2014, 2021)
GROUPS = ("0-2", "3-64", "65-79", "80+")
#: Denmark's age shares on 1 January 2018 (approximately)
SHARES = np.array([0.031, 0.776, 0.149, 0.044])
SPREAD = 0.04  # the seeded spread of a kommune's age group around its activity's
AGEING = np.array([-0.002, -0.004, 0.018, 0.022])  # yearly change of each group's share


def population(aktivitet: pl.DataFrame) -> pl.DataFrame:
    rng = np.random.default_rng(SEED)
    sizes = pl.read_csv(ROOT / "kmf" / "data" / "folketal_2018.csv").sort("kommunekode")
    kommuner = sizes["kommunekode"].to_list()
    # the 2018 forecast's production value per kommune and age group (psykiatri left out)
    forecast = (
        aktivitet.filter(
            (pl.col("aar") == 2018) & (pl.col("opgoerelse") == "foreloebig")
            & (pl.col("opgoerelsesdato") == "2018-09-10")
            & (pl.col("aldersgruppe") != "ej_aldersdiff")
        )
        .group_by("kommunekode", "aldersgruppe")
        .agg(pl.col("produktionsvaerdi").sum())
        .pivot(on="aldersgruppe", index="kommunekode", values="produktionsvaerdi")
        .sort("kommunekode")
    )  # fmt: skip
    assert forecast["kommunekode"].to_list() == kommuner
    use = forecast.select(GROUPS).to_numpy()
    total = sizes["folketal"].to_numpy().astype(float)
    # the national use per citizen of each group, given the national shares
    per_citizen = use.sum(axis=0) / (SHARES * total.sum())
    mix = use / per_citizen * np.exp(SPREAD * rng.standard_normal(use.shape))
    mix /= mix.sum(axis=1, keepdims=True)
    size = np.log(total)
    growth = (
        0.004 + 0.004 * (size - size.mean()) / size.std() + 0.002 * rng.standard_normal(len(total))
    )
    rows = []
    for year in YEARS:
        shift = year - 2018
        shares = mix * np.exp(AGEING * shift)
        shares /= shares.sum(axis=1, keepdims=True)
        persons = total[:, None] * (1 + growth[:, None]) ** shift * shares
        counts = np.maximum(np.rint(persons), 1).astype(np.int64)
        for i, k in enumerate(kommuner):
            for j, group in enumerate(GROUPS):
                rows.append((k, year, group, int(counts[i, j])))
    return pl.DataFrame(
        rows,
        schema={"kommunekode": pl.Int64, "aar": pl.Int64, "aldersgruppe": pl.String,
                "antal": pl.Int64},
        orient="row",
    )  # fmt: skip


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "kmf" / "data" / "sample"
    aktivitet = pl.read_csv(folder / "aktivitet.csv", infer_schema_length=0).with_columns(
        pl.col("kommunekode", "aar").cast(pl.Int64), pl.col("produktionsvaerdi").cast(pl.Float64)
    )
    population(aktivitet).write_csv(folder / "befolkning.csv")


if __name__ == "__main__":
    main()
