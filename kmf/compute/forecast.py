"""The forecast (prognose) and budget (forudsat niveau) cells for budget year T (SPEC §4.1–4.2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from kmf import codes
from kmf.compute.checks import require_budget_near_forecast, require_kmf_within_value
from kmf.compute.timeline import ROLES, Basis, Cut, choose_basis, cuts_for
from kmf.danish import format_kr
from kmf.errors import DataError, describe_problem_rows, full_stop
from kmf.io import Dataset, exact_sum

__all__ = ["Basis", "Cells", "Cut", "build_cells", "build_keyed_cells", "choose_year", "cuts_for"]

# The columns of the forecast and budget cells (``Cells.cells``).
P_FORECAST, K_FORECAST = "produktionsvaerdi_prognose_kr", "kmf_prognose_kr"
P_BUDGET, K_BUDGET = "produktionsvaerdi_budget_kr", "kmf_budget_kr"
# The key of a forecast among several built at once: its index in the list of bases.
KEY = "noegle"
# Stands for "undated" where cuts are joined on their date (a null never joins).
_NO_DATE = date(1, 1, 1)
_CUT = ["aar", "opgoerelse", "takstaar", "_dato"]


@dataclass(frozen=True)
class Cells:
    """Forecast and budget cells of every kommune, with the factors that made them.

    ``cells``: ``kommunekode``, ``aldersgruppe``, ``sundhedsomraade``,
    ``produktionsvaerdi_prognose_kr``, ``kmf_prognose_kr``, ``produktionsvaerdi_budget_kr``,
    ``kmf_budget_kr`` — all 17 cells of every kommune (absent cells are 0).
    ``kommuner``: ``kommunekode``, ``efterregistreringsfaktor`` (f_k), ``kmf_grundlag_kr`` (K⁰_k),
    ``kmf_budget_kr`` (K^b_k), ``budgetfaktor`` (g_k).
    Built for several forecasts at once (:func:`build_keyed_cells`), both have a first column
    ``noegle``: the index of the forecast's basis in ``bases``.
    """

    year: int
    cells: pl.DataFrame
    kommuner: pl.DataFrame
    budget_kind: str  # "national" or "kommune"
    rows_used: dict[int, int]  # input file index -> activity rows used
    bases: tuple[Basis, ...] = ()


def choose_year(dataset: Dataset, aar: int | None) -> int:
    """Budget year T: the argument, else ``kmf.toml``, else the latest year with a foreløbig cut."""
    if aar is not None:
        return aar
    if dataset.settings.aar is not None:
        return dataset.settings.aar
    latest = dataset.latest_foreloebig_year()
    if latest is None:
        raise DataError(
            "Aktivitetsdata har ingen foreløbig opgørelse (opgoerelse = 'foreloebig'), så "
            "budgetåret kan ikke findes. Angiv det med --aar eller 'aar' i kmf.toml."
        )
    return latest


def basis_for(dataset: Dataset, year: int, dato: date | None = None) -> tuple[Basis, list[Basis]]:
    """The cuts of the forecast for T on ``dato`` (SPEC §7) and the later dates without a
    basis. Undated data read the four undated cuts of SPEC §4."""
    if dato is None and not dataset.dated:
        return Basis(year, None, cuts_for(year)), []
    return choose_basis(dataset, year, dato)


def build_cells(dataset: Dataset, year: int, basis: Basis | None = None) -> Cells:
    """Forecast cells f_k · (T, foreløbig) and budget cells g_k · (T−2, endelig, T-takster)
    for one forecast (default: T's default date, see :func:`basis_for`)."""
    chosen = basis if basis is not None else basis_for(dataset, year)[0]
    keyed = build_keyed_cells(dataset, [chosen])
    return Cells(
        year,
        keyed.cells.drop(KEY),
        keyed.kommuner.drop(KEY),
        keyed.budget_kind,
        keyed.rows_used,
        keyed.bases,
    )


def build_keyed_cells(dataset: Dataset, bases: list[Basis]) -> Cells:
    """The cells of several forecasts at once (dates of one year, or years): each basis's cuts
    are joined to the activity cells under its key, and every step groups by the key."""
    cuts = pl.DataFrame(
        [
            (i, c.name, c.aar, c.opgoerelse, c.takstaar, c.dato or _NO_DATE)
            for i, b in enumerate(bases)
            for c in b.cuts
        ],
        schema={
            KEY: pl.UInt32,
            "rolle": pl.String,
            "aar": pl.Int16,
            "opgoerelse": codes.Opgoerelse,
            "takstaar": pl.Int16,
            "_dato": pl.Date,
        },
        orient="row",
    )
    dated = dataset.cells.with_columns(pl.col("opgoerelsesdato").fill_null(_NO_DATE).alias("_dato"))
    tagged = cuts.join(dated, on=_CUT, how="inner")

    present = set(tagged.select(KEY, "rolle").unique().iter_rows())
    for i, b in enumerate(bases):
        missing = [c for c in b.cuts if (i, c.name) not in present]
        if missing:
            raise DataError(_missing_cuts_message(dataset, b.aar, missing))
    _require_same_kommuner(tagged, bases)
    require_kmf_within_value(tagged, _NO_DATE)

    totals = tagged.group_by(KEY, "rolle", "kommunekode").agg(
        exact_sum("kmf"), exact_sum("produktionsvaerdi")
    )

    def role(name: str, *columns: pl.Expr) -> pl.DataFrame:
        return totals.filter(pl.col("rolle") == name).select(KEY, "kommunekode", *columns)

    factor = role("efterreg_endelig", pl.col("kmf").alias("_end")).join(
        role("efterreg_foreloebig", pl.col("kmf").alias("_fore")), on=[KEY, "kommunekode"]
    )
    _require_positive(
        factor,
        "_fore",
        bases,
        "efterreg_foreloebig",
        "KMF-beløbet (kolonnen 'kmf')",
        "efterregistreringsfaktoren f = endelig / foreløbig",
    )
    base_totals = role("grundlag", pl.col("kmf").alias("kmf_grundlag_kr"))
    _require_positive(
        base_totals,
        "kmf_grundlag_kr",
        bases,
        "grundlag",
        "KMF-beløbet (kolonnen 'kmf')",
        "fordelingen af budgettet på kommuner",
    )
    _require_positive(
        role("prognose", pl.col("produktionsvaerdi")),
        "produktionsvaerdi",
        bases,
        "prognose",
        "produktionsværdien (kolonnen 'produktionsvaerdi')",
        "aktivitetsniveauet",
    )

    keys_of_year: dict[int, list[int]] = {}
    for i, b in enumerate(bases):
        keys_of_year.setdefault(b.aar, []).append(i)
    budgets, kind_of = [], {}
    for year, keys in keys_of_year.items():  # one budget per budget year, not per date
        budget, kind_of[year] = _budget_for(
            dataset, year, base_totals.filter(pl.col(KEY).is_in(keys))
        )
        budgets.append(budget)
    kinds = set(kind_of.values())
    kommuner = (
        factor.join(base_totals, on=[KEY, "kommunekode"])
        .join(pl.concat(budgets), on=[KEY, "kommunekode"])
        .select(
            KEY,
            "kommunekode",
            (pl.col("_end") / pl.col("_fore")).alias("efterregistreringsfaktor"),
            "kmf_grundlag_kr",
            "kmf_budget_kr",
            (pl.col("kmf_budget_kr") / pl.col("kmf_grundlag_kr")).alias("budgetfaktor"),
        )
        .sort(KEY, "kommunekode")
    )

    grid = _grid(kommuner.select(KEY, "kommunekode"))
    on = [KEY, "kommunekode", "aldersgruppe", "sundhedsomraade"]
    forecast = _cells_of(tagged.filter(pl.col("rolle") == "prognose"), "prognose")
    base = _cells_of(tagged.filter(pl.col("rolle") == "grundlag"), "budget")
    out = (
        grid.join(forecast, on=on, how="left")
        .join(base, on=on, how="left")
        .join(
            kommuner.select(KEY, "kommunekode", "efterregistreringsfaktor", "budgetfaktor"),
            on=[KEY, "kommunekode"],
        )
        .with_columns(pl.exclude(*on).fill_null(0.0))
        .select(
            *on,
            (pl.col("produktionsvaerdi_prognose") * pl.col("efterregistreringsfaktor")).alias(
                "produktionsvaerdi_prognose_kr"
            ),
            (pl.col("kmf_prognose") * pl.col("efterregistreringsfaktor")).alias("kmf_prognose_kr"),
            (pl.col("produktionsvaerdi_budget") * pl.col("budgetfaktor")).alias(
                "produktionsvaerdi_budget_kr"
            ),
            (pl.col("kmf_budget") * pl.col("budgetfaktor")).alias("kmf_budget_kr"),
        )
        .sort(*on)
    )
    years = ", ".join(str(y) for y in keys_of_year)
    require_finite(kommuner, "kommunekode", f"prognosen og budgettet for {years} (faktorerne)")
    require_finite(out, "kommunekode", f"prognose- og budgetcellerne for {years}")
    _check_shares_defined(out, bases)
    forecasts = out.group_by(KEY, "kommunekode").agg(pl.col(K_FORECAST).sort().sum())
    require_budget_near_forecast(
        kommuner.select(KEY, "kommunekode", K_BUDGET).join(forecasts, on=[KEY, "kommunekode"]),
        KEY,
        {i: (b.aar, kind_of[b.aar]) for i, b in enumerate(bases)},
        next(f.display for f in dataset.files if f.table == "budget"),
    )

    used = (
        dataset.aktivitet.with_columns(pl.col("opgoerelsesdato").fill_null(_NO_DATE).alias("_dato"))
        .join(cuts.select(_CUT).unique(), on=_CUT, how="semi")
        .group_by("fil")
        .agg(pl.col("rows").sum())
    )
    rows_used = dict(zip(used["fil"].to_list(), used["rows"].to_list(), strict=True))
    kind = kinds.pop() if len(kinds) == 1 else "blandet"
    return Cells(bases[0].aar, out, kommuner, kind, rows_used, tuple(bases))


def _require_same_kommuner(tagged: pl.DataFrame, bases: list[Basis]) -> None:
    """Every kommune has rows in all four cuts of each forecast."""
    roles = tagged.group_by(KEY, "kommunekode").agg(pl.col("rolle").unique())
    short = roles.filter(pl.col("rolle").list.len() < len(ROLES)).sort(KEY, "kommunekode")
    if short.is_empty():
        return
    key = short[KEY][0]
    basis = bases[key]
    of_key = roles.filter(pl.col(KEY) == key)
    every = set(of_key["kommunekode"].to_list())
    have: dict[str, set[int]] = {c.name: set() for c in basis.cuts}
    for k, present in of_key.select("kommunekode", "rolle").iter_rows():
        for r in present:
            have[r].add(k)
    gaps = [
        f"{c.label} mangler kommune(r) {codes.kommune_list(every - have[c.name])}"
        for c in basis.cuts
        if every - have[c.name]
    ]
    when = f" pr. {basis.dato.isoformat()}" if basis.dato is not None else ""
    raise DataError(
        "Aktivitetsdata (kolonnen 'kommunekode') har ikke de samme kommuner i alle fire "
        f"opgørelser, som budgetår {basis.aar}{when} bruger:\n"
        + "\n".join(f"- {g}" for g in gaps)
        + "\nHver kommune skal have rækker i alle fire opgørelser."
    )


def require_finite(frame: pl.DataFrame, unit: str, where: str) -> None:
    """Every number in ``frame`` is finite (an empty value is allowed); else a DataError
    naming where the value arose, the column and the units."""
    floats = [c for c, t in frame.schema.items() if t.is_float()]
    if not floats:
        return
    bad = frame.filter(pl.any_horizontal(pl.col(floats).is_infinite() | pl.col(floats).is_nan()))
    if bad.is_empty():
        return
    columns = [c for c in floats if bad[c].is_infinite().any() or bad[c].is_nan().any()]
    units = ", ".join(str(u) for u in bad[unit].head(5).to_list())
    more = " …" if bad.height > 5 else ""
    raise DataError(
        f"Beregningen af {where} gav et tal, der ikke er endeligt (uendeligt eller udefineret), "
        f"i kolonne {', '.join(repr(c) for c in columns)} for {unit} {units}{more}. Det sker "
        "kun ved ekstreme beløb (fx et budget eller en opgørelse, der er mange tusind gange "
        "for stor eller næsten 0); kontrollér beløbene for disse enheder."
    )


def _grid(kommuner: pl.DataFrame) -> pl.DataFrame:
    cells = pl.DataFrame(
        {
            "aldersgruppe": pl.Series([a for a, _ in codes.CELLS], dtype=codes.AgeGroup),
            "sundhedsomraade": pl.Series([o for _, o in codes.CELLS], dtype=codes.Area),
        }
    )
    return kommuner.join(cells, how="cross")


def _cells_of(cut: pl.DataFrame, side: str) -> pl.DataFrame:
    return cut.group_by(KEY, "kommunekode", "aldersgruppe", "sundhedsomraade").agg(
        exact_sum("produktionsvaerdi").alias(f"produktionsvaerdi_{side}"),
        exact_sum("kmf").alias(f"kmf_{side}"),
    )


def _require_positive(
    frame: pl.DataFrame, column: str, bases: list[Basis], role: str, what: str, used: str
) -> None:
    bad = frame.filter(pl.col(column) <= 0).sort(KEY, "kommunekode")
    if bad.is_empty():
        return
    key = bad[KEY][0]
    bad = bad.filter(pl.col(KEY) == key)
    spec = bases[key].cut(role)
    shown = describe_problem_rows(
        bad,
        lambda r: f"kommune {codes.kommune_label(r['kommunekode'])}: {format_kr(r[column])} kr.",
    )
    raise DataError(
        f"Aktivitetsdata: {what} i {spec.label} summer til 0 for {bad.height} "
        f"kommune(r) ({shown}). Det bruges til {used} og må ikke være 0. "
        "Kontrollér, at kommunens rækker for denne opgørelse er med."
    )


def _budget_for(dataset: Dataset, year: int, base: pl.DataFrame) -> tuple[pl.DataFrame, str]:
    """K^b_k per kommune, from a national or a per-kommune budget for year T."""
    budget = dataset.budget
    display = next(f.display for f in dataset.files if f.table == "budget")
    rows = budget.filter(pl.col("aar") == year)
    years = sorted(set(budget["aar"].to_list()))
    if rows.is_empty():
        raise DataError(
            f"{display}, kolonne 'aar': der er intet budget for {year} (budgettet har årene "
            f"{', '.join(map(str, years)) or 'ingen'}). Tilføj en række med aar = {year} og "
            "kmf_budget_kr (ØA-niveauet)."
        )
    per_kommune = rows["kommunekode"].null_count() < rows.height
    if per_kommune and rows["kommunekode"].null_count() > 0:
        shown = describe_problem_rows(
            rows.filter(pl.col("kommunekode").is_null()), lambda r: r["raekke"]
        )
        raise DataError(
            f"{display}, kolonne 'kommunekode': budgettet for {year} blander landsbudget og "
            f"kommunebudgetter ({shown} har ingen kommunekode). Brug enten én række for hele "
            "landet eller én række pr. kommune."
        )
    positive = rows.filter(pl.col("kmf_budget_kr") <= 0)
    if not positive.is_empty():
        shown = describe_problem_rows(
            positive, lambda r: f"{r['raekke']}: {format_kr(r['kmf_budget_kr'])} kr."
        )
        raise DataError(
            f"{display}, kolonne 'kmf_budget_kr': budgettet for {year} skal være større end 0 "
            f"({shown})."
        )
    if not per_kommune:
        if rows.height > 1:
            shown = describe_problem_rows(
                rows, lambda r: f"{r['raekke']}: {format_kr(r['kmf_budget_kr'])} kr."
            )
            raise DataError(
                f"{display}, kolonne 'aar': budgettet for {year} står der {rows.height} gange "
                f"({shown}). Der må kun være én række for {year}."
            )
        count = base["kommunekode"].n_unique()
        if count < codes.KOMMUNER_IN_ALL:
            raise DataError(
                f"{display}: budgettet for {year} er ét beløb for hele landet (filen har ingen "
                f"kolonne 'kommunekode'), men aktivitetsdata har kun {count} af de "
                f"{codes.KOMMUNER_IN_ALL} kommuner. Et landsbudget fordeles efter kommunernes "
                f"KMF i {year - 2} over alle {codes.KOMMUNER_IN_ALL} kommuner, så det kan ikke "
                "fordeles på en del af dem. Giv i stedet et budget pr. kommune for de kommuner, "
                "du har data for: en budgetfil med kolonnerne aar, kommunekode og kmf_budget_kr "
                "(én række pr. kommune)."
            )
        total = float(rows["kmf_budget_kr"][0])
        kommuner = base.sort(KEY, "kommunekode").with_columns(
            (total * pl.col("kmf_grundlag_kr") / exact_sum("kmf_grundlag_kr").over(KEY)).alias(
                "kmf_budget_kr"
            )
        )
        return kommuner.select(KEY, "kommunekode", "kmf_budget_kr"), "national"

    counts = (
        rows.group_by("kommunekode").agg(pl.len(), pl.col("raekke").min()).filter(pl.col("len") > 1)
    )
    if not counts.is_empty():
        shown = describe_problem_rows(
            counts.sort("kommunekode"),
            lambda r: f"kommune {codes.kommune_label(r['kommunekode'])} ({r['len']} rækker)",
        )
        raise DataError(
            f"{display}, kolonne 'kommunekode': budgettet for {year} har kommuner, der står mere "
            f"end én gang: {shown}. Hver kommune må kun have én budgetrække pr. år."
        )
    have = set(rows["kommunekode"].to_list())
    need = set(base["kommunekode"].to_list())
    if have != need:
        parts = []
        if need - have:
            parts.append(f"mangler budget for {codes.kommune_list(need - have)}")
        if have - need:
            parts.append(
                f"har budget for kommuner uden aktivitetsdata: {codes.kommune_list(have - need)}"
            )
        raise DataError(
            f"{display}, kolonne 'kommunekode': budgettet for {year} passer ikke til "
            f"aktivitetsdata — det {' og '.join(parts)}. Budgettet pr. kommune skal dække "
            "præcis de kommuner, der er aktivitetsdata for."
        )
    given = rows.select(pl.col("kommunekode").cast(pl.Int16), "kmf_budget_kr")
    return base.select(KEY, "kommunekode").join(given, on="kommunekode"), "kommune"


def _check_shares_defined(cells: pl.DataFrame, bases: list[Basis]) -> None:
    """KMF without production value in an age group makes its KMF share undefined."""
    groups = cells.group_by(KEY, "kommunekode", "aldersgruppe").agg(
        pl.exclude("sundhedsomraade").sum()
    )
    for side, role in (("prognose", "prognose"), ("budget", "grundlag")):
        bad = groups.filter(
            (pl.col(f"produktionsvaerdi_{side}_kr") == 0) & (pl.col(f"kmf_{side}_kr") != 0)
        ).sort(KEY, "kommunekode", "aldersgruppe")
        if not bad.is_empty():
            bad = bad.filter(pl.col(KEY) == bad[KEY][0])
            cut = bases[bad[KEY][0]].cut(role)
            when = f" pr. {cut.dato.isoformat()}" if cut.dato is not None else ""
            label = f"{cut.aar} {codes.CUT_LABELS[cut.opgoerelse]}{when}"
            kmf_column = f"kmf_{side}_kr"

            def label_row(r: dict, column: str = kmf_column) -> str:
                return (
                    f"kommune {codes.kommune_label(r['kommunekode'])}, {r['aldersgruppe']}: "
                    f"kmf {format_kr(r[column])} kr."
                )

            shown = describe_problem_rows(bad, label_row)
            raise DataError(
                f"Aktivitetsdata ({label}): {bad.height} aldersgruppe(r) har et KMF-beløb "
                f"(kolonnen 'kmf') men produktionsværdi 0 (kolonnen 'produktionsvaerdi'): "
                f"{full_stop(shown)} KMF-andelen kan da ikke beregnes; ret produktionsværdien."
            )


def _missing_cuts_message(dataset: Dataset, year: int, missing: list[Cut]) -> str:
    have = dataset.cuts()
    listed = [
        f"{r['aar']} {codes.CUT_LABELS[r['opgoerelse']]}"
        + (f" pr. {r['opgoerelsesdato'].isoformat()}" if r["opgoerelsesdato"] else "")
        + f" i {r['takstaar']}-takster ({r['rows']} rækker)"
        for r in have.iter_rows(named=True)
    ]
    files = ", ".join(f.display for f in dataset.files if f.table == "aktivitet")
    return (
        f"Aktivitetsdata ({files}) mangler opgørelser, som budgetår {year} kræver:\n"
        + "\n".join(
            f"- {m.label} (aar = {m.aar}, opgoerelse = '{m.opgoerelse}', takstaar = {m.takstaar})"
            for m in missing
        )
        + "\nData har: "
        + ("; ".join(listed) if listed else "ingen rækker")
        + ".\nTilføj de manglende opgørelser, eller vælg et andet budgetår med --aar."
    )
