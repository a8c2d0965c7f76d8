"""Input the forecast and budget cells cannot use (SPEC §4.1–4.2, §6): a budget of 0 or below,
an age group with KMF but no production value, activity without any rows. Each message
names the file or cut, the rows and the amounts; every expected number is worked out here by
hand from the rows below.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import kmf
from tests.factory import frame, write_dataset

T = 2020
# The four cuts of budget year T: (aar, opgoerelse, takstaar)
FORECAST, LAST_FORE, LAST_END, BASE = (
    (T, "foreloebig", T),
    (T - 1, "foreloebig", T - 1),
    (T - 1, "endelig", T - 1),
    (T - 2, "endelig", T),
)
# The areas of an age group other than ej_aldersdiff (psykiatri is only ej_aldersdiff)
AREAS = ("somatik", "speciallaege", "almen_praksis", "oevrig_primaer")


def _row(k: int, cut: tuple, age: str, area: str, p: float, kmf_kr: float) -> dict:
    aar, opg, takst = cut
    return {
        "kommunekode": k, "aar": aar, "opgoerelse": opg, "takstaar": takst,
        "aldersgruppe": age, "sundhedsomraade": area, "produktionsvaerdi": p, "kmf": kmf_kr,
    }  # fmt: skip


def _plain(k: int, f: float = 1.0, cuts: tuple = (FORECAST, LAST_FORE, LAST_END, BASE)) -> list:
    """One cell (3-64, somatik) P 1000, K 100 in each cut, but T−1 endelig K 100 · f, so the
    factor of registration f = K(T−1, endelig) / K(T−1, foreløbig) = f; K⁰ = 100."""
    return [
        _row(k, cut, "3-64", "somatik", 1000.0 * f, 100.0 * f)
        if cut == LAST_END
        else _row(k, cut, "3-64", "somatik", 1000.0, 100.0)
        for cut in cuts
    ]


def _no_value(k: int, cut: tuple, age: str, areas: tuple) -> list:
    """KMF 0,5 kr. and production value 0 in each area: 0,5 kr. is the most a cell's KMF may
    exceed its production value (a rounding), so the cell itself passes that check."""
    return [_row(k, cut, age, area, 0.0, 0.5) for area in areas]


def _error(source: Path | dict, **kwargs) -> str:
    with pytest.raises(kmf.DataError) as info:
        kmf.run(source, **kwargs)
    return str(info.value)


def test_a_budget_of_zero_or_below_is_named_with_its_lines(tmp_path: Path) -> None:
    rows = _plain(101) + _plain(851)
    budget = [
        {"aar": T, "kommunekode": 101, "kmf_budget_kr": 0.0},  # linje 2 (after the header)
        {"aar": T, "kommunekode": 851, "kmf_budget_kr": -1500.0},  # linje 3
    ]
    message = _error(write_dataset(tmp_path / "d", rows, budget), aar=T)
    assert message == (
        "budget.csv, kolonne 'kmf_budget_kr': budgettet for 2020 skal være større end 0 "
        "(linje 2: 0 kr.; linje 3: -1.500 kr.)."
    )
    # just above 0 is a budget: 0,01 kr. passes this check and is stopped only as 10.000
    # times from København's forecast (K^f = 100 · f = 100 kr.; 100 / 0,01 = 10.000)
    budget[0]["kmf_budget_kr"], budget[1]["kmf_budget_kr"] = 0.01, 100.0
    message = _error(write_dataset(tmp_path / "e", rows, budget), aar=T)
    assert message.startswith(
        "Budgettet og prognosen for 2020 for kommune 101 København er 10.000,0 gange fra "
        "hinanden: budget 0 kr. mod prognose 100 kr."
    ), message


def test_kmf_without_production_value_in_a_forecast_age_group_is_named(tmp_path: Path) -> None:
    """In T foreløbig, four age groups of København and of Frederiksberg have cells of KMF
    0,5 and production value 0 (3-64 has production value). København, f = 2 (T−1 endelig
    K 200 over foreløbig K 100), scaled sums: 0-2 4 cells · 0,5 · 2 = 4 kr., 65-79 1 cell
    1 kr., 80+ 2 cells 2 kr., ej_aldersdiff (psykiatri) 1 cell 1 kr. Frederiksberg, f = 1:
    0-2 2 cells 1 kr., and 65-79, 80+ and ej_aldersdiff. 8 age groups, the first 5 shown in
    the order of kommune and age group; Aalborg is clean and is not named."""
    rows = _plain(101, f=2.0) + _plain(147) + _plain(851)
    for k, counts in ((101, (4, 1, 2)), (147, (2, 2, 2))):
        for age, n in zip(("0-2", "65-79", "80+"), counts, strict=True):
            rows += _no_value(k, FORECAST, age, AREAS[:n])
        rows += _no_value(k, FORECAST, "ej_aldersdiff", ("psykiatri",))
    budget = [{"aar": T, "kommunekode": k, "kmf_budget_kr": 200.0} for k in (101, 147, 851)]
    message = _error(write_dataset(tmp_path / "d", rows, budget), aar=T)
    assert message.startswith(
        "Aktivitetsdata (2020 foreløbig): 8 aldersgruppe(r) har et KMF-beløb (kolonnen 'kmf') "
        "men produktionsværdi 0 (kolonnen 'produktionsvaerdi'): "
        "kommune 101 København, 0-2: kmf 4 kr.; kommune 101 København, 65-79: kmf 1 kr.; "
        "kommune 101 København, 80+: kmf 2 kr.; kommune 101 København, ej_aldersdiff: kmf 1 kr.; "
        "kommune 147 Frederiksberg, 0-2: kmf 1 kr. (og 3 flere)."
    ), message
    assert "KMF-andelen kan da ikke beregnes" in message
    assert "851" not in message


def test_kmf_without_production_value_in_a_base_age_group_is_named(tmp_path: Path) -> None:
    """The base cut (2018 endelig in 2020-takster): 65-79 has 2 cells of KMF 0,5 and
    production value 0. K⁰ = 100 + 2 · 0,5 = 101, the budget 202, so g = 202 / 101 = 2 and
    65-79's budget K = 1 · 2 = 2 kr."""
    rows = _plain(101) + _no_value(101, BASE, "65-79", AREAS[:2])
    budget = [{"aar": T, "kommunekode": 101, "kmf_budget_kr": 202.0}]
    message = _error(write_dataset(tmp_path / "d", rows, budget), aar=T)
    assert message.startswith(
        "Aktivitetsdata (2018 endelig): 1 aldersgruppe(r) har et KMF-beløb (kolonnen 'kmf') "
        "men produktionsværdi 0 (kolonnen 'produktionsvaerdi'): "
        "kommune 101 København, 65-79: kmf 2 kr."
    ), message


