"""One kommune's report (SPEC §8): the contributions worked by hand and summing to B1 for
every kommune, the comparison group by its rule and as given, the text's numbers found in
the tables, and the files read back."""

from __future__ import annotations

import math
import re
import zipfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from typer.testing import CliRunner

import kmf
from kmf.cli import app
from kmf.compute.kommune_tables import CONTRIBUTION_COLUMNS, comparison_group, contributions
from kmf.report.text_population import ROUNDED_FIVE
from tests.factory import national_budget, plausible, random_rows, write_dataset
from tests.test_hand_worked import BUDGET, ROWS, T

ALL_CODES = pl.read_csv(Path(__file__).parent.parent / "kmf" / "data" / "kommuner.csv")[
    "kommunekode"
].to_list()


#: the sheets every kommune workbook has, first; the track, the history and the settlement
#: follow where the data have them
SHEETS = ["Overblik", "Bidrag", "Fordelinger"]


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> kmf.Result:
    return kmf.run(write_dataset(tmp_path_factory.mktemp("hand"), ROWS, BUDGET), aar=T)


@pytest.fixture(scope="module")
def sample() -> kmf.Result:
    return kmf.run(kmf.sample_dataset())


# --- contributions by hand: Aalborg of tests/test_hand_worked.py ----------------------------
#
# Forecast (×0.9): 0-2 P 90 K 36; 3-64 P 360 K 36; 65-79 P 540 K 162; ej 0.   P^f = 990.
# Budget (×2):     3-64 P 1000 K 100; 65-79 P 1000 K 200; ej P 200 K 80.    P^b = 2200, K^b 380.
# Shares: s^f = 0.4, 0.1, 0.3 and (ej, from the budget side) 0.4;
#         s^b = (0-2, from the forecast side) 0.4, 0.1, 0.2, 0.4.
PF, PB, KB = 990.0, 2200.0, 380.0
W_F = {"0-2": 90 / 990, "3-64": 360 / 990, "65-79": 540 / 990, "80+": 0, "ej_aldersdiff": 0}
W_B = {"0-2": 0, "3-64": 1000 / 2200, "65-79": 1000 / 2200, "80+": 0, "ej_aldersdiff": 2 / 22}
S_F = {"0-2": 0.4, "3-64": 0.1, "65-79": 0.3, "80+": 0, "ej_aldersdiff": 0.4}
S_B = {"0-2": 0.4, "3-64": 0.1, "65-79": 0.2, "80+": 0, "ej_aldersdiff": 0.4}
# SPEC §8 written out: A_a = (P^f − P^b) w^f s^f, B_a = P^f (w^f − w^b) s^f,
# C_a = P^f w^f (s^f − s^b)
AGE_HAND = {
    # 0-2:   A = −1210 · 90/990 · 0.4 = −44;  B = 990 · 90/990 · 0.4 = 36;  C = 0
    "0-2": (-44.0, 36.0, 0.0),
    # 3-64:  A = −1210 · 360/990 · 0.1 = −44;  B = (360 − 450) · 0.1 = −9;  C = 0
    "3-64": (-44.0, -9.0, 0.0),
    # 65-79: A = −1210 · 540/990 · 0.3 = −198;  B = (540 − 450) · 0.3 = 27;  C = 540 · 0.1 = 54
    "65-79": (-198.0, 27.0, 54.0),
    "80+": (0.0, 0.0, 0.0),
    # ej:    A = 0 (w^f = 0);  B = 990 · (0 − 0.0909…) · 0.4 = −36;  C = 0
    "ej_aldersdiff": (0.0, -36.0, 0.0),
}


def test_age_group_contributions_of_aalborg_by_hand(hand: kmf.Result) -> None:
    # the closed forms above agree with the factors written out
    for age, (a, b, c) in AGE_HAND.items():
        assert (PF - PB) * W_F[age] * S_F[age] == pytest.approx(a, abs=1e-9)
        assert PF * (W_F[age] - W_B[age]) * S_F[age] == pytest.approx(b, abs=1e-9)
        assert PF * W_F[age] * (S_F[age] - S_B[age]) == pytest.approx(c, abs=1e-9)
    report = kmf.kommune(hand, 851)
    rows = report.bidrag.filter(pl.col("metode") == "ministeriet")
    assert rows.height == 5
    for row in rows.iter_rows(named=True):
        a, b, c = AGE_HAND[row["aldersgruppe"]]
        assert row["sundhedsomraade"] is None
        assert row["aktivitetseffekt_kr"] == pytest.approx(a, abs=1e-9)
        assert row["aldersgruppeeffekt_kr"] == pytest.approx(b, abs=1e-9)
        assert row["sundhedsomraadeeffekt_kr"] == pytest.approx(c, abs=1e-9)
        assert row["aldersgruppeeffekt_pct"] == pytest.approx(100 * b / KB, abs=1e-9)
        assert row["omraademikseffekt_kr"] is None and row["andelseffekt_kr"] is None
    # they sum to A = −286, B = 18, C = 54 (tests/test_hand_worked.py)
    assert sum(v[0] for v in AGE_HAND.values()) == pytest.approx(-286)
    assert sum(v[1] for v in AGE_HAND.values()) == pytest.approx(18)
    assert sum(v[2] for v in AGE_HAND.values()) == pytest.approx(54)


def _log_mean(a: float, b: float) -> float:
    return (a - b) / (math.log(a) - math.log(b))


