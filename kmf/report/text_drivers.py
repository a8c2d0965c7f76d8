"""Behind a kommune's effects, in words an udvalg reads: where activity rose or fell (by
sundhedsområde), which age groups carry the age effect, which carry the area effect and what
moved there ("forbruget er flyttet fra almen praksis til somatik for de 3-64 årige").

Each paragraph is a :class:`~kmf.report.text_sums.Sum`: the effect's total and all its
parts (the largest named, the others added up), checked before the words are made. The
activity effect's split by area is the change in each area's production value valued at
the kommune's average KMF share, scaled so that the parts add up to the effect of the
table: A_o = A · (P^f_o − P^b_o) / (P^f − P^b).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from kmf import codes
from kmf.compute.forecast import K_BUDGET, K_FORECAST, P_BUDGET, P_FORECAST
from kmf.compute.kommune_tables import KommuneTables
from kmf.report.text import _age_label, _is_zero
from kmf.report.text_sums import MINUS, signed, with_rest

MIO = 1e6


def _own(t: KommuneTables) -> dict[str, Any]:
    return t.overblik.filter(pl.col("kode") == str(t.kode)).row(0, named=True)


#: the sundhedsområder in a sentence
AREA_WORDS = {
    "somatik": "somatik",
    "psykiatri": "psykiatri",
    "speciallaege": "speciallæge",
    "almen_praksis": "almen praksis",
    "oevrig_primaer": "øvrig primær sundhed",
}


def _area_label(area: str) -> str:
    return AREA_WORDS.get(area, codes.AREA_LABELS.get(area, area).lower())


def activity_frame(t: KommuneTables) -> pl.DataFrame | None:
    """Per sundhedsområde: production value on both sides and its part of the activity
    effect (``aktivitetseffekt_kr``); None without the kommune's cells or a change in
    production value."""
    if t.celler is None:
        return None
    areas = (
        t.celler.group_by(pl.col("sundhedsomraade").cast(pl.String))
        .agg(pl.col(P_BUDGET).sum(), pl.col(P_FORECAST).sum())
        .sort(pl.col("sundhedsomraade").cast(codes.Area))
    )
    delta = areas[P_FORECAST] - areas[P_BUDGET]
    whole = float(delta.sum())
    if abs(whole) < 1e-9 * max(1.0, float(areas[P_BUDGET].sum())):
        return None
    effect = _own(t)["aktivitetseffekt_kr"]
    return areas.with_columns((delta * effect / whole).alias("aktivitetseffekt_kr"))


def activity_by_area(t: KommuneTables) -> str | None:
    """The activity effect by sundhedsområde, and where activity fell or rose most."""
    frame = activity_frame(t)
    effect = _own(t)["aktivitetseffekt_kr"]
    if frame is None or _is_zero(effect / MIO):
        return None
    parts = [
        (_area_label(a), v)
        for a, v in frame.select("sundhedsomraade", "aktivitetseffekt_kr").iter_rows()
    ]
    total = with_rest(effect, parts, "de øvrige områder", keep=len(parts), scale=MIO)
    text = (
        f"Effekten af ændret aktivitet på i alt {signed(effect, MIO)} mio. kr. fordeler sig på "
        "sundhedsområderne efter, hvor meget forbruget (produktionsværdien) i hvert område har "
        "ændret sig i forhold til budgettet: "
        + total.listed("mio. kr.", "{value} {unit} i {label}")
        + f" {MINUS}."
    )
    ranked = sorted(parts, key=lambda p: p[1])
    fell, rose = ranked[0], ranked[-1]
    said = []
    if fell[1] < 0 and not _is_zero(fell[1] / MIO):
        said.append(f"faldet mest i {fell[0]}")
    if rose[1] > 0 and not _is_zero(rose[1] / MIO):
        said.append(f"steget mest i {rose[0]}")
    if said:
        text += f" Aktiviteten er altså {' og '.join(said)}."
    return text


def _by_age(t: KommuneTables, column: str) -> tuple[list[tuple[str, float]], str]:
    """An effect's parts per age group (kr.) under the run's method where the contributions
    have it (``ministeriet``, ``lmdi``), else the ministry's; and that method."""
    method = t.metode if t.metode in ("ministeriet", "lmdi") else "ministeriet"
    rows = (
        t.bidrag.filter(pl.col("metode") == method)
        .group_by("aldersgruppe")
        .agg(pl.col(column).sum())
    )
    values = dict(rows.iter_rows())
    return [(a, float(values.get(a, 0.0))) for a in codes.AGE_GROUPS], method


