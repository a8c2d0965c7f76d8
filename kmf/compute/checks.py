"""Numbers that cannot be right, and numbers that are only unusual.

Impossible (a DataError): a summed cell whose KMF exceeds its production value (KMF is a
share of the takst, so the columns are most likely swapped), and a budget more than
``UNIT_FACTOR`` times from the forecast (almost surely a budget typed in another unit, e.g.
mio. kr.). Unusual but possible: a kommune whose change is beyond ``UNUSUAL_PCT`` pct. of its
budget; it is named in the run's notes, never hidden.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from kmf import codes
from kmf.danish import format_kr, format_pct
from kmf.errors import DataError, describe_problem_rows, full_stop

#: KMF may exceed the production value of a cell by at most this much (kr.): rounding of
#: the two amounts in the source system, never a real excess.
KMF_OVER_VALUE_TOLERANCE_KR = 0.5
#: A budget and a forecast further apart than this factor stop the run (exactly 10 passes).
UNIT_FACTOR = 10.0
#: A kommune's change beyond ± this many pct. of its budget is named (exactly 25 is not).
UNUSUAL_PCT = 25.0

_CELL = ["aar", "opgoerelse", "takstaar", "_dato", "kommunekode", "aldersgruppe", "sundhedsomraade"]


def require_kmf_within_value(cells: pl.DataFrame, undated: date) -> None:
    """Every summed cell of the cuts used has kmf ≤ produktionsvaerdi (+ the tolerance).

    ``cells``: the summed cells with the columns of ``_CELL``, ``produktionsvaerdi`` and
    ``kmf``; ``undated``: the stand-in date of undated cuts.
    """
    bad = (
        cells.filter(pl.col("kmf") > pl.col("produktionsvaerdi") + KMF_OVER_VALUE_TOLERANCE_KR)
        .select(*_CELL, "produktionsvaerdi", "kmf")
        .unique()
        .sort(_CELL)
    )
    if bad.is_empty():
        return

    def label(r: dict) -> str:
        when = "" if r["_dato"] == undated else f" pr. {r['_dato'].isoformat()}"
        return (
            f"kommune {codes.kommune_label(r['kommunekode'])}, {r['aar']} "
            f"{codes.CUT_LABELS[r['opgoerelse']]}{when}, {r['aldersgruppe']}, "
            f"{r['sundhedsomraade']}: kmf {format_kr(r['kmf'])} kr., produktionsvaerdi "
            f"{format_kr(r['produktionsvaerdi'])} kr."
        )

    raise DataError(
        f"Aktivitetsdata: {bad.height} celle(r) har et KMF-beløb (kolonnen 'kmf'), der er "
        "større end produktionsværdien (kolonnen 'produktionsvaerdi'): "
        f"{full_stop(describe_problem_rows(bad, label))} KMF er en andel af taksten og kan ikke "
        "være større end produktionsværdien. Den sandsynlige årsag er, at kolonnerne 'kmf' og "
        "'produktionsvaerdi' er byttet om; ret kolonnenavnene, og kør igen."
    )


def require_budget_near_forecast(
    kommuner: pl.DataFrame, key: str, years: dict[int, tuple[int, str]], budget_file: str
) -> None:
    """A budget and a forecast more than ``UNIT_FACTOR`` apart stop the run: for the sum of
    the kommuner, and for each kommune where the budget is given per kommune.

    ``kommuner``: ``key``, ``kommunekode``, ``kmf_budget_kr`` and ``kmf_prognose_kr``;
    ``years``: per key, the budget year and the budget's kind (``national`` / ``kommune``).
    """
    sums = (
        kommuner.group_by(key)
        .agg(pl.col("kmf_budget_kr", "kmf_prognose_kr").sort().sum(), pl.len().alias("n"))
        .sort(key)
    )
    for row in sums.iter_rows(named=True):
        year, _kind = years[row[key]]
        n = row["n"]
        who = "for hele landet" if codes.whole_country(n) else (
            "for kommunen" if n == 1 else f"for de {n} kommuner under ét"
        )  # fmt: skip
        _check_ratio(row["kmf_budget_kr"], row["kmf_prognose_kr"], year, who, budget_file)
    for row in kommuner.sort(key, "kommunekode").iter_rows(named=True):
        year, kind = years[row[key]]
        if kind == "kommune":
            who = f"for kommune {codes.kommune_label(row['kommunekode'])}"
            _check_ratio(row["kmf_budget_kr"], row["kmf_prognose_kr"], year, who, budget_file)


def _check_ratio(budget: float, forecast: float, year: int, who: str, budget_file: str) -> None:
    low, high = sorted((budget, forecast))
    if high <= UNIT_FACTOR * low:
        return
    ratio = high / low if low > 0 else float("inf")
    times = "mange" if ratio == float("inf") else format_pct(ratio, 1)
    raise DataError(
        f"Budgettet og prognosen for {year} {who} er {times} gange fra hinanden: budget "
        f"{format_kr(budget)} kr. mod prognose {format_kr(forecast)} kr. Mere end "
        f"{format_pct(UNIT_FACTOR, 0)} gange er næsten altid en fejl i enheden. Er budgettet "
        f"i {budget_file} (kolonnen 'kmf_budget_kr') angivet i kr.? Er det fx skrevet i "
        "mio. kr. (21500 for 21,5 mia. kr.), så gang det med 1.000.000."
    )


def unusual_changes(b1: pl.DataFrame) -> list[str]:
    """A note naming the kommuner whose change is beyond ± ``UNUSUAL_PCT`` pct. of their
    budget (empty where none is): plausible, but worth a look before the numbers are used."""
    rows = (
        b1.filter((pl.col("niveau") == "kommune") & (pl.col("aendring_pct").abs() > UNUSUAL_PCT))
        .sort("aendring_pct", descending=True)
        .to_dicts()
    )
    if not rows:
        return []
    named = "; ".join(
        f"{r['navn']} ({r['kode']}) {format_pct(r['aendring_pct'], 1, sign=True)} pct."
        for r in rows
    )
    return [
        f"Usædvanlig ændring: {len(rows)} kommune(r) har en ændring på mere end "
        f"{format_pct(UNUSUAL_PCT, 0)} pct. af budgettet: {named} Kontrollér data og budget "
        "for disse kommuner, før tallene bruges."
    ]