def test_cell_contributions_of_aalborg_by_hand(hand: kmf.Result) -> None:
    cells = {
        (r["aldersgruppe"], r["sundhedsomraade"]): r
        for r in kmf.kommune(hand, 851).bidrag.filter(pl.col("metode") == "lmdi").to_dicts()
    }
    assert len(cells) == 17
    # 65-79 somatik: factors P, w, v, r = (990, 540/990, 1, 0.3) → 162 and (2200, 1000/2200,
    # 1, 0.2) → 200; LMDI-I: effect = L(162, 200) · ln(x^f / x^b)
    weight = _log_mean(162, 200)
    row = cells[("65-79", "somatik")]
    assert row["aktivitetseffekt_kr"] == pytest.approx(weight * math.log(990 / 2200))
    assert row["aldersgruppeeffekt_kr"] == pytest.approx(
        weight * math.log((540 / 990) / (1000 / 2200))
    )
    assert row["omraademikseffekt_kr"] == pytest.approx(0, abs=1e-9)
    assert row["andelseffekt_kr"] == pytest.approx(weight * math.log(0.3 / 0.2))
    assert row["sundhedsomraadeeffekt_kr"] == pytest.approx(weight * math.log(0.3 / 0.2))
    # 0-2 somatik appears (0 → 36): only w is 0 in the budget, so B takes all of it
    row = cells[("0-2", "somatik")]
    assert row["aldersgruppeeffekt_kr"] == pytest.approx(36)
    assert row["aktivitetseffekt_kr"] == row["andelseffekt_kr"] == pytest.approx(0, abs=1e-12)
    # ej psykiatri vanishes (80 → 0): w is 0 in the forecast, so B takes −80
    assert cells[("ej_aldersdiff", "psykiatri")]["aldersgruppeeffekt_kr"] == pytest.approx(-80)
    # an empty cell contributes nothing
    assert cells[("80+", "somatik")]["aktivitetseffekt_kr"] == 0


def test_the_csv_has_the_columns_and_both_methods(hand: kmf.Result, tmp_path: Path) -> None:
    kmf.kommune(hand, "851").write(tmp_path / "ud")
    names = sorted(p.name for p in (tmp_path / "ud").iterdir())
    assert names == [
        "kommune_851.png", "kommune_851_2020.xlsx", "kommune_851_bidrag.csv",
        "notat_851_2020.docx", "sammenfatning.md",
    ]  # fmt: skip
    table = pl.read_csv(tmp_path / "ud" / "kommune_851_bidrag.csv")
    assert tuple(table.columns) == CONTRIBUTION_COLUMNS
    assert table["metode"].value_counts().sort("metode").rows() == [
        ("lmdi", 17),
        ("ministeriet", 5),
    ]
    # largest first within each method
    for method in ("ministeriet", "lmdi"):
        size = table.filter(pl.col("metode") == method).select(
            (
                pl.col("aktivitetseffekt_kr")
                + pl.col("aldersgruppeeffekt_kr")
                + pl.col("sundhedsomraadeeffekt_kr")
            ).abs()
        )
        assert size.to_series().to_list() == sorted(size.to_series().to_list(), reverse=True)


# --- the contributions sum to B1 for every kommune of any dataset ---------------------------


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kommuner=st.lists(st.sampled_from(ALL_CODES), min_size=2, max_size=8, unique=True),
    seed=st.integers(0, 10**6),
    empty=st.sampled_from([0.0, 0.3]),
)
def test_contributions_sum_to_b1_for_every_kommune(kommuner, seed, empty, tmp_path_factory):
    rows = random_rows(kommuner, 2019, seed, empty_share=empty)
    budget = national_budget(rows, 2019)  # one row per kommune: the data hold part of the land
    assume(plausible(rows, 2019, {r["kommunekode"]: r["kmf_budget_kr"] for r in budget
                                  if r["aar"] == 2019}))  # fmt: skip
    folder = write_dataset(tmp_path_factory.mktemp("prop"), rows, budget, "parquet")
    data = kmf.load(folder)
    sums = (
        contributions(kmf.run(data, metode="ministeriet").celler)
        .group_by("kommunekode", "metode")
        .agg(pl.col("^.*_kr$").sum())
        .with_columns(pl.col("kommunekode").cast(pl.String).alias("kode"))
    )
    for method, effects in (
        ("ministeriet", ("aktivitetseffekt", "aldersgruppeeffekt", "sundhedsomraadeeffekt")),
        ("lmdi", ("aktivitetseffekt", "aldersgruppeeffekt", "omraademikseffekt", "andelseffekt")),
    ):
        b1 = kmf.run(data, metode=method).b1.filter(pl.col("niveau") == "kommune")
        joined = b1.join(sums.filter(pl.col("metode") == method), on="kode", suffix="_sum")
        assert joined.height == len(kommuner)
        for effect in (*effects, "sundhedsomraadeeffekt"):
            gap = (joined[f"{effect}_kr"] - joined[f"{effect}_kr_sum"]).abs()
            assert (gap <= 1e-9 * joined["kmf_budget_kr"]).all(), (method, effect)


# --- the comparison group ------------------------------------------------------------------


def test_the_group_is_the_ten_nearest_in_budget(sample: kmf.Result) -> None:
    kommuner = sample.b1.filter(pl.col("niveau") == "kommune")
    budget = dict(zip(kommuner["kode"].cast(pl.Int64), kommuner["kmf_budget_kr"], strict=True))
    own = budget[851]
    expected = sorted(
        (k for k in budget if k != 851), key=lambda k: (abs(math.log(budget[k] / own)), k)
    )[:10]
    report = kmf.kommune(sample, 851)
    assert report.sammenligning == tuple(expected)
    members = report.overblik.filter(pl.col("niveau") == "kommune")["kode"].to_list()
    assert sorted(int(k) for k in members) == sorted([851, *expected])
    group = report.overblik.filter(pl.col("niveau") == "sammenligningsgruppe").row(0, named=True)
    assert group["aendring_kr"] == pytest.approx(
        sum(kommuner.filter(pl.col("kode") == str(k))["aendring_kr"][0] for k in expected)
    )
    total_budget = sum(budget[k] for k in expected)
    assert group["kmf_budget_kr"] == pytest.approx(total_budget)
    assert group["aendring_pct"] == pytest.approx(100 * group["aendring_kr"] / total_budget)


