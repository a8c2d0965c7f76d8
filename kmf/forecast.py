"""The forecast (prognose) and budget (forudsat niveau) cells for budget year T (SPEC §4.1–4.2)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from kmf import codes
from kmf.danish import format_kr
from kmf.errors import DataError, describe_problem_rows
from kmf.io import Dataset, exact_sum

# The columns of the forecast and budget cells (``Cells.cells``).
P_FORECAST, K_FORECAST = "produktionsvaerdi_prognose_kr", "kmf_prognose_kr"
P_BUDGET, K_BUDGET = "produktionsvaerdi_budget_kr", "kmf_budget_kr"


@dataclass(frozen=True)
class Cut:
    """One of the four cuts a run uses."""

    name: str  # key used internally
    aar: int
    opgoerelse: str
    takstaar: int

    @property
    def label(self) -> str:
        return f"{self.aar} {codes.CUT_LABELS[self.opgoerelse]} opgørelse i {self.takstaar}-takster"


def cuts_for(year: int) -> tuple[Cut, ...]:
    """The cuts a run for budget year T reads: T foreløbig, T−1 foreløbig and endelig, T−2 endelig
    at year-T takster."""
    return (
        Cut("prognose", year, "foreloebig", year),
        Cut("efterreg_foreloebig", year - 1, "foreloebig", year - 1),
        Cut("efterreg_endelig", year - 1, "endelig", year - 1),
        Cut("grundlag", year - 2, "endelig", year),
    )


@dataclass(frozen=True)
class Cells:
    """Forecast and budget cells of every kommune, with the factors that made them.

    ``cells``: ``kommunekode``, ``aldersgruppe``, ``sundhedsomraade``,
    ``produktionsvaerdi_prognose_kr``, ``kmf_prognose_kr``, ``produktionsvaerdi_budget_kr``,
    ``kmf_budget_kr`` — all 17 cells of every kommune (absent cells are 0).
    ``kommuner``: ``kommunekode``, ``efterregistreringsfaktor`` (f_k), ``kmf_grundlag_kr`` (K⁰_k),
    ``kmf_budget_kr`` (K^b_k), ``budgetfaktor`` (g_k).
    """

    year: int
    cells: pl.DataFrame
    kommuner: pl.DataFrame
    budget_kind: str  # "national" or "kommune"
    rows_used: dict[int, int]  # input file index -> activity rows used


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


def build_cells(dataset: Dataset, year: int) -> Cells:
    """Forecast cells f_k · (T, foreløbig) and budget cells g_k · (T−2, endelig, T-takster)."""
    specs = cuts_for(year)
    cells = dataset.cells
    by_cut: dict[str, pl.DataFrame] = {}
    missing = []
    for spec in specs:
        cut = cells.filter(
            (pl.col("aar") == spec.aar)
            & (pl.col("opgoerelse") == spec.opgoerelse)
            & (pl.col("takstaar") == spec.takstaar)
        )
        if cut.is_empty():
            missing.append(spec)
        by_cut[spec.name] = cut
    if missing:
        raise DataError(_missing_cuts_message(dataset, year, missing))

    kommune_sets = {name: set(cut["kommunekode"].to_list()) for name, cut in by_cut.items()}
    every = set().union(*kommune_sets.values())
    gaps = [
        f"{spec.label} mangler kommune(r) {_kommune_list(every - kommune_sets[spec.name])}"
        for spec in specs
        if every - kommune_sets[spec.name]
    ]
    if gaps:
        raise DataError(
            "Aktivitetsdata (kolonnen 'kommunekode') har ikke de samme kommuner i alle fire "
            f"opgørelser, som budgetår {year} bruger:\n"
            + "\n".join(f"- {g}" for g in gaps)
            + "\nHver kommune skal have rækker i alle fire opgørelser."
        )

    totals = {
        name: cut.group_by("kommunekode").agg(exact_sum("kmf"), exact_sum("produktionsvaerdi"))
        for name, cut in by_cut.items()
    }
    factor = (
        totals["efterreg_endelig"]
        .select("kommunekode", pl.col("kmf").alias("_end"))
        .join(
            totals["efterreg_foreloebig"].select("kommunekode", pl.col("kmf").alias("_fore")),
            on="kommunekode",
        )
    )
    _require_positive(
        factor,
        "_fore",
        specs[1],
        "KMF-beløbet (kolonnen 'kmf')",
        "efterregistreringsfaktoren f = endelig / foreløbig",
    )
    base_totals = totals["grundlag"].select("kommunekode", pl.col("kmf").alias("kmf_grundlag_kr"))
    _require_positive(
        base_totals,
        "kmf_grundlag_kr",
        specs[3],
        "KMF-beløbet (kolonnen 'kmf')",
        "fordelingen af budgettet på kommuner",
    )
    _require_positive(
        totals["prognose"],
        "produktionsvaerdi",
        specs[0],
        "produktionsværdien (kolonnen 'produktionsvaerdi')",
        "aktivitetsniveauet",
    )

    budget, kind = _budget_for(dataset, year, base_totals)
    kommuner = (
        factor.join(base_totals, on="kommunekode")
        .join(budget, on="kommunekode")
        .select(
            "kommunekode",
            (pl.col("_end") / pl.col("_fore")).alias("efterregistreringsfaktor"),
            "kmf_grundlag_kr",
            "kmf_budget_kr",
            (pl.col("kmf_budget_kr") / pl.col("kmf_grundlag_kr")).alias("budgetfaktor"),
        )
        .sort("kommunekode")
    )

    grid = _grid(kommuner["kommunekode"])
    forecast = _cells_of(by_cut["prognose"], "prognose")
    base = _cells_of(by_cut["grundlag"], "budget")
    out = (
        grid.join(forecast, on=["kommunekode", "aldersgruppe", "sundhedsomraade"], how="left")
        .join(base, on=["kommunekode", "aldersgruppe", "sundhedsomraade"], how="left")
        .join(
            kommuner.select("kommunekode", "efterregistreringsfaktor", "budgetfaktor"),
            on="kommunekode",
        )
        .with_columns(pl.exclude("kommunekode", "aldersgruppe", "sundhedsomraade").fill_null(0.0))
        .select(
            "kommunekode",
            "aldersgruppe",
            "sundhedsomraade",
            (pl.col("produktionsvaerdi_prognose") * pl.col("efterregistreringsfaktor")).alias(
                "produktionsvaerdi_prognose_kr"
            ),
            (pl.col("kmf_prognose") * pl.col("efterregistreringsfaktor")).alias("kmf_prognose_kr"),
            (pl.col("produktionsvaerdi_budget") * pl.col("budgetfaktor")).alias(
                "produktionsvaerdi_budget_kr"
            ),
            (pl.col("kmf_budget") * pl.col("budgetfaktor")).alias("kmf_budget_kr"),
        )
        .sort("kommunekode", "aldersgruppe", "sundhedsomraade")
    )
    require_finite(kommuner, "kommunekode", f"prognosen og budgettet for {year} (faktorerne)")
    require_finite(out, "kommunekode", f"prognose- og budgetcellerne for {year}")
    _check_shares_defined(out, year)

    used = dataset.aktivitet.filter(
        pl.any_horizontal(
            (pl.col("aar") == s.aar)
            & (pl.col("opgoerelse") == s.opgoerelse)
            & (pl.col("takstaar") == s.takstaar)
            for s in specs
        )
    )
    rows_used_frame = used.group_by("fil").agg(pl.col("rows").sum())
    rows_used = dict(
        zip(rows_used_frame["fil"].to_list(), rows_used_frame["rows"].to_list(), strict=True)
    )
    return Cells(year, out, kommuner, kind, rows_used)


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


def _grid(kommunekoder: pl.Series) -> pl.DataFrame:
    cells = pl.DataFrame(
        {
            "aldersgruppe": pl.Series([a for a, _ in codes.CELLS], dtype=codes.AgeGroup),
            "sundhedsomraade": pl.Series([o for _, o in codes.CELLS], dtype=codes.Area),
        }
    )
    return kommunekoder.to_frame().join(cells, how="cross")


def _cells_of(cut: pl.DataFrame, side: str) -> pl.DataFrame:
    return cut.group_by("kommunekode", "aldersgruppe", "sundhedsomraade").agg(
        exact_sum("produktionsvaerdi").alias(f"produktionsvaerdi_{side}"),
        exact_sum("kmf").alias(f"kmf_{side}"),
    )


def _kommune_list(kommunekoder: set[int], most: int = 10) -> str:
    """Up to ``most`` kommuner by code and name, then an ellipsis if there are more."""
    shown = ", ".join(codes.kommune_label(k) for k in sorted(kommunekoder)[:most])
    return shown + (" …" if len(kommunekoder) > most else "")


def _require_positive(frame: pl.DataFrame, column: str, spec: Cut, what: str, used: str) -> None:
    bad = frame.filter(pl.col(column) <= 0).sort("kommunekode")
    if bad.is_empty():
        return
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
        total = float(rows["kmf_budget_kr"][0])
        kommuner = base.with_columns(
            (total * pl.col("kmf_grundlag_kr") / exact_sum("kmf_grundlag_kr")).alias(
                "kmf_budget_kr"
            )
        )
        return kommuner.select("kommunekode", "kmf_budget_kr"), "national"

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
            parts.append(f"mangler budget for {_kommune_list(need - have)}")
        if have - need:
            parts.append(
                f"har budget for kommuner uden aktivitetsdata: {_kommune_list(have - need)}"
            )
        raise DataError(
            f"{display}, kolonne 'kommunekode': budgettet for {year} passer ikke til "
            f"aktivitetsdata — det {' og '.join(parts)}. Budgettet pr. kommune skal dække "
            "præcis de kommuner, der er aktivitetsdata for."
        )
    return rows.select(pl.col("kommunekode").cast(pl.Int16), "kmf_budget_kr"), "kommune"


def _check_shares_defined(cells: pl.DataFrame, year: int) -> None:
    """KMF without production value in an age group makes its KMF share undefined."""
    groups = cells.group_by("kommunekode", "aldersgruppe").agg(pl.exclude("sundhedsomraade").sum())
    for side, label in (("prognose", f"{year} foreløbig"), ("budget", f"{year - 2} endelig")):
        bad = groups.filter(
            (pl.col(f"produktionsvaerdi_{side}_kr") == 0) & (pl.col(f"kmf_{side}_kr") != 0)
        ).sort("kommunekode", "aldersgruppe")
        if not bad.is_empty():
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
                f"{shown}. KMF-andelen kan da ikke beregnes; ret produktionsværdien."
            )


def _missing_cuts_message(dataset: Dataset, year: int, missing: list[Cut]) -> str:
    have = dataset.cuts()
    listed = [
        f"{r['aar']} {codes.CUT_LABELS[r['opgoerelse']]} i {r['takstaar']}-takster "
        f"({r['rows']} rækker)"
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
