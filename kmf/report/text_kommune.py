"""One kommune's text (``sammenfatning.md`` and the top of "Overblik" in ``kmf kommune``):
the forecast against the budget, what drives the change (the effects, all of them, adding
up to the change), which citizens and areas lie behind each effect (sums whose parts are
all named), the final settlement and last year's accuracy where the data have them, the
kommune's place, and the source.

Each section is its own function returning lines, so that a section can be added."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl

from kmf import codes
from kmf.compute.kommune_tables import GROUP_LEVEL, KommuneTables
from kmf.danish import format_date, join_and
from kmf.report.text import (
    EFFECT_NAMES,
    Line,
    _against,
    _age_label,
    _change,
    _contributes,
    _effects_of,
    _first_upper,
    _is_zero,
    _meaning,
    genitive,
    mio,
    pct,
    split_sentence,
)
from kmf.report.text_drivers import activity_by_area, age_effect, area_effect
from kmf.report.text_facts import final_settlement, last_year
from kmf.report.text_sums import MINUS, Sum, signed

if TYPE_CHECKING:
    from kmf.result import Result

MIO = 1e6


@dataclass(frozen=True)
class _Rows:
    own: dict[str, Any]
    region: dict[str, Any]
    land: dict[str, Any]
    group: dict[str, Any]
    members: list[dict[str, Any]]


def _rows(t: KommuneTables) -> _Rows:
    o = t.overblik
    members = o.filter((pl.col("niveau") == "kommune") & (pl.col("kode") != str(t.kode)))
    return _Rows(
        own=o.filter(pl.col("kode") == str(t.kode)).row(0, named=True),
        region=o.filter(pl.col("niveau") == "region").row(0, named=True),
        land=o.filter(pl.col("niveau") == "land").row(0, named=True),
        group=next(iter(o.filter(pl.col("niveau") == GROUP_LEVEL).to_dicts()), {}),
        members=members.to_dicts(),
    )


def kommune_lines(
    t: KommuneTables, dato: date | None = None, result: Result | None = None
) -> list[Line]:
    """The text of one kommune's report, as lines (see ``to_markdown``); ``dato`` is the
    forecast date, named where there is one; ``result`` (the run) gives the final
    settlement and last year's accuracy where the data have them."""
    r = _rows(t)
    lines: list[Line] = [
        ("title", f"{t.navn}: KMF-prognosen for {t.aar} sammenlignet med budgettet"),
        ("text", _opening(t, r, dato)),
    ]
    lines += settlement_lines(t, r, result)
    lines += effect_lines(t, r)
    lines += driver_lines(t)
    lines.append(("heading", "Placering"))
    if t.hele_landet:
        lines.append(("text", _placement(t, r)))
    else:  # no rank and no comparison with a sum of part of the country: said once
        lines.append(("text", codes.partial_note(t.antal_kommuner)))
    if t.hele_landet or r.members:
        lines.append(("text", _group_text(t, r)))
    return lines


def _opening(t: KommuneTables, r: _Rows, dato: date | None) -> str:
    own, name = r.own, t.navn
    change = own["aendring_pct"]
    if _is_zero(change):
        verdict = "Prognosen svarer dermed stort set til budgettet (0,0 pct.)."
    else:
        kr = (
            ""
            if _is_zero(own["aendring_kr"] / MIO)
            else f"{mio(own['aendring_kr'])} mio. kr. eller "
        )
        verdict = (
            f"Prognosen ligger dermed {kr}{pct(change)} "
            f"pct. {'over' if change > 0 else 'under'} budgettet. Kommunen skal altså forvente at "
            f"betale {'mere' if change > 0 else 'mindre'} i kommunal medfinansiering end "
            "budgetteret."
        )
    return (
        f"Den forventede KMF-afregning for {name} i {t.aar} er "
        f"{mio(own['kmf_prognose_kr'])} mio. kr."
        f"{'' if dato is None else f' (prognosen pr. {format_date(dato)})'}, mens "
        "budgettet (det forudsatte niveau fra økonomiaftalen) er "
        f"{mio(own['kmf_budget_kr'])} mio. kr. {verdict}"
    )


def settlement_lines(t: KommuneTables, r: _Rows, result: Result | None) -> list[Line]:
    """The final settlement and last year's accuracy, where the run has them."""
    if result is None:
        return []
    out = [
        final_settlement(result.endelig, str(t.kode), t.navn, r.own["kmf_budget_kr"]),
        last_year(result.sidste_aar, str(t.kode), t.navn),
    ]
    return [("text", s) for s in out if s]


def ordered_effects(own: dict[str, Any], columns: list[str]) -> list[str]:
    """A, B and C, those that pull the same way as the change first (the largest leads),
    then those that pull against it: where activity drives the change, it comes first."""
    change = own["aendring_pct"]
    main = list(_effects_of(columns)[:3])
    return sorted(main, key=lambda e: (own[f"{e}_pct"] * change < 0, -abs(own[f"{e}_pct"])))


