"""The national summary of ``kmf run`` (``sammenfatning.md`` and the sheet
"Sammenfatning"): Hele landet, the regions, A, B, C and what each means, and the kommuner
with the largest changes, in the register of :mod:`kmf.report.text`."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from kmf import codes
from kmf.danish import format_date, join_and
from kmf.report.text import (
    _MAIN,
    EFFECT_NAMES,
    Line,
    _contributes,
    _effects_of,
    _first_upper,
    _is_zero,
    _meaning,
    _split_item,
    _way,
    mio,
    pct,
    signed,
    to_markdown,
)
from kmf.report.text_population import national_population_lines
from kmf.result import Result

# --- Hele landet and the regions ------------------------------------------------------------


def national_lines(result: Result) -> list[Line]:
    """The national summary of ``kmf run``: Hele landet, the regions, A, B, C and what each
    means, and the kommuner with the largest changes."""
    b1 = result.b1
    land = b1.filter(pl.col("niveau") == "land").row(0, named=True)
    regions = b1.filter(pl.col("niveau") == "region").sort("aendring_pct", descending=True)
    lines: list[Line] = [
        ("title", f"Sammenfatning: KMF-prognosen for {result.aar} sammenlignet med budgettet")
    ]
    change = land["aendring_pct"]
    kommuner = result.b1.filter(pl.col("niveau") == "kommune").height
    whole = codes.whole_country(kommuner)
    # a sum of part of the country is named for what it is
    everyone = "hele landet under ét" if whole else _the_kommuner(kommuner)
    opening = (
        f"For {everyone} forventes en KMF-afregning for {result.aar} på "
        f"{mio(land['kmf_prognose_kr'])} mio. kr."
        f"{'' if result.dato is None else f' (prognosen pr. {format_date(result.dato)})'} mod "
        f"{mio(land['kmf_budget_kr'])} mio. kr. forudsat i økonomiaftalen. "
    )
    if _is_zero(change):
        kr = land["aendring_kr"]
        opening += (
            "Forudsat og forventet afregning er dermed stort set ens (0,0 pct.)."
            if _is_zero(kr / 1e6)
            else f"Det er {'en stigning' if kr > 0 else 'et fald'} på {mio(kr)} mio. kr., "
            "svarende til 0,0 pct., så forudsat og forventet afregning er stort set ens."
        )
    else:
        opening += (
            f"Det er {'en stigning' if change > 0 else 'et fald'} på {pct(change)} pct. "
            f"({mio(land['aendring_kr'])} mio. kr.)."
        )
    lines.append(("text", opening))
    up = [
        r for r in regions.to_dicts() if r["aendring_pct"] > 0 and not _is_zero(r["aendring_pct"])
    ]
    down = [
        r for r in regions.to_dicts() if r["aendring_pct"] < 0 and not _is_zero(r["aendring_pct"])
    ]
    parts = []
    if up:
        parts.append(
            "stige i " + join_and([f"{r['navn']} ({pct(r['aendring_pct'])} pct.)" for r in up])
        )
    if down:
        parts.append(
            "falde i " + join_and([f"{r['navn']} ({pct(r['aendring_pct'])} pct.)" for r in down])
        )
    if parts:
        lines.append(
            ("text", "På regionsniveau forventes afregningen at " + " og at ".join(parts) + ".")
        )
    lines.append(("heading", "Effekterne"))
    counts = result.tabel(3).filter(pl.col("niveau") == "land").row(0, named=True)
    for effect in _effects_of(b1.columns):
        value = land[f"{effect}_pct"]
        if effect not in _MAIN:
            lines.append(("item", _split_item(effect, value)))
            continue
        values = regions[f"{effect}_pct"].to_list()
        name = EFFECT_NAMES[effect]
        subject = f"Det ses, at {name}" if effect == _MAIN[0] else _first_upper(name)
        text = f"{subject} {_contributes(value)} for {everyone}{_regions(values)}."
        if not _is_zero(value):
            text += " " + _meaning(effect, value, "borgerne")
        if counts["antal_kommuner"] > 1:  # one kommune has no count to tell
            text += (
                f" Effekten er negativ i {counts[f'{effect}_negativ']} og positiv i "
                f"{counts[f'{effect}_positiv']} af de {counts['antal_kommuner']} kommuner."
            )
        lines.append(("item", text))
    lines.append(("heading", "Kommunerne"))
    lines.append(("text", _largest_changes(result) if whole else codes.partial_note(kommuner)))
    return lines + national_population_lines(result)


def _the_kommuner(n: int) -> str:
    """The kommuner of data for part of the country, in a sentence."""
    return "kommunen i data" if n == 1 else f"de {n} kommuner i data under ét"


def _regions(values: Sequence[float]) -> str:
    """The range of an effect over the regions, its direction in words where it is one."""
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    if (low > 0 and not _is_zero(low)) or (high < 0 and not _is_zero(high)):
        small, large = sorted((abs(low), abs(high)))
        return f" og {_way(high)} med mellem {pct(small)} og {pct(large)} pct.-point i regionerne"
    return (
        f" og ligger i regionerne mellem {signed(low)} og {signed(high)} pct.-point "
        "(minus er et negativt bidrag)"
    )


def _largest_changes(result: Result) -> str:
    """The (up to) three largest increases and falls among the kommuner (tabel 4 and 6)."""
    top = result.tabel(4).filter(pl.col("niveau") == "kommune").head(3).to_dicts()
    bottom = result.tabel(6).filter(pl.col("niveau") == "kommune").tail(3).to_dicts()[::-1]
    up = [r for r in top if r["aendring_pct"] > 0 and not _is_zero(r["aendring_pct"])]
    down = [r for r in bottom if r["aendring_pct"] < 0 and not _is_zero(r["aendring_pct"])]
    parts = []
    if up:
        parts.append("Den største stigning i forhold til budgettet ses i " + join_and(
            [f"{r['navn']} ({pct(r['aendring_pct'])} pct.)" for r in up]))  # fmt: skip
    if down:
        verb = "" if up else " i forhold til budgettet ses"
        parts.append(f"det største fald{verb} i " + join_and(
            [f"{r['navn']} ({pct(r['aendring_pct'])} pct.)" for r in down]))  # fmt: skip
    if not parts:
        return "Ingen kommune har en ændring, der afrundet er forskellig fra 0,0 pct."
    return _first_upper(", ".join(parts)) + "."


def national_markdown(result: Result) -> str:
    """``sammenfatning.md`` of ``kmf run``."""
    return to_markdown(national_lines(result))
