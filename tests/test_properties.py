"""Identities of the decomposition, checked on generated datasets (hypothesis).

The expected values come from ``tests.oracle``, a plain-Python reading of SPEC §4.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import kmf
from tests import oracle
from tests.factory import CELLS, frame, national_budget, plausible, random_rows, write_dataset

ALL_KOMMUNER = pl.read_csv(Path(__file__).parent.parent / "kmf" / "data" / "kommuner.csv")
CODES = ALL_KOMMUNER["kommunekode"].to_list()
REGION_OF = dict(zip(CODES, ALL_KOMMUNER["regionskode"].to_list(), strict=True))

PROPERTY = settings(deadline=None)  # examples: the profile's (tests/conftest.py)
REL = 1e-9
# Records are summed in whole steps of 2⁻²⁰ kr. (kmf.io.on_grid), each moving by at most
# half a step; the oracle sums them exactly as floats. A unit has at most 17 cells of at most
# 2 records, scaled by f and g (0.8–1.25 here): its amounts may differ from the oracle's by
# 17 · 2 · 2⁻²¹ · 1.25 · 4 (four terms in an effect) ≈ 1e-4 kr.
GRID_KR = 1e-4


@contextmanager
def scratch() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="kmf-test-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class Recipe:
    """A small description of a generated dataset from a seed (for hand-picked cases)."""

    year: int
    kommuner: tuple[int, ...]
    seed: int
    empty_share: float
    national: bool
    level: float

    def build(self) -> tuple[list[dict], list[dict], object]:
        """(rows, budget rows, budget as the oracle takes it)."""
        rows = random_rows(list(self.kommuner), self.year, self.seed, empty_share=self.empty_share)
        if self.national:
            # the split a national budget would give (per kommune: the data hold part of
            # the country, and a national budget needs all 98)
            budget = national_budget(rows, self.year, level=self.level)
            given = {r["kommunekode"]: r["kmf_budget_kr"] for r in budget if r["aar"] == self.year}
        else:
            rng = random.Random(self.seed)
            base = national_budget(rows, self.year, level=1.0)  # K⁰ of each kommune
            given = {r["kommunekode"]: r["kmf_budget_kr"] * rng.uniform(0.5, 2.0) for r in base}
            budget = [
                {"aar": self.year, "kommunekode": k, "kmf_budget_kr": v} for k, v in given.items()
            ]
        # a budget more than 10 times from the forecast is a unit error that stops the run
        # (tests/test_implausible.py): such random draws are not examples of these tests
        if not plausible(rows, self.year, given):
            assume(False)  # only ever under hypothesis: the fixed recipes pass
        return rows, budget, given


@dataclass(frozen=True)
class Shaped:
    """A generated dataset: its records, budget and how it is written (hypothesis shows it
    on failure, shrunk)."""

    year: int
    rows: tuple[dict, ...]
    budget: tuple[dict, ...]
    as_oracle: object
    files: int  # aktivitet as this many Parquet files (1: one file; CSV when ``csv``)
    csv: bool
    seed: int = 0  # for data made alongside (e.g. a population)

    @property
    def kommuner(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(r["kommunekode"] for r in self.rows))

    def build(self) -> tuple[list[dict], list[dict], object]:
        return list(self.rows), list(self.budget), self.as_oracle


AGE_GROUPS = ("0-2", "3-64", "65-79", "80+", "ej_aldersdiff")
# KMF shares: none, a trace, ordinary, nearly all and all of the production value. A trace
# is at least 1e-6 of a cell of at least 10⁴ kr., so 0,01 kr.: an amount below the grid's step
# (2⁻²⁰ kr.) is summed as 0, while the oracle keeps it, and LMDI's log mean is steep at 0
# (L(10⁻³³, 8000) ≈ 96), so such a trace would compare two different datasets.
TRACE = 1e-4  # a share below this is a trace
SHARES = st.one_of(
    st.just(0.0),
    st.floats(1e-6, 1e-5),
    st.floats(0.05, 0.6),
    st.floats(0.999, 1.0),
    st.just(1.0),
)


@st.composite
def shaped(draw: st.DrawFn, *, max_kommuner: int = 4) -> Shaped:
    """Datasets of every shape a run must take: one kommune or several (also in one region),
    cells and whole age groups missing on either side, shares at 0 and near 1, records split
    into a record and a negative correction, an unused cut or not, a budget per kommune, one
    CSV file or several Parquet files.

    Every kommune keeps one cell with KMF in each cut (an anchor): a kommune without KMF in
    T−1 foreløbig or in the base is bad input (tests/test_bad_input.py), not a shape."""
    year = draw(st.integers(2008, 2035))
    kommuner = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=max_kommuner,
                             unique=True))  # fmt: skip
    rows: list[dict] = []

    def add(k: int, aar: int, opg: str, takst: int, cell: tuple, p: float, kmf_kr: float) -> None:
        record = {"kommunekode": k, "aar": aar, "opgoerelse": opg, "takstaar": takst,
                  "aldersgruppe": cell[0], "sundhedsomraade": cell[1]}  # fmt: skip
        split = draw(st.booleans())  # a record and a negative correction that nets to it
        extra = draw(st.floats(1.0, 1e6)) if split else 0.0
        if 0 < kmf_kr < TRACE * p:
            # a trace's amounts on the grid of the sums (kmf.io.on_grid): moving a trace of
            # 0,2 kr. by half a step moves its log by 2·10⁻⁶, and LMDI's steep log mean
            # turns that into 0,01 kr. of an effect; on the grid, kmf and the oracle see the
            # same trace (amounts off the grid are in every other cell)
            p, kmf_kr = (round(x * 2**20) / 2**20 for x in (p, kmf_kr))
            extra = round(extra * 2**19) / 2**19  # and half of it
        if split:
            rows.append(record | {"produktionsvaerdi": p + extra, "kmf": kmf_kr + extra / 2})
            rows.append(record | {"produktionsvaerdi": -extra, "kmf": -extra / 2})
        else:
            rows.append(record | {"produktionsvaerdi": p, "kmf": kmf_kr})

    unused = draw(st.booleans())
    factors: dict[int, float] = {}
    for k in kommuner:
        size = draw(st.floats(1e6, 1e8))
        anchor = draw(st.sampled_from(CELLS))
        # age groups with no cells at all in the forecast (T) or in the base (T−2)
        gone = {side: draw(st.sets(st.sampled_from(AGE_GROUPS), max_size=2))
                for side in ("T", "base")}  # fmt: skip
        factor = draw(st.floats(0.8, 1.25))  # T−1 endelig / T−1 foreløbig
        factors[k] = factor
        for side, aar, takst in (("T", year, year), ("T-1", year - 1, year - 1),
                                 ("base", year - 2, year)):  # fmt: skip
            present = draw(st.sets(st.sampled_from(CELLS)))
            for cell in sorted(present | {anchor}):
                if cell != anchor and cell[0] in gone.get(side, set()):
                    continue
                p = size if cell == anchor else size * draw(st.floats(0.01, 1.0))
                share = draw(st.floats(0.05, 1.0) if cell == anchor else SHARES)
                opg = "endelig" if side == "base" else "foreloebig"
                add(k, aar, opg, takst, cell, p, p * share)
                if side == "T-1":
                    add(k, aar, "endelig", takst, cell, p * factor, p * share * factor)
        if unused:  # T−2 endelig in its own takster: read, counted, not used
            add(k, year - 2, "endelig", year - 2, anchor, size, size / 3)
    # one budget per kommune (a national budget needs all 98 kommuner in the data), near the
    # forecast f_k · K(T foreløbig): a budget 10 times from it is a unit error that stops
    forecast = {k: factors[k] * sum(r["kmf"] for r in rows if r["kommunekode"] == k
                                    and r["aar"] == year and r["opgoerelse"] == "foreloebig")
                for k in kommuner}  # fmt: skip
    per_k = {k: forecast[k] * draw(st.floats(0.8, 1.2)) for k in kommuner}
    budget = [{"aar": year, "kommunekode": k, "kmf_budget_kr": v} for k, v in per_k.items()]
    as_oracle: object = per_k
    csv = draw(st.booleans())
    files = 1 if csv else draw(st.integers(1, 3))
    order = draw(st.randoms(use_true_random=False))
    order.shuffle(rows)
    seed = draw(st.integers(0, 2**32 - 1))
    return Shaped(year, tuple(rows), tuple(budget), as_oracle, files, csv, seed)


def datasets() -> st.SearchStrategy[Shaped]:
    return shaped()


def recipes() -> st.SearchStrategy[Recipe]:
    """Seeded datasets of one shape (every age group on both sides, shares 5–60 %)."""
    return st.builds(
        Recipe,
        year=st.integers(2008, 2035),
        kommuner=st.lists(st.sampled_from(CODES), min_size=1, max_size=6, unique=True).map(tuple),
        seed=st.integers(0, 2**32 - 1),
        empty_share=st.sampled_from([0.0, 0.2, 0.5]),
        national=st.booleans(),
        level=st.floats(0.8, 1.2),
    )


def _write(folder: Path, data: Shaped) -> None:
    rows, budget, _ = data.build()
    if data.csv or data.files == 1:
        write_dataset(folder, rows, budget, "csv" if data.csv else "parquet")
        return
    write_dataset(folder, rows[:1], budget, "parquet")  # the budget file
    (folder / "aktivitet.parquet").unlink()
    (folder / "aktivitet").mkdir()
    for i in range(data.files):
        frame(rows[i :: data.files]).write_parquet(folder / "aktivitet" / f"del-{i}.parquet")


def _run(rows: list[dict], budget: list[dict], year: int, fmt: str = "parquet") -> kmf.Result:
    with scratch() as folder:
        write_dataset(folder, rows, budget, fmt)
        return kmf.run(folder, aar=year)


def _run_shaped(data: Shaped) -> kmf.Result:
    with scratch() as folder:
        _write(folder, data)
        return kmf.run(folder, aar=data.year)


def _close(actual: float | None, expected: float | None, scale: float, grid: float = 0) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    return abs(actual - expected) <= REL * max(abs(expected), scale) + grid


@PROPERTY
@given(datasets())
def test_effects_match_the_formulas_and_sum_to_the_change(data: Shaped) -> None:
    rows, _, as_oracle = data.build()
    year = data.year
    result = _run_shaped(data)
    expected_cells = oracle.cells(rows, year, as_oracle)
    b1 = {r["kode"]: r for r in result.b1.iter_rows(named=True)}
    for k, unit_cells in expected_cells.items():
        exp = oracle.decompose(unit_cells)
        got = b1[str(k)]
        scale = exp["Kb"]
        for key, column in (
            ("Kb", "kmf_budget_kr"),
            ("Kf", "kmf_prognose_kr"),
            ("d", "aendring_kr"),
            ("A", "aktivitetseffekt_kr"),
            ("B", "aldersgruppeeffekt_kr"),
            ("C", "sundhedsomraadeeffekt_kr"),
            ("O", "oevrige_kr"),
        ):
            assert _close(got[column], exp[key], scale, GRID_KR), (k, column, got[column], exp[key])
    for row in result.b1.iter_rows(named=True):
        parts = sum(
            row[c]
            for c in (
                "aktivitetseffekt_kr",
                "aldersgruppeeffekt_kr",
                "sundhedsomraadeeffekt_kr",
                "oevrige_kr",
            )
        )
        assert abs(parts - row["aendring_kr"]) <= REL * row["kmf_budget_kr"]


@PROPERTY
@given(datasets())
def test_regions_and_land_are_sums_of_their_kommuner(data: Shaped) -> None:
    b1 = _run_shaped(data).b1
    kommuner = b1.filter(pl.col("niveau") == "kommune").with_columns(
        pl.col("kode").cast(pl.Int64).replace_strict(REGION_OF).cast(pl.String).alias("_region")
    )
    amounts = [c for c in b1.columns if c.endswith("_kr")]
    for level, key in (("region", "_region"), ("land", None)):
        groups = (
            kommuner.group_by(key).agg(pl.col(amounts).sum())
            if key
            else kommuner.select(pl.col(amounts).sum()).with_columns(pl.lit("DK").alias("_region"))
        )
        for expected in groups.iter_rows(named=True):
            got = b1.filter((pl.col("niveau") == level) & (pl.col("kode") == expected["_region"]))
            assert got.height == 1
            row = got.row(0, named=True)
            for c in amounts:
                assert _close(row[c], expected[c], row["kmf_budget_kr"])
            assert _close(
                row["aktivitetseffekt_pct"],
                100 * expected["aktivitetseffekt_kr"] / expected["kmf_budget_kr"],
                1.0,
            )


@PROPERTY
@given(datasets())
def test_b2_b3_b4_of_every_unit_match_the_formulas(data: Shaped) -> None:
    rows, _, as_oracle = data.build()
    year = data.year
    result = _run_shaped(data)
    per_k = oracle.cells(rows, year, as_oracle)
    units = {str(k): c for k, c in per_k.items()}
    for region in {REGION_OF[k] for k in per_k}:
        units[str(region)] = oracle.summed(c for k, c in per_k.items() if REGION_OF[k] == region)
    units["DK"] = oracle.summed(per_k.values())
    for kode, unit_cells in units.items():
        b2, b3, b4 = oracle.b2_b3_b4(unit_cells)
        for table, expected in ((result.b2, b2), (result.b3, b3), (result.b4, b4)):
            row = table.filter(pl.col("kode") == kode).row(0, named=True)
            for column, value in expected.items():
                # shares of cells of at least 1000 kr.: the grid moves them by < 1e-9
                assert _close(row[column], value, 1.0, 1e-7), (kode, column, row[column], value)


def _split(rows: list[dict], seed: int) -> list[dict]:
    """Each row as several records, with correction pairs that cancel, in a shuffled order."""
    rng = random.Random(seed)
    out = []
    for r in rows:
        parts = rng.randint(1, 3)
        weights = [rng.uniform(0.1, 1.0) for _ in range(parts)]
        total = sum(weights)
        for w in weights:
            out.append(
                r
                | {
                    "produktionsvaerdi": r["produktionsvaerdi"] * w / total,
                    "kmf": r["kmf"] * w / total,
                }
            )
        if rng.random() < 0.3:
            wrong = rng.uniform(1e3, 1e6)
            out.append(r | {"produktionsvaerdi": wrong, "kmf": wrong / 3})
            out.append(r | {"produktionsvaerdi": -wrong, "kmf": -wrong / 3})
    rng.shuffle(out)
    return out


def _assert_same(a: kmf.Result, b: kmf.Result) -> None:
    """Equal but for how split records round: each record is summed in whole steps of
    2⁻²⁰ kr. (kmf.io.on_grid), so a record split in up to 3 parts (and a correction pair)
    may move its cell by half a step per part, and B1's amounts (products of sums with the
    kommune's factors; Øvrige a small difference of large ones) by up to 17 cells · 5 parts
    · 2⁻²¹ kr. · 1.25 · 4 terms ≈ 2e-4 kr.: the kr. amounts are compared to 1e-3 kr. (plus
    1e-9 relative). The smallest budget generated is 4·10⁴ kr., so percentages and shares
    move by less than 100 · 1e-3 / 4·10⁴ = 2.5e-6 pct.-point: compared to 1e-5 (a
    ten-thousandth of the 0,1 shown). Kommuner whose changes are equal but for that rounding
    may swap ranks, so tabel 4–6 are compared by kode."""
    for name, frame_ in a.named_tables().items():
        other = b.named_tables()[name]
        if "rang" in frame_.columns:
            frame_, other = (t.drop("rang").sort("niveau", "kode") for t in (frame_, other))
        assert frame_.columns == other.columns
        assert frame_.select(pl.col(pl.String)).equals(other.select(pl.col(pl.String)))
        numeric = [c for c, t in frame_.schema.items() if t.is_float()]
        for c in numeric:
            amount = c.endswith("_kr") or "_kr_" in c
            for x, y in zip(frame_[c].to_list(), other[c].to_list(), strict=True):
                assert _close(x, y, 1e5, 1e-3) if amount else _close(x, y, 0.1, 1e-5), (
                    name,
                    c,
                    x,
                    y,
                )


@PROPERTY
@given(datasets(), st.integers(0, 1000))
def test_splitting_and_shuffling_records_changes_nothing(data, seed: int) -> None:
    rows, budget, _ = data.build()
    year = data.year
    _assert_same(_run(rows, budget, year), _run(_split(rows, seed), budget, year))


@settings(deadline=None, max_examples=max(settings().max_examples // 3, 2))
@given(datasets())
def test_csv_and_parquet_give_the_same_tables(data) -> None:
    rows, budget, _ = data.build()
    year = data.year
    _assert_same(_run(rows, budget, year, "csv"), _run(rows, budget, year, "parquet"))


AGES = {"0-2": (0, 2), "3-64": (3, 64), "65-79": (65, 79), "80+": (80, 130)}


@settings(deadline=None, max_examples=max(settings().max_examples // 3, 2))
@given(datasets(), st.integers(0, 1000))
def test_alder_in_years_equals_aldersgruppe(data, seed: int) -> None:
    rows, budget, _ = data.build()
    year = data.year
    rng = random.Random(seed)
    with_age = []
    for r in rows:
        age = (
            rng.randint(0, 130)
            if r["sundhedsomraade"] == "psykiatri"
            else rng.randint(*AGES[r["aldersgruppe"]])
        )
        with_age.append({k: v for k, v in r.items() if k != "aldersgruppe"} | {"alder": age})
    _assert_same(_run(rows, budget, year), _run(with_age, budget, year))


@pytest.mark.parametrize(
    ("age", "group"),
    [
        (0, "0-2"),
        (2, "0-2"),
        (3, "3-64"),
        (64, "3-64"),
        (65, "65-79"),
        (79, "65-79"),
        (80, "80+"),
        (130, "80+"),
        (7, "ej_aldersdiff"),
    ],
)
def test_alder_boundaries(age: int, group: str, tmp_path: Path) -> None:
    # Every record is given in whole years: 3-64 somatik at age 40, psykiatri at age 7. One
    # extra forecast record of 1e6 kr. at ``age``: psykiatri when the group is ej_aldersdiff.
    rows = [
        r
        for r in random_rows([101], 2018, seed=3)
        if r["aldersgruppe"] in ("3-64", "ej_aldersdiff")
    ]
    area = "psykiatri" if group == "ej_aldersdiff" else "somatik"
    extra = next(r for r in rows if r["aar"] == 2018 and r["sundhedsomraade"] == area)
    records = [
        {k: v for k, v in r.items() if k != "aldersgruppe"}
        | {"alder": 7 if r["sundhedsomraade"] == "psykiatri" else 40}
        for r in rows
    ]
    records.append(
        {k: v for k, v in extra.items() if k != "aldersgruppe"}
        | {"alder": age, "produktionsvaerdi": 1e6, "kmf": 4e5}
    )
    write_dataset(tmp_path, records, national_budget(rows, 2018))
    result = kmf.run(tmp_path, aar=2018)
    k_fore = sum(r["kmf"] for r in rows if r["aar"] == 2017 and r["opgoerelse"] == "foreloebig")
    k_end = sum(r["kmf"] for r in rows if r["aar"] == 2017 and r["opgoerelse"] == "endelig")
    cell = result.celler.filter(
        (pl.col("aldersgruppe") == group) & (pl.col("sundhedsomraade") == area)
    )["produktionsvaerdi_prognose_kr"].item()
    already = extra["produktionsvaerdi"] if group in ("3-64", "ej_aldersdiff") else 0.0
    assert cell == pytest.approx((already + 1e6) * k_end / k_fore, rel=1e-12)


REQUIRED = [(0, "foreloebig", 0), (-1, "foreloebig", -1), (-1, "endelig", -1), (-2, "endelig", 0)]


@PROPERTY
@given(datasets(), st.sampled_from(REQUIRED), st.booleans())
def test_a_missing_cut_or_a_kommune_missing_from_one_stops(
    data: Shaped, cut: tuple[int, str, int], whole: bool
) -> None:
    """Without one of the four cuts (or one kommune's rows in it) there is no forecast: the
    run stops with a DataError that names the cut's year and opgørelse."""
    rows, budget, _ = data.build()
    aar, opg, takst = data.year + cut[0], cut[1], data.year + cut[2]
    victim = rows[0]["kommunekode"]

    def dropped(r: dict) -> bool:
        in_cut = (r["aar"], r["opgoerelse"], r["takstaar"]) == (aar, opg, takst)
        return in_cut and (whole or r["kommunekode"] == victim)

    kept = [r for r in rows if not dropped(r)]
    if not whole and {r["kommunekode"] for r in rows} == {victim}:
        return  # one kommune: dropping it from a cut drops the whole cut, tried above
    with scratch() as folder:
        write_dataset(folder, kept, budget, "parquet")
        with pytest.raises(kmf.DataError) as stop:
            kmf.run(folder, aar=data.year)
    assert str(aar) in str(stop.value)
    assert ("foreløbig" if opg == "foreloebig" else "endelig") in str(stop.value)