def test_the_rank_counts_the_kommuner_with_a_larger_change(sample: kmf.Result) -> None:
    kommuner = sample.b1.filter(pl.col("niveau") == "kommune").to_dicts()
    report = kmf.kommune(sample, 851)
    for row in report.overblik.filter(pl.col("niveau") == "kommune").to_dicts():
        own = (row["aendring_pct"], -int(row["kode"]))
        larger = sum(1 for k in kommuner if (k["aendring_pct"], -int(k["kode"])) > own)
        assert row["rang"] == 1 + larger
    assert report.tabeller.antal_kommuner == 98
    assert report.overblik.filter(pl.col("niveau") != "kommune")["rang"].null_count() == 3


def test_ties_in_distance_go_by_kode() -> None:
    # 200 and 50 are equally far from 100 on the log scale: the lower kode first
    b1 = pl.DataFrame(
        {"niveau": ["kommune"] * 4, "kode": ["101", "860", "147", "851"],
         "kmf_budget_kr": [100.0, 200.0, 50.0, 1000.0]}
    )  # fmt: skip
    assert comparison_group(b1, 101, size=2) == (147, 860)
    assert comparison_group(b1, 101, size=3) == (147, 860, 851)


def test_budget_distances_equal_to_ten_decimals_are_a_tie_by_kode() -> None:
    """From 101 (400 mio. kr.): 147 (800 mio.) lies ln 2 = 0,69314718055994… away, 151
    (200 mio. + 0,0015 kr.) ln 2 − ln(1 + 7,5·10⁻¹²) = 0,69314718055244… : equal to 10
    decimals, so a tie, and the lower kode comes first, though 151 is nearer in the 11th."""
    far, near = math.log(2), math.log(2) - math.log1p(0.0015 / 200_000_000)
    assert round(far, 10) == round(near, 10) == 0.6931471806
    assert far - near == pytest.approx(7.5e-12, abs=1e-14)
    b1 = pl.DataFrame(
        {"niveau": ["kommune"] * 3, "kode": ["101", "151", "147"],
         "kmf_budget_kr": [400_000_000.0, 200_000_000.0015, 800_000_000.0]}
    )  # fmt: skip
    assert comparison_group(b1, 101, size=1) == (147,)
    assert comparison_group(b1, 101) == (147, 151)


def test_a_given_group_is_used_and_unknown_codes_are_refused(sample: kmf.Result) -> None:
    report = kmf.kommune(sample, 851, sammenlign="751,461, 851,101")
    assert report.sammenligning == (751, 461, 101)  # the kommune itself is not its own peer
    with pytest.raises(kmf.DataError, match=r"--sammenlign: kommune\(r\) 9999 er ikke i"):
        kmf.kommune(sample, 851, sammenlign=[751, 9999])
    with pytest.raises(kmf.DataError, match="er ikke en kommunekode"):
        kmf.kommune(sample, 9999)


def test_a_kommune_outside_the_data_is_told_from_a_code_of_no_kommune(hand: kmf.Result) -> None:
    """147 Frederiksberg is one of the 98 kommuner but not in the hand-worked data (101
    København and 851 Aalborg): "not in the data"; 9999 is no kommunekode at all. Both name
    the data's 2 kommuner and the lowest of them, 101."""
    for code, said, not_said in (
        (147, "Kommune 147 Frederiksberg er ikke i datasættet. ", "ikke en kommunekode"),
        (9999, "Kommune 9999 er ikke en kommunekode. ", "ikke i datasættet"),
    ):
        with pytest.raises(kmf.DataError) as caught:
            kmf.kommune(hand, code)
        message = str(caught.value)
        assert message.startswith(said)
        assert not_said not in message
        assert "Brug en af datasættets 2 kommunekoder, fx 101 " in message


def test_every_row_of_the_overview_has_its_own_kode(hand: kmf.Result) -> None:
    """Aalborg (851, Region Nordjylland 1081) with 101 København as its chosen group: the
    rows are the kommune, its region, Hele landet (DK), the member and the group's sum, and
    each has a kode of its own, the sum's "GRUPPE"; a group of one sums to its member."""
    o = kmf.kommune(hand, 851, sammenlign=[101]).overblik
    assert o["niveau"].to_list() == [
        "kommune", "region", "land", "kommune", "sammenligningsgruppe"
    ]  # fmt: skip
    assert o["kode"].to_list() == ["851", "1081", "DK", "101", "GRUPPE"]
    member, total = o.row(3, named=True), o.row(4, named=True)
    assert total["navn"] == "Sammenligningsgruppen (1 kommuner)"
    assert total["region"] is None
    assert total["kmf_budget_kr"] == pytest.approx(member["kmf_budget_kr"])
    assert total["aendring_kr"] == pytest.approx(member["aendring_kr"])


# the first kommuner of kmf/data/kommuner.csv after København: none is in the hand-worked data
# (101 København and 851 Aalborg)
NOT_IN_HAND = [
    (147, "Frederiksberg"), (151, "Ballerup"), (153, "Brøndby"), (155, "Dragør"),
    (157, "Gentofte"), (159, "Gladsaxe"), (161, "Glostrup"), (163, "Herlev"),
    (165, "Albertslund"), (167, "Hvidovre"), (169, "Høje-Taastrup"),
]  # fmt: skip


@pytest.mark.parametrize("unknown", [10, 11])
def test_the_refusal_of_unknown_comparison_codes_names_the_first_ten(
    hand: kmf.Result, unknown: int
) -> None:
    """Ten codes not in the data are all named, in the order given; of eleven, the first ten
    (the eleventh, 169 Høje-Taastrup, is left out). 101, in the data, is never named."""
    given = NOT_IN_HAND[:unknown]
    with pytest.raises(kmf.DataError) as caught:
        kmf.kommune(hand, 851, sammenlign=[101, *(k for k, _ in given)])
    named = ", ".join(f"{k} {name}" for k, name in given[:10])
    assert str(caught.value) == (
        f"--sammenlign: kommune(r) {named} er ikke i datasættet. Brug kommunekoder fra "
        "datasættet (2 kommuner, fx 101)."
    )
    assert "Høje-Taastrup" not in str(caught.value)


