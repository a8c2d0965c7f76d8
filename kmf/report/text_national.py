"""The national summary of ``kmf run`` (``sammenfatning.md`` and the sheet
"Sammenfatning"): Hele landet and the regions (jf. tabel 1), the effects adding up to the
change with the region behind each range, what drives the kommuner (tabel 2 and 3), where
the largest rises and falls lie and what drives them (tabel 4 and 6), the final settlement
and last year's accuracy where the data have them, and the source. One function per
section, so that a section can be added."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from kmf import codes
from kmf.danish import format_date, join_and
from kmf.report.text import (
    _MAIN,
    EFFECT_NAMES,
    Line,
    _contributes,
    _first_upper,
    _is_zero,
    _meaning,
    mio,
    pct,
    split_sentence,
    to_markdown,
)
from kmf.report.text_facts import final_settlement, last_year, source_lines_of
from kmf.report.text_population import national_population_lines
from kmf.report.text_sums import MINUS, Sum
from kmf.report.text_sums import signed as signed_sum
from kmf.result import Result

REGION_ORDER = "region"


def national_lines(result: Result) -> list[Line]:
    """The national summary of ``kmf run``, as lines (see ``to_markdown``)."""
    land = result.b1.filter(pl.col("niveau") == "land").row(0, named=True)
    lines: list[Line] = [
        ("title", f"Sammenfatning: KMF-prognosen for {result.aar} sammenlignet med budgettet"),
        ("text", _opening(result, land)),
    ]
    regions = _region_sentence(result)
    if regions:
        lines.append(("text", regions))
    for sentence in (
        final_settlement(result.endelig, "DK", "hele landet", land["kmf_budget_kr"]),
        last_year(result.sidste_aar, None, None),
    ):
        if sentence:
            lines.append(("text", sentence))
    lines += effect_lines(result, land)
    kommuner = result.b1.filter(pl.col("niveau") == "kommune").height
    if codes.whole_country(kommuner):
        lines += kommune_lines(result)
    else:  # a ranking of part of the country is left out, and that is said once
        lines += [("heading", "Kommunerne"), ("text", codes.partial_note(kommuner))]
    lines += national_population_lines(result)
    lines += source_lines_of(result)
    return lines


def _opening(result: Result, land: dict[str, Any]) -> str:
    change, kr = land["aendring_pct"], land["aendring_kr"]
    text = (
        f"For {_everyone(result)} forventes en KMF-afregning for {result.aar} på "
        f"{mio(land['kmf_prognose_kr'])} mio. kr."
        f"{'' if result.dato is None else f' (prognosen pr. {format_date(result.dato)})'} mod "
        f"{mio(land['kmf_budget_kr'])} mio. kr. forudsat i økonomiaftalen, jf. tabel 1. "
    )
    if _is_zero(change):
        if _is_zero(kr / 1e6):
            return text + "Forudsat og forventet afregning er dermed stort set ens (0,0 pct.)."
        return text + (
            f"Prognosen ligger blot {mio(kr)} mio. kr. {'over' if kr > 0 else 'under'} "
            "budgettet (under 0,05 pct.), så forudsat og forventet afregning er stort set ens."
        )
    amount = "" if _is_zero(kr / 1e6) else f"{mio(kr)} mio. kr. eller "
    return text + (
        f"Prognosen ligger dermed {amount}{pct(change)} pct. "
        f"{'over' if change > 0 else 'under'} budgettet."
    )


def _everyone(result: Result, whole: str = "hele landet under ét") -> str:
    """The sum of the data's kommuner in a sentence: the whole country only where the data
    hold all 98 kommuner; else named for what it is."""
    n = result.b1.filter(pl.col("niveau") == "kommune").height
    if codes.whole_country(n):
        return whole
    return "kommunen i data" if n == 1 else f"de {n} kommuner i data under ét"


def _region_with(row: dict[str, Any]) -> str:
    """A region and its change: "Region Sjælland (12,7 pct.)", or "Region Nordjylland (2 af
    11 kommuner; 12,7 pct.)" where the data hold only part of it."""
    name, value = row["navn"], f"{pct(row['aendring_pct'])} pct."
    return f"{name[:-1]}; {value})" if name.endswith(")") else f"{name} ({value})"


