"""One kommune's own tables (SPEC §8): the exact contributions per age group and per cell,
the comparison group, the rank among all kommuner, and the distributions beside region
and land. Computed for all kommuner at once; the report picks one."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from kmf import codes
from kmf.compute.decompose import METHODS, SPLIT_COLUMNS, fixed_sum
from kmf.compute.forecast import K_BUDGET
from kmf.compute.population import demographic_group, index_rank
from kmf.compute.tables import B1_COLUMNS, ranked
from kmf.errors import DataError

CONTRIBUTION_EFFECTS: tuple[str, ...] = (
    "aktivitetseffekt_kr",
    "aldersgruppeeffekt_kr",
    "sundhedsomraadeeffekt_kr",
    *SPLIT_COLUMNS,
)
CONTRIBUTION_COLUMNS: tuple[str, ...] = (
    "metode",
    "aldersgruppe",
    "sundhedsomraade",
    *CONTRIBUTION_EFFECTS,
    *(c.removesuffix("_kr") + "_pct" for c in CONTRIBUTION_EFFECTS),
)
#: How many kommuner nearest in budget make the comparison group by default.
GROUP_SIZE = 10
#: ``sammenlign`` that asks for the kommuner nearest in population and age (SPEC §9)
DEMOGRAPHY = "demografi"
#: ``niveau`` of the comparison group's sum in ``KommuneTables.overblik``.
GROUP_LEVEL = "sammenligningsgruppe"
GROUP_CODE = "GRUPPE"


@dataclass(frozen=True)
class KommuneTables:
    """The numbers of one kommune's report.

    Attributes
    ----------
    kode, navn, region, aar, metode
        The kommune, its region's name, the budget year and the run's method.
    overblik
        B1 rows (the run's method) of the kommune, its region, Hele landet, each comparison
        kommune and the group's sum (``niveau`` = ``"sammenligningsgruppe"``), with ``rang``:
        the place among all kommuner by change in pct. of the budget (1 = largest increase).
    bidrag
        The contributions (``CONTRIBUTION_COLUMNS``), both methods, largest first.
    fordelinger
        B2, B3 and B4 of the kommune beside its region and Hele landet.
    sammenligning
        The comparison kommuner's codes; ``valgt`` says whether they were given.
    antal_kommuner
        How many kommuner the rank is among.
    """

    kode: int
    navn: str
    region: str
    aar: int
    metode: str
    overblik: pl.DataFrame
    bidrag: pl.DataFrame
    fordelinger: pl.DataFrame
    sammenligning: tuple[int, ...]
    valgt: bool
    antal_kommuner: int
    prognosespor: pl.DataFrame | None = None
    historik: pl.DataFrame | None = None
    celler: pl.DataFrame | None = None  # the kommune's forecast and budget cells
    #: with a population (SPEC §9): ``tabel_befolkning`` and ``tabel_borger`` for the kommune,
    #: its region and Hele landet; ``rang`` in ``borger`` is the kommune's place by indeks
    befolkning: pl.DataFrame | None = None
    borger: pl.DataFrame | None = None
    #: how the comparison group was chosen: "budget", "demografi" or "valgt"
    gruppe: str = "budget"

    @property
    def rang(self) -> int | None:
        """The place among all 98 kommuner; None where the data hold part of the country."""
        value = self.overblik.filter(pl.col("kode") == str(self.kode))["rang"][0]
        return None if value is None else int(value)

    @property
    def hele_landet(self) -> bool:
        """Whether the data hold all 98 kommuner: else the sums are of the data's kommuner
        only, and the rank and the comparisons with the whole country are left out."""
        return codes.whole_country(self.antal_kommuner)


def method_contributions(cells: pl.DataFrame, method: str) -> pl.DataFrame:
    """Per kommune, a method's effects with each row of its factors as its own unit: the age
    groups for ``ministeriet`` (A, B, C; SPEC §8: A_a = (P^f − P^b)·w^f_a·s^f_a,
    B_a = P^f·(w^f_a − w^b_a)·s^f_a, C_a = P^f·w^f_a·(s^f_a − s^b_a)), the cells for the exact
    methods (A, B, C1, C2; C = C1 + C2).

    The decomposition's own factors and engine (:data:`kmf.compute.decompose.METHODS`) are run on
    every row alone; the effects are sums over these rows, so they sum to the kommune's.
    """
    chosen = METHODS[method]
    units, base, forecast = chosen.factors(cells, "kommunekode")
    # (kommuner, rows, 1, factors): the engine sums over the third axis, one row at a time
    per_row = chosen.engine(base[:, :, None, :], forecast[:, :, None, :])
    flat = per_row.reshape(-1, per_row.shape[-1])
    by_cell = per_row.shape[1] == len(codes.CELLS)
    area = (
        pl.col("sundhedsomraade").cast(pl.String)
        if by_cell
        else pl.lit(None, dtype=pl.String).alias("sundhedsomraade")
    )
    keys = (
        cells.select("kommunekode", "aldersgruppe", *(["sundhedsomraade"] if by_cell else []))
        .unique()
        .sort(pl.all())
        .select("kommunekode", pl.col("aldersgruppe").cast(pl.String), area)
    )
    if keys.height != flat.shape[0] or keys["kommunekode"].unique().len() != len(units):
        raise ValueError("every kommune needs the same cells")
    named = {name: flat[:, i] for i, name in enumerate(chosen.outputs) if name}
    split = [c for c in SPLIT_COLUMNS if c in named]
    c_total = named.get("sundhedsomraadeeffekt_kr")
    if c_total is None:
        c_total = named[split[0]] + named[split[1]]
    return keys.with_columns(
        pl.lit(method).alias("metode"),
        pl.Series("aktivitetseffekt_kr", named["aktivitetseffekt_kr"]),
        pl.Series("aldersgruppeeffekt_kr", named["aldersgruppeeffekt_kr"]),
        pl.Series("sundhedsomraadeeffekt_kr", c_total),
        *(
            pl.Series(c, named[c]) if c in named else pl.lit(None, dtype=pl.Float64).alias(c)
            for c in SPLIT_COLUMNS
        ),
    ).select("kommunekode", *CONTRIBUTION_COLUMNS[:3], *CONTRIBUTION_EFFECTS)


def contributions(cells: pl.DataFrame) -> pl.DataFrame:
    """Every kommune's contributions under both methods: ``kommunekode`` and
    ``CONTRIBUTION_COLUMNS``, in kr. and in pct. of the kommune's budget; per kommune and
    method the rows come largest first (by the absolute sum of A, B and C)."""
    budget = cells.group_by("kommunekode").agg(fixed_sum(K_BUDGET).alias("_budget"))
    both = pl.concat([method_contributions(cells, m) for m in ("ministeriet", "lmdi")])
    size = (
        pl.col("aktivitetseffekt_kr")
        + pl.col("aldersgruppeeffekt_kr")
        + pl.col("sundhedsomraadeeffekt_kr")
    ).abs()
    return (
        both.join(budget, on="kommunekode")
        .with_columns(
            (pl.col(c) / pl.col("_budget") * 100).alias(c.removesuffix("_kr") + "_pct")
            for c in CONTRIBUTION_EFFECTS
        )
        .with_columns(
            (pl.col("metode") == "lmdi").alias("_method"),
            size.alias("_size"),
            pl.col("aldersgruppe").cast(codes.AgeGroup).alias("_age"),
            pl.col("sundhedsomraade").cast(codes.Area).alias("_area"),
        )
        .sort(
            ["kommunekode", "_method", "_size", "_age", "_area"],
            descending=[False, False, True, False, False],
            nulls_last=True,
        )
        .select("kommunekode", *CONTRIBUTION_COLUMNS)
    )


def parse_codes(text: str, what: str = "--sammenlign") -> list[int]:
    """``"851,860, 773"`` → ``[851, 860, 773]``; anything else is a DataError in Danish."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    bad = [p for p in parts if not p.isdigit()]
    if bad or not parts:
        shown = ", ".join(repr(p) for p in bad[:5]) or "ingen koder"
        raise DataError(
            f"{what} skal være kommunekoder (hele tal) adskilt af komma, fx 851,860,773 "
            f"(fik {shown})."
        )
    return [int(p) for p in parts]


def comparison_group(
    b1: pl.DataFrame, kode: int, sammenlign: list[int] | None = None, size: int = GROUP_SIZE
) -> tuple[int, ...]:
    """The comparison kommuner: those given (known codes, the kommune itself left out), else
    the ``size`` other kommuner nearest in budget K^b, by |log K^b_j − log K^b_k|, ties by
    kode."""
    kommuner = b1.filter(pl.col("niveau") == "kommune").select(
        pl.col("kode").cast(pl.Int64), "kmf_budget_kr"
    )
    known = set(kommuner["kode"].to_list())
    if sammenlign is not None:
        unknown = [k for k in sammenlign if k not in known]
        if unknown:
            shown = ", ".join(codes.kommune_label(k) for k in unknown[:10])
            raise DataError(
                f"--sammenlign: kommune(r) {shown} er ikke i datasættet. Brug kommunekoder "
                f"fra datasættet ({len(known)} kommuner, fx {min(known)})."
            )
        chosen = list(dict.fromkeys(k for k in sammenlign if k != kode))
        if not chosen:
            raise DataError(
                f"--sammenlign skal nævne mindst én anden kommune end {codes.kommune_label(kode)}."
            )
        return tuple(chosen)
    own = kommuner.filter(pl.col("kode") == kode)["kmf_budget_kr"]
    nearest = (
        kommuner.filter(pl.col("kode") != kode)
        # rounded: distances equal in exact arithmetic (100 → 200 and 100 → 50) are a tie,
        # whatever the last bits of the logarithms
        .with_columns(
            (pl.col("kmf_budget_kr").log() - np.log(own[0])).abs().round(10).alias("_distance")
        )
        .sort("_distance", "kode")
        .head(size)
    )
    return tuple(nearest["kode"].to_list())


def overview(b1: pl.DataFrame, kode: int, group: tuple[int, ...]) -> pl.DataFrame:
    """B1 rows of the kommune, its region, Hele landet, the comparison kommuner and the
    group's sum (amounts summed, pct. of the summed budget), with each kommune's ``rang``."""
    rank = ranked(b1).select("kode", "rang")
    if not codes.whole_country(rank.height):  # a rank among part of the country says nothing
        rank = rank.with_columns(pl.lit(None, dtype=pl.Int64).alias("rang"))
    own = b1.filter((pl.col("niveau") == "kommune") & (pl.col("kode") == str(kode)))
    region = b1.filter((pl.col("niveau") == "region") & (pl.col("region") == own["region"][0]))
    land = b1.filter(pl.col("niveau") == "land")
    members = (
        b1.filter((pl.col("niveau") == "kommune") & pl.col("kode").is_in([str(g) for g in group]))
        .with_columns(pl.col("kode").cast(pl.Int64).alias("_kode"))
        .sort("_kode")
        .drop("_kode")
    )
    amounts = [c for c in b1.columns if c.endswith("_kr")]
    pct = [c for c in b1.columns if c.endswith("_pct")]
    total = members.select(
        pl.lit(GROUP_LEVEL).alias("niveau"),
        pl.lit(GROUP_CODE).alias("kode"),
        pl.lit(f"Sammenligningsgruppen ({len(group)} kommuner)").alias("navn"),
        pl.lit(None, dtype=pl.String).alias("region"),
        *(fixed_sum(c) for c in amounts),
    ).with_columns(
        (pl.col(c.removesuffix("_pct") + "_kr") / pl.col("kmf_budget_kr") * 100).alias(c)
        for c in pct
    )
    parts = [own, region, land, members, total.select(b1.columns)]
    rows = pl.concat(parts if group else parts[:3])
    return rows.join(rank, on="kode", how="left").select(
        *B1_COLUMNS[:4], "rang", *(c for c in b1.columns if c not in B1_COLUMNS[:4])
    )


def distributions(
    b2: pl.DataFrame, b3: pl.DataFrame, b4: pl.DataFrame, kode: int, region: str
) -> pl.DataFrame:
    """B2, B3 and B4 for the kommune beside its region and Hele landet: ``tabel``,
    ``kategori`` (code), ``navn`` (label), ``kommune``, ``region``, ``hele_landet``."""
    parts = []
    for name, table, keys, labels in (
        ("B2", b2, codes.AGE_GROUPS, codes.AGE_LABELS),
        ("B3", b3, codes.AGE_GROUPS, codes.AGE_LABELS),
        ("B4", b4, codes.AREAS, codes.AREA_LABELS),
    ):
        rows = {
            column: table.filter(condition).select(keys).row(0)
            for column, condition in (
                ("kommune", (pl.col("niveau") == "kommune") & (pl.col("kode") == str(kode))),
                ("region", (pl.col("niveau") == "region") & (pl.col("region") == region)),
                ("hele_landet", pl.col("niveau") == "land"),
            )
        }
        parts.append(
            pl.DataFrame(
                {
                    "tabel": [name] * len(keys),
                    "kategori": list(keys),
                    "navn": [labels[k] for k in keys],
                    **{c: list(v) for c, v in rows.items()},
                },
                schema={
                    "tabel": pl.String,
                    "kategori": pl.String,
                    "navn": pl.String,
                    "kommune": pl.Float64,
                    "region": pl.Float64,
                    "hele_landet": pl.Float64,
                },
            )
        )
    return pl.concat(parts)


def require_kommunekode(kode: int) -> None:
    """A DataError in Danish if ``kode`` is none of the 98 kommunekoder (before any data)."""
    if kode not in codes.kommune_codes():
        raise DataError(
            f"Kommune {kode} er ikke en kommunekode. Brug en af de 98 kommunekoder, fx 851 "
            "(Aalborg); de står i kmf/data/kommuner.csv."
        )


def require_kommune(b1: pl.DataFrame, kode: int) -> None:
    """A DataError in Danish if ``kode`` is not a kommune of the result."""
    known = b1.filter(pl.col("niveau") == "kommune")["kode"].cast(pl.Int64).to_list()
    if kode not in known:
        what = "ikke en kommunekode" if kode not in codes.kommune_codes() else "ikke i datasættet"
        raise DataError(
            f"Kommune {codes.kommune_label(kode)} er {what}. Brug en af datasættets "
            f"{len(known)} kommunekoder, fx {codes.kommune_label(min(known))}."
        )


def kommune_tables(
    result_tables: dict[str, pl.DataFrame],
    cells: pl.DataFrame,
    kode: int,
    aar: int,
    metode: str,
    sammenlign: list[int] | str | None = None,
    prognosespor: pl.DataFrame | None = None,
    historik: pl.DataFrame | None = None,
    indbyggere: pl.DataFrame | None = None,
) -> KommuneTables:
    """Everything one kommune's report shows (``result_tables``: ``b1`` … ``b4``, and with a
    population ``befolkning`` and ``borger``; ``indbyggere``: the population used).
    ``sammenlign="demografi"``: the kommuner nearest in population and share of 65+ årige."""
    b1 = result_tables["b1"]
    require_kommune(b1, kode)
    count = b1.filter(pl.col("niveau") == "kommune").height
    # the nearest kommuner in budget make a group only among all 98; chosen ones always do
    whole = codes.whole_country(count)
    if sammenlign == DEMOGRAPHY:
        if indbyggere is None:
            raise DataError(
                "--sammenlign demografi kræver befolkningstal, og datasættet har ingen. Læg "
                "'befolkning.csv' i datasættets mappe (kolonnerne kommunekode, aar, alder eller "
                "aldersgruppe og antal), eller vælg kommunerne selv: --sammenlign 751,461,101."
            )
        group = demographic_group(indbyggere, aar, kode)
    elif isinstance(sammenlign, str):
        group = comparison_group(b1, kode, parse_codes(sammenlign))
    elif sammenlign is not None or whole:
        group = comparison_group(b1, kode, sammenlign)
    else:
        group = ()
    own = b1.filter((pl.col("niveau") == "kommune") & (pl.col("kode") == str(kode))).row(
        0, named=True
    )
    bidrag = contributions(cells.filter(pl.col("kommunekode") == kode)).drop("kommunekode")
    return KommuneTables(
        kode=kode,
        navn=own["navn"],
        region=own["region"],
        aar=aar,
        metode=metode,
        overblik=overview(b1, kode, group),
        bidrag=bidrag,
        fordelinger=distributions(
            result_tables["b2"], result_tables["b3"], result_tables["b4"], kode, own["region"]
        ),
        sammenligning=group,
        valgt=sammenlign is not None and sammenlign != DEMOGRAPHY,
        antal_kommuner=count,
        prognosespor=_units_of(prognosespor, kode, own["region"]),
        historik=_units_of(historik, kode, own["region"]),
        celler=cells.filter(pl.col("kommunekode") == kode),
        befolkning=_units_of(result_tables.get("befolkning"), kode, own["region"]),
        borger=_with_rank(result_tables.get("borger"), kode, own["region"]),
        gruppe=(
            DEMOGRAPHY if sammenlign == DEMOGRAPHY else "budget" if sammenlign is None else "valgt"
        ),
    )


def _with_rank(borger: pl.DataFrame | None, kode: int, region: str) -> pl.DataFrame | None:
    """The kommune's, its region's and the land's rows of ``tabel_borger`` with the
    kommune's place by indeks (``rang``, 1 = highest) and the number of kommuner."""
    if borger is None:
        return None
    rows = _units_of(borger, kode, region)
    assert rows is not None
    ranks = index_rank(borger)
    return rows.join(ranks, on="kode", how="left").with_columns(
        pl.lit(ranks.height).alias("antal_kommuner")
    )


def _units_of(frame: pl.DataFrame | None, kode: int, region: str) -> pl.DataFrame | None:
    """The kommune's, its region's and the land's rows of a track or a history."""
    if frame is None:
        return None
    return frame.filter(
        ((pl.col("niveau") == "kommune") & (pl.col("kode") == str(kode)))
        | ((pl.col("niveau") == "region") & (pl.col("region") == region))
        | (pl.col("niveau") == "land")
    )
