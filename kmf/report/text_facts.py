"""Sentences every text shares: the final settlement where the data have it, how far last
year's forecast of the same day missed, and the closing "Kilde:" line (what data, which
date, which method), as under every table."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from kmf.compute.accuracy import WITHIN_PCT, Settlement
from kmf.danish import format_date, format_number
from kmf.report.excel_pages import SAMPLE_LABEL, dataset_name, source_text
from kmf.report.text import Line, mio, pct
from kmf.report.text_sums import ROUNDING_NOTE

if TYPE_CHECKING:
    from kmf.result import Result

#: the words for the bundled sample in a text's source line
SAMPLE_WORDS = "de syntetiske eksempeldata, der følger med kmf (tallene er ikke rigtige)"


def source_lines(
    version: str, metode: str, datasaet: str | None, when: str = "", sums: bool = True
) -> list[Line]:
    """The closing lines of a text: the rounding note (``sums``: where the text adds up
    numbers) and the "Kilde:" line, which says when the data are the synthetic sample."""
    line = source_text(version, metode, datasaet, when)
    if dataset_name(datasaet) == SAMPLE_LABEL:
        line = line.replace(SAMPLE_LABEL, SAMPLE_WORDS)
    note = [("text", f"Anm.: {ROUNDING_NOTE}")] if sums else []
    return [*note, ("text", line)]


def _more_or_less(value: float, than: str) -> str:
    if pct(value) == pct(0.0):
        return f"lå mindre end 0,05 pct. fra {than}"
    return f"var {pct(value)} pct. {'højere' if value > 0 else 'lavere'} end {than}"


def final_settlement(found: Settlement | None, kode: str, navn: str, budget: float) -> str | None:
    """The final settlement of the unit ``kode``, where the data have it: its amount, its
    difference from the budget, and this forecast's error as a share of it."""
    if found is None:
        return None
    row = found.unit(kode)
    if row is None:
        return None
    final, forecast_error = row["kmf_endelig_kr"], row["fejl_pct"]
    diff = final - budget
    when = "" if found.endelig_dato is None else f" (pr. {format_date(found.endelig_dato)})"
    if mio(diff) == mio(0.0):
        versus = f"det samme som budgettet på {mio(budget)} mio. kr."
    elif pct(100 * diff / budget) == pct(0.0):
        versus = (
            f"{mio(diff)} mio. kr. {'over' if diff > 0 else 'under'} budgettet på "
            f"{mio(budget)} mio. kr. (under 0,05 pct.)."
        )
    else:
        versus = (
            f"{mio(diff)} mio. kr. eller {pct(100 * diff / budget)} pct. "
            f"{'over' if diff > 0 else 'under'} budgettet på {mio(budget)} mio. kr."
        )
    made = "" if found.dato is None else f" pr. {format_date(found.dato)}"
    return (
        f"Den endelige opgørelse for {found.aar}{when} findes i data: afregningen for {navn} "
        f"blev {mio(final)} mio. kr., {versus} Prognosen{made} "
        f"{_more_or_less(forecast_error, f'den endelige afregning på {mio(final)} mio. kr.')}; "
        "prognosernes afvigelser er her regnet i pct. af den endelige afregning."
    )


def last_year(found: Settlement | None, kode: str | None, navn: str | None) -> str | None:
    """How far the forecast of the same calendar day a year earlier missed its final
    settlement: the share of kommuner within 2 pct., Hele landet and (``kode``) the kommune.
    None where the data hold no such forecast."""
    if found is None:
        return None
    hits, every = found.within()
    made = (
        f"prognosen pr. {format_date(found.dato)}" if found.dato else f"prognosen for {found.aar}"
    )
    land = found.unit("DK")
    text = (
        f"Hvor sikker er en prognose på dette tidspunkt? Sidste år ramte {made} inden for "
        f"{format_number(WITHIN_PCT, 0)} pct. af den endelige afregning for {hits} af {every} "
        "kommuner"
    )
    parts = []
    if land is not None:
        parts.append(f"for hele landet {_error(land['fejl_pct'], 'prognosen')}")
    own = None if kode is None else found.unit(kode)
    if own is not None:
        parts.append(f"for {navn} {_error(own['fejl_pct'], 'den' if parts else 'prognosen')}")
    text += "."
    if parts:
        joined = ", og ".join(parts)
        text += f" {joined[:1].upper()}{joined[1:]} (i pct. af den endelige afregning)."
    return text


def _error(value: float, subject: str) -> str:
    if pct(value) == pct(0.0):
        return f"ramte {subject} inden for 0,05 pct."
    return f"var {subject} {pct(value)} pct. for {'høj' if value > 0 else 'lav'}"


def source_lines_of(result: Result, sums: bool = True) -> list[Line]:
    """:func:`source_lines` of a run: its data, method and forecast date."""
    return source_lines(
        result.manifest.version, result.metode, result.manifest.datasaet, when_of(result.dato), sums
    )


def when_of(dato: date | None) -> str:
    """The date part of a source line: ``prognose pr. 10. september 2018``."""
    return "" if dato is None else f"prognose pr. {format_date(dato)}"
