"""The texts of ``kmf spor`` and ``kmf historik`` (``sammenfatning.md`` and the sheet
"Sammenfatning"): where the forecast stands, what moved since the previous date (or budget
year) and why — the move of the change as the sum of the moves of the effects —, which
region moved most, and (the track) how far the forecasts were from the final settlement.
In the register of :mod:`kmf.report.text`; every sum names all its parts."""

from __future__ import annotations

from typing import Any

import polars as pl

from kmf.compute.accuracy import WITHIN_PCT
from kmf.danish import format_date, format_dates, format_number
from kmf.report.excel_pages import SAMPLE_LABEL, dataset_name, source_text
from kmf.report.text import EFFECT_NAMES, Line, _is_zero, mio, pct, to_markdown
from kmf.report.text_facts import SAMPLE_WORDS
from kmf.report.text_sums import MINUS, ROUNDING_NOTE, signed, with_rest
from kmf.series import Historik, Spor

PARTS = ("aktivitetseffekt", "aldersgruppeeffekt", "sundhedsomraadeeffekt")


def _level(value: float) -> str:
    if _is_zero(value):
        return "på niveau med budgettet (0,0 pct.)"
    return f"{pct(value)} pct. {'over' if value > 0 else 'under'} budgettet"


def moved_since(
    before: dict[str, Any], after: dict[str, Any], since: str, previous: str
) -> list[str]:
    """What moved from ``before`` to ``after`` (B1 rows of one unit) and why: the move of the
    change as the sum of the moves of A, B, C and Øvrige, the largest named first."""
    delta = after["aendring_pct"] - before["aendring_pct"]
    if _is_zero(delta):
        return [f"{since} har prognosen stort set ikke flyttet sig (0,0 pct.-point)."]
    names = {**EFFECT_NAMES, "oevrige": "samspillet mellem dem (Øvrige)"}
    parts = [(names[e], after[f"{e}_pct"] - before[f"{e}_pct"]) for e in (*PARTS, "oevrige")]
    if "omraademikseffekt_pct" in after and _is_zero(parts[-1][1]):
        parts = parts[:-1]  # an exact method: no rest
    total = with_rest(delta, parts, "de øvrige", keep=len(parts))
    lead = total.parts[0]
    if len(total.parts) == 1:
        return [
            f"{since} er prognosen gået fra {_level(before['aendring_pct'])} til "
            f"{_level(after['aendring_pct'])}. Det skyldes alene {lead[0]}, der har flyttet sig "
            f"{pct(lead[1])} pct.-point {'op' if lead[1] > 0 else 'ned'}; de andre effekter har "
            "stort set ikke flyttet sig."
        ]
    return [
        f"{since} er prognosen gået fra {_level(before['aendring_pct'])} til "
        f"{_level(after['aendring_pct'])}. Bevægelsen på i alt {signed(delta)} pct.-point er "
        "summen af " + total.listed("pct.-point", "{value} {unit} fra {label}") + f" {MINUS}.",
        f"Det er altså især {lead[0]}, der har flyttet sig"
        + (
            ": der forventes nu "
            + ("mere" if lead[1] > 0 else "mindre")
            + f" aktivitet end {previous}."
            if lead[0] == EFFECT_NAMES["aktivitetseffekt"]
            else "."
        ),
    ]


def _region_moves(frame: pl.DataFrame, key: str, before: Any, after: Any) -> str | None:
    regions = frame.filter(pl.col("niveau") == "region")
    old = dict(regions.filter(pl.col(key) == before).select("navn", "aendring_pct").iter_rows())
    new = dict(regions.filter(pl.col(key) == after).select("navn", "aendring_pct").iter_rows())
    moves = [(n, new[n] - old[n]) for n in new if n in old]
    if len(moves) < 2:
        return None
    up, down = max(moves, key=lambda m: m[1]), min(moves, key=lambda m: m[1])
    said = []
    if up[1] > 0 and not _is_zero(up[1]):
        said.append(f"mest op i {up[0]} ({pct(up[1])} pct.-point)")
    if down[1] < 0 and not _is_zero(down[1]):
        said.append(f"mest ned i {down[0]} ({pct(down[1])} pct.-point)")
    if not said:
        return None
    return "Blandt regionerne er ændringen gået " + " og ".join(said) + "."


def _source(manifest: dict[str, Any], metode: str, when: str) -> list[Line]:
    line = source_text(manifest["version"], metode, manifest["datasaet"], when)
    if dataset_name(manifest["datasaet"]) == SAMPLE_LABEL:
        line = line.replace(SAMPLE_LABEL, SAMPLE_WORDS)
    return [("text", f"Anm.: {ROUNDING_NOTE}"), ("text", line)]


