"""Time in one kommune's report: the forecast track and the history as the report takes
them (from ``kmf.spor`` / ``kmf.historik``, or as frames), and the text's sentences on how
the kommune's forecast moved through the year and how far it was from the final settlement.

The sheets "Prognosespor" and "Historik" are drawn in :mod:`kmf.report.kommune`.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from kmf.compute.kommune_tables import KommuneTables
from kmf.danish import format_date
from kmf.errors import DataError
from kmf.report.text import Line, mio, pct, signed
from kmf.series import Historik, Spor

#: the columns a track or history frame needs beside its key
NEEDED = ("niveau", "kode", "navn", "aendring_pct")


def track_frame(
    prognosespor: Spor | pl.DataFrame | None, aar: int, dato: date | None
) -> pl.DataFrame | None:
    """The track as the report shows it: ``opgoerelsesdato`` and the B1 columns, with
    ``kmf_endelig_kr`` and ``fejl_pct`` where a ``Spor`` has accuracy; only dated
    forecasts, up to the report's own date (a forecast made on d sees no later cut).
    ``None`` where nothing is left."""
    if prognosespor is None:
        return None
    if isinstance(prognosespor, Spor):
        if prognosespor.aar != aar:
            raise DataError(
                f"Prognosesporet er for budgetår {prognosespor.aar}, men resultatet er for "
                f"{aar}. Lav sporet for samme år: kmf.spor(data, aar={aar})."
            )
        frame = prognosespor.spor
        units = prognosespor.traefsikkerhed_enheder
        if units is not None:  # the same rows in the same order (kmf.compute.accuracy)
            frame = frame.with_columns(units["kmf_endelig_kr"], units["fejl_pct"])
    else:
        frame = prognosespor
    _require(frame, "opgoerelsesdato", "prognosespor")
    if frame.schema["opgoerelsesdato"] == pl.String:
        try:
            frame = frame.with_columns(pl.col("opgoerelsesdato").str.to_date("%Y-%m-%d"))
        except pl.exceptions.PolarsError:
            raise DataError(
                "prognosespor: kolonnen opgoerelsesdato skal være datoer (ÅÅÅÅ-MM-DD), fx "
                "2018-09-10."
            ) from None
    frame = frame.filter(pl.col("opgoerelsesdato").is_not_null())
    if dato is not None:
        frame = frame.filter(pl.col("opgoerelsesdato") <= dato)
    return frame.sort("opgoerelsesdato", maintain_order=True) if frame.height else None


def history_frame(historik: Historik | pl.DataFrame | None) -> pl.DataFrame | None:
    """The history as the report shows it: ``aar`` and the B1 columns, where it holds more
    than one budget year (``None`` otherwise)."""
    if historik is None:
        return None
    frame = historik.historik if isinstance(historik, Historik) else historik
    _require(frame, "aar", "historik")
    return frame if frame["aar"].n_unique() > 1 else None


def _require(frame: pl.DataFrame, key: str, what: str) -> None:
    missing = [c for c in (key, *NEEDED) if c not in frame.columns]
    if missing:
        raise DataError(
            f"{what}: kolonnen/kolonnerne {', '.join(missing)} mangler. Brug resultatet af "
            f"kmf.{'spor' if key == 'opgoerelsesdato' else 'historik'} eller en tabel med "
            f"{key} og kolonnerne fra tabel B1."
        )


def _level(value: float) -> str:
    if pct(value) == pct(0.0):
        return "på niveau med budgettet"
    return f"{pct(value)} pct. {'over' if value > 0 else 'under'} budgettet"


def _miss(value: float) -> str:
    if pct(value) == pct(0.0):
        return "ramte præcist (0,0 pct.)"
    return f"var {pct(value)} pct. for {'høj' if value > 0 else 'lav'}"


def time_lines(t: KommuneTables) -> list[Line]:
    """The sentences on the kommune's track (and its accuracy); none without a track."""
    if t.prognosespor is None:
        return []
    own = t.prognosespor.filter(
        (pl.col("niveau") == "kommune") & (pl.col("kode") == str(t.kode))
    ).sort("opgoerelsesdato")
    if own.is_empty():
        return []
    rows = own.to_dicts()
    first, last = rows[0], rows[-1]
    when = [format_date(r["opgoerelsesdato"]) for r in (first, last)]
    lines: list[Line] = [("heading", "Prognosen gennem året")]
    if len(rows) == 1:
        moved = (
            f"Prognosesporet har én dato: pr. {when[1]} lå prognosen "
            f"{_level(last['aendring_pct'])}."
        )
    else:
        low = min(rows, key=lambda r: r["aendring_pct"])["aendring_pct"]
        high = max(rows, key=lambda r: r["aendring_pct"])["aendring_pct"]
        moved = (
            f"Prognosen er lavet igen ved hver ny foreløbig opgørelse. Pr. {when[0]} lå den "
            f"{_level(first['aendring_pct'])} og pr. {when[1]} {_level(last['aendring_pct'])}"
        )
        ends = (first["aendring_pct"], last["aendring_pct"])
        beyond = signed(low) != signed(min(ends)) or signed(high) != signed(max(ends))
        moved += (
            f"; undervejs har den ligget mellem {_level(low)} og {_level(high)}." if beyond else "."
        )
    lines.append(("text", moved + ' Arket "Prognosespor" viser hver dato.'))
    if "fejl_pct" in own.columns and own["fejl_pct"].null_count() == 0:
        worst = max(rows, key=lambda r: abs(r["fejl_pct"]))
        final = f" på {mio(last['kmf_endelig_kr'])} mio. kr." if last.get("kmf_endelig_kr") else ""
        text = (
            f"Den endelige opgørelse for {t.aar} findes i data, så prognoserne kan holdes op mod "
            f"den faktiske afregning{final}: prognosen pr. {when[0]} {_miss(first['fejl_pct'])}"
        )
        if len(rows) > 1:
            text += f", og prognosen pr. {when[1]} {_miss(last['fejl_pct'])}"
        text += " (i pct. af den endelige afregning)."
        if len(rows) > 2 and worst is not first and worst is not last:
            text += (
                f" Størst var afvigelsen pr. {format_date(worst['opgoerelsesdato'])} "
                f"({pct(worst['fejl_pct'])} pct.)."
            )
        lines.append(("text", text))
    return lines