@pytest.mark.parametrize(
    ("sammenlign", "shown"),
    [
        ("751, x1,4.5", "'x1', '4.5'"),  # only the codes that are not whole numbers
        (" , ,", "ingen koder"),  # nothing between the commas
        ("a,b,c,d,e,f,751", "'a', 'b', 'c', 'd', 'e'"),  # the first five of six
    ],
)
def test_comparison_codes_that_are_not_whole_numbers_are_refused(
    hand: kmf.Result, sammenlign: str, shown: str
) -> None:
    with pytest.raises(kmf.DataError) as caught:
        kmf.kommune(hand, 851, sammenlign=sammenlign)
    assert str(caught.value) == (
        "--sammenlign skal være kommunekoder (hele tal) adskilt af komma, fx 851,860,773 "
        f"(fik {shown})."
    )
    with pytest.raises(kmf.DataError) as caught:
        kmf.kommune(hand, "85l")
    assert str(caught.value) == (
        "kommunekoden skal være kommunekoder (hele tal) adskilt af komma, fx 851,860,773 "
        "(fik '85l')."
    )


def test_a_kommune_alone_has_no_group(tmp_path: Path) -> None:
    rows = random_rows([851], 2019, 3)
    alone = kmf.run(write_dataset(tmp_path / "d", rows, national_budget(rows, 2019)))
    report = kmf.kommune(alone, 851)
    assert report.sammenligning == ()
    assert report.overblik["niveau"].to_list() == ["kommune", "region", "land"]
    # one kommune of 98: no rank, no comparison with a sum of itself, said once
    assert "af de 98 kommuner" in report.tekst and "Sammenligningsgruppen" not in report.tekst
    assert len(report.write(tmp_path / "ud")) == 5  # with the notat


def test_part_of_the_country_has_no_rank_in_an_integer_column(
    hand: kmf.Result, sample: kmf.Result
) -> None:
    """The hand-worked data hold 2 of the 98 kommuner: no row has a rank, and ``rang`` is
    the same integer column (of nulls) as in the report on the whole country."""
    part = kmf.kommune(hand, 851).overblik
    assert part["niveau"].to_list() == ["kommune", "region", "land"]
    assert part["rang"].dtype == pl.Int64
    assert part["rang"].to_list() == [None, None, None]
    assert kmf.kommune(sample, 851).overblik.schema["rang"] == pl.Int64


def test_the_cli_writes_the_report_and_refuses_unknown_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(app, ["kommune", "851", "--sammenlign", "751,461", "--out",
                               str(tmp_path / "a")])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert (tmp_path / "a" / "kommune_851_2018.xlsx").is_file()
    assert "Sammenligningsgruppen er de valgte kommuner: Odense og Aarhus." in done.stdout
    refused = runner.invoke(app, ["kommune", "851", "--sammenlign", "751,4242", "--out",
                                  str(tmp_path / "b")])  # fmt: skip
    assert refused.exit_code == 2
    assert "Fejl: --sammenlign: kommune(r) 4242 er ikke i datasættet" in refused.stderr
    assert not (tmp_path / "b").exists()
    unknown = runner.invoke(app, ["kommune", "999", "--out", str(tmp_path / "c")])
    assert unknown.exit_code == 2
    assert "Fejl: Kommune 999 er ikke en kommunekode" in unknown.stderr


# --- the text: every number is a number of the tables --------------------------------------

LABELS = re.compile(r"0-2 årige|3-64 årige|65-79 årige|80\+ årige|\(C[12]\)")
NUMBER = re.compile(r"(?<![\w,.])-?\d{1,3}(?:\.\d{3})*(?:,\d+)?(?![\w])")


def _shown(frames: list[pl.DataFrame], integers: set[int]) -> set[str]:
    """Every value of the frames as the text shows it: pct. with one decimal, kr. in mio. kr.
    with one decimal, without sign; and the whole numbers given."""
    out = {str(i) for i in integers}
    for frame in frames:
        for name, dtype in frame.schema.items():
            if not dtype.is_float():
                continue
            scale = 1e6 if name.endswith("_kr") else 1.0
            for v in frame[name].drop_nulls().to_list():
                out.add(
                    f"{abs(v) / scale:,.1f}".replace(",", "_").replace(".", ",").replace("_", ".")
                )
    return out


def _population_shown(befolkning: pl.DataFrame | None, borger: pl.DataFrame | None,
                      aar: int) -> set[str]:  # fmt: skip
    """The citizens' numbers as the texts show them (SPEC §9): pct.-point and indeks with one
    decimal, persons and kr. per indbygger whole with thousands dots, the indeks' distance
    from 100 as shown, the ranks; and 100 (hele landet = 100), 1 (nr. 1) and T−2."""
    if befolkning is None or borger is None:
        return set()

    def whole(v: float) -> str:
        return f"{round(v):,}".replace(",", ".")

    pct = befolkning.select(pl.col("^.*_pct$"))
    out = _shown([pct, borger.select("indeks")], {100, 1, aar - 2})
    for column in ("indbyggere_budget", "indbyggere_prognose"):
        out |= {whole(v) for v in befolkning[column].to_list()}
    out |= {whole(v) for v in borger["kmf_pr_indbygger_kr"].to_list()}
    out |= {f"{abs(round(v, 1) - 100):.1f}".replace(".", ",") for v in borger["indeks"]}
    for column in ("rang", "antal_kommuner"):
        if column in borger.columns:
            out |= {str(v) for v in borger[column].drop_nulls().to_list()}
    return out


def _numbers(text: str) -> list[str]:
    return [n.lstrip("-") for n in NUMBER.findall(LABELS.sub("", text))]


