"""The citizens (SPEC §9): the method ``befolkning``, ``tabel_befolkning`` and
``tabel_borger``, the input ``befolkning`` and its errors.

Expected values: small cases worked by hand below (logarithms written out), and
``tests.oracle_population``, a plain-Python reading of §9 that shares no code with kmf.
"""

from __future__ import annotations

import json
import math
import random
import shutil
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from typer.testing import CliRunner

import kmf
import kmf.report.text_national
from kmf.cli import app
from tests import oracle, oracle_population
from tests.factory import frame
from tests.test_properties import Recipe
from tests.test_properties import recipes as datasets

NAMES = dict(
    pl.read_csv(Path(__file__).parent.parent / "kmf" / "data" / "kommuner.csv")
    .select("kommunekode", "kommune")
    .iter_rows()
)
FIVE = ("befolkningseffekt_kr", "demografieffekt_kr", "forbrugseffekt_kr",
        "omraademikseffekt_kr", "andelseffekt_kr")  # fmt: skip
T = 2020

# --- a case worked by hand -------------------------------------------------------------------


def _cell(k, aar, opg, takst, age, area, p, kmf_):
    return {"kommunekode": k, "aar": aar, "opgoerelse": opg, "takstaar": takst,
            "aldersgruppe": age, "sundhedsomraade": area, "produktionsvaerdi": p,
            "kmf": kmf_}  # fmt: skip


def hand_rows(k: int = 101) -> list[dict]:
    """Budget side (T−2 in T-takster) and forecast (T foreløbig); T−1 foreløbig = endelig,
    so f = 1; the budget per kommune is its K⁰, so g = 1."""
    base = [("3-64", "somatik", 1000.0, 300.0), ("ej_aldersdiff", "psykiatri", 100.0, 50.0),
            ("65-79", "somatik", 400.0, 200.0)]  # fmt: skip
    fore = [("3-64", "somatik", 1210.0, 363.0), ("ej_aldersdiff", "psykiatri", 100.0, 55.0),
            ("65-79", "somatik", 500.0, 250.0)]  # fmt: skip
    rows = [_cell(k, T - 2, "endelig", T, a, o, p, x) for a, o, p, x in base]
    rows += [_cell(k, T, "foreloebig", T, a, o, p, x) for a, o, p, x in fore]
    for opg in ("foreloebig", "endelig"):
        rows.append(_cell(k, T - 1, opg, T - 1, "3-64", "somatik", 900.0, 270.0))
    return rows


def hand_population(k: int = 101, forecast: tuple[int, ...] = (10, 88, 10, 2)) -> list[dict]:
    """N = 100 in T−2 (10, 80, 8, 2) and 110 in T (10, 88, 10, 2)."""
    rows = []
    for year, sizes in ((T - 2, (10, 80, 8, 2)), (T, forecast)):
        for age, n in zip(("0-2", "3-64", "65-79", "80+"), sizes, strict=True):
            rows.append({"kommunekode": k, "aar": year, "aldersgruppe": age, "antal": n})
    return rows


def _load(rows, budget, population, **extra) -> kmf.Dataset:
    tables = {"aktivitet": frame(rows), "budget": pl.DataFrame(budget)}
    if population is not None:
        tables["befolkning"] = pl.DataFrame(population)
    return kmf.load(tables | extra)


def test_hand_worked_case() -> None:
    """3-64 somatik: K 300 → 363, N 100 → 110, n 0.8 → 0.8, u 12.5 → 13.75, r 0.3 held:
    L(363, 300) = 63 / ln 1.21 = 63 / (2 ln 1.1), so N and u get 31.5 each.
    Psykiatri: K 50 → 55, N ×1.1, u = P / N 1 → 1/1.1, r 0.5 → 0.55: N 5, u −5, r 5.
    65-79 somatik: K 200 → 250 (u = 50 held), N ×1.1, n 0.08 → 1/11: L = 50 / ln 1.25, so
    N gets 50·ln 1.1 / ln 1.25 and n 50·ln(1000/880) / ln 1.25 (they sum to 50)."""
    data = _load(hand_rows(), [{"aar": T, "kommunekode": 101, "kmf_budget_kr": 550.0}],
                 hand_population())  # fmt: skip
    r = kmf.run(data, aar=T, metode="befolkning")
    row = r.befolkning.filter(pl.col("kode") == "101").row(0, named=True)
    n_65 = 50 * math.log(1.1) / math.log(1.25)
    demography = 50 * math.log(1000 / 880) / math.log(1.25)
    expected = {"befolkningseffekt_kr": 31.5 + 5 + n_65, "demografieffekt_kr": demography,
                "forbrugseffekt_kr": 31.5 - 5, "omraademikseffekt_kr": 0.0,
                "andelseffekt_kr": 5.0}  # fmt: skip
    for column, value in expected.items():
        assert row[column] == pytest.approx(value, abs=1e-9), column
    assert row["aendring_kr"] == pytest.approx(668 - 550, abs=1e-9)
    assert row["indbyggere_budget"] == 100 and row["indbyggere_prognose"] == 110
    assert row["befolkningseffekt_pct"] == pytest.approx(expected["befolkningseffekt_kr"] / 5.5)
    b1 = r.b1.filter(pl.col("kode") == "101").row(0, named=True)
    assert b1["aktivitetseffekt_kr"] == pytest.approx(31.5 + 5 + n_65 + 26.5, abs=1e-9)
    assert b1["aldersgruppeeffekt_kr"] == pytest.approx(demography, abs=1e-9)
    assert b1["sundhedsomraadeeffekt_kr"] == pytest.approx(5.0, abs=1e-9)
    assert b1["oevrige_kr"] == pytest.approx(0.0, abs=1e-9)


