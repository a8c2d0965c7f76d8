"""Tabel 2–6 at their boundaries, on a dataset built by hand so that every ratio is exact.

Every kommune has one cell (3-64, somatik) in each cut, the efterregistreringsfaktor is 1
(T−1 foreløbig = T−1 endelig) and the budget is given per kommune as K⁰, so g = 1. With
production value a and KMF a/2 in the forecast (s^f = 0.5) and P⁰ = 1024, K⁰ in the base
(s^b = K⁰/1024), SPEC §4.4 gives, by hand:

    Δ = a/2 − K⁰,  A = K^f − P^b·s^f = (a − 1024)/2,  B = K^f − P^f·s^f = 0,
    C = K^f − P^f·s^b = a·(0.5 − s^b).

All amounts are binary fractions (multiples of 1/4), so every step is exact in floating
point and a ratio of exactly 0.5 is exactly 0.5.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from pathlib import Path

import polars as pl
import pytest

import kmf
from kmf.compute.tables import table_4_5_6
from tests.factory import frame, write_dataset

T = 2020

# kode: (a, K⁰) and the case it stands for
CASES: dict[int, tuple[float, float]] = {
    101: (1536, 256),  # Δ 512,    A 256:    A/Δ = 0.5 exactly: not counted; C/Δ = 0.75
    147: (1537, 256),  # Δ 512.5,  A 256.5:  A/Δ = 0.50049 (just above): counted
    259: (1535, 256),  # Δ 511.5,  A 255.5:  A/Δ = 0.49951 (just below): not counted
    461: (512, 768),  # Δ −512,   A −256:   A/Δ = 0.5 exactly with a fall; C/Δ = 0.25
    751: (511, 768),  # Δ −512.5, A −256.5: A/Δ = 0.50049: counted
    773: (513, 768),  # Δ −511.5, A −255.5: A/Δ = 0.49951: not counted
    851: (1536, 768),  # Δ 0, A 256, C −384: no change, nothing is a share of it
    813: (1536, 768),  # the same as 851: a tie in the ranking, broken by kode
}


def _rows() -> list[dict]:
    rows = []
    for k, (a, k0) in CASES.items():
        for aar, opg, takst, p, kmf_kr in (
            (T, "foreloebig", T, a, a / 2),
            (T - 1, "foreloebig", T - 1, 100.0, 50.0),
            (T - 1, "endelig", T - 1, 100.0, 50.0),
            (T - 2, "endelig", T, 1024.0, k0),
        ):
            rows.append(
                {
                    "kommunekode": k, "aar": aar, "opgoerelse": opg, "takstaar": takst,
                    "aldersgruppe": "3-64", "sundhedsomraade": "somatik",
                    "produktionsvaerdi": float(p), "kmf": float(kmf_kr),
                }
            )  # fmt: skip
    return rows


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> kmf.Result:
    budget = [
        {"aar": T, "kommunekode": k, "kmf_budget_kr": float(k0)} for k, (_, k0) in CASES.items()
    ]
    folder = write_dataset(tmp_path_factory.mktemp("boundary"), _rows(), budget)
    return kmf.run(folder, aar=T)


def _by_kode(table: pl.DataFrame) -> dict[str, dict]:
    return {r["kode"]: r for r in table.iter_rows(named=True)}


def test_the_cases_sit_where_the_comments_say(result: kmf.Result) -> None:
    b1 = _by_kode(result.b1)
    for k, (a, k0) in CASES.items():
        fa, fk0 = Fraction(a), Fraction(k0)
        change, activity, area = fa / 2 - fk0, (fa - 1024) / 2, fa * (Fraction(1, 2) - fk0 / 1024)
        row = b1[str(k)]
        # exact: the inputs are binary fractions and so is every intermediate
        assert row["aendring_kr"] == change, k
        assert row["aktivitetseffekt_kr"] == activity, k
        assert row["aldersgruppeeffekt_kr"] == 0, k
        assert row["sundhedsomraadeeffekt_kr"] == area, k
    assert Fraction(b1["101"]["aktivitetseffekt_kr"]) / Fraction(b1["101"]["aendring_kr"]) == 0.5
    assert Fraction(b1["461"]["aktivitetseffekt_kr"]) / Fraction(b1["461"]["aendring_kr"]) == 0.5


def test_tabel_2_counts_more_than_half_and_not_exactly_half(result: kmf.Result) -> None:
    t2 = result.tabel(2)
    got = {
        r["kode"]: (
            r["antal_kommuner"],
            r["aktivitetseffekt"],
            r["aldersgruppeeffekt"],
            r["sundhedsomraadeeffekt"],
        )
        for r in t2.iter_rows(named=True)
    }
    assert got == {
        "1084": (2, 1, 0, 2),  # 147 (A 0.50049); C 0.75 in 101 and 147; 101's A is 0.5
        "1085": (1, 0, 0, 1),  # 259: A 0.49951, C 0.75024
        "1083": (1, 0, 0, 0),  # 461: A exactly 0.5, C 0.25
        "1082": (1, 1, 0, 0),  # 751: A 0.50049, C 0.249
        "1081": (3, 0, 0, 0),  # 773: A 0.49951, C 0.25073; 813 and 851: no change
        "DK": (8, 2, 0, 3),
    }
    regions = t2.filter(pl.col("niveau") == "region")["kode"].to_list()
    assert regions == ["1084", "1085", "1083", "1082", "1081"]  # the report's order


def test_tabel_3_counts_signs_and_zero_is_neither(result: kmf.Result) -> None:
    t3 = _by_kode(result.tabel(3))
    columns = [
        f"{e}_{s}"
        for e in ("aktivitetseffekt", "aldersgruppeeffekt", "sundhedsomraadeeffekt")
        for s in ("negativ", "positiv")
    ]
    expected = {  # A −/+, B −/+ (B is 0 everywhere: neither), C −/+
        "1084": (0, 2, 0, 0, 0, 2),
        "1085": (0, 1, 0, 0, 0, 1),
        "1083": (1, 0, 0, 0, 1, 0),
        "1082": (1, 0, 0, 0, 1, 0),
        "1081": (1, 2, 0, 0, 3, 0),
        "DK": (3, 5, 0, 0, 5, 3),
    }
    assert {k: tuple(t3[k][c] for c in columns) for k in expected} == expected


# By change in pct. of the budget: 147 200.2 %, 101 200 %, 259 199.8 %, 813 and 851 0 %
# (tie: lower kode first), 773 −66.60 %, 461 −66.67 %, 751 −66.73 %.
RANKED = ["147", "101", "259", "813", "851", "773", "461", "751"]


def test_tabel_4_ranks_by_change_with_ties_by_kode(result: kmf.Result) -> None:
    # the ranking itself (a run on 8 of 98 kommuner writes tabel 4–6 without rows)
    t4, t5, _ = table_4_5_6(result.b1)
    assert t4["kode"].to_list() == [*RANKED, "DK"]
    assert t4["rang"].to_list() == [1, 2, 3, 4, 5, 6, 7, 8, None]
    assert t4["aendring_pct"][1] == pytest.approx(200.0)
    # fewer kommuner than 10: the middle ten are all of them, from rank 1
    assert t5["rang"].to_list() == [1, 2, 3, 4, 5, 6, 7, 8, None]


def test_tabel_4_5_6_take_top_middle_and_bottom(result: kmf.Result) -> None:
    top, middle, bottom = table_4_5_6(result.b1, n=2)
    assert top["kode"].to_list() == ["147", "101", "DK"]
    # 8 kommuner, 2 in the middle: ranks 4 and 5 (as ranks 45–54 of 98 for 10)
    assert middle["kode"].to_list() == ["813", "851", "DK"]
    assert middle["rang"].to_list() == [4, 5, None]
    assert bottom["kode"].to_list() == ["461", "751", "DK"]
    assert bottom["rang"].to_list() == [7, 8, None]
    # 3 in the middle of 8: (8 − 3) // 2 = 2 ranks above them, so ranks 3–5
    _, middle, _ = table_4_5_6(result.b1, n=3)
    assert middle["rang"].to_list() == [3, 4, 5, None]


def test_accuracy_counts_a_kommune_exactly_2_pct_off_as_within() -> None:
    # Hand-made track rows for two dates: fejl_pct of the kommuner and the land. Within ±2
    # pct. counts |fejl| <= 2: on 10 June 2.0 and −2.0 count, 2.25 does not (2 of 3 = 66.7 %).
    from datetime import date

    from kmf.compute.accuracy import accuracy_summary

    d1, d2 = date(2020, 3, 10), date(2020, 6, 10)
    units = pl.DataFrame(
        {
            "opgoerelsesdato": [d1, d1, d1, d1, d2, d2, d2, d2],
            "niveau": ["land", "kommune", "kommune", "kommune"] * 2,
            "kode": ["DK", "101", "147", "851"] * 2,
            "fejl_pct": [0.5, 1.0, -3.0, 5.0, -0.25, 2.0, -2.0, 2.25],
        }
    )
    summary = accuracy_summary(units)
    assert summary["opgoerelsesdato"].to_list() == [d1, d2]
    assert summary["land_fejl_pct"].to_list() == [0.5, -0.25]
    assert summary["kommuner_mae_pct"].to_list() == pytest.approx([3.0, 6.25 / 3])
    assert summary["kommuner_median_abs_pct"].to_list() == [3.0, 2.0]
    assert summary["kommuner_max_abs_pct"].to_list() == [5.0, 2.25]
    assert summary["andel_kommuner_inden_for_2pct"].to_list() == pytest.approx([100 / 3, 200 / 3])


def test_tabel_4_5_6_of_the_sample_are_ranks_1_10_45_54_and_89_98() -> None:
    result = kmf.run(kmf.sample_dataset())
    kommuner = [r for r in result.b1.iter_rows(named=True) if r["niveau"] == "kommune"]
    assert len(kommuner) == 98
    # ranked here by hand: largest change in pct. first, ties by kode
    order = [
        r["kode"] for r in sorted(kommuner, key=lambda r: (-r["aendring_pct"], int(r["kode"])))
    ]
    for number, ranks in ((4, range(1, 11)), (5, range(45, 55)), (6, range(89, 99))):
        table = result.tabel(number)
        assert table["rang"].to_list() == [*ranks, None], number
        assert table["kode"].to_list() == [*(order[r - 1] for r in ranks), "DK"], number


def test_accuracy_summary_keeps_every_date_with_its_own_kommuner() -> None:
    # 40 dates; on date i the land is i pct. off and the one kommune 2·i: each row of the
    # summary pairs a date's land error with the same date's kommuner
    from datetime import date, timedelta

    from kmf.compute.accuracy import accuracy_summary

    dates = [date(2020, 1, 1) + timedelta(days=7 * i) for i in range(40)]
    units = pl.DataFrame(
        {
            "opgoerelsesdato": [d for d in dates for _ in range(2)],
            "niveau": ["land", "kommune"] * 40,
            "kode": ["DK", "101"] * 40,
            "fejl_pct": [float(v) for i in range(40) for v in (i, 2 * i)],
        }
    )
    summary = accuracy_summary(units)
    assert summary["opgoerelsesdato"].to_list() == dates
    assert summary["land_fejl_pct"].to_list() == [float(i) for i in range(40)]
    assert summary["kommuner_max_abs_pct"].to_list() == [float(2 * i) for i in range(40)]


def test_tabel_3_counts_a_quarter_krone_as_positive_or_negative(result: kmf.Result) -> None:
    from kmf.compute.tables import table_3

    b1 = result.b1.with_columns(
        pl.when(pl.col("kode") == "259")
        .then(0.25)
        .when(pl.col("kode") == "773")
        .then(-0.25)
        .otherwise(pl.col("aldersgruppeeffekt_kr"))
        .alias("aldersgruppeeffekt_kr")
    )
    land = table_3(b1).filter(pl.col("kode") == "DK").row(0, named=True)
    assert (land["aldersgruppeeffekt_negativ"], land["aldersgruppeeffekt_positiv"]) == (1, 1)


def test_accuracy_units_by_hand_keep_the_tracks_order() -> None:
    # Two kommuner of Region Hovedstaden (1084) on two dates. K^e: 101 → 100, 147 → 200, so
    # the region and the land 300. fejl_pct = 100 · (K^f − K^e) / K^e, by hand:
    #   10 March: 101 110 → +10.0; 147 150 → −25.0; region and land 260 → −13.33…
    #   10 June:  101  90 → −10.0; 147 230 → +15.0; region and land 320 → +6.66…
    from datetime import date

    from kmf.compute.accuracy import accuracy_units

    d1, d2 = date(2020, 3, 10), date(2020, 6, 10)
    track = pl.DataFrame(
        {
            "opgoerelsesdato": [d1] * 4 + [d2] * 4,
            "niveau": ["land", "region", "kommune", "kommune"] * 2,
            "kode": ["DK", "1084", "101", "147"] * 2,
            "navn": ["Hele landet", "Region Hovedstaden", "København", "Frederiksberg"] * 2,
            "region": [None, None, "Region Hovedstaden", "Region Hovedstaden"] * 2,
            "kmf_prognose_kr": [260.0, 260.0, 110.0, 150.0, 320.0, 320.0, 90.0, 230.0],
        }
    )
    truth = pl.DataFrame({"kommunekode": [147, 101], "kmf_endelig_kr": [200.0, 100.0]})
    units = accuracy_units(track, truth)
    assert units.columns == [
        "opgoerelsesdato", "niveau", "kode", "navn", "region", "kmf_prognose_kr",
        "kmf_endelig_kr", "fejl_pct",
    ]  # fmt: skip
    assert units.select("opgoerelsesdato", "kode").equals(track.select("opgoerelsesdato", "kode"))
    assert units["kmf_endelig_kr"].to_list() == [300.0, 300.0, 100.0, 200.0] * 2
    expected = [-40 / 3, -40 / 3, 10.0, -25.0, 20 / 3, 20 / 3, -10.0, 15.0]
    assert units["fejl_pct"].to_list() == pytest.approx(expected, rel=1e-12)


TRUTH_HELP = (
    "\nDen skal have de samme kommuner som prognoserne for 2018, hver med KMF over 0. Ret "
    "opgørelsen, eller fjern rækkerne med aar = 2018, opgoerelse = endelig og takstaar = 2018, "
    "så laves sporet uden træfsikkerhed."
)


@pytest.mark.parametrize(
    ("have", "dato", "gaps"),
    [
        # 147 missing; 461 extra; 101 at 0 kr.: all three, in that order
        ({101: 0.0, 461: 5.0, 851: 5.0}, "2019-04-10",
         ["- mangler kommune(r) 147 Frederiksberg",
          "- har kommune(r) 461 Odense, som prognosen ikke har",
          "- har KMF 0 eller under for kommune(r) 101 København"]),
        # only a negative KMF (−0.01 kr. is under 0), an undated cut
        ({101: 5.0, 147: -0.01, 851: 5.0}, None,
         ["- har KMF 0 eller under for kommune(r) 147 Frederiksberg"]),
        # only missing ones
        ({851: 1.0}, None, ["- mangler kommune(r) 101 København, 147 Frederiksberg"]),
    ],
)  # fmt: skip
def test_the_truth_must_have_the_tracks_kommuner_word_for_word(
    have: dict[int, float], dato: str | None, gaps: list[str]
) -> None:
    from datetime import date

    from kmf.compute.accuracy import require_truth_for

    truth = pl.DataFrame(
        {"kommunekode": list(have), "kmf_endelig_kr": list(have.values())},
        schema={"kommunekode": pl.Int64, "kmf_endelig_kr": pl.Float64},
    )
    day = None if dato is None else date.fromisoformat(dato)
    with pytest.raises(kmf.DataError) as info:
        require_truth_for(truth, [101, 147, 851], 2018, day)
    when = "" if dato is None else f" pr. {dato}"
    assert str(info.value) == (
        f"Aktivitetsdata (kolonnen 'kommunekode'): 2018 endelig opgørelse{when} i "
        "2018-takster, som prognosesporets træfsikkerhed måles mod, passer ikke til "
        "prognoserne:\n" + "\n".join(gaps) + TRUTH_HELP
    )


def test_a_truth_with_the_tracks_kommuner_above_0_passes() -> None:
    from kmf.compute.accuracy import require_truth_for

    # 0.01 kr. is above 0; the truth's order does not matter
    truth = pl.DataFrame({"kommunekode": [851, 101], "kmf_endelig_kr": [0.01, 7.0]})
    require_truth_for(truth, [101, 851], 2018, None)


# --- the settlements of a run (kmf.run's endelig and sidste_aar) ----------------------------
#
# Two kommuner of Region Hovedstaden, one cell each (3-64, somatik), KMF in mio. kr. and
# production value twice the KMF. A forecast for 2020 made on 10 June 2020 is held against
# 2020 endelig at its latest date, and last year's forecast (2019, made on 10 June 2019)
# against 2019 endelig at its latest date. Every efterregistreringsfaktor below is 1, so a
# forecast is the T foreløbig cut's KMF itself.
#
#   cut (aar, opgoerelse, takstaar, dato)        101    147   read by
#   2020 foreloebig 2020 pr. 2020-06-10          150    200   this year: K^f
#   2019 foreloebig 2019 pr. 2019-06-10          102    150   both (T−1 foreløbig / K^f T−1)
#   2019 endelig    2019 pr. 2020-04-10          102    150   this year: f = 102/102, 150/150
#   2019 endelig    2019 pr. 2020-10-10          100    120   last year's truth (its latest)
#   2018 endelig    2020 pr. 2019-04-10          140    190   this year's base (= budget)
#   2020 endelig    2020 pr. 2021-04-10          100    200   not the truth: not the latest
#   2020 endelig    2020 pr. 2021-10-10          120    280   this year's truth (its latest)
#   2018 foreloebig 2018 pr. 2018-06-10           90    140   last year: f = 90/90, 140/140
#   2018 endelig    2018 pr. 2019-04-10           90    140
#   2017 endelig    2019 pr. 2018-04-10          100    150   last year's base (= budget)
#   2019 foreloebig 2019 pr. 2019-09-10          110    160   a later 2019 forecast (with
#   2018 foreloebig 2018 pr. 2018-09-10           90    140   these two), not the same day
#
# This year, fejl = 100 · (K^f − K^e) / K^e: 101 100·30/120 = +25.0; 147 100·(−80)/280 =
# −28.57…; region and land 350 against 400: −12.5.
# Last year: 101 100·2/100 = +2.0 exactly (within 2 pct.); 147 100·30/120 = +25.0; land
# 252 against 220: 100·32/220 = +14.54…; so 1 of 2 kommuner within 2 pct.
SETTLED: dict[tuple[int, str, int, str], tuple[float, float]] = {
    (2020, "foreloebig", 2020, "2020-06-10"): (150, 200),
    (2019, "foreloebig", 2019, "2019-06-10"): (102, 150),
    (2019, "endelig", 2019, "2020-04-10"): (102, 150),
    (2019, "endelig", 2019, "2020-10-10"): (100, 120),
    (2018, "endelig", 2020, "2019-04-10"): (140, 190),
    (2020, "endelig", 2020, "2021-04-10"): (100, 200),
    (2020, "endelig", 2020, "2021-10-10"): (120, 280),
    (2018, "foreloebig", 2018, "2018-06-10"): (90, 140),
    (2018, "endelig", 2018, "2019-04-10"): (90, 140),
    (2017, "endelig", 2019, "2018-04-10"): (100, 150),
    (2019, "foreloebig", 2019, "2019-09-10"): (110, 160),
    (2018, "foreloebig", 2018, "2018-09-10"): (90, 140),
}


def _settled_rows() -> list[dict]:
    return [
        {
            "kommunekode": k, "aar": aar, "opgoerelse": opg, "takstaar": takst,
            "opgoerelsesdato": day, "aldersgruppe": "3-64", "sundhedsomraade": "somatik",
            "produktionsvaerdi": 2e6 * mio, "kmf": 1e6 * mio,
        }
        for (aar, opg, takst, day), amounts in SETTLED.items()
        for k, mio in zip((101, 147), amounts, strict=True)
    ]  # fmt: skip


def _settled_folder(folder: Path, fmt: str) -> Path:
    """CSV: read whole. Parquet with one file per cut: the run reads only the cuts it uses."""
    budget = [
        {"aar": aar, "kommunekode": k, "kmf_budget_kr": 1e6 * mio}
        for aar, amounts in ((2020, (140, 190)), (2019, (100, 150)))
        for k, mio in zip((101, 147), amounts, strict=True)
    ]
    if fmt == "csv":
        return write_dataset(folder, _settled_rows(), budget)
    (folder / "aktivitet").mkdir(parents=True)
    records = frame(_settled_rows()).with_columns(pl.col("opgoerelsesdato").str.to_date())
    for i, cut in enumerate(
        records.partition_by("aar", "opgoerelse", "takstaar", "opgoerelsesdato")
    ):
        cut.write_parquet(folder / "aktivitet" / f"snit-{i}.parquet")
    pl.DataFrame(budget).write_csv(folder / "budget.csv")
    return folder


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_the_settlements_hold_the_days_forecasts_against_the_latest_endelig(
    tmp_path: Path, fmt: str
) -> None:
    result = kmf.run(_settled_folder(tmp_path / "data", fmt), aar=2020, dato="2020-06-10")
    now, before = result.endelig, result.sidste_aar
    assert now is not None and before is not None
    assert (now.aar, now.dato, now.endelig_dato) == (2020, date(2020, 6, 10), date(2021, 10, 10))
    assert now.enheder["opgoerelsesdato"].to_list() == [date(2020, 6, 10)] * 4
    got = {
        r["kode"]: (r["kmf_endelig_kr"], r["fejl_pct"]) for r in now.enheder.iter_rows(named=True)
    }
    assert got == {
        "DK": (400e6, pytest.approx(-12.5)),
        "1084": (400e6, pytest.approx(-12.5)),
        "101": (120e6, pytest.approx(25.0)),
        "147": (280e6, pytest.approx(-200 / 7)),
    }
    assert now.unit("461") is None  # a kommune the data do not have
    # last year's: the forecast of 10 June 2019 (not the later one of 10 September 2019)
    # against 2019 endelig pr. 10 October 2020 (not the one of April the forecast read)
    assert (before.aar, before.dato, before.endelig_dato) == (
        2019, date(2019, 6, 10), date(2020, 10, 10),
    )  # fmt: skip
    assert before.unit("101") == {
        "opgoerelsesdato": date(2019, 6, 10), "niveau": "kommune", "kode": "101",
        "navn": "København", "region": "Region Hovedstaden", "kmf_prognose_kr": 102e6,
        "kmf_endelig_kr": 100e6, "fejl_pct": 2.0,
    }  # fmt: skip
    assert before.within() == (1, 2)  # 101 at exactly 2.0 pct. counts; 147 at 25.0 does not
    text = kmf.kommune(result, 101).tekst
    assert (
        "Den endelige opgørelse for 2020 (pr. 10. oktober 2021) findes i data: afregningen for "
        "København blev 120,0 mio. kr., 20,0 mio. kr. eller 14,3 pct. under budgettet på 140,0 "
        "mio. kr. Prognosen pr. 10. juni 2020 var 25,0 pct. højere end den endelige afregning "
        "på 120,0 mio. kr.;"
    ) in text
    assert (
        "Sidste år ramte prognosen pr. 10. juni 2019 inden for 2 pct. af den endelige afregning "
        "for 1 af 2 kommuner. For hele landet var prognosen 14,5 pct. for høj, og for København "
        "var den 2,0 pct. for høj (i pct. af den endelige afregning)."
    ) in text


def test_an_undated_settlement_has_an_empty_date_column_of_dates(tmp_path: Path) -> None:
    # the boundary data (undated) with 2020 endelig of 1024 kr. per kommune: 101's forecast
    # a/2 = 768 is 100 · (768 − 1024) / 1024 = −25.0 pct. off
    truth = [
        {**row, "aar": T, "opgoerelse": "endelig", "takstaar": T, "kmf": 1024.0,
         "produktionsvaerdi": 2048.0}
        for row in _rows() if row["aar"] == T
    ]  # fmt: skip
    budget = [
        {"aar": T, "kommunekode": k, "kmf_budget_kr": float(k0)} for k, (_, k0) in CASES.items()
    ]
    result = kmf.run(write_dataset(tmp_path / "data", _rows() + truth, budget), aar=T)
    found = result.endelig
    assert found is not None
    assert (found.aar, found.dato, found.endelig_dato) == (T, None, None)
    dates = found.enheder["opgoerelsesdato"]
    # 8 kommuner, their 5 regions (tabel 2 above) and DK
    assert dates.dtype == pl.Date and dates.null_count() == dates.len() == 8 + 5 + 1
    assert found.unit("101")["fejl_pct"] == -25.0  # type: ignore[index]