def test_kmf_without_production_value_names_the_first_forecast_of_a_history(
    tmp_path: Path,
) -> None:
    """A history of 2019 and 2020 (f = 1 in both). 2019's forecast (2019 foreløbig) has 80+
    with 2 cells of KMF 0,5 and P 0, K = 1 kr.; 2020's forecast (2020 foreløbig) has 0-2
    with 4 such cells. Each of those age groups has production value in the other year's
    forecast, so only a check within each forecast finds them. The message names the first
    forecast, 2019, and only its row."""
    y19 = [(2019, "foreloebig", 2019), (2018, "foreloebig", 2018), (2018, "endelig", 2018),
           (2017, "endelig", 2019)]  # fmt: skip
    y20 = [(2020, "foreloebig", 2020), (2019, "endelig", 2019), (2018, "endelig", 2020)]
    rows = (
        _plain(101, cuts=(*y19, *y20))
        + _no_value(101, y19[0], "80+", AREAS[:2])
        + [_row(101, y19[0], "0-2", "somatik", 100.0, 10.0)]
        + _no_value(101, y20[0], "0-2", AREAS)
        + [_row(101, y20[0], "80+", "somatik", 100.0, 10.0)]
    )
    budget = [{"aar": y, "kommunekode": 101, "kmf_budget_kr": 100.0} for y in (2019, 2020)]
    folder = write_dataset(tmp_path / "d", rows, budget)
    with pytest.raises(kmf.DataError) as info:
        kmf.historik(folder)
    message = str(info.value)
    assert message.startswith(
        "Aktivitetsdata (2019 foreløbig): 1 aldersgruppe(r) har et KMF-beløb (kolonnen 'kmf') "
        "men produktionsværdi 0 (kolonnen 'produktionsvaerdi'): "
        "kommune 101 København, 80+: kmf 1 kr."
    ), message
    assert "0-2" not in message