def test_borger_worked_by_hand() -> None:
    """Two kommuner with the same activity; 147 has twice the 0-2 and 3-64 årige.
    K^f by age (both): 3-64 363, 65-79 250, psykiatri 55. Land per person: 3-64
    726 / 264 = 2,75; 65-79 500 / 20 = 25; psykiatri (every age) 110 / 318.
    E_101 = 88·2,75 + 10·25 + 110·110/318; E_147 = 176·2,75 + 10·25 + 208·110/318."""
    rows = hand_rows(101) + hand_rows(147)
    population = hand_population(101) + hand_population(147, (20, 176, 10, 2))
    budget = [{"aar": T, "kommunekode": k, "kmf_budget_kr": 550.0} for k in (101, 147)]
    r = kmf.run(_load(rows, budget, population), aar=T)
    table = {row["kode"]: row for row in r.borger.iter_rows(named=True)}
    e_101 = 88 * 2.75 + 10 * 25 + 110 * 110 / 318
    e_147 = 176 * 2.75 + 10 * 25 + 208 * 110 / 318
    assert table["101"]["forventet_kmf_kr"] == pytest.approx(e_101, rel=1e-12)
    assert table["147"]["forventet_kmf_kr"] == pytest.approx(e_147, rel=1e-12)
    assert table["101"]["indeks"] == pytest.approx(100 * 668 / e_101, rel=1e-12)
    assert table["147"]["indeks"] == pytest.approx(100 * 668 / e_147, rel=1e-12)
    assert table["147"]["kmf_pr_indbygger_kr"] == pytest.approx(668 / 208)
    assert table["101"]["forventet_pr_indbygger_kr"] == pytest.approx(e_101 / 110)
    assert table["1084"]["indbyggere"] == 318  # the region: sums
    assert table["1084"]["indeks"] == pytest.approx(100.0, rel=1e-12)
    assert table["DK"]["indeks"] == 100.0
    assert r.borger["niveau"].to_list() == r.b1["niveau"].to_list()
    assert r.borger["kode"].to_list() == r.b1["kode"].to_list()
    assert r.tabel("borger") is r.borger and r.tabel("befolkning") is r.befolkning


# --- random datasets against the oracle and the identities ----------------------------------


def random_population(kommuner, year: int, seed: int, form: str) -> tuple[list[dict], dict]:
    """Rows as ``form`` gives them (``gruppe``: by age group and code; ``alder``: by single
    year of age; ``navn``: by age group and kommune name), with duplicate keys and an unused
    year; and the persons the oracle reads, {(k, year, group): n}."""
    rng = random.Random(seed)
    rows: list[dict] = []
    persons: dict = {}
    for k in kommuner:
        for y in (year - 3, year - 2, year - 1, year):
            for group, ages in (("0-2", (0, 2)), ("3-64", (3, 64)), ("65-79", (65, 79)),
                                ("80+", (80, 130))):  # fmt: skip
                n = rng.randint(1, 50_000)
                persons[(k, y, group)] = n
                if form == "alder":
                    cut = sorted(rng.sample(range(1, n), min(3, n - 1))) if n > 1 else []
                    for part in (b - a for a, b in zip([0, *cut], [*cut, n], strict=True)):
                        rows.append({"kommunekode": k, "aar": y, "antal": part,
                                     "alder": rng.randint(*ages)})  # fmt: skip
                    continue
                first = rng.randint(0, n)
                place = {"kommune": NAMES[k]} if form == "navn" else {"kommunekode": k}
                for part in (first, n - first):  # the same key twice: summed
                    rows.append({**place, "aar": y, "aldersgruppe": group, "antal": part})
    return rows, persons