# a word that gives the direction, then the number without its sign; or the number, then
# the word ("2,2 pct. over budgettet", "mellem 2,8 og 12,7 pct.-point negativt")
SIGN_WORDS = {"positivt": 1, "steget": 1, "stigning": 1, "stiger": 1, "over": 1,
              "negativt": -1, "faldet": -1, "fald": -1, "falder": -1, "under": -1}  # fmt: skip
_VALUE = r"(\d{1,3}(?:\.\d{3})*,\d)"
WORD_FIRST = re.compile(rf"\b({'|'.join(SIGN_WORDS)})(?: bidrag)? (?:med|på) {_VALUE}")
WORD_AFTER = re.compile(rf"{_VALUE} (?:mio\. kr\.|pct\.(?:-point)?) ({'|'.join(SIGN_WORDS)})\b")


def _signs(frames: list[pl.DataFrame]) -> dict[str, set[int]]:
    """Every non-zero value of the frames as the text shows it, with the signs it has."""
    out: dict[str, set[int]] = {}
    for frame in frames:
        for name, dtype in frame.schema.items():
            if dtype.is_float():
                scale = 1e6 if name.endswith("_kr") else 1.0
                for v in frame[name].drop_nulls().to_list():
                    shown = f"{abs(v) / scale:,.1f}".replace(",", "_").replace(".", ",")
                    out.setdefault(shown.replace("_", "."), set()).add(1 if v > 0 else -1)
    return out


def check_signs(text: str, frames: list[pl.DataFrame]) -> int:
    """No signed number after a word that gives the direction, and the word agrees with the
    sign of a table value shown so. Returns how many numbers had their direction checked."""
    assert re.search(r"\b(negativt|positivt) (med|på) -", text) is None, text
    assert re.search(r"bidrag på -", text) is None, text
    # a signed number only where the sentence says what the minus means
    for line in text.splitlines():
        if re.search(r"(?<![\w,.])-\d", line):
            assert "(minus er et negativt bidrag)" in line, line
    signs = _signs(frames)
    found = [(w, n) for w, n in WORD_FIRST.findall(text)]
    found += [(w, n) for n, w in WORD_AFTER.findall(text)]
    wrong = [(w, n) for w, n in found if SIGN_WORDS[w] not in signs.get(n, set())]
    assert wrong == [], text
    return len(found)


@pytest.mark.parametrize(
    ("kode", "metode"), [(851, "ministeriet"), (101, "lmdi"), (825, "alle"), (147, "shapley")]
)
def _checked_text(text: str) -> str:
    """The text without its sums (their numbers are checked to add up in
    tests/test_text_sums.py: a rest is the shown total less the shown parts), without the
    citizens' rounding (the same file) and without its closing source lines."""
    kept = []
    for line in text.splitlines():
        if line.startswith(("Kilde:", "Anm.:")):
            continue
        sentences = re.split(r"(?<=\.)\s+(?=[A-ZÆØÅ])", line)
        kept.append(" ".join(s for s in sentences if " i alt " not in s
                             and not s.startswith(ROUNDED_FIVE)))  # fmt: skip
    return "\n".join(kept)


def _settled(sample: kmf.Result, kode: str) -> list[pl.DataFrame]:
    """The final settlement's and last year's tables, and the settlement's difference from
    the budget (kr. and pct. of the budget)."""
    frames = [s.enheder for s in (sample.endelig, sample.sidste_aar) if s is not None]
    if sample.endelig is not None:
        row = sample.endelig.unit(kode)
        budget = sample.b1.filter(pl.col("kode") == kode)["kmf_budget_kr"][0]
        assert row is not None
        diff = row["kmf_endelig_kr"] - budget
        frames.append(pl.DataFrame({"forskel_kr": [diff], "forskel_pct": [100 * diff / budget]}))
    return frames


@pytest.mark.parametrize(
    ("kode", "metode"), [(851, "ministeriet"), (101, "lmdi"), (825, "alle"), (147, "shapley")]
)
def test_every_number_in_the_kommune_text_is_a_table_value(kode: int, metode: str) -> None:
    data = kmf.load(kmf.sample_dataset())
    sample = kmf.run(data, metode=metode)
    report = kmf.kommune(sample, kode, prognosespor=kmf.spor(data, metode=metode))
    t = report.tabeller
    assert t.prognosespor is not None and sample.dato is not None
    assert sample.sidste_aar is not None
    # the sheet "Prognosespor" shows the change of each unit and the kommune's effects and
    # error; the text names the dates in words (day and year are its only other numbers)
    track = t.prognosespor.select(pl.col("^.*_pct$"), pl.col("^kmf_endelig_kr$"))
    days = [*t.prognosespor["opgoerelsesdato"].to_list(), sample.dato]
    hits, every = sample.sidste_aar.within()
    settled = _settled(sample, str(kode))
    shown = _shown(
        [t.overblik, t.bidrag, t.fordelinger, track, *settled],
        {sample.aar, sample.aar - 1, t.antal_kommuner, t.rang, len(t.sammenligning), hits, every, 2}
        | {d.day for d in days}
        | {d.year for d in days},
    ) | {"0,05"}
    shown |= _population_shown(t.befolkning, t.borger, sample.aar)
    text = _checked_text(report.tekst)
    numbers = _numbers(text)
    assert len(numbers) >= 25
    assert [n for n in numbers if n not in shown] == []
    assert check_signs(text, [t.overblik, t.bidrag, t.fordelinger, track, *settled]) >= 8
    if kode == 851:  # B of 65-79 årige (24,0 mio. kr.) is offset by 3-64 årige (sample data)
        assert (
            "Aldersgruppeeffekten på i alt +8,4 mio. kr. fordeler sig på aldersgrupperne med "
            "+24,0 mio. kr. for de 65-79 årige, -14,1 mio. kr. for de 3-64 årige"
        ) in report.tekst
    assert "## Prognosen gennem året" in report.tekst
    assert "kan holdes op mod den faktiske afregning" in report.tekst


