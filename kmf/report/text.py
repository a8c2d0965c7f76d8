"""The Danish summaries in the register of the ministry's analysis: one kommune's
(``sammenfatning.md`` and the top of "Overblik" in ``kmf kommune``), and the words both it
and the national one (:mod:`kmf.report.text_national`) are made of.

Every number in a text is a value of the tables it sits beside, rounded as shown: pct. and
pct.-point with one decimal, kr. in mio. kr. with one decimal, with a decimal comma. A
direction is said in words (stiger, falder, positivt, negativt) and the number is then
shown without its sign.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from kmf import codes
from kmf.compute.kommune_tables import GROUP_LEVEL, KommuneTables
from kmf.danish import format_date, format_mio, format_number, join_and

#: A line of a text: its kind (``title``, ``heading``, ``text``, ``item``) and its words.
Line = tuple[str, str]

EFFECT_NAMES = {
    "aktivitetseffekt": "effekten af ændret aktivitet",
    "aldersgruppeeffekt": "aldersgruppeeffekten",
    "sundhedsomraadeeffekt": "sundhedsområdeeffekten",
    "omraademikseffekt": "områdemikseffekten (C1)",
    "andelseffekt": "andelseffekten (C2)",
}
_MAIN = ("aktivitetseffekt", "aldersgruppeeffekt", "sundhedsomraadeeffekt")


def pct(value: float) -> str:
    """A percentage or pct.-point without its sign, one decimal: ``-3.04`` → ``3,0``."""
    return format_number(abs(value), 1)


def signed(value: float) -> str:
    """A percentage with its sign, one decimal; never ``-0,0`` (as :func:`format_number`)."""
    return format_number(value, 1)


def mio(value: float) -> str:
    """A kr. amount in mio. kr. without its sign, one decimal."""
    return format_mio(abs(value))


def _is_zero(value: float) -> bool:
    return pct(value) == format_number(0, 1)


def _contributes(value: float) -> str:
    if _is_zero(value):
        return "bidrager stort set ikke (0,0 pct.-point)"
    return f"bidrager {'positivt' if value > 0 else 'negativt'} med {pct(value)} pct.-point"


def _against(value: float) -> str:
    """Hele landet's contribution beside the kommune's: its direction in words."""
    if _is_zero(value):
        return "mod stort set intet bidrag (0,0 pct.-point) for hele landet under ét"
    way = "positivt" if value > 0 else "negativt"
    return f"mod et {way} bidrag på {pct(value)} pct.-point for hele landet under ét"


def _change(value: float, unit: str = "pct.") -> str:
    """A change in words: ``en stigning på 2,1 pct.``, ``et fald på 0,9 pct.``."""
    if _is_zero(value):
        return f"stort set ingen ændring (0,0 {unit})"
    return f"{'en stigning' if value > 0 else 'et fald'} på {pct(value)} {unit}"


def _age_label(age: str, article: str = "") -> str:
    """An age group in a sentence: ``de 65-79 årige`` (with ``article="de "``)."""
    if age == "ej_aldersdiff":
        return "aktivitet uden aldersopdeling"
    return article + codes.AGE_LABELS[age]


def _meaning(effect: str, value: float, whose: str) -> str:
    """What an effect's direction means, in the ministry's words."""
    up = value > 0
    if effect == "aktivitetseffekt":
        return (
            f"Det betyder, at der relativt set forventes {'mere' if up else 'mindre'} aktivitet "
            f"({'flere' if up else 'færre'} kontakter og behandlinger) i det regionale "
            f"sundhedsvæsen for {whose} end forudsat i budgettet."
        )
    if effect == "aldersgruppeeffekt":
        return (
            f"Det betyder, at en {'større' if up else 'mindre'} del af forbruget end forudsat "
            "ligger hos de aldersgrupper, hvor KMF udgør en større andel af taksten (de "
            "0-2 årige, 65-79 årige og 80+ årige)."
        )
    if effect == "sundhedsomraadeeffekt":
        return (
            "Det betyder, at den gennemsnitlige KMF-andel inden for aldersgrupperne er "
            f"{'højere' if up else 'lavere'} end forudsat, fx fordi en "
            f"{'større' if up else 'mindre'} del af forbruget ligger på sygehusene (især "
            "somatik) frem for i almen praksis, hvor KMF-andelen er mindre."
        )
    if effect == "omraademikseffekt":
        return (
            f"Det er den del, der skyldes, at forbruget inden for aldersgrupperne flytter "
            f"{'mod' if up else 'væk fra'} sundhedsområder med en høj KMF-andel."
        )
    return (
        f"Det er den del, der skyldes, at KMF-andelen inden for det enkelte område er "
        f"{'højere' if up else 'lavere'} end forudsat (takster, lofter og regler)."
    )


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _split_item(effect: str, value: float) -> str:
    """C1 or C2 of an exact method: its part of the sundhedsområdeeffekt and what it means."""
    way = "positivt" if value > 0 else "negativt"
    part = f"et {way} bidrag på {pct(value)} pct.-point"
    part = "stort set intet (0,0 pct.-point)" if _is_zero(value) else part
    text = f"Af sundhedsområdeeffekten kommer {part} fra {EFFECT_NAMES[effect]}."
    return text if _is_zero(value) else f"{text} {_meaning(effect, value, '')}"


def _effects_of(b1_columns: Sequence[str]) -> tuple[str, ...]:
    split = tuple(e for e in ("omraademikseffekt", "andelseffekt") if f"{e}_pct" in b1_columns)
    return (*_MAIN, *split)


# --- one kommune ------------------------------------------------------------------------


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


def kommune_lines(t: KommuneTables, dato: date | None = None) -> list[Line]:
    """The text of one kommune's report, as lines (see ``to_markdown``); ``dato`` is the
    forecast date, named where there is one."""
    r = _rows(t)
    own, name = r.own, t.navn
    lines: list[Line] = [("title", f"{name}: KMF-prognosen for {t.aar} sammenlignet med budgettet")]
    change = own["aendring_pct"]
    if _is_zero(change):
        verdict = "Prognosen svarer dermed stort set til budgettet (0,0 pct.)."
    else:
        kr = (
            ""
            if _is_zero(own["aendring_kr"] / 1e6)
            else f"{mio(own['aendring_kr'])} mio. kr. eller "
        )
        verdict = (
            f"Prognosen ligger dermed {kr}{pct(change)} "
            f"pct. {'over' if change > 0 else 'under'} budgettet. Det betyder, at kommunen "
            f"skal forvente at betale {'mere' if change > 0 else 'mindre'} i kommunal "
            "medfinansiering end budgetteret."
        )
    lines.append(
        (
            "text",
            f"Den forventede KMF-afregning for {name} i {t.aar} er "
            f"{mio(own['kmf_prognose_kr'])} mio. kr."
            f"{'' if dato is None else f' (prognosen pr. {format_date(dato)})'}, mens "
            "budgettet (det forudsatte niveau fra økonomiaftalen) er "
            f"{mio(own['kmf_budget_kr'])} mio. kr. {verdict}",
        )
    )
    lines.append(("heading", "Hvad driver ændringen"))
    effects = sorted(_effects_of(t.overblik.columns)[:3], key=lambda e: -abs(own[f"{e}_pct"]))
    for effect in effects:
        value = own[f"{effect}_pct"]
        # beside the whole country only where the data hold it
        land = f" {_against(r.land[f'{effect}_pct'])}" if t.hele_landet else ""
        text = (
            f"{_first_upper(EFFECT_NAMES[effect])} {_contributes(value)} "
            f"({mio(own[f'{effect}_kr'])} mio. kr.){land}."
        )
        if not _is_zero(value):
            text += " " + _meaning(effect, value, "kommunens borgere")
        text += _distribution_note(t, effect)
        lines.append(("item", text))
    for effect in _effects_of(t.overblik.columns)[3:]:
        lines.append(("item", _split_item(effect, own[f"{effect}_pct"])))
    if "omraademikseffekt_pct" not in t.overblik.columns:  # a method with a residual
        lines.append(
            (
                "item",
                f"Samspillet mellem effekterne (Øvrige) {_contributes(own['oevrige_pct'])}.",
            )
        )
    lines.append(("heading", "Hvilke borgere og områder"))
    lines.extend(("text", s) for s in _drivers(t))
    lines.append(("heading", "Placering"))
    if t.hele_landet:
        lines.append(("text", _placement(t, r)))
    else:  # no rank and no comparison with a sum of part of the country: said once
        lines.append(("text", codes.partial_note(t.antal_kommuner)))
    if t.hele_landet or r.members:
        lines.append(("text", _group_text(t, r)))
    return lines


def _distribution_note(t: KommuneTables, effect: str) -> str:
    """For B and C: the largest move of the age mix (B2) or the area mix (B4)."""
    table = {"aldersgruppeeffekt": "B2", "sundhedsomraadeeffekt": "B4"}.get(effect)
    if table is None:
        return ""
    rows = t.fordelinger.filter(pl.col("tabel") == table)
    top = rows.sort(pl.col("kommune").abs(), descending=True).row(0, named=True)
    if _is_zero(top["kommune"]):
        return ""
    label = top["navn"].lower()
    if table == "B2":
        label = "aktivitet uden aldersopdeling" if label.startswith("ej") else f"de {label}"
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


def _largest(frame: pl.DataFrame, effects: Sequence[str]) -> tuple[dict[str, Any], str]:
    """The row and effect of the single largest contribution (in kr.) in ``frame``."""
    best: tuple[float, dict[str, Any], str] | None = None
    for row in frame.to_dicts():
        for e in effects:
            value = row[f"{e}_kr"]
            if value is not None and (best is None or abs(value) > best[0]):
                best = (abs(value), row, e)
    assert best is not None
    return best[1], best[2]


def _way(value: float) -> str:
    return "positivt" if value > 0 else "negativt"


#: what the exact methods' split of C is, where a sentence names one cell's part of it
_CELL_EFFECT = {
    "omraademikseffekt": "områdemikseffekten (C1: forbruget flytter mellem sundhedsområder)",
    "andelseffekt": "andelseffekten (C2: KMF-andelen inden for området ændres)",
}


def _drivers(t: KommuneTables) -> list[str]:
    ages = t.bidrag.filter(pl.col("metode") == "ministeriet")
    row, effect = _largest(ages, _MAIN)
    top = row[f"{effect}_kr"]
    name = EFFECT_NAMES[effect]
    text = (
        f"Fordelt på aldersgrupper (ministeriets metode) vejer {name} for "
        f"{_age_label(row['aldersgruppe'], 'de ')} tungest: Den bidrager {_way(top)} med "
        f"{mio(top)} mio. kr. ({pct(row[f'{effect}_pct'])} pct.-point af budgettet)."
    )
    ordered = ages.sort(pl.col(f"{effect}_kr").abs(), descending=True).to_dicts()
    against = [r for r in ordered if r[f"{effect}_kr"] * top < 0
               and not _is_zero(r[f"{effect}_kr"] / 1e6)]  # fmt: skip
    if against:
        items = join_and([
            f"{_age_label(r['aldersgruppe'], 'de ')} ({mio(r[f'{effect}_kr'])} mio. kr.)"
            for r in against[:3]
        ])  # fmt: skip
        whole = sum(r[f"{effect}_kr"] for r in ordered)  # the method's effect, for the word
        how = "delvist " if whole * top > 0 else ""
        text += f" Det modsvares {how}af, at effekten er {_way(-top).removesuffix('t')} for {items}"
        # the age groups sum to the table's effect only where the run's method is theirs
        if t.metode == "ministeriet":
            total = t.overblik.filter(pl.col("kode") == str(t.kode)).row(0, named=True)
            text += (
                f", så {name} i alt bidrager {_way(total[f'{effect}_kr'])} med "
                f"{mio(total[f'{effect}_kr'])} mio. kr."
            )
        else:
            text += "."
    out = [text]
    cells = t.bidrag.filter(pl.col("metode") == "lmdi")
    row, effect = _largest(cells, ("aktivitetseffekt", "aldersgruppeeffekt", "omraademikseffekt",
                                   "andelseffekt"))  # fmt: skip
    value = row[f"{effect}_kr"]
    out.append(
        "Fordelt på celler (aldersgruppe og sundhedsområde, LMDI) vejer "
        f"{_CELL_EFFECT.get(effect, EFFECT_NAMES[effect])} for "
        f"{_age_label(row['aldersgruppe'], 'de ')} i "
        f"{codes.AREA_LABELS[row['sundhedsomraade']].lower()} tungest: Den bidrager "
        f"{_way(value)} med {mio(value)} mio. kr. ({pct(row[f'{effect}_pct'])} pct.-point af "
        'budgettet). Arket "Bidrag" viser alle bidrag, største først.'
    )
    return out


def genitive(name: str) -> str:
    """``Aalborgs``, but ``Frederiks'``: a name ending in s, x or z takes an apostrophe."""
    return f"{name}'" if name[-1:].lower() in "sxz" else f"{name}s"


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


# --- rendering ------------------------------------------------------------------------------


def to_markdown(lines: Sequence[Line]) -> str:
    """The lines as Markdown: a title, headings, paragraphs and bullet lists."""
    out: list[str] = []
    for kind, text in lines:
        prefix = {"title": "# ", "heading": "## ", "item": "- "}.get(kind, "")
        if out and not (kind == "item" and out[-1].startswith("- ")):
            out.append("")
        out.append(prefix + text)
    return "\n".join(out) + "\n"