PROPERTY = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(datasets(), st.sampled_from(["gruppe", "alder", "navn"]))
def test_matches_the_oracle_and_the_identities(recipe: Recipe, form: str) -> None:
    rows, budget, as_oracle = recipe.build()
    population, persons = random_population(recipe.kommuner, recipe.year, recipe.seed, form)
    data = _load(rows, budget, population)
    r = kmf.run(data, aar=recipe.year, metode="befolkning")
    lmdi = kmf.run(data, aar=recipe.year, metode="lmdi").b1
    cells = oracle.cells(rows, recipe.year, as_oracle)
    expected_borger = oracle_population.borger(cells, persons, recipe.year)
    table = {row["kode"]: row for row in r.befolkning.iter_rows(named=True)}
    borger = {row["kode"]: row for row in r.borger.iter_rows(named=True)}
    scale = abs(table["DK"]["kmf_budget_kr"])
    for k, unit_cells in cells.items():
        row = table[str(k)]
        for column, value in zip(FIVE, oracle_population.effects(
                unit_cells, persons, k, recipe.year), strict=True):  # fmt: skip
            assert abs(row[column] - value) <= 1e-9 * scale, (k, column, row[column], value)
        n, k_f, e, indeks = expected_borger[k]
        assert borger[str(k)]["indbyggere"] == n
        assert abs(borger[str(k)]["kmf_prognose_kr"] - k_f) <= 1e-9 * scale
        assert abs(borger[str(k)]["forventet_kmf_kr"] - e) <= 1e-9 * scale
        assert borger[str(k)]["indeks"] == pytest.approx(indeks, rel=1e-9)
        assert row["indbyggere_prognose"] == n
        assert row["indbyggere_budget"] == sum(
            persons[(k, recipe.year - 2, a)] for a in oracle_population.GROUPS
        )
    lmdi_rows = {row["kode"]: row for row in lmdi.iter_rows(named=True)}
    for kode, row in table.items():  # every unit, regions and land too
        total = sum(row[c] for c in FIVE)
        assert abs(total - row["aendring_kr"]) <= 1e-9 * scale
        own = row["befolkningseffekt_kr"] + row["demografieffekt_kr"] + row["forbrugseffekt_kr"]
        ab = lmdi_rows[kode]["aktivitetseffekt_kr"] + lmdi_rows[kode]["aldersgruppeeffekt_kr"]
        assert abs(own - ab) <= 1e-9 * scale, kode
        for c in ("omraademikseffekt_kr", "andelseffekt_kr"):
            assert abs(row[c] - lmdi_rows[kode][c]) <= 1e-9 * scale, (kode, c)
    # regions and land are sums of their kommuner
    kommuner = r.befolkning.filter(pl.col("niveau") == "kommune")
    for column in (*FIVE, "indbyggere_budget", "indbyggere_prognose"):
        assert abs(table["DK"][column] - kommuner[column].sum()) <= 1e-9 * max(scale, 1)
        for region in r.befolkning.filter(pl.col("niveau") == "region").iter_rows(named=True):
            members = kommuner.filter(pl.col("region") == region["region"])[column].sum()
            assert abs(region[column] - members) <= 1e-9 * max(scale, 1)
    # B1 with the method: A = N + u, B = n, C = C1 + C2, Øvrige 0
    b1 = {row["kode"]: row for row in r.b1.iter_rows(named=True)}
    for kode, row in table.items():
        a = row["befolkningseffekt_kr"] + row["forbrugseffekt_kr"]
        assert abs(b1[kode]["aktivitetseffekt_kr"] - a) <= 1e-9 * scale
        assert abs(b1[kode]["aldersgruppeeffekt_kr"] - row["demografieffekt_kr"]) <= 1e-9 * scale
        assert abs(b1[kode]["oevrige_kr"]) <= 1e-9 * scale


@PROPERTY
@given(datasets(), st.integers(2, 5))
def test_scaling_the_forecast_population_moves_only_n_and_u(recipe: Recipe, factor: int) -> None:
    """N ×c and u = P_a / N_a ×1/c on the forecast side: only those two effects move, and
    their sum not at all."""
    rows, budget, _ = recipe.build()
    population, _ = random_population(recipe.kommuner, recipe.year, recipe.seed, "gruppe")
    k = recipe.kommuner[0]
    scaled = [dict(p, antal=p["antal"] * factor)
              if p["kommunekode"] == k and p["aar"] == recipe.year else p
              for p in population]  # fmt: skip
    before = kmf.run(_load(rows, budget, population), aar=recipe.year).befolkning
    after = kmf.run(_load(rows, budget, scaled), aar=recipe.year).befolkning
    old = before.filter(pl.col("kode") == str(k)).row(0, named=True)
    new = after.filter(pl.col("kode") == str(k)).row(0, named=True)
    scale = old["kmf_budget_kr"]
    for column in ("demografieffekt_kr", "omraademikseffekt_kr", "andelseffekt_kr"):
        assert abs(new[column] - old[column]) <= 1e-9 * scale, column
    joint = new["befolkningseffekt_kr"] + new["forbrugseffekt_kr"]
    assert abs(joint - old["befolkningseffekt_kr"] - old["forbrugseffekt_kr"]) <= 1e-9 * scale
    if old["kmf_prognose_kr"] > 0:  # N moved by ln(c) times the forecast's weight: it moves
        assert new["befolkningseffekt_kr"] > old["befolkningseffekt_kr"]
    others = before.filter(pl.col("kode") != str(k), pl.col("niveau") == "kommune")
    assert others.equals(after.filter(pl.col("kode") != str(k), pl.col("niveau") == "kommune"))


# --- input and its errors ---------------------------------------------------------------------


