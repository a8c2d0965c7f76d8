"""Grow the calibrated sample into a dataset with forecast dates and two budget years (SPEC §7).

``data/calibrate_sample.py`` makes the four undated cuts a 2018 run reads, calibrated to the
published tables. This step dates them as the ministry's 2018 forecast did and derives the
rest from them, so the 2018 run at its default date reads exactly the calibrated cuts:

- 2018 foreløbig on the 10th of January … September 2018; 2018-09-10 is the calibrated cut,
  the earlier months hold less of it (registration lags) with a slightly other mix;
- 2017 foreløbig on the same days of 2017 (the partners); 2017-09-10 is the calibrated cut;
- 2017 endelig pr. 2018-04-10 (calibrated) and 2016 endelig at 2018 takster pr. 2017-04-10
  (calibrated). Forecasts before 10 April 2018 have no T−1 endelig yet: no basis;
- 2018 endelig pr. 2019-04-10: the truth the 2018 track is measured against;
- budget year 2019: 2019 foreløbig on the 10th of January … September 2019 (2018's months
  grown), 2017 endelig at 2019 takster pr. 2018-04-10 as its base, and a budget for 2019;
- budget year 2017, so that a 2018 forecast can say how far the forecast made on the same day
  of 2017 missed 2017's endelig opgørelse: 2016 foreløbig on the 10th of January … September
  2016 (2017's months shrunk), 2016 endelig pr. 2017-04-10 (its efterregistrering close to
  2017's, so that most kommuner's 2017 forecasts land within 2 pct.), 2015 endelig at 2017
  takster pr. 2016-04-10 as its base, and a budget for 2017. Drawn from a second seed, so
  the cuts above stay as they were.

Deterministic: the same calibrated sample gives the same files. From the repository root,
after ``data/calibrate_sample.py``:

    python data/grow_sample.py [FOLDER]     # default: kmf/data/sample (rewritten in place)
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
SEED = 2019
MONTHS = range(1, 10)  # January … September: the 2018 run's default date is 2018-09-10
PACE = 0.04  # how much faster 2018 is registered than 2017 in January (national mean)
LAG = 0.03  # how far an early month's mix may differ from September's, per cell
GROWTH_2019 = 1.035  # activity and prices 2019 over 2018
PRICE_2019 = 1.02  # 2019 takster over 2018 for the 2019 base
BUDGET_2019 = 22_300_000_000.0
GROWTH_2017 = 1.03  # activity 2017 over 2016
PRICE_2017 = 1.05  # 2018 takster over 2017 for the 2017 base (from 2016 at 2018 takster)
MISS_2016 = 0.012  # spread of 2016's efterregistrering around 2017's, per kommune
BUDGET_2017 = 22_000_000_000.0
KEY = ["kommunekode", "aldersgruppe", "sundhedsomraade"]


def _cut(frame: pl.DataFrame, aar: int, opg: str, takst: int) -> pl.DataFrame:
    return frame.filter(
        (pl.col("aar") == aar) & (pl.col("opgoerelse") == opg) & (pl.col("takstaar") == takst)
    ).sort(KEY)


def _dated(cut: pl.DataFrame, aar: int, opg: str, takst: int, day: date, scale) -> pl.DataFrame:
    """``cut`` as (aar, opg, takst) pr. ``day``, its amounts times ``scale`` (per row)."""
    factor = pl.Series(np.broadcast_to(np.asarray(scale, dtype=float), (cut.height,)))
    return cut.with_columns(
        pl.lit(aar).alias("aar"),
        pl.lit(opg).alias("opgoerelse"),
        pl.lit(takst).alias("takstaar"),
        pl.lit(day).alias("opgoerelsesdato"),
        (pl.col("produktionsvaerdi") * factor).alias("produktionsvaerdi"),
        (pl.col("kmf") * factor).alias("kmf"),
    )


def _months(
    cut: pl.DataFrame, aar: int, rng: np.random.Generator, pace: np.ndarray | float = 0.0
) -> list[pl.DataFrame]:
    """A foreløbig cut's months: by September all of it (the factor is exactly 1, so the
    calibrated cut is kept to the last digit), earlier a share of it that grows through the
    year, with a per-cell lag that fades by September; ``pace`` (per row) is how much more of
    it than the year before is registered early on."""
    lag = rng.uniform(-1.0, 1.0, cut.height)
    out = []
    for month in MONTHS:
        left = (9 - month) / 9
        share = (0.55 + 0.45 * month / 9) * (1 + LAG * left * lag) * (1 + pace * left)
        out.append(_dated(cut, aar, "foreloebig", aar, date(aar, month, 10), share))
    return out


def grow(sample: pl.DataFrame) -> pl.DataFrame:
    rng = np.random.default_rng(SEED)
    base = _cut(sample, 2016, "endelig", 2018)
    f17 = _cut(sample, 2017, "foreloebig", 2017)
    e17 = _cut(sample, 2017, "endelig", 2017)
    f18 = _cut(sample, 2018, "foreloebig", 2018)
    # the kommune's efterregistrering factor of 2017, cell by cell, carries 2018 to endelig
    f = (
        e17.group_by("kommunekode")
        .agg(pl.col("kmf").sum())
        .join(f17.group_by("kommunekode").agg(pl.col("kmf").sum()), on="kommunekode", suffix="_f")
    )
    factor = f18.join(
        f.select("kommunekode", (pl.col("kmf") / pl.col("kmf_f")).alias("f")), on="kommunekode"
    )["f"].to_numpy()
    truth = factor * rng.normal(1.0, 0.02, f18.height)
    codes = f18["kommunekode"].to_numpy()
    drift = rng.normal(1.0, 0.02, 1000)[codes]  # one draw per possible kommunekode
    grown = GROWTH_2019 * drift * rng.normal(1.0, 0.01, f18.height)
    # 2018 is registered faster than 2017 early in the year, more so in some kommuner: the
    # early forecasts overshoot and the track settles by September
    pace = rng.normal(PACE, PACE, 1000)[codes]
    pieces = [
        _dated(base, 2016, "endelig", 2018, date(2017, 4, 10), 1.0),
        _dated(e17, 2017, "endelig", 2017, date(2018, 4, 10), 1.0),
        *_months(f17, 2017, rng),
        *_months(f18, 2018, rng, pace),
        _dated(f18, 2018, "endelig", 2018, date(2019, 4, 10), truth),
        _dated(e17, 2017, "endelig", 2019, date(2018, 4, 10), PRICE_2019),
        *_months(_dated(f18, 2019, "foreloebig", 2019, date(2019, 9, 10), grown), 2019, rng, -pace),
    ]
    pieces += _year_2017(base, f17, e17)
    columns = ["kommunekode", "aar", "opgoerelse", "takstaar", "opgoerelsesdato",
               "aldersgruppe", "sundhedsomraade", "produktionsvaerdi", "kmf"]  # fmt: skip
    return pl.concat([p.select(columns) for p in pieces]).sort(
        "aar", "opgoerelse", "takstaar", "opgoerelsesdato", *KEY
    )


def _year_2017(base: pl.DataFrame, f17: pl.DataFrame, e17: pl.DataFrame) -> list[pl.DataFrame]:
    """The cuts of budget year 2017 (see the module's docstring), from a seed of their own."""
    rng = np.random.default_rng(SEED + 1)
    codes = f17["kommunekode"].to_numpy()
    shrink = GROWTH_2017 * rng.normal(1.0, 0.01, 1000)[codes] * rng.normal(1.0, 0.01, f17.height)
    f16 = _dated(f17, 2016, "foreloebig", 2016, date(2016, 9, 10), 1 / shrink)
    # 2017's efterregistrering factor of the kommune, missed by a kommune's own draw
    miss = rng.normal(1.0, MISS_2016, 1000)[codes] * rng.normal(1.0, 0.003, f17.height)
    e16 = _dated(f16, 2016, "endelig", 2016, date(2017, 4, 10), factor_of(e17, f17) * miss)
    base15 = _dated(base, 2015, "endelig", 2017, date(2016, 4, 10),
                    rng.normal(1.0, 0.01, base.height) / PRICE_2017 / GROWTH_2017)  # fmt: skip
    return [base15, e16, *_months(f16, 2016, rng)]


def factor_of(e: pl.DataFrame, f: pl.DataFrame) -> np.ndarray:
    """Per row of ``f``: its kommune's endelig KMF over foreløbig KMF."""
    by = (
        e.group_by("kommunekode")
        .agg(pl.col("kmf").sum())
        .join(f.group_by("kommunekode").agg(pl.col("kmf").sum()), on="kommunekode", suffix="_f")
    )
    ratio = by.select("kommunekode", (pl.col("kmf") / pl.col("kmf_f")).alias("f"))
    return f.join(ratio, on="kommunekode", how="left", maintain_order="left")["f"].to_numpy()


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "kmf" / "data" / "sample"
    sample = pl.read_csv(folder / "aktivitet.csv", try_parse_dates=True)
    if "opgoerelsesdato" in sample.columns:
        raise SystemExit(f"{folder} is grown already: run data/calibrate_sample.py first")
    grow(sample).write_csv(folder / "aktivitet.csv", float_precision=2)
    budget = pl.read_csv(folder / "budget.csv")
    budget = pl.concat(
        [budget, pl.DataFrame({"aar": [2017, 2019], "kmf_budget_kr": [BUDGET_2017, BUDGET_2019]})],
        how="vertical_relaxed",
    ).sort("aar")
    budget.write_csv(folder / "budget.csv", float_precision=0)


if __name__ == "__main__":
    main()