def _method_note(t: KommuneTables, method: str) -> str:
    return "" if method == t.metode else " (regnet efter ministeriets metode)"


def _split_by_age(t: KommuneTables, column: str) -> tuple[list, float, Any, str] | None:
    """An effect by age group for a sentence: the parts, their total, the sum as shown
    (each age group named) and the method's note; None where nothing shows to split."""
    parts, method = _by_age(t, column)
    total = sum(v for _, v in parts)
    if _is_zero(total / MIO):
        return None
    summed = with_rest(total, [(_age_label(a, "de "), v) for a, v in parts],
                       "de øvrige aldersgrupper", keep=len(parts), scale=MIO)  # fmt: skip
    return parts, total, summed, _method_note(t, method)


def age_effect(t: KommuneTables) -> str | None:
    """The age effect by age group: a sum of all five, the largest named."""
    split = _split_by_age(t, "aldersgruppeeffekt_kr")
    if split is None:
        return None
    parts, total, summed, note = split
    top = max(parts, key=lambda p: abs(p[1]))
    way = "steget" if top[1] > 0 else "faldet"
    return (
        f"Aldersgruppeeffekten på i alt {signed(total, MIO)} mio. kr.{note} "
        "fordeler sig på aldersgrupperne med "
        + summed.listed("mio. kr.")
        + f" {MINUS}. Størst er bidraget fra {_age_label(top[0], 'de ')}, hvis andel af "
        f"forbruget er {way} i forhold til budgettet."
    )


def area_effect(t: KommuneTables) -> str | None:
    """The area effect by age group, and in words what moved in the age group that carries
    most of it."""
    split = _split_by_age(t, "sundhedsomraadeeffekt_kr")
    if split is None:
        return None
    parts, total, summed, note = split
    text = (
        f"Sundhedsområdeeffekten på i alt {signed(total, MIO)} mio. kr.{note} "
        "fordeler sig på aldersgrupperne med " + summed.listed("mio. kr.") + f" {MINUS}."
    )
    top = max(parts, key=lambda p: abs(p[1]))
    moved = _what_moved(t, top[0], top[1])
    return f"{text} {moved}" if moved else text


def _what_moved(t: KommuneTables, age: str, value: float) -> str | None:
    """In words: how the consumption of ``age`` moved between areas, or (psykiatri) how its
    KMF share moved."""
    if t.celler is None:
        return None
    cells = t.celler.filter(pl.col("aldersgruppe").cast(pl.String) == age).with_columns(
        pl.col("sundhedsomraade").cast(pl.String)
    )
    if age == "ej_aldersdiff":
        row = cells.row(0, named=True)
        share = [
            row[k] / row[p] if row[p] else 0.0
            for k, p in ((K_FORECAST, P_FORECAST), (K_BUDGET, P_BUDGET))
        ]
        way = "højere" if share[0] > share[1] else "lavere"
        return f"For psykiatri er KMF-andelen af taksten {way} end forudsat i budgettet."
    p_f, p_b = float(cells[P_FORECAST].sum()), float(cells[P_BUDGET].sum())
    if p_f <= 0 or p_b <= 0:
        return None
    moves = cells.select(
        "sundhedsomraade",
        (pl.col(P_FORECAST) / p_f - pl.col(P_BUDGET) / p_b).alias("flyt"),
        (pl.col(K_FORECAST) / pl.col(P_FORECAST)).fill_nan(0.0).alias("andel"),
    ).sort("flyt")
    down, up = moves.row(0, named=True), moves.row(moves.height - 1, named=True)
    if up["flyt"] <= 0 or down["flyt"] >= 0:
        return None
    who = _age_label(age, "de ")
    text = (
        f"Størst er bidraget for {who}: for dem er forbruget flyttet fra "
        f"{_area_label(down['sundhedsomraade'])} til {_area_label(up['sundhedsomraade'])}"
    )
    if (up["andel"] > down["andel"]) == (value > 0):
        higher = "højere" if up["andel"] > down["andel"] else "lavere"
        text += f", hvor KMF udgør en {higher} andel af taksten"
    return text + "."