def _write(folder: Path, rows, budget, population, name: str = "befolkning.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frame(rows).write_csv(folder / "aktivitet.csv")
    pl.DataFrame(budget).write_csv(folder / "budget.csv")
    if population is not None:
        pop = pl.DataFrame(population)
        if name.endswith(".parquet"):
            pop.write_parquet(folder / name)
        else:
            pop.write_csv(folder / name)
    return folder


BUDGET = [{"aar": T, "kommunekode": 101, "kmf_budget_kr": 550.0}]


def test_run_writes_both_tables_and_the_manifest_counts_the_rows(tmp_path: Path) -> None:
    population = [
        *hand_population(),
        {"kommunekode": 101, "aar": T - 5, "aldersgruppe": "0-2", "antal": 7},
    ]
    folder = _write(tmp_path / "d", hand_rows(), BUDGET, population, "befolkning.parquet")
    out = tmp_path / "ud"
    done = CliRunner().invoke(app, ["run", str(folder), "--aar", str(T), "--out", str(out)])
    assert done.exit_code == 0, done.output
    for name in ("tabel_befolkning", "tabel_borger"):
        assert (out / f"{name}.csv").is_file() and (out / f"{name}.parquet").is_file()
    table = pl.read_csv(out / "tabel_befolkning.csv")
    assert table.columns[:6] == ["niveau", "kode", "navn", "region", "indbyggere_budget",
                                 "indbyggere_prognose"]  # fmt: skip
    assert pl.read_csv(out / "tabel_borger.csv").columns[4:] == [
        "indbyggere", "kmf_prognose_kr", "kmf_pr_indbygger_kr", "forventet_kmf_kr",
        "forventet_pr_indbygger_kr", "indeks"]  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    entry = next(f for f in manifest["filer"] if f["tabel"] == "befolkning")
    assert (entry["fil"], entry["raekker_laest"], entry["raekker_brugt"]) == (
        "befolkning.parquet",
        9,
        8,
    )
    assert len(entry["sha256"]) == 64


def test_without_a_population_nothing_of_it_and_the_method_says_what_to_add(
    tmp_path: Path,
) -> None:
    folder = _write(tmp_path / "d", hand_rows(), BUDGET, None)
    r = kmf.run(folder, aar=T)
    assert r.befolkning is None and r.borger is None
    assert "tabel_befolkning" not in r.named_tables()
    with pytest.raises(KeyError, match="befolkningstal"):
        r.tabel("borger")
    out = tmp_path / "ud"
    done = CliRunner().invoke(app, ["run", str(folder), "--aar", str(T), "--metode", "befolkning",
                                    "--out", str(out)])  # fmt: skip
    assert done.exit_code == 2
    assert "befolkning.csv" in done.output and "antal" in done.output
    assert not out.exists()
    alle = kmf.run(folder, aar=T, metode="alle")
    assert not any(c.endswith("_befolkning") for c in alle.metoder.columns)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda p: p.__setitem__(0, {**p[0], "antal": -3}), ["'antal'", "-3", "linje 2"]),
        (lambda p: p.__setitem__(1, {**p[1], "antal": 2.5}), ["'antal'", "2.5", "linje 3"]),
        (lambda p: p.__setitem__(2, {**p[2], "kommunekode": 102}), ["'kommunekode'", "102"]),
        (lambda p: p.__setitem__(3, {**p[3], "aldersgruppe": "ej_aldersdiff"}),
         ["'aldersgruppe'", "ej_aldersdiff"]),
        (lambda p: p.__setitem__(4, {**p[4], "antal": 0}), ["101 København", "2020", "0-2"]),
        (lambda p: p.__delitem__(slice(0, 4)), ["101 København", "2018", "ingen rækker"]),
    ],
)  # fmt: skip
def test_bad_population_is_a_danish_error(tmp_path: Path, change, words) -> None:
    population = [dict(p) for p in hand_population()]
    change(population)
    folder = _write(tmp_path / "d", hand_rows(), BUDGET, population)
    with pytest.raises(kmf.DataError) as caught:
        kmf.run(folder, aar=T)
    message = str(caught.value)
    assert "befolkning.csv" in message
    for word in words:
        assert word in message, (word, message)
    done = CliRunner().invoke(app, ["run", str(folder), "--aar", str(T), "--out",
                                    str(tmp_path / "ud")])  # fmt: skip
    assert done.exit_code == 2 and "Traceback" not in done.output


def test_names_single_years_and_a_workbook_sheet(tmp_path: Path) -> None:
    """By kommune name and single year of age: the same tables as by code and age group;
    an unknown name and an age over 130 are errors naming them."""
    by_age = []
    for p in hand_population():
        low = {"0-2": 0, "3-64": 30, "65-79": 70, "80+": 130}[p["aldersgruppe"]]
        by_age.append({"kommune": "København", "aar": p["aar"], "alder": low, "antal": p["antal"]})
    folder = _write(tmp_path / "a", hand_rows(), BUDGET, by_age)
    plain = _write(tmp_path / "b", hand_rows(), BUDGET, hand_population())
    assert kmf.run(folder, aar=T).befolkning.equals(kmf.run(plain, aar=T).befolkning)
    workbook = tmp_path / "data.xlsx"
    wb = Workbook()
    wb.remove(wb.active)
    for name, table in (("aktivitet", frame(hand_rows())), ("budget", pl.DataFrame(BUDGET)),
                        ("befolkning", pl.DataFrame(by_age))):  # fmt: skip
        ws = wb.create_sheet(name)
        ws.append(table.columns)
        for row in table.iter_rows():
            ws.append(list(row))
    wb.save(workbook)
    assert kmf.run(workbook, aar=T).borger.equals(kmf.run(plain, aar=T).borger)
    for bad, word in (({"kommune": "Kobenhavn"}, "Kobenhavn"), ({"alder": 131}, "131")):
        rows = [dict(by_age[0], **bad), *by_age[1:]]
        with pytest.raises(kmf.DataError, match=word):
            kmf.run(_write(tmp_path / f"x{word}", hand_rows(), BUDGET, rows), aar=T)