def test_every_number_in_the_national_text_is_a_table_value(tmp_path: Path) -> None:
    result = kmf.run(kmf.sample_dataset(), metode="lmdi")
    result.write(tmp_path / "ud")
    text = (tmp_path / "ud" / "sammenfatning.md").read_text(encoding="utf-8")
    counts = result.tabel(3).drop("niveau", "kode", "navn", "region")
    assert result.dato is not None  # the text names the forecast date: its day and year
    integers = {result.aar, result.dato.day, *(v for row in counts.rows() for v in row)}
    tables = [result.b1, *_settled(result, "DK")]
    assert result.sidste_aar is not None
    hits, every = result.sidste_aar.within()
    tabel_2 = result.tabel(2).drop("niveau", "kode", "navn", "region")
    integers |= {result.aar - 1, hits, every, 2, 3, 10, *(v for r in tabel_2.rows() for v in r)}
    text = _checked_text(text)
    numbers = _numbers(text)
    assert len(numbers) >= 20
    shown = _shown(tables, integers) | {"0,05"}
    shown |= _population_shown(result.befolkning, result.borger, result.aar)
    assert [n for n in numbers if n not in shown] == []
    assert check_signs(text, tables) >= 5
    assert "mio. kr. (prognosen pr. 10. september 2018) mod" in text
    sheet = load_workbook(tmp_path / "ud" / "kmf_dekomponering_2018.xlsx")["Sammenfatning"]
    assert sheet["A1"].value == text.splitlines()[0].removeprefix("# ")


def test_the_national_text_names_no_increase_where_all_fall(hand: kmf.Result) -> None:
    from kmf.report.text_national import national_markdown

    # both kommuner fall (−35,6 and −38,4 pct.): tests/test_hand_worked.py
    text = national_markdown(hand)
    assert "stigning" not in text and "stige i" not in text
    # the largest fall first; the regions named with how many of their kommuner the data hold
    assert "falde i Region Nordjylland (1 af 11 kommuner; 38,4 pct.) og Region " in text
    assert "Prognosen ligger dermed 36,4 pct. under budgettet." in text
    # 2 of 98 kommuner: the largest changes (a ranking) are left out, and that is said
    assert "Det største fald" not in text and "Data har 2 af de 98 kommuner" in text


# --- the workbook ---------------------------------------------------------------------------


def _frame_like_b1(sample: kmf.Result, key: str, keys: list) -> pl.DataFrame:
    """A track or history of the shape kmf.spor / kmf.historik give: ``key`` + B1."""
    return pl.concat(
        sample.b1.with_columns(
            pl.lit(k).alias(key), (pl.col("aendring_pct") + i).alias("aendring_pct")
        ).select(key, *sample.b1.columns)
        for i, k in enumerate(keys)
    )


def test_the_workbook_has_its_sheets_charts_and_no_formulas(
    sample: kmf.Result, tmp_path: Path
) -> None:
    titled = replace(sample, titel='=HYPERLINK("http://x","klik")')
    report = kmf.kommune(titled, 851)
    report.write(tmp_path / "a")
    wb = load_workbook(tmp_path / "a" / "kommune_851_2018.xlsx")
    # the sample has 2018's endelig: the settlement's sheet is there
    assert wb.sheetnames == [*SHEETS, "Afregning"]
    assert len(wb["Overblik"]._charts) == 1 and len(wb["Bidrag"]._charts) == 1
    assert wb["Overblik"]["A1"].value == report.tekst.splitlines()[0].removeprefix("# ")
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert '=HYPERLINK("http://x","klik")' in [c.value for c in cells]
    # the rows: kommune, region, land, ten peers, the group's sum; nobody else is named
    names = {c.value for c in cells if c.column == 1 and isinstance(c.value, str)}
    others = set(sample.b1.filter(pl.col("niveau") == "kommune")["navn"]) - {
        r["navn"] for r in report.overblik.to_dicts()
    }
    assert names.isdisjoint(others)

    track = _frame_like_b1(sample, "opgoerelsesdato", ["2018-05-10", "2018-09-10"])
    history = _frame_like_b1(sample, "aar", [2016, 2017, 2018])
    with_time = kmf.kommune(sample, 851, prognosespor=track, historik=history)
    with_time.write(tmp_path / "b")
    wb = load_workbook(tmp_path / "b" / "kommune_851_2018.xlsx")
    assert wb.sheetnames == [*SHEETS, "Prognosespor", "Historik", "Afregning"]
    spor = wb["Prognosespor"]
    dates = [spor.cell(row=r, column=1).value for r in (5, 6)]
    assert dates == [datetime(2018, 5, 10), datetime(2018, 9, 10)]  # real date cells
    own = sample.b1.filter(pl.col("kode") == "851")["aendring_pct"][0]
    assert spor.cell(row=6, column=2).value == pytest.approx(own + 1)
    assert wb["Historik"].cell(row=7, column=1).value == "2018"
    assert len(wb["Historik"]._charts) == 1
    # every value axis has its own number format, not the cells' (whose negatives are red)
    with zipfile.ZipFile(tmp_path / "b" / "kommune_851_2018.xlsx") as book:
        charts = [book.read(n).decode() for n in book.namelist() if n.startswith("xl/charts/")]
    axes = [a for c in charts for a in re.findall(r"<valAx>.*?</valAx>", c)]
    assert len(charts) == 6 and len(axes) == 6
    formats = [re.search(r'<numFmt formatCode="([^"]*)" sourceLinked="0"', a) for a in axes]
    assert all(f is not None and "Red" not in f[1] for f in formats), axes