def _region_sentence(result: Result) -> str | None:
    regions = result.b1.filter(pl.col("niveau") == "region").sort("aendring_pct", descending=True)
    rows = regions.to_dicts()
    up = [r for r in rows if r["aendring_pct"] > 0 and not _is_zero(r["aendring_pct"])]
    down = [r for r in rows if r["aendring_pct"] < 0 and not _is_zero(r["aendring_pct"])][::-1]
    parts = []
    if up:
        parts.append("stige i " + join_and([_region_with(r) for r in up]))
    if down:
        parts.append("falde i " + join_and([_region_with(r) for r in down]))
    if not parts:
        return None
    return (
        "Der er dog forskelle mellem regionerne: afregningen forventes at "
        + " og at ".join(parts)
        + " i forhold til budgettet."
    )


def effect_lines(result: Result, land: dict[str, Any]) -> list[Line]:
    """The effects for Hele landet: one sum adding up to the change, then each effect with
    its range over the regions (and the region at the far end), what it means and in how
    many kommuner it pulls each way (tabel 3)."""
    b1 = result.b1
    exact = "omraademikseffekt_pct" in b1.columns
    parts = [(EFFECT_NAMES[e], land[f"{e}_pct"]) for e in _MAIN]
    if not exact or not _is_zero(land["oevrige_pct"]):
        parts.append(("samspillet mellem dem (Øvrige)", land["oevrige_pct"]))
    total = Sum(land["aendring_pct"], tuple(parts))
    lines: list[Line] = [
        ("heading", "Effekterne"),
        (
            "text",
            f"Ændringen for {_everyone(result, whole='hele landet')} på i alt "
            f"{signed_sum(total.total)} pct. af budgettet er summen af "
            + total.listed("pct.-point", "{value} {unit} fra {label}")
            + f" {MINUS}.",
        ),
    ]
    regions = b1.filter(pl.col("niveau") == "region")
    counts = result.tabel(3).filter(pl.col("niveau") == "land").row(0, named=True)
    for i, effect in enumerate(_MAIN):
        value = land[f"{effect}_pct"]
        name = EFFECT_NAMES[effect]
        subject = f"Det ses, at {name}" if i == 0 else _first_upper(name)
        text = f"{subject} {_contributes(value)} for {_everyone(result)}{_range(regions, effect)}."
        if not _is_zero(value):
            text += " " + _meaning(effect, value, "borgerne")
        if counts["antal_kommuner"] > 1:  # one kommune has no count to tell
            text += (
                f" Effekten er negativ i {counts[f'{effect}_negativ']} og positiv i "
                f"{counts[f'{effect}_positiv']} af de {counts['antal_kommuner']} kommuner, "
                "jf. tabel 3."
            )
        if exact and effect == "sundhedsomraadeeffekt":
            text += " " + split_sentence(
                value, land["omraademikseffekt_pct"], land["andelseffekt_pct"]
            )
        lines.append(("item", text))
    lines.append(("text", _table_2(result)))
    return lines


def _range(regions: pl.DataFrame, effect: str) -> str:
    """The effect over the regions, with the region where it is largest (in size)."""
    if regions.height < 2:
        return ""
    column = f"{effect}_pct"
    low = regions.sort(column).row(0, named=True)
    high = regions.sort(column).row(regions.height - 1, named=True)
    lo, hi = low[column], high[column]
    if (lo > 0 and not _is_zero(lo)) or (hi < 0 and not _is_zero(hi)):
        small, large = (low, high) if abs(lo) < abs(hi) else (high, low)
        return (
            f"; i regionerne ligger bidraget mellem {pct(small[column])} og "
            f"{pct(large[column])} pct.-point, størst i {large['navn']}"
        )
    return (
        f"; i regionerne går bidraget fra {signed_sum(lo)} pct.-point i {low['navn']} til "
        f"{signed_sum(hi)} pct.-point i {high['navn']} {MINUS}"
    )


def _table_2(result: Result) -> str:
    """Tabel 2: in how many kommuner each effect is more than half the change."""
    row = result.tabel(2).filter(pl.col("niveau") == "land").row(0, named=True)
    counts = [(row[e], EFFECT_NAMES[e]) for e in _MAIN]
    leading = max(counts, key=lambda c: c[0])
    listed = join_and([f"{name} i {n}" for n, name in counts])
    return (
        "Ser man på den enkelte kommune, udgør "
        f"{listed} af de {row['antal_kommuner']} kommuner mere end halvdelen af ændringen, "
        f"jf. tabel 2; oftest er det altså {leading[1]}, der bærer ændringen. En kommune kan "
        "tælle med for flere effekter, hvis en anden effekt trækker den modsatte vej."
    )