# --- the kommune report and the national text --------------------------------------------------


def _six_kommuner() -> tuple[kmf.Result, dict]:
    """Six kommuner with the hand-worked activity and populations chosen for the distances:
    (N in T, 65+ in pct.): 101 (100, 10), 147 (200, 10), 151 (100, 20), 153 (50, 10),
    155 (400, 10), 157 (100, 15)."""
    shapes = {101: (10, 80, 8, 2), 147: (20, 160, 16, 4), 151: (10, 70, 16, 4),
              153: (5, 40, 4, 1), 155: (40, 320, 32, 8), 157: (10, 75, 12, 3)}  # fmt: skip
    rows, population, budget = [], [], []
    for k, shape in shapes.items():
        rows += hand_rows(k)
        for year in (T - 2, T):
            for age, n in zip(("0-2", "3-64", "65-79", "80+"), shape, strict=True):
                fewer = (k % 7) * 2 if year == T - 2 and age == "3-64" else 0  # some growth
                population.append({"kommunekode": k, "aar": year, "aldersgruppe": age,
                                   "antal": n - fewer})  # fmt: skip
        budget.append({"aar": T, "kommunekode": k, "kmf_budget_kr": 550.0})
    return kmf.run(_load(rows, budget, population), aar=T), shapes


def test_demographic_comparison_group_by_hand() -> None:
    """From 101 (100 persons, 10 % 65+): 147 and 153 lie one doubling away (d = 1), 157 at
    5 pct.-point (d = 1), 151 at 10 pct.-point (d = 2), 155 two doublings (d = 2). Ties by
    kode: the three at d = 1 are 147, 153, 157; then 151 and 155."""
    result, _ = _six_kommuner()
    report = kmf.kommune(result, 101, sammenlign="demografi")
    assert report.sammenligning == (147, 153, 157, 151, 155)
    assert "ligner København mest i antal indbyggere og andel 65+ årige" in report.tekst
    small = kmf.kommune(result, 153, sammenlign=" Demografi ")
    # from 153 (50, 10 %): 101 one doubling; 147 and 157 √(1 + 1) … 151 √(1 + 4); 155 three
    assert small.sammenligning[:2] == (101, 157)


def test_kommune_text_names_the_indeks_and_its_rank_as_the_tables_show() -> None:
    result, _ = _six_kommuner()
    assert result.borger is not None and result.befolkning is not None
    ranked = result.borger.filter(pl.col("niveau") == "kommune").sort("indeks", descending=True)
    for place, row in enumerate(ranked.iter_rows(named=True), start=1):
        report = kmf.kommune(result, int(row["kode"]))
        shown = f"{row['indeks']:.1f}".replace(".", ",")
        gap = f"{abs(round(row['indeks'], 1) - 100):.1f}".replace(".", ",")
        way = "mere" if round(row["indeks"], 1) > 100 else "mindre"
        assert f"(indeks {shown}; hele landet = 100); nr. {place} af 6 kommuner" in report.tekst
        assert f"betaler {gap} pct. {way} end landsgennemsnittet" in report.tekst
        own = result.befolkning.filter(pl.col("kode") == row["kode"]).row(0, named=True)
        part = f"{abs(own['befolkningseffekt_pct']):.1f}".replace(".", ",")
        if part == "0,0":
            assert "antallet af borgere trækker stort set ikke (0,0 pct.-point)" in report.tekst
        else:
            way = "op" if own["befolkningseffekt_pct"] > 0 else "ned"
            assert f"borgere trækker {way} med {part} pct.-point" in report.tekst
    text = kmf.report.text_national.national_markdown(result)
    highest = ranked.row(0, named=True)
    assert f"Højest indeks har {highest['navn']}" in text


def test_cli_kommune_sammenlign_demografi(tmp_path: Path) -> None:
    population = [*hand_population(101), *hand_population(147, (20, 176, 10, 2))]
    rows = hand_rows(101) + hand_rows(147)
    budget = [{"aar": T, "kommunekode": k, "kmf_budget_kr": 550.0} for k in (101, 147)]
    folder = _write(tmp_path / "d", rows, budget, population)
    out = tmp_path / "k"
    done = CliRunner().invoke(app, ["kommune", "101", str(folder), "--aar", str(T),
                                    "--sammenlign", "demografi", "--out", str(out)])  # fmt: skip
    assert done.exit_code == 0, done.output
    text = (out / "sammenfatning.md").read_text("utf-8")
    assert "## Borgerne" in text and "nr. 1 af 2 kommuner" in text
    bare = _write(tmp_path / "e", rows, budget, None)
    done = CliRunner().invoke(app, ["kommune", "101", str(bare), "--aar", str(T),
                                    "--sammenlign", "demografi", "--out",
                                    str(tmp_path / "k2")])  # fmt: skip
    assert done.exit_code == 2 and "befolkning.csv" in done.output


