"""The citizens in the Danish texts (SPEC §9): how much of the change comes from more
citizens, an older population and use per citizen, and what the unit pays against what its
age structure would cost at the country's use per citizen (the indeks).

Every number is a value of ``tabel_befolkning`` or ``tabel_borger`` rounded as shown:
pct.-point and the indeks with one decimal, kr. per indbygger in whole kr., persons whole.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from kmf.compute.kommune_tables import KommuneTables
from kmf.danish import format_kr, format_number, join_and
from kmf.report.text import Line, _is_zero, genitive, pct, signed
from kmf.report.text_sums import Sum
from kmf.result import Result

#: (column stem, words for a positive value, for a negative one, for one that shows as 0)
_PARTS = (
    ("befolkningseffekt", "flere borgere", "færre borgere", "antallet af borgere"),
    ("demografieffekt", "en ældre befolkning", "en yngre befolkning", "alderssammensætningen"),
    ("forbrugseffekt", "et større forbrug pr. borger", "et mindre forbrug pr. borger",
     "forbruget pr. borger"),
)  # fmt: skip
#: where the five, as shown, miss the change as shown: how far, and why
ROUNDED_FIVE = "Som vist giver de fem tal tilsammen"
#: the five effects that add up to the change
_ALL = (*(part[0] for part in _PARTS), "omraademikseffekt", "andelseffekt")


def _part(row: dict[str, Any], stem: str, up: str, down: str, neutral: str) -> str:
    value = row[f"{stem}_pct"]
    if _is_zero(value):
        return f"{neutral} trækker stort set ikke (0,0 pct.-point)"
    way = "trækker op med" if value > 0 else "trækker ned med"
    return f"{up if value > 0 else down} {way} {pct(value)} pct.-point"


def _split_sentence(row: dict[str, Any], aar: int, whose: str) -> str:
    """More citizens, older population, use per citizen, in pct.-point of the budget."""
    before, after = row["indbyggere_budget"], row["indbyggere_prognose"]
    moved = (
        f"havde {whose} {format_kr(after)} indbyggere begge år"
        if before == after
        else f"gik {whose} fra {format_kr(before)} til {format_kr(after)} indbyggere"
    )
    parts = [_part(row, *part) for part in _PARTS]
    mix, share = (signed(row[f"{c}_pct"]) for c in ("omraademikseffekt", "andelseffekt"))
    text = (
        f"Fra {aar - 2} (budgettets år) til {aar} {moved}. Borgerne forklarer en del af "
        f"ændringen: {', '.join(parts[:-1])}, og {parts[-1]} (alt i pct.-point af "
        f"budgettet). Resten skyldes, at forbruget flytter mellem sundhedsområder ({mix} "
        f"pct.-point), og at KMF-andelen ændres inden for områderne ({share} pct.-point)."
    )
    # the five add up to the change; where they do not as shown, say by how much and why
    total = Sum(row["aendring_pct"], tuple((c, row[f"{c}_pct"]) for c in _ALL))
    if total.rounding:
        text += (
            f" {ROUNDED_FIVE} {pct(total.rounding)} pct.-point "
            f"{'mindre' if total.rounding > 0 else 'mere'} end ændringen; forskellen skyldes "
            "afrunding."
        )
    return text


def _index_words(name: str, indeks: float) -> str:
    """``Aalborg betaler 3,0 pct. mere end landsgennemsnittet for en befolkning med
    Aalborgs alderssammensætning`` from the indeks as shown (one decimal)."""
    shown = round(indeks, 1)
    gap = shown - 100
    if _is_zero(gap):
        how = "det samme som"
    else:
        how = f"{pct(gap)} pct. {'mere' if gap > 0 else 'mindre'} end"
    return (
        f"{name} betaler {how} landsgennemsnittet for en befolkning med "
        f"{genitive(name)} alderssammensætning (indeks {format_number(indeks, 1)}; hele "
        "landet = 100)"
    )


def population_lines(t: KommuneTables) -> list[Line]:
    """The kommune's citizens: the split of its change and its indeks with its rank; empty
    without a population."""
    if t.befolkning is None or t.borger is None:
        return []
    own = t.befolkning.filter(pl.col("niveau") == "kommune").row(0, named=True)
    borger = t.borger.filter(pl.col("niveau") == "kommune").row(0, named=True)
    region = t.borger.filter(pl.col("niveau") == "region").row(0, named=True)
    lines: list[Line] = [("heading", "Borgerne")]
    lines.append(("text", _split_sentence(own, t.aar, "kommunen")))
    lines.append(
        (
            "text",
            f"KMF-prognosen svarer til {format_kr(borger['kmf_pr_indbygger_kr'])} kr. pr. "
            f"indbygger. {_index_words(t.navn, borger['indeks'])}; nr. {borger['rang']} af "
            f"{borger['antal_kommuner']} kommuner (nr. 1 har det højeste indeks). "
            f"{t.region} har indeks {format_number(region['indeks'], 1)}. Indekset sammenligner "
            "kommunens KMF med det, den ville betale, hvis hver borger brugte det samme som "
            "landsgennemsnittet for sin aldersgruppe: over 100 betaler kommunen mere, end dens "
            "alderssammensætning tilsiger.",
        )
    )
    return lines


def national_population_lines(result: Result) -> list[Line]:
    """Hele landet and the regions: the split of the change and the indeks, and the
    kommuner with the highest and lowest indeks; empty without a population."""
    if result.befolkning is None or result.borger is None:
        return []
    land = result.befolkning.filter(pl.col("niveau") == "land").row(0, named=True)
    borger = result.borger
    land_b = borger.filter(pl.col("niveau") == "land").row(0, named=True)
    regions = borger.filter(pl.col("niveau") == "region").sort("indeks", descending=True)
    lines: list[Line] = [("heading", "Borgerne")]
    lines.append(("text", _split_sentence(land, result.aar, "hele landet")))
    by_region = result.befolkning.filter(pl.col("niveau") == "region")
    if by_region.height > 1:
        ranges = []
        for stem, _, _, neutral in _PARTS:
            values = by_region[f"{stem}_pct"].to_list()
            low, high = min(values), max(values)
            ranges.append(f"{neutral} mellem {format_number(low, 1)} og {format_number(high, 1)}")
        lines.append(
            (
                "text",
                f"I regionerne bidrager {join_and(ranges)} pct.-point "
                "(minus er et negativt bidrag).",
            )
        )
    text = (
        f"KMF-prognosen svarer til {format_kr(land_b['kmf_pr_indbygger_kr'])} kr. pr. "
        "indbygger for hele landet."
    )
    if regions.height > 1:
        shown = join_and(
            [f"{r['navn']} ({format_number(r['indeks'], 1)})" for r in regions.to_dicts()]
        )
        text += (
            " Målt mod det, landets forbrug pr. borger i hver aldersgruppe ville koste med "
            f"regionens egen befolkning (indeks, hele landet = 100), ligger regionerne fra "
            f"højest til lavest sådan: {shown}."
        )
    lines.append(("text", text))
    kommuner = borger.filter(pl.col("niveau") == "kommune").with_columns(
        pl.col("kode").cast(pl.Int64).alias("_kode")
    )
    if kommuner.height >= 6:
        high = kommuner.sort(["indeks", "_kode"], descending=[True, False]).head(3).to_dicts()
        low = kommuner.sort(["indeks", "_kode"], descending=[False, False]).head(3).to_dicts()
        lines.append(
            (
                "text",
                "Højest indeks har "
                + join_and([f"{r['navn']} ({format_number(r['indeks'], 1)})" for r in high])
                + ", lavest "
                + join_and([f"{r['navn']} ({format_number(r['indeks'], 1)})" for r in low])
                + ". Et indeks over 100 betyder, at kommunen betaler mere, end dens "
                "alderssammensætning tilsiger; under 100 mindre.",
            )
        )
    return lines