def track_lines(spor: Spor) -> list[Line]:
    """The text of ``kmf spor``: Hele landet (or the chosen kommune) by date."""
    unit = (
        spor.spor.filter(pl.col("niveau") == "land")
        if spor.kommune is None
        else spor.spor.filter(
            (pl.col("niveau") == "kommune") & (pl.col("kode") == str(spor.kommune))
        )
    ).sort("opgoerelsesdato")
    rows = unit.to_dicts()
    name = rows[-1]["navn"]
    who = "hele landet" if spor.kommune is None else name
    days = [r["opgoerelsesdato"] for r in rows]
    last = rows[-1]
    when = format_date(last["opgoerelsesdato"])
    lines: list[Line] = [
        ("title", f"Prognosesporet for {spor.aar}: {name}"),
        (
            "text",
            f"Prognosen for {who} er lavet pr. {len(rows)} "
            f"{'opgørelsesdato' if len(rows) == 1 else 'opgørelsesdatoer'}"
            + (f", fra {format_date(days[0])} til {when}" if len(rows) > 1 else f" ({when})")
            + f". Pr. {when} er den forventede KMF-afregning {mio(last['kmf_prognose_kr'])} mio. "
            f"kr. mod et budget på {mio(last['kmf_budget_kr'])} mio. kr.; prognosen ligger "
            f"dermed {_level(last['aendring_pct'])}.",
        ),
    ]
    if len(rows) > 1:
        before = rows[-2]
        since = f"Siden den forrige opgørelse pr. {format_date(before['opgoerelsesdato'])}"
        lines.append(("heading", "Hvad har flyttet sig"))
        lines += [
            ("text", s) for s in moved_since(before, last, since, "ved den forrige opgørelse")
        ]
        if spor.kommune is None:
            regions = _region_moves(spor.spor, "opgoerelsesdato", days[-2], days[-1])
            if regions:
                lines.append(("text", regions))
    lines += _accuracy(spor, who)
    if spor.datoer_uden_grundlag:
        lacking = [d for d, _ in spor.datoer_uden_grundlag]
        lines.append(
            (
                "text",
                f"{format_dates(lacking)} har ingen prognose, fordi en af de opgørelser, en "
                'prognose bygger på, endnu ikke findes (se arket "Om kørslen").',
            )
        )
    lines += _source(spor.manifest, spor.metode, f"prognoser pr. {format_dates(days)}")
    return lines


def _accuracy(spor: Spor, who: str) -> list[Line]:
    units = spor.traefsikkerhed_enheder
    if units is None or spor.traefsikkerhed is None:
        return []
    code = "DK" if spor.kommune is None else str(spor.kommune)
    own = units.filter(pl.col("kode") == code).sort("opgoerelsesdato").to_dicts()
    summary = spor.traefsikkerhed.to_dicts()
    first, last = own[0], own[-1]
    truth = "" if spor.endelig_dato is None else f" (pr. {format_date(spor.endelig_dato)})"

    def miss(row: dict[str, Any]) -> str:
        made = f"prognosen pr. {format_date(row['opgoerelsesdato'])}"
        if _is_zero(row["fejl_pct"]):
            return f"{made} ramte inden for 0,05 pct."
        return (
            f"{made} var {pct(row['fejl_pct'])} pct. for {'høj' if row['fejl_pct'] > 0 else 'lav'}"
        )

    text = (
        f"Den endelige opgørelse for {spor.aar}{truth} findes i data: afregningen for {who} "
        f"blev {mio(last['kmf_endelig_kr'])} mio. kr. {miss(first)[:1].upper()}{miss(first)[1:]}"
    )
    if len(own) > 1:
        text += f", og {miss(last)}"
    text += " (i pct. af den endelige afregning)"
    share = [
        format_number(s["andel_kommuner_inden_for_2pct"], 0) for s in (summary[0], summary[-1])
    ]
    within = format_number(WITHIN_PCT, 0)
    text += (
        f". Andelen af kommuner, hvis prognose ramte inden for {within} pct. af deres endelige "
        + (
            f"afregning, gik fra {share[0]} pct. til {share[1]} pct."
            if len(summary) > 1
            else f"afregning, var {share[1]} pct."
        )
    )
    return [("heading", "Træfsikkerhed"), ("text", text)]


def history_lines(historik: Historik) -> list[Line]:
    """The text of ``kmf historik``: Hele landet by budget year, and what moved since the
    year before."""
    land = historik.historik.filter(pl.col("niveau") == "land").sort("aar").to_dicts()
    years = [r["aar"] for r in land]
    lines: list[Line] = [
        ("title", f"Historik: KMF-prognosen sammenlignet med budgettet, {years[0]}–{years[-1]}"),
        (
            "text",
            "For hele landet under ét lå prognosen "
            + ", ".join(f"i {r['aar']} {_level(r['aendring_pct'])}" for r in land[:-1])
            + (" og " if len(land) > 1 else "")
            + f"i {land[-1]['aar']} {_level(land[-1]['aendring_pct'])}"
            + " (hvert år med sit eget budget og pr. sin seneste opgørelsesdato).",
        ),
    ]
    if len(land) > 1:
        before, after = land[-2], land[-1]
        lines.append(("heading", "Hvad har flyttet sig"))
        since = f"Fra {before['aar']} til {after['aar']}"
        lines += [("text", s) for s in moved_since(before, after, since, "året før")]
        regions = _region_moves(historik.historik, "aar", before["aar"], after["aar"])
        if regions:
            lines.append(("text", regions))
    dated = any(d is not None for d in historik.datoer.values())
    lines += _source(
        historik.manifest,
        historik.metode,
        "hvert budgetår pr. sin seneste opgørelsesdato med grundlag" if dated else "",
    )
    return lines


def track_markdown(spor: Spor) -> str:
    return to_markdown(track_lines(spor))


def history_markdown(historik: Historik) -> str:
    return to_markdown(history_lines(historik))