def test_history_and_track_use_each_years_own_population() -> None:
    """kmf historik with the method: every budget year's B1 is kmf run's for that year (its
    own population of T−2 and T); the track's last date is the run's default date."""
    data = kmf.load(kmf.sample_dataset())
    history = kmf.historik(data, metode="befolkning").historik
    track = kmf.spor(data, metode="befolkning").spor
    for year in (2017, 2018, 2019):
        run = kmf.run(data, aar=year, metode="befolkning").b1
        rows = history.filter(pl.col("aar") == year).drop("aar")
        assert rows["kode"].to_list() == run["kode"].to_list()
        scale = run["kmf_budget_kr"][0]
        for column in ("aktivitetseffekt_kr", "aldersgruppeeffekt_kr", "andelseffekt_kr"):
            assert (rows[column] - run[column]).abs().max() <= 1e-9 * scale, (year, column)
        if year == 2018:
            last = track.filter(pl.col("opgoerelsesdato") == track["opgoerelsesdato"].max())
            assert (last["aldersgruppeeffekt_kr"] - run["aldersgruppeeffekt_kr"]).abs().max() <= (
                1e-9 * scale
            )
    manifest = kmf.historik(data, metode="befolkning").manifest
    entry = next(f for f in manifest["filer"] if f["tabel"] == "befolkning")
    # 2017, 2018 and 2019 use 2015–2019: five years of 98 kommuner in four age groups
    assert entry["raekker_brugt"] == 5 * 98 * 4


def test_an_age_group_under_one_krone_still_has_its_area_shares() -> None:
    """The hand-worked case plus 0-2 årige with 0,5 kr. in two areas on each side (10 persons
    both years; KMF share 0,5 in somatik, 0,125 in almen praksis; binary fractions, which the
    sums keep exactly): their area shares move from
    0,5/0,5 to 0,75/0,25, and nothing else of theirs moves. Only this moves the area mix
    (every other age group has one area), so, by hand, with L(a, b) = (a − b) / (ln a − ln b)
    and K = P · share:

        omraademikseffekt = L(0,1875; 0,125) · ln(0,75 / 0,5)
                            + L(0,015625; 0,03125) · ln(0,25 / 0,5)
                          = (0,1875 − 0,125) + (0,015625 − 0,03125) = 0,046875 kr.

    (where only the area share of a cell moves, its term is its change in K). A share is
    defined wherever the age group's production value is above 0 (SPEC §4.3), also under one
    krone."""

    def lmdi_weight(a: float, b: float) -> float:
        return (a - b) / (math.log(a) - math.log(b))

    rows = hand_rows()
    for aar, opg, takst, somatik in ((T - 2, "endelig", T, 0.25), (T, "foreloebig", T, 0.375)):
        rows.append(_cell(101, aar, opg, takst, "0-2", "somatik", somatik, somatik * 0.5))
        rows.append(_cell(101, aar, opg, takst, "0-2", "almen_praksis", 0.5 - somatik,
                          (0.5 - somatik) * 0.125))  # fmt: skip
    budget = [{"aar": T, "kommunekode": 101, "kmf_budget_kr": 550.15625}]  # K⁰: g = 1
    r = kmf.run(_load(rows, budget, hand_population()), aar=T, metode="befolkning")
    row = r.befolkning.filter(pl.col("kode") == "101").row(0, named=True)
    mix = lmdi_weight(0.1875, 0.125) * math.log(1.5) + lmdi_weight(0.015625, 0.03125) * math.log(
        0.5
    )
    assert mix == pytest.approx(0.046875, abs=1e-12)
    assert row["omraademikseffekt_kr"] == pytest.approx(mix, abs=1e-9)
    parts = ("befolkningseffekt", "demografieffekt", "forbrugseffekt", "omraademikseffekt",
             "andelseffekt")  # fmt: skip
    assert sum(row[f"{p}_kr"] for p in parts) == pytest.approx(row["aendring_kr"], abs=1e-9)


@pytest.mark.parametrize("places", [5, 7])
def test_missing_population_message_shows_five_places_and_counts_the_rest(
    tmp_path: Path, places: int
) -> None:
    """Budget year 2018 uses the population of 2016 and 2018. Taking 2018 away for the first
    kommuner (by code), and the 80+ of 2016 for one more, names the first five places in
    code order, word for word, and says how many more there are: none at exactly five."""
    names = dict(pl.read_csv(Path(kmf.__file__).parent / "data" / "kommuner.csv")
                 .select("kommunekode", "kommune").iter_rows())  # fmt: skip
    codes_ = sorted(names)[:places]
    whole_year, only_old = codes_[:-1], codes_[-1]
    folder = tmp_path / "d"
    shutil.copytree(kmf.sample_dataset(), folder)
    population = pl.read_csv(folder / "befolkning.csv")
    population.filter(
        ~(pl.col("kommunekode").is_in(whole_year) & (pl.col("aar") == 2018))
        & ~((pl.col("kommunekode") == only_old) & (pl.col("aar") == 2016)
            & (pl.col("aldersgruppe") == "80+"))
    ).write_csv(folder / "befolkning.csv")  # fmt: skip
    with pytest.raises(kmf.DataError) as caught:
        kmf.run(folder, aar=2018)
    lines = str(caught.value).splitlines()
    more = " (og 2 flere)" if places == 7 else ""
    assert lines[0].endswith(
        f"befolkningen mangler for {places} kommune(r) i de år, budgetåret bruger "
        f"(2016 til budgettet og 2018 til prognosen){more}:"
    ), lines[0]
    places_shown = [f"- kommune {k} {names[k]}, 2018: ingen rækker" for k in whole_year]
    places_shown.append(f"- kommune {only_old} {names[only_old]}, 2016: "
                        "ingen personer i aldersgruppe 80+")  # fmt: skip
    assert lines[1:6] == places_shown[:5]
    assert lines[6].startswith("Filen har årene 2014, 2015, 2016, 2017, 2018, 2019, 2020.")