def test_activity_without_rows_says_the_data_have_none() -> None:
    empty = frame([_row(101, FORECAST, "3-64", "somatik", 1000.0, 100.0)]).head(0)
    budget = pl.DataFrame([{"aar": T, "kmf_budget_kr": 1e9}])
    message = _error({"aktivitet": empty, "budget": budget}, aar=T)
    assert message.startswith(
        "Aktivitetsdata (Tabellen 'aktivitet') mangler opgørelser, som budgetår 2020 kræver:\n"
    ), message
    # all four cuts of T are missing
    for aar, opg, takst in (FORECAST, LAST_FORE, LAST_END, BASE):
        assert f"(aar = {aar}, opgoerelse = '{opg}', takstaar = {takst})" in message
    assert "\nData har: ingen rækker.\n" in message


def test_two_missing_cuts_are_listed_one_a_line_with_the_cuts_the_data_have(
    tmp_path: Path,
) -> None:
    """København has one row in T foreløbig and one in T−1 endelig only: T−1 foreløbig and the
    base (T−2 endelig in T-takster) are missing, each on its own line in the order of SPEC §4
    (T−1 foreløbig before the base), and the data's two cuts are named with 1 row each."""
    rows = _plain(101, cuts=(FORECAST, LAST_END))
    budget = [{"aar": T, "kommunekode": 101, "kmf_budget_kr": 100.0}]
    message = _error(write_dataset(tmp_path / "d", rows, budget), aar=T)
    assert message == (
        "Aktivitetsdata (aktivitet.csv) mangler opgørelser, som budgetår 2020 kræver:\n"
        "- 2019 foreløbig opgørelse i 2019-takster (aar = 2019, opgoerelse = 'foreloebig', "
        "takstaar = 2019)\n"
        "- 2018 endelig opgørelse i 2020-takster (aar = 2018, opgoerelse = 'endelig', "
        "takstaar = 2020)\n"
        "Data har: 2019 endelig i 2019-takster (1 rækker); 2020 foreløbig i 2020-takster "
        "(1 rækker).\n"
        "Tilføj de manglende opgørelser, eller vælg et andet budgetår med --aar."
    ), message


def test_base_kmf_of_0_names_the_kommuner_in_code_order(tmp_path: Path) -> None:
    """Six kommuner have a base (2018 endelig in 2020-takster) of KMF 0 kr.; Glostrup's
    base is 100 kr. The rows are written in falling kommunekode, yet the message lists the
    kommuner by kommunekode: the first five (5 is the most a message shows) and "og 1 flere"
    for the sixth (159 Gladsaxe). Glostrup, with a base above 0, is not named."""
    zeroed = (159, 157, 155, 153, 151, 147)
    rows = _plain(161)
    for k in zeroed:
        rows += [r | {"kmf": 0.0} if r["aar"] == T - 2 else r for r in _plain(k)]
    budget = [{"aar": T, "kommunekode": k, "kmf_budget_kr": 100.0} for k in (161, *zeroed)]
    message = _error(write_dataset(tmp_path / "d", rows, budget), aar=T)
    assert message == (
        "Aktivitetsdata: KMF-beløbet (kolonnen 'kmf') i 2018 endelig opgørelse i 2020-takster "
        "summer til 0 for 6 kommune(r) (kommune 147 Frederiksberg: 0 kr.; kommune 151 "
        "Ballerup: 0 kr.; kommune 153 Brøndby: 0 kr.; kommune 155 Dragør: 0 kr.; kommune 157 "
        "Gentofte: 0 kr. (og 1 flere)). Det bruges til fordelingen af budgettet på kommuner "
        "og må ikke være 0. Kontrollér, at kommunens rækker for denne opgørelse er med."
    ), message
    assert "161" not in message