def effect_lines(t: KommuneTables, r: _Rows) -> list[Line]:
    """The effects: one sum (every effect and the rest, adding up to the change), then each
    effect with its amount, Hele landet's and what it means."""
    own = r.own
    effects = ordered_effects(own, t.overblik.columns)
    exact = "omraademikseffekt_pct" in t.overblik.columns
    parts = [(EFFECT_NAMES[e], own[f"{e}_pct"]) for e in effects]
    if not exact or not _is_zero(own["oevrige_pct"]):
        parts.append(("samspillet mellem dem (Øvrige)", own["oevrige_pct"]))
    total = Sum(own["aendring_pct"], tuple(parts))
    lines: list[Line] = [
        ("heading", "Hvad driver ændringen"),
        (
            "text",
            f"Ændringen på i alt {signed(total.total)} pct. af budgettet er summen af "
            + total.listed("pct.-point", "{value} {unit} fra {label}")
            + f" {MINUS}.",
        ),
    ]
    for effect in effects:
        value = own[f"{effect}_pct"]
        text = (
            f"{_first_upper(EFFECT_NAMES[effect])} {_contributes(value)} "
            f"({mio(own[f'{effect}_kr'])} mio. kr.)"
            # beside the whole country only where the data hold it
            + (f" {_against(r.land[f'{effect}_pct'])}." if t.hele_landet else ".")
        )
        if not _is_zero(value):
            text += " " + _meaning(effect, value, "kommunens borgere", _somatik_agrees(t, value))
        text += _distribution_note(t, effect)
        if exact and effect == "sundhedsomraadeeffekt":
            text += " " + split_sentence(
                value, own["omraademikseffekt_pct"], own["andelseffekt_pct"]
            )
        lines.append(("item", text))
    if not exact:
        lines.append(
            (
                "item",
                f"Samspillet mellem effekterne (Øvrige) {_contributes(own['oevrige_pct'])} "
                f"({mio(own['oevrige_kr'])} mio. kr.).",
            )
        )
    return lines


def _somatik_agrees(t: KommuneTables, value: float) -> bool:
    """Somatik's share of consumption (B4) moved the way of the area effect ``value``."""
    rows = t.fordelinger.filter((pl.col("tabel") == "B4") & (pl.col("kategori") == "somatik"))
    return rows.is_empty() or rows["kommune"][0] * value >= 0


def _distribution_note(t: KommuneTables, effect: str) -> str:
    """For B and C: the largest move of the age mix (B2) or the area mix (B4)."""
    table = {"aldersgruppeeffekt": "B2", "sundhedsomraadeeffekt": "B4"}.get(effect)
    if table is None:
        return ""
    rows = t.fordelinger.filter(pl.col("tabel") == table)
    top = rows.sort(pl.col("kommune").abs(), descending=True).row(0, named=True)
    if _is_zero(top["kommune"]):
        return ""
    label = (
        _age_label(top["kategori"], "de ")
        if table == "B2"
        else codes.AREA_LABELS[top["kategori"]].lower()
    )
    land = f" (hele landet: {_moved(top['hele_landet'])})" if t.hele_landet else ""
    return (
        f" Størst er ændringen for {label}, hvis andel af forbruget er "
        f"{'steget' if top['kommune'] > 0 else 'faldet'} med {pct(top['kommune'])} "
        f"pct.-point{land}."
    )


def _moved(value: float) -> str:
    if _is_zero(value):
        return "stort set uændret"
    return f"{'steget' if value > 0 else 'faldet'} med {pct(value)} pct.-point"


# --- which citizens and areas ---------------------------------------------------------------


def driver_lines(t: KommuneTables) -> list[Line]:
    """Behind each effect: the activity by sundhedsområde, the age effect by age group, the
    area effect by age group and what moved there, each a sum whose parts are all named."""
    found = [s for s in (activity_by_area(t), age_effect(t), area_effect(t)) if s]
    if not found:
        return []
    return [("heading", "Hvilke borgere og områder"), *(("text", s) for s in found)]


# --- place --------------------------------------------------------------------------------


def _compare(own: float, other: float) -> str:
    return "højere end" if own > other else "lavere end" if own < other else "den samme som"


def _placement(t: KommuneTables, r: _Rows) -> str:
    own, region, land = r.own["aendring_pct"], r.region["aendring_pct"], r.land["aendring_pct"]
    if _compare(own, region) == _compare(own, land):
        than = f"{_compare(own, region)} både regionens og landets"
    else:
        than = f"{_compare(own, region)} regionens og {_compare(own, land)} landets"
    return (
        f"Målt på ændringen i pct. af budgettet er {t.navn} nr. {t.rang} af "
        f"{t.antal_kommuner} kommuner (nummer ét har den største stigning). {t.region} har "
        f"{_change(region)}, og hele landet under ét har {_change(land)}. "
        f"{genitive(t.navn)} ændring er dermed {than}."
    )


def _group_text(t: KommuneTables, r: _Rows) -> str:
    n = len(r.members)
    if n == 0:
        return "Datasættet har ingen andre kommuner at sammenligne med."
    names = join_and([m["navn"] for m in r.members])
    if t.valgt:
        how = "de valgte kommuner" if n > 1 else "den valgte kommune"
    elif t.gruppe == "demografi":
        how = (
            f"de {n} kommuner, der ligner {t.navn} mest i antal indbyggere og andel 65+ årige"
            if n > 1
            else f"den kommune, der ligner {t.navn} mest i antal indbyggere og andel 65+ årige"
        )
    elif n > 1:
        how = f"de {n} kommuner, hvis budget ligger nærmest {genitive(t.navn)}"
    else:
        how = f"den kommune, hvis budget ligger nærmest {genitive(t.navn)}"
    low = min(r.members, key=lambda m: m["aendring_pct"])
    high = max(r.members, key=lambda m: m["aendring_pct"])
    spread = (
        f"I gruppen går ændringen fra {_change(low['aendring_pct'])} ({low['navn']}) til "
        f"{_change(high['aendring_pct'])} ({high['navn']})."
        if n > 1
        else ""
    )
    group = r.group["aendring_pct"]
    kr = "" if _is_zero(group) else f" ({mio(r.group['aendring_kr'])} mio. kr.)"
    return (
        f"Sammenligningsgruppen er {how}: {names}. Under ét har gruppen {_change(group)}{kr}, "
        f"mens {t.navn} har {_change(r.own['aendring_pct']).removesuffix('.')}. {spread}"
    ).strip()