def test_directions_are_words_and_a_mixed_range_says_what_minus_means() -> None:
    from kmf.report.text import _against, _change
    from kmf.report.text_national import _range

    def regions(values: list[float]) -> pl.DataFrame:
        names = [f"Region {n}" for n in ("A", "B", "C")[: len(values)]]
        return pl.DataFrame({"navn": names, "aktivitetseffekt_pct": values})

    # all regions negative: unsigned, smallest first, and the region where it is largest
    assert _range(regions([-2.84, -12.71, -5.0]), "aktivitetseffekt") == (
        "; i regionerne ligger bidraget mellem 2,8 og 12,7 pct.-point, størst i Region B"
    )
    assert _range(regions([1.46, 2.1]), "aktivitetseffekt") == (
        "; i regionerne ligger bidraget mellem 1,5 og 2,1 pct.-point, størst i Region B"
    )
    # signs differ across regions: signed, each end with its region
    assert _range(regions([-1.24, 3.36]), "aktivitetseffekt") == (
        "; i regionerne går bidraget fra -1,2 pct.-point i Region A til +3,4 pct.-point i "
        "Region B (minus er et negativt bidrag)"
    )
    assert _range(regions([2.0]), "aktivitetseffekt") == ""
    assert _against(-4.91) == "mod et negativt bidrag på 4,9 pct.-point for hele landet under ét"
    assert _against(0.04).startswith("mod stort set intet bidrag (0,0 pct.-point)")
    assert _change(-0.94) == "et fald på 0,9 pct."
    assert _change(-0.04) == "stort set ingen ændring (0,0 pct.)"


def test_a_change_under_a_tenth_of_a_million_is_given_in_pct_only(sample: kmf.Result) -> None:
    # Læsø's budget is 9,6 mio. kr.; its change rounds to 0,0 mio. kr. but not to 0,0 pct.
    own = sample.b1.filter(pl.col("kode") == "825").row(0, named=True)
    assert abs(own["aendring_kr"]) < 5e4 and abs(own["aendring_pct"]) >= 0.05
    text = kmf.kommune(sample, 825).tekst
    assert "0,0 mio. kr." not in text
    assert f"Prognosen ligger dermed {abs(own['aendring_pct']):.1f}".replace(".", ",") in text


# --- the report's own tables: order, cells, distributions, how the group was chosen ---------


def test_the_contributions_come_ministeriet_first_then_lmdi_each_largest_first(
    hand: kmf.Result,
) -> None:
    """Aalborg by hand. ``ministeriet``, |A + B + C| per age group (AGE_HAND): 65-79
    |−198 + 27 + 54| = 117, 3-64 |−44 − 9| = 53, ej |−36| = 36, 0-2 |−44 + 36| = 8, 80+ 0.
    ``lmdi``: the four effects of a cell sum to its change |K^f − K^b|: ej psykiatri
    |0 − 80| = 80, 3-64 almen praksis |36 − 100| = 64, 65-79 somatik |162 − 200| = 38,
    0-2 somatik |36 − 0| = 36; the 13 empty cells (0) follow by age group, then area."""
    rows = kmf.kommune(hand, 851).bidrag.select("metode", "aldersgruppe", "sundhedsomraade")
    ministeriet = [
        ("ministeriet", a, None) for a in ("65-79", "3-64", "ej_aldersdiff", "0-2", "80+")
    ]
    moved = [("ej_aldersdiff", "psykiatri"), ("3-64", "almen_praksis"), ("65-79", "somatik"),
             ("0-2", "somatik")]  # fmt: skip
    empty = [
        (age, area)
        for age, areas in (
            ("0-2", ("speciallaege", "almen_praksis", "oevrig_primaer")),
            ("3-64", ("somatik", "speciallaege", "oevrig_primaer")),
            ("65-79", ("speciallaege", "almen_praksis", "oevrig_primaer")),
            ("80+", ("somatik", "speciallaege", "almen_praksis", "oevrig_primaer")),
        )
        for area in areas
    ]
    lmdi = [("lmdi", age, area) for age, area in (*moved, *empty)]
    assert rows.rows() == ministeriet + lmdi


def test_the_report_holds_the_kommunes_own_cells(hand: kmf.Result) -> None:
    """Aalborg's 17 cells (tests/test_hand_worked.py): forecast ×0.9 (f = 450/500), budget ×2
    (g = 380/190); the other 12 cells are 0 on both sides."""
    cells = kmf.kommune(hand, 851).tabeller.celler
    assert cells is not None and cells.height == 17
    assert cells["kommunekode"].cast(pl.Int64).unique().to_list() == [851]
    moved = {
        # (age, area): (P^f, K^f, P^b, K^b)
        ("0-2", "somatik"): (0.9 * 100, 0.9 * 40, 0.0, 0.0),
        ("3-64", "almen_praksis"): (0.9 * 400, 0.9 * 40, 2 * 500, 2 * 50),
        ("65-79", "somatik"): (0.9 * 600, 0.9 * 180, 2 * 500, 2 * 100),
        ("ej_aldersdiff", "psykiatri"): (0.0, 0.0, 2 * 100, 2 * 40),
    }
    for row in cells.iter_rows(named=True):
        key = (str(row["aldersgruppe"]), str(row["sundhedsomraade"]))
        got = (row["produktionsvaerdi_prognose_kr"], row["kmf_prognose_kr"],
               row["produktionsvaerdi_budget_kr"], row["kmf_budget_kr"])  # fmt: skip
        assert got == pytest.approx(moved.get(key, (0.0, 0.0, 0.0, 0.0)), abs=1e-9), key


def test_the_history_holds_the_kommune_its_region_and_the_land(hand: kmf.Result) -> None:
    """A history of two budget years (B1 of the hand data, aendring_pct + 0 and + 1): Aalborg's
    sheet "Historik" has, for each year, Hele landet, Region Nordjylland (1081) and Aalborg,
    not København (101) nor Region Hovedstaden (1084). Aalborg's change is
    100 · (234 − 380) / 380 (K^f = 36 + 36 + 162 = 234, K^b = 380), + 1 in the second year."""
    history = _frame_like_b1(hand, "aar", [2019, 2020])
    t = kmf.kommune(hand, 851, historik=history).tabeller
    assert t.historik is not None
    assert t.historik["aar"].to_list() == [2019] * 3 + [2020] * 3
    assert t.historik["niveau"].to_list() == ["land", "region", "kommune"] * 2
    assert t.historik["kode"].to_list() == ["DK", "1081", "851"] * 2
    own = t.historik.filter(pl.col("kode") == "851")["aendring_pct"].to_list()
    change = 100 * (234 - 380) / 380
    assert own == pytest.approx([change, change + 1], abs=1e-9)