def test_kommuner_with_more_than_one_budget_row_are_named_in_code_order(tmp_path: Path) -> None:
    """A budget per kommune where Aalborg has 3 rows (linje 2, 4, 7) and Frederiksberg 2
    (linje 3, 6), written Aalborg first: the message names both, by kommunekode, with their
    number of rows; København, with one row, is not named."""
    rows = _plain(101) + _plain(147) + _plain(851)
    budget = [
        {"aar": T, "kommunekode": k, "kmf_budget_kr": 100.0} for k in (851, 147, 851, 101, 147, 851)
    ]
    message = _error(write_dataset(tmp_path / "d", rows, budget), aar=T)
    assert message == (
        "budget.csv, kolonne 'kommunekode': budgettet for 2020 har kommuner, der står mere end "
        "én gang: kommune 147 Frederiksberg (2 rækker); kommune 851 Aalborg (3 rækker). Hver "
        "kommune må kun have én budgetrække pr. år."
    ), message
    assert "101" not in message


def test_a_kommune_missing_from_a_cut_names_the_first_forecast_of_a_history(
    tmp_path: Path,
) -> None:
    """A history of 2019 and 2020. Aalborg has no rows in 2018 endelig in 2018-takster (2019's
    T−1 endelig); København none in 2018 endelig in 2020-takster (2020's base). The message
    is about the first forecast, 2019, and Aalborg, though København has the lower code."""
    y19 = [(2019, "foreloebig", 2019), (2018, "foreloebig", 2018), (2018, "endelig", 2018),
           (2017, "endelig", 2019)]  # fmt: skip
    y20 = [(2020, "foreloebig", 2020), (2019, "endelig", 2019), (2018, "endelig", 2020)]
    rows = [
        r
        for k in (101, 851)
        for r in _plain(k, cuts=(*y19, *y20))
        if not (k == 851 and (r["aar"], r["opgoerelse"], r["takstaar"]) == y19[2])
        and not (k == 101 and (r["aar"], r["opgoerelse"], r["takstaar"]) == y20[2])
    ]
    budget = [
        {"aar": y, "kommunekode": k, "kmf_budget_kr": 100.0}
        for y in (2019, 2020)
        for k in (101, 851)
    ]
    folder = write_dataset(tmp_path / "d", rows, budget)
    with pytest.raises(kmf.DataError) as info:
        kmf.historik(folder)
    assert str(info.value) == (
        "Aktivitetsdata (kolonnen 'kommunekode') har ikke de samme kommuner i alle fire "
        "opgørelser, som budgetår 2019 bruger:\n"
        "- 2018 endelig opgørelse i 2018-takster mangler kommune(r) 851 Aalborg\n"
        "Hver kommune skal have rækker i alle fire opgørelser."
    )