def test_a_population_table_without_rows_says_it_has_no_years() -> None:
    """A befolkning frame given from Python with its columns and no rows (a file with only
    its header is refused when read): budget year 2020 uses 2018 and 2020, and København
    (the only kommune) has no rows in either, and the table has none at all."""
    empty = pl.DataFrame(schema={"kommunekode": pl.Int64, "aar": pl.Int64,
                                 "aldersgruppe": pl.String, "antal": pl.Int64})  # fmt: skip
    data = _load(hand_rows(), BUDGET, None, befolkning=empty)
    with pytest.raises(kmf.DataError) as caught:
        kmf.run(data, aar=T)
    lines = str(caught.value).splitlines()
    assert lines[0].endswith(
        "befolkningen mangler for 1 kommune(r) i de år, budgetåret bruger "
        "(2018 til budgettet og 2020 til prognosen):"
    ), lines[0]
    assert lines[1:3] == ["- kommune 101 København, 2018: ingen rækker",
                          "- kommune 101 København, 2020: ingen rækker"]  # fmt: skip
    # the closing sentence names both years again: T − 2 = 2018 and T = 2020
    assert lines[3] == (
        "Tabellen har ingen rækker. Hver kommune i aktivitetsdata skal have personer (antal "
        "over 0) i alle fire aldersgrupper (0-2, 3-64, 65-79 og 80+) i både 2018 og 2020. "
        "Tilføj de manglende rækker (Statistikbanken, tabel FOLK1A)."
    ), lines[3]


GROUPS = ("0-2", "3-64", "65-79", "80+")


def _alike(shapes: dict[int, tuple[int, int, int, int]]) -> kmf.Result:
    """The hand-worked activity for every kommune of ``shapes`` (persons by age group 0-2,
    3-64, 65-79, 80+; the same in T−2 and T) and a budget of its K⁰ each."""
    rows, population = [], []
    for k, shape in shapes.items():
        rows += hand_rows(k)
        for year in (T - 2, T):
            for age, n in zip(GROUPS, shape, strict=True):
                population.append({"kommunekode": k, "aar": year, "aldersgruppe": age, "antal": n})
    budget = [{"aar": T, "kommunekode": k, "kmf_budget_kr": 550.0} for k in shapes]
    return kmf.run(_load(rows, budget, population), aar=T)


def test_the_demographic_group_is_the_ten_nearest_of_eleven() -> None:
    """From 101 (N = 100, 10 % 65+), d = √(log₂(N_j / 100)² + ((a_j − 10) / 5)²):
    d = 1 for 147 (200, 10 %), 151 (50, 10 %), 153 (100, 15 %), 159 (100, 5 %);
    √2 for 165 (200, 15 %); 2 for 155 (400, 10 %), 157 (100, 20 %); √8 for 167 (400, 20 %);
    3 for 161 (800, 10 %), 163 (100, 25 %); 4 for 169 (1600, 10 %), the eleventh, left out.
    Ties by kode."""
    result = _alike(
        {101: (10, 80, 8, 2), 147: (20, 160, 16, 4), 151: (5, 40, 4, 1),
         153: (10, 75, 12, 3), 155: (40, 320, 32, 8), 157: (10, 70, 16, 4),
         159: (10, 85, 4, 1), 161: (80, 640, 64, 16), 163: (10, 65, 20, 5),
         165: (20, 150, 24, 6), 167: (40, 280, 64, 16), 169: (160, 1280, 128, 32)}
    )  # fmt: skip
    report = kmf.kommune(result, 101, sammenlign="demografi")
    assert report.sammenligning == (147, 151, 153, 159, 165, 155, 157, 167, 161, 163)
    assert report.tabeller.gruppe == "demografi" and not report.tabeller.valgt
    assert "de 10 kommuner, der ligner København mest i antal indbyggere og andel 65+" in (
        report.tekst
    )


def test_demographic_distances_equal_to_ten_decimals_are_a_tie_by_kode() -> None:
    """From 101 (N = 10000, 1000 65+ årige: 10 %): 147 (13175 persons, 1917 65+) lies
    0,99320229813… away, 151 (13860, 1992) 0,99320229810…: equal to 10 decimals, so a tie,
    and the lower kode comes first, though 151 is nearer in the 11th decimal."""

    def distance(n: int, old: int) -> float:
        return math.sqrt(math.log2(n / 10000) ** 2 + ((100 * old / n - 10) / 5) ** 2)

    far, near = distance(13175, 1917), distance(13860, 1992)
    assert round(far, 10) == round(near, 10) == 0.9932022981
    assert far - near == pytest.approx(3.4e-11, abs=1e-12)
    result = _alike(
        {101: (500, 8500, 800, 200), 147: (600, 10658, 1500, 417), 151: (600, 11268, 1600, 392)}
    )
    assert kmf.kommune(result, 101, sammenlign="demografi").sammenligning == (147, 151)


