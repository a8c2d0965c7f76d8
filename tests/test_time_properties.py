"""Properties of SPEC §7 that hold for any data: the order of rows and cuts, and cuts that no
forecast date uses, change nothing; a date a year earlier keeps its calendar day (29 February
→ 28 February)."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kmf
from kmf.compute.timeline import year_before
from tests.factory import write_dataset
from tests.test_time import BUDGET_ROWS, ROWS, T_FORE, T, _cut

PROPERTY = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])

BASELINE: dict[str, pl.DataFrame] = {}


def _track(rows: list[dict]) -> pl.DataFrame:
    folder = Path(tempfile.mkdtemp(prefix="kmf-tid-"))
    try:
        write_dataset(folder, rows, BUDGET_ROWS)
        return kmf.spor(folder).spor
    finally:
        shutil.rmtree(folder)


def _baseline() -> pl.DataFrame:
    if "spor" not in BASELINE:
        BASELINE["spor"] = _track(ROWS)
    return BASELINE["spor"]


@given(st.dates(min_value=date(1901, 1, 1), max_value=date(2199, 12, 31)))
def test_a_year_earlier_is_the_same_calendar_day(d: date) -> None:
    before = year_before(d)
    assert before.year == d.year - 1
    if (d.month, d.day) == (2, 29):
        assert (before.month, before.day) == (2, 28)
    else:
        assert (before.month, before.day) == (d.month, d.day)


# cuts no forecast date uses: T−1 foreløbig dates without a T partner, and T−1 endelig and
# base cuts dated after the last date that has a basis (2020-06-10)
_UNUSED = st.lists(
    st.one_of(
        st.dates(date(2019, 1, 1), date(2019, 12, 31))
        .filter(lambda d: d not in (date(2019, 2, 28), date(2019, 3, 10), date(2019, 6, 10)))
        .filter(lambda d: d.replace(year=2020).isoformat() not in T_FORE)  # a T partner
        .map(lambda d: ("foreloebig", T - 1, T - 1, d)),
        st.dates(date(2020, 6, 11), date(2021, 12, 31)).map(lambda d: ("endelig", T - 1, T - 1, d)),
        st.dates(date(2020, 6, 11), date(2021, 12, 31)).map(lambda d: ("endelig", T - 2, T, d)),
    ),
    max_size=4,
    unique_by=lambda c: (c[0], c[1], c[3]),
)


@PROPERTY
@given(_UNUSED, st.randoms(use_true_random=False))
def test_unused_cuts_and_any_order_change_nothing(unused: list, rnd) -> None:  # type: ignore[no-untyped-def]
    rows = list(ROWS)
    for opg, aar, takst, d in unused:
        rows += _cut(aar, opg, takst, d.isoformat(), 1234.0, 567.0)
    rnd.shuffle(rows)
    assert _track(rows).equals(_baseline())


@PROPERTY
@given(st.sampled_from(["%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"]), st.randoms(use_true_random=False))
def test_the_form_of_the_dates_changes_nothing(form: str, rnd) -> None:  # type: ignore[no-untyped-def]
    rows = [
        {**r, "opgoerelsesdato": date.fromisoformat(r["opgoerelsesdato"]).strftime(form)}
        for r in ROWS
    ]
    rnd.shuffle(rows)
    assert _track(rows).equals(_baseline())


@PROPERTY
@given(st.sampled_from(range(2004, 2100, 4)), st.integers(1, 10**6), st.integers(1, 10**6))
def test_29_february_pairs_with_28_february(year: int, before: int, decoy: int) -> None:
    rows = [
        *_cut(year, "foreloebig", year, f"{year}-02-29", 300.0, 100.0),
        *_cut(year - 1, "foreloebig", year - 1, f"{year - 1}-02-28", before, before),
        *_cut(year - 1, "foreloebig", year - 1, f"{year - 1}-03-01", decoy, decoy),
        *_cut(year - 1, "endelig", year - 1, f"{year}-01-10", 2 * before, 3 * before),
        *_cut(year - 2, "endelig", year, f"{year - 1}-11-01", 400.0, 100.0),
    ]
    folder = Path(tempfile.mkdtemp(prefix="kmf-tid-"))
    try:
        # a budget per kommune (two of 98): the split of 500 by K⁰ 400 : 100
        budget = [
            {"aar": year, "kommunekode": 101, "kmf_budget_kr": 400.0},
            {"aar": year, "kommunekode": 851, "kmf_budget_kr": 100.0},
        ]
        write_dataset(folder, rows, budget)
        result = kmf.run(folder)
    finally:
        shutil.rmtree(folder)
    assert result.dato == date(year, 2, 29)
    kommuner = result.b1.filter(pl.col("niveau") == "kommune")
    # f = K(endelig) / K(foreløbig pr. 28 February): 2 for 101, 3 for 851
    assert kommuner["kmf_prognose_kr"].to_list() == pytest.approx([600.0, 300.0], rel=1e-9)