def test_a_kommune_budget_for_kommuner_without_activity_names_them(tmp_path: Path) -> None:
    """A budget per kommune must cover exactly the kommuner with activity data. København and
    Aalborg have activity data. A budget for both and for Frederiksberg and Brøndby (no
    activity data) names the two extra kommuner in code order; a budget for København and
    Frederiksberg names Aalborg as missing and Frederiksberg as extra, in that order."""
    rows = _plain(101) + _plain(851)
    extra = [{"aar": T, "kommunekode": k, "kmf_budget_kr": 100.0} for k in (153, 101, 851, 147)]
    message = _error(write_dataset(tmp_path / "d", rows, extra), aar=T)
    assert message == (
        "budget.csv, kolonne 'kommunekode': budgettet for 2020 passer ikke til aktivitetsdata "
        "— det har budget for kommuner uden aktivitetsdata: 147 Frederiksberg, 153 Brøndby. "
        "Budgettet pr. kommune skal dække præcis de kommuner, der er aktivitetsdata for."
    ), message
    both = [{"aar": T, "kommunekode": k, "kmf_budget_kr": 100.0} for k in (101, 147)]
    message = _error(write_dataset(tmp_path / "e", rows, both), aar=T)
    assert message == (
        "budget.csv, kolonne 'kommunekode': budgettet for 2020 passer ikke til aktivitetsdata "
        "— det mangler budget for 851 Aalborg og har budget for kommuner uden aktivitetsdata: "
        "147 Frederiksberg. Budgettet pr. kommune skal dække præcis de kommuner, der er "
        "aktivitetsdata for."
    ), message


def test_sums_of_one_krone_and_of_half_a_krone_are_above_0(tmp_path: Path) -> None:
    """SPEC §6 stops a T−1 foreløbig KMF, a base KMF or a forecast production value that sums
    to 0 for a kommune; any amount above 0 is used, also 1 kr. and 0,5 kr. (one 3-64 somatik
    cell in each cut). By hand:

    København: T−1 foreløbig K 1, T−1 endelig K 3: f = 3 / 1 = 3. Base K⁰ = 1, budget 1,5:
      g = 1,5 / 1 = 1,5. Forecast P 1, K 0,5: K^f = 3 · 0,5 = 1,5, P^f = 3 · 1 = 3.
    Aalborg: T−1 foreløbig K 0,5, T−1 endelig K 1: f = 1 / 0,5 = 2. Base K⁰ = 0,5, budget
      0,5: g = 0,5 / 0,5 = 1. Forecast P 0,5, K 0,25: K^f = 2 · 0,25 = 0,5, P^f = 2 · 0,5 = 1.
    """
    rows = []
    for k, amount, end in ((101, 1.0, 3.0), (851, 0.5, 1.0)):
        rows += [
            _row(k, FORECAST, "3-64", "somatik", amount, amount / 2),
            _row(k, LAST_FORE, "3-64", "somatik", 10.0, amount),
            _row(k, LAST_END, "3-64", "somatik", 10.0, end),
            _row(k, BASE, "3-64", "somatik", 4.0, amount),
        ]
    budget = [
        {"aar": T, "kommunekode": 101, "kmf_budget_kr": 1.5},
        {"aar": T, "kommunekode": 851, "kmf_budget_kr": 0.5},
    ]
    result = kmf.run(write_dataset(tmp_path / "d", rows, budget), aar=T)
    factors = result.kommuner.sort("kommunekode")
    assert factors["kommunekode"].to_list() == [101, 851]
    assert factors["efterregistreringsfaktor"].to_list() == pytest.approx([3.0, 2.0])
    assert factors["budgetfaktor"].to_list() == pytest.approx([1.5, 1.0])
    b1 = result.b1.filter(pl.col("kode").is_in(["101", "851"])).sort("kode")
    assert b1["kmf_prognose_kr"].to_list() == pytest.approx([1.5, 0.5])
    assert b1["kmf_budget_kr"].to_list() == pytest.approx([1.5, 0.5])
    cells = result.celler.filter(
        (pl.col("aldersgruppe") == "3-64") & (pl.col("sundhedsomraade") == "somatik")
    ).sort("kommunekode")
    assert cells["produktionsvaerdi_prognose_kr"].to_list() == pytest.approx([3.0, 1.0])