def kommune_lines(result: Result) -> list[Line]:
    """The kommuner with the largest rises and falls (tabel 4 and 6): where they lie and
    what drives them."""
    top = result.tabel(4).filter(pl.col("niveau") == "kommune")
    bottom = result.tabel(6).filter(pl.col("niveau") == "kommune")
    lines: list[Line] = [("heading", "Kommunerne")]
    for rows, up in ((top, True), (bottom, False)):
        sentence = _ten(rows, up)
        if sentence:
            lines.append(("text", sentence))
    if len(lines) == 1:
        lines.append(
            ("text", "Ingen kommune har en ændring, der afrundet er forskellig fra 0,0 pct.")
        )
    return lines


def _ten(rows: pl.DataFrame, up: bool) -> str | None:
    ordered = rows.sort("aendring_pct", descending=up).to_dicts()
    shown = [
        r for r in ordered if (r["aendring_pct"] > 0) == up and not _is_zero(r["aendring_pct"])
    ]
    if not shown:
        return None
    n, table = len(ordered), 4 if up else 6
    what = "Den største stigning" if up else "Det største fald"
    named = join_and([f"{r['navn']} ({pct(r['aendring_pct'])} pct.)" for r in shown[:3]])
    text = f"{what} i forhold til budgettet ses i {named}, jf. tabel {table}."
    by_region: dict[str, int] = {}
    for r in ordered:
        by_region[r["region"]] = by_region.get(r["region"], 0) + 1
    region, most = max(by_region.items(), key=lambda kv: kv[1])
    group = f"kommuner med {'størst stigning' if up else 'størst fald'}"
    if most > n / 2:
        many = f"Alle {n}" if most == n else f"{most} af de {n}"
        text += f" {many} {group} ligger i {region}."
    sign = 1 if up else -1
    driver = {e: sum(1 for r in ordered if _leads(r, e, sign)) for e in _MAIN}
    effect, count = max(driver.items(), key=lambda kv: kv[1])
    together = sum(1 for r in ordered if all(r[f"{e}_pct"] * sign > 0 for e in _MAIN))
    if together > n / 2:
        text += (
            f" For {_of(together, n)} trækker alle tre effekter {'op' if up else 'ned'}; "
            f"størst er oftest {EFFECT_NAMES[effect]} ({count} af {n})."
        )
    elif count:
        text += (
            f" I {_of(count, n)} er det især {EFFECT_NAMES[effect]}, der trækker "
            f"{'op' if up else 'ned'}: den er den største af de tre effekter og trækker samme vej "
            "som ændringen."
        )
    return text


def _of(count: int, n: int) -> str:
    """How many of the ``n`` kommuner just named: "alle 10" or "6 af dem"."""
    return f"alle {n}" if count == n else f"{count} af dem"


def _leads(row: dict[str, Any], effect: str, sign: int) -> bool:
    """The effect pulls the way of the change and is the largest of the three."""
    value = row[f"{effect}_pct"]
    return value * sign > 0 and abs(value) == max(abs(row[f"{e}_pct"]) for e in _MAIN)


def national_markdown(result: Result) -> str:
    """``sammenfatning.md`` of ``kmf run``."""
    return to_markdown(national_lines(result))


def write_run_notat(result: Result, path: Path, waterfall: Path | None) -> None:
    """``notat_<T>.docx`` of ``kmf run``: the national text, tabel 1 (the regions and Hele
    landet) and Hele landet's waterfall."""
    from kmf.report.notat import write_notat

    oea = f"ØA{result.aar % 100:02d}"
    write_notat(
        path,
        national_lines(result),
        result.tabel(1),
        f"Tabel 1. Ændring mellem forventet KMF-afregning for {result.aar} og {oea}, "
        "dekomponeret, regioner og hele landet",
        waterfall,
        f"Figur. Fra budget til prognose {result.aar}, hele landet (pct. af budgettet)",
    )
