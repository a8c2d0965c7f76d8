"""Why rows of the data are not used: each kind of cut a run left out, with its rows and
the reason in Danish ("Om kørslen", ``kmf tjek``). Reads the run's manifest cuts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from kmf import codes
from kmf.danish import format_date, format_kr
from kmf.result import ManifestCut


@dataclass(frozen=True)
class Unused:
    """The unused cuts of one year, opgørelse and takstår: what they are, their rows, why."""

    cut: str  # "2018 foreløbig, 2018-takster"
    dates: str  # "" (undated), "pr. 10. april 2019", "8 datoer fra … til …"
    rows: int
    why: str

    @property
    def said(self) -> str:
        """The rows, their dates and the reason in one phrase."""
        dates = f" ({self.dates})" if self.dates else ""
        return f"{format_kr(self.rows)} rækker{dates}: {self.why}"


def unused_cuts(year: int, cuts: Iterable[ManifestCut]) -> list[Unused]:
    """The cuts no forecast used, grouped by (aar, opgørelse, takstår), in the data's order,
    each with the reason: another budget year, another date, other takster, or the final
    settlement of the budget year itself."""
    cuts = list(cuts)
    used: dict[tuple[int, str, int], list[ManifestCut]] = {}
    for c in cuts:
        if c.brugt_som is not None:
            used.setdefault((c.aar, c.opgoerelse, c.takstaar), []).append(c)
    groups: dict[tuple[int, str, int], list[ManifestCut]] = {}
    for c in cuts:
        if c.brugt_som is None:
            groups.setdefault((c.aar, c.opgoerelse, c.takstaar), []).append(c)
    found = []
    for (aar, opgoerelse, takstaar), group in groups.items():
        cut = f"{aar} {codes.CUT_LABELS[opgoerelse]}, {takstaar}-takster"
        days = sorted(date.fromisoformat(c.opgoerelsesdato) for c in group if c.opgoerelsesdato)
        dates = ""
        if len(days) == 1:
            dates = f"pr. {format_date(days[0])}"
        elif days:
            dates = f"{len(days)} datoer fra {format_date(days[0])} til {format_date(days[-1])}"
        rows = sum(c.raekker for c in group)
        found.append(Unused(cut, dates, rows, _why(year, aar, opgoerelse, takstaar, used)))
    return found


def _why(
    year: int,
    aar: int,
    opgoerelse: str,
    takstaar: int,
    used: dict[tuple[int, str, int], list[ManifestCut]],
) -> str:
    twins = used.get((aar, opgoerelse, takstaar), [])
    if len(twins) > 1:  # a track: the forecasts use other dates of this cut
        return "datoer uden grundlag, som ingen af prognoserne bruger"
    if twins:
        twin = twins[0]
        day = date.fromisoformat(twin.opgoerelsesdato) if twin.opgoerelsesdato else None
        chosen = f" ({format_date(day)})" if day is not None else ""
        return f"andre datoer end den, prognosen bruger{chosen}"
    if aar == year and opgoerelse == "endelig":
        return (f"den endelige opgørelse for {year} indgår ikke i prognosen; kmf spor måler "
                "prognosen mod den")  # fmt: skip
    if aar not in (year, year - 1, year - 2):
        return f"et andet år end dem, budgetår {year} bruger ({year - 2}–{year})"
    roles = {(year, "foreloebig"): year, (year - 1, "foreloebig"): year - 1,
             (year - 1, "endelig"): year - 1, (year - 2, "endelig"): year}  # fmt: skip
    wanted = roles.get((aar, opgoerelse))
    if wanted is not None and wanted != takstaar:
        label = codes.CUT_LABELS[opgoerelse]
        return f"andre takster: budgetår {year} bruger {aar} {label} i {wanted}-takster"
    return f"ikke en af de fire opgørelser, budgetår {year} bruger"