def test_the_missing_places_come_by_kommune_then_year_every_time() -> None:
    """Budget year 2020 uses 2018 and 2020. København lacks 2018 and its 80+ of 2020 (0
    persons); Frederiksberg its 0-2 of 2018 and all of 2020. The message names them by code,
    then year, the same on every run."""
    population = [
        *(p for p in hand_population(101) if p["aar"] == T),
        *(p for p in hand_population(147) if p["aar"] == T - 2 and p["aldersgruppe"] != "0-2"),
    ]
    population = [dict(p, antal=0) if p["aldersgruppe"] == "80+" and p["kommunekode"] == 101
                  else p for p in population]  # fmt: skip
    budget = [{"aar": T, "kommunekode": k, "kmf_budget_kr": 550.0} for k in (101, 147)]
    data = _load(hand_rows(101) + hand_rows(147), budget, population)
    expected = [
        "- kommune 101 København, 2018: ingen rækker",
        "- kommune 101 København, 2020: ingen personer i aldersgruppe 80+",
        "- kommune 147 Frederiksberg, 2018: ingen personer i aldersgruppe 0-2",
        "- kommune 147 Frederiksberg, 2020: ingen rækker",
    ]
    for _ in range(12):
        with pytest.raises(kmf.DataError) as caught:
            kmf.run(data, aar=T)
        lines = str(caught.value).splitlines()
        assert "befolkningen mangler for 2 kommune(r)" in lines[0]
        assert lines[1:5] == expected


def test_the_kommune_report_has_the_citizens_of_kommune_region_and_land() -> None:
    """The two kommuner of test_borger_worked_by_hand (both Region Hovedstaden): persons
    100 + 100 = 200 in T−2 and 110 + 208 = 318 in T; indeks of 101 100 · 668 / 530,05… = 126,0
    against 147's 100 · 668 / 805,95… = 82,9, so 101 is nr. 1 of 2; the region holds both
    kommuner, so its indeks is the land's, 100."""
    rows = hand_rows(101) + hand_rows(147)
    population = hand_population(101) + hand_population(147, (20, 176, 10, 2))
    budget = [{"aar": T, "kommunekode": k, "kmf_budget_kr": 550.0} for k in (101, 147)]
    t = kmf.kommune(kmf.run(_load(rows, budget, population), aar=T), 101).tabeller
    assert t.befolkning is not None and t.borger is not None
    # in the tables' order: Hele landet, the region, the kommune
    assert t.befolkning["kode"].to_list() == ["DK", "1084", "101"]
    assert t.befolkning["indbyggere_budget"].to_list() == [200, 200, 100]
    assert t.befolkning["indbyggere_prognose"].to_list() == [318, 318, 110]
    assert t.borger["kode"].to_list() == ["DK", "1084", "101"]
    assert t.borger["indbyggere"].to_list() == [318, 318, 110]
    assert t.borger["rang"].to_list() == [None, None, 1]
    assert t.borger["antal_kommuner"].to_list() == [2, 2, 2]
    e_101 = 88 * 2.75 + 10 * 25 + 110 * 110 / 318
    assert t.borger["indeks"].to_list() == pytest.approx([100.0, 100.0, 100 * 668 / e_101])


def test_kommuner_of_equal_indeks_are_ranked_by_kode() -> None:
    """101 København and 147 Frederiksberg have the same cells, budget and persons, so their
    K^f and E are equal and both indeks are 100 · K / E = 100 (the land's, as they make up the
    land): a tie, which goes by kode, so 101 is nr. 1 and 147 nr. 2 of 2."""
    rows = hand_rows(101) + hand_rows(147)
    population = hand_population(101) + hand_population(147)
    budget = [{"aar": T, "kommunekode": k, "kmf_budget_kr": 550.0} for k in (101, 147)]
    result = kmf.run(_load(rows, budget, population), aar=T)
    for kode, rank in ((101, 1), (147, 2)):
        borger = kmf.kommune(result, kode).tabeller.borger
        assert borger is not None
        assert borger["kode"].to_list() == ["DK", "1084", str(kode)]
        assert borger["indeks"].to_list() == pytest.approx([100.0] * 3, abs=1e-9)
        assert borger["rang"].to_list() == [None, None, rank]
        assert borger["antal_kommuner"].to_list() == [2, 2, 2]


def test_the_kommune_report_names_its_region_and_the_regions_indeks() -> None:
    """101 København and 147 Frederiksberg both lie in Region Hovedstaden, so the region holds
    every kommune of the run: its K^f and E are the land's, E_land = Σ_a N_land,a · K_land,a /
    N_land,a = K_land, and its indeks is 100 · K / E = 100,0 (SPEC §9)."""
    rows = hand_rows(101) + hand_rows(147)
    population = hand_population(101) + hand_population(147, (20, 176, 10, 2))
    budget = [{"aar": T, "kommunekode": k, "kmf_budget_kr": 550.0} for k in (101, 147)]
    report = kmf.kommune(kmf.run(_load(rows, budget, population), aar=T), 101)
    assert report.tabeller.region == "Region Hovedstaden"
    assert "Region Hovedstaden har indeks 100,0. Indekset sammenligner" in report.tekst