def test_the_distributions_stand_beside_the_region_and_the_land(sample: kmf.Result) -> None:
    """Aalborg (851, neither the first kommune of the tables nor of Region Nordjylland): each
    column of "Fordelinger" is B2, B3 and B4's row of the kommune, its region and Hele landet."""
    table = kmf.kommune(sample, 851).fordelinger
    for name, source in (("B2", sample.b2), ("B3", sample.b3), ("B4", sample.b4)):
        part = table.filter(pl.col("tabel") == name)
        for column, niveau, kode in (("kommune", "kommune", "851"), ("region", "region", "1081"),
                                     ("hele_landet", "land", "DK")):  # fmt: skip
            row = source.filter((pl.col("niveau") == niveau) & (pl.col("kode") == kode))
            assert row.height == 1
            expected = [row[k][0] for k in part["kategori"]]
            assert part[column].to_list() == pytest.approx(expected, abs=1e-12), (name, column)


def test_the_distributions_name_their_table_and_category(hand: kmf.Result) -> None:
    """Aalborg's column of "Fordelinger" (the weights and shares at the top of this file):
    B2, B3 and B4 in turn, each in the order of its codes (SPEC §2). SPEC §6: B2 =
    100·(w^f − w^b); B3 = 100·(s^f − s^b), empty where P_a = 0 on either side."""
    table = kmf.kommune(hand, 851).fordelinger
    ages = ["0-2", "3-64", "65-79", "80+", "ej_aldersdiff"]
    areas = ["somatik", "psykiatri", "speciallaege", "almen_praksis", "oevrig_primaer"]
    assert table["tabel"].to_list() == ["B2"] * 5 + ["B3"] * 5 + ["B4"] * 5
    assert table["kategori"].to_list() == ages + ages + areas
    b2 = table.filter(pl.col("tabel") == "B2")["kommune"].to_list()
    # 0-2: 100·(90/990 − 0) = 100/11; 3-64: 100·(360/990 − 1000/2200) = 100·(4/11 − 5/11);
    # 65-79: 100·(540/990 − 1000/2200) = 100·(6/11 − 5/11); 80+: 0; ej: 100·(0 − 200/2200)
    assert b2 == pytest.approx([100 / 11, -100 / 11, 100 / 11, 0.0, -100 / 11], abs=1e-9)
    b3 = table.filter(pl.col("tabel") == "B3")["kommune"].to_list()
    # 0-2: P^b = 0, 80+: P = 0 on both sides, ej: P^f = 0: empty;
    # 3-64: 100·(36/360 − 100/1000) = 0; 65-79: 100·(162/540 − 200/1000) = 10
    assert (b3[0], b3[3], b3[4]) == (None, None, None)
    assert b3[1:3] == pytest.approx([0.0, 10.0], abs=1e-9)


def test_the_report_says_how_the_group_was_chosen(sample: kmf.Result) -> None:
    nearest = kmf.kommune(sample, 851)
    assert (nearest.tabeller.gruppe, nearest.tabeller.valgt) == ("budget", False)
    assert "Sammenligningsgruppen er de 10 kommuner, hvis budget ligger nærmest Aalborgs: " in (
        nearest.tekst
    )
    chosen = kmf.kommune(sample, 851, sammenlign="751,461")
    assert (chosen.tabeller.gruppe, chosen.tabeller.valgt) == ("valgt", True)
    assert "Sammenligningsgruppen er de valgte kommuner: Odense og Aarhus." in chosen.tekst
    alike = kmf.kommune(sample, 851, sammenlign="demografi")
    assert (alike.tabeller.gruppe, alike.tabeller.valgt) == ("demografi", False)
    assert (
        "Sammenligningsgruppen er de 10 kommuner, der ligner Aalborg mest i antal indbyggere "
        "og andel 65+ årige: "
    ) in alike.tekst


def test_the_kommune_workbook_holds_the_settlement_numbers_of_its_text(
    sample: kmf.Result, tmp_path: Path
) -> None:
    report = kmf.kommune(sample, 851)
    report.write(tmp_path / "k")
    ws = load_workbook(tmp_path / "k" / "kommune_851_2018.xlsx")["Afregning"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    own = [r for r in rows if r[0] == "Aalborg"]
    assert len(own) == 2  # this year's settlement, and last year's forecast
    budget, forecast, final, over, over_pct, error = own[0][1:7]
    assert over == pytest.approx(final - budget) and over_pct == pytest.approx(
        100 * (final - budget) / budget
    )
    assert error == pytest.approx(100 * (forecast - final) / final)

    def mio(value: float) -> str:
        return f"{value / 1e6:,.1f}".replace(",", "_").replace(".", ",").replace("_", ".")

    # the text's numbers, as the sheet shows them: 743,3 mio. kr., 11,8 mio. kr. or 1,6 pct.
    text = report.tekst.replace("\n", " ")
    assert f"afregningen for Aalborg blev {mio(final)} mio. kr., {mio(abs(over))} mio. kr." in text
    last_error = own[1][3]
    said = "lav" if last_error < 0 else "høj"
    assert (
        f"for Aalborg var den {abs(last_error):.1f}".replace(".", ",") + f" pct. for {said}" in text
    )
    # the note counts the kommuner within 2 pct. of last year's endelig, as the text does
    assert sample.sidste_aar is not None
    errors = sample.sidste_aar.enheder.filter(pl.col("niveau") == "kommune")["fejl_pct"]
    hits = int((errors.abs() <= 2).sum())
    assert any(isinstance(r[0], str) and f"for {hits} af 98 kommuner." in r[0] for r in rows)
    assert f"for {hits} af 98 kommuner" in text
