"""Which cuts a forecast for budget year T made on date d reads (SPEC §7).

A forecast made on d sees only cuts dated on or before d: T foreløbig dated d, T−1 foreløbig
dated the same calendar day a year earlier (29 February → 28 February), and the latest T−1
endelig and T−2 endelig (at year-T takster) dated on or before d. An undated d pairs with
undated cuts only. The choice is made on the list of cuts, which is short; the cells are
then joined on it all at once (:mod:`kmf.compute.forecast`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from kmf import codes
from kmf.danish import format_dates
from kmf.errors import DataError
from kmf.io import Dataset
from kmf.io.schema import date_expr

# the four roles a cut plays in a forecast, in the order SPEC §4 names them
ROLES: tuple[str, ...] = ("prognose", "efterreg_foreloebig", "efterreg_endelig", "grundlag")


@dataclass(frozen=True)
class Cut:
    """One of the four cuts a run uses (``dato`` None: an undated cut)."""

    name: str  # the role, used internally
    aar: int
    opgoerelse: str
    takstaar: int
    dato: date | None = None

    @property
    def label(self) -> str:
        dated = f" pr. {self.dato.isoformat()}" if self.dato is not None else ""
        return (
            f"{self.aar} {codes.CUT_LABELS[self.opgoerelse]} opgørelse{dated} "
            f"i {self.takstaar}-takster"
        )


def cuts_for(year: int) -> tuple[Cut, ...]:
    """The cuts a run for budget year T reads (undated): T foreløbig, T−1 foreløbig and
    endelig, T−2 endelig at year-T takster."""
    return (
        Cut("prognose", year, "foreloebig", year),
        Cut("efterreg_foreloebig", year - 1, "foreloebig", year - 1),
        Cut("efterreg_endelig", year - 1, "endelig", year - 1),
        Cut("grundlag", year - 2, "endelig", year),
    )


def cut_keys(bases: list[Basis]) -> set[tuple[int, str, int, date | None]]:
    """The cuts (aar, opgoerelse, takstaar, opgoerelsesdato) the forecasts of ``bases`` read."""
    return {(c.aar, c.opgoerelse, c.takstaar, c.dato) for b in bases for c in b.cuts}


def year_before(d: date) -> date:
    """The same calendar day one year earlier; 29 February goes to 28 February."""
    if d.month == 2 and d.day == 29:
        return date(d.year - 1, 2, 28)
    return d.replace(year=d.year - 1)


@dataclass(frozen=True)
class Basis:
    """A forecast date of budget year T and the cuts it reads (``missing``: what it lacks)."""

    aar: int
    dato: date | None
    cuts: tuple[Cut, ...]  # the cuts found, by role
    missing: tuple[str, ...] = ()  # Danish: what is lacking, when the date has no basis
    # the same, each said for any date ("dateret på eller før datoen"): to group dates by
    lacks: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.missing

    def cut(self, role: str) -> Cut:
        return next(c for c in self.cuts if c.name == role)


def dates_of(dataset: Dataset, aar: int, opgoerelse: str, takstaar: int) -> list[date | None]:
    """The dates of one cut kind in the data, in order (``[None]`` for an undated cut)."""
    found = dataset.cuts().filter(
        (pl.col("aar") == aar)
        & (pl.col("opgoerelse") == opgoerelse)
        & (pl.col("takstaar") == takstaar)
    )
    return sorted(found["opgoerelsesdato"].to_list(), key=lambda d: (d is not None, d))


def forecast_dates(dataset: Dataset, year: int) -> list[Basis]:
    """Every date of a T foreløbig cut (takstaar T), in date order, with its basis or what it
    lacks. Empty where there is no T foreløbig cut."""
    template = cuts_for(year)
    have = {c.name: dates_of(dataset, c.aar, c.opgoerelse, c.takstaar) for c in template}
    out = []
    for d in have["prognose"]:
        chosen = [Cut(**{**template[0].__dict__, "dato": d})]
        missing, lacks = [], []
        for spec in template[1:]:
            options = have[spec.name]
            if d is None:
                pick = None if None in options else _MISSING
            elif spec.name == "efterreg_foreloebig":
                pick = year_before(d) if year_before(d) in options else _MISSING
            else:
                earlier = [o for o in options if o is not None and o <= d]
                pick = max(earlier) if earlier else _MISSING
            if pick is _MISSING:
                missing.append(_lack(spec, d, options))
                lacks.append(_lack_kind(spec, d, options))
            else:
                chosen.append(Cut(spec.name, spec.aar, spec.opgoerelse, spec.takstaar, pick))
        out.append(Basis(year, d, tuple(chosen), tuple(missing), tuple(lacks)))
    return out


_MISSING = date.min


def _dates_phrase(dated: list[date]) -> str:
    """``datoen 10. april 2018`` or ``datoerne 10. april og 10. maj 2018``."""
    return f"{'datoen' if len(dated) == 1 else 'datoerne'} {format_dates(dated)}"


def _exists(options: list[date | None], prose: bool = True) -> str:
    """Whether data has the cut, and on which dates: in Danish prose, or (``prose`` False)
    as ISO dates a user can give with --dato."""
    dated = [o for o in options if o is not None]
    if not options:
        return "den findes ikke i data"
    if not dated:
        return "data har den kun uden dato"
    if prose:
        return f"data har {_dates_phrase(dated)}"
    listed = ", ".join(o.isoformat() for o in dated)
    return f"data har {'datoen' if len(dated) == 1 else 'datoerne'} {listed}"


def _lack_kind(spec: Cut, d: date | None, options: list[date | None]) -> str:
    """What a date lacks, said for any date: dates that lack the same are listed together."""
    if d is None:
        return _lack(spec, d, options)
    what = f"{spec.aar} {codes.CUT_LABELS[spec.opgoerelse]} i {spec.takstaar}-takster"
    rule = (
        "pr. samme dag året før"
        if spec.name == "efterreg_foreloebig"
        else "dateret senest samme dag"
    )
    return f"{what} {rule} ({_exists(options)})"


def group_lacks(bases: list[Basis]) -> list[tuple[list[date | None], str]]:
    """What the dates without a basis lack, one entry per kind of missing cut with the dates
    that lack it, in the order first met."""
    grouped: dict[str, list[date | None]] = {}
    for b in bases:
        for lack in b.lacks:
            grouped.setdefault(lack, []).append(b.dato)
    return [(dates, lack) for lack, dates in grouped.items()]


def _lack(spec: Cut, d: date | None, options: list[date | None]) -> str:
    """What date ``d`` lacks, for an error: the dates as ISO, as they are given with --dato."""
    what = f"{spec.aar} {codes.CUT_LABELS[spec.opgoerelse]} i {spec.takstaar}-takster"
    exists = _exists(options, prose=False)
    if d is None:
        return f"{what} uden dato ({exists})"
    if spec.name == "efterreg_foreloebig":
        return f"{what} pr. {year_before(d).isoformat()} ({exists})"
    return f"{what} dateret {d.isoformat()} eller før ({exists})"


def choose_basis(dataset: Dataset, year: int, dato: date | None) -> tuple[Basis, list[Basis]]:
    """The basis of the forecast for T on ``dato`` (default: the latest T foreløbig date that
    has a basis), and the T foreløbig dates after it that have none.

    Raises
    ------
    DataError
        Where ``dato`` is not a T foreløbig date or lacks a cut, or no date has a basis.
    """
    bases = forecast_dates(dataset, year)
    if not bases:
        years = dataset.cuts().filter(
            (pl.col("opgoerelse") == "foreloebig") & (pl.col("aar") == pl.col("takstaar"))
        )["aar"]
        listed = ", ".join(str(y) for y in sorted(set(years.to_list()))) or "ingen"
        raise DataError(
            f"Aktivitetsdata har ingen foreløbig opgørelse for {year} i {year}-takster "
            f"(aar = {year}, opgoerelse = 'foreloebig', takstaar = {year}). Data har foreløbige "
            f"opgørelser for årene: {listed}. Vælg et af dem med --aar."
        )
    dated = [b.dato.isoformat() for b in bases if b.dato is not None]
    if dato is not None:
        match = [b for b in bases if b.dato == dato]
        if not match:
            listed = ", ".join(dated) if dated else "ingen (data har ingen opgørelsesdatoer)"
            raise DataError(
                f"Der er ingen foreløbig opgørelse for {year} (i {year}-takster) pr. "
                f"{dato.isoformat()} i aktivitetsdata (kolonnen 'opgoerelsesdato'). "
                f"Datoerne for {year} foreløbig er: {listed}. Vælg en af dem med --dato."
            )
        basis = match[0]
        if not basis.complete:
            raise DataError(no_basis_message(basis, bases))
        return basis, []
    complete = [b for b in bases if b.complete]
    if not complete:
        if len(bases) == 1:
            raise DataError(no_basis_message(bases[0], bases))
        every = [b.dato for b in bases]
        raise DataError(
            f"Ingen af de {len(bases)} datoer for {year} foreløbig ({format_dates(every)}) har "
            "de opgørelser, en prognose kræver. Der mangler:\n"
            + "\n".join(
                f"- {lack}, for {'alle datoerne' if dates == every else format_dates(dates)}"
                for dates, lack in group_lacks(bases)
            )
            + "\nTilføj de manglende opgørelser, eller vælg et andet budgetår med --aar."
        )
    chosen = complete[-1]
    later = [b for b in bases if not b.complete and b.dato is not None and chosen.dato is not None]
    return chosen, [b for b in later if b.dato > chosen.dato]  # type: ignore[operator]


def no_basis_message(basis: Basis, bases: list[Basis]) -> str:
    """A date without a basis: what it lacks, and the dates that have one."""
    others = [b.dato.isoformat() for b in bases if b.complete and b.dato is not None]
    when = f" pr. {basis.dato.isoformat()}" if basis.dato is not None else ""
    return (
        f"Prognosen for budgetår {basis.aar}{when} mangler opgørelser i aktivitetsdata "
        "(kolonnerne 'aar', 'opgoerelse', 'takstaar', 'opgoerelsesdato'):\n"
        + "\n".join(f"- {m}" for m in basis.missing)
        + (f"\nDatoer for {basis.aar} med alle opgørelser: {', '.join(others)}." if others else "")
        + "\nTilføj de manglende opgørelser, eller vælg en anden dato med --dato."
    )


def parse_date(text: str) -> date:
    """A date given on the command line or in Python: ISO or Danish (DD-MM-YYYY, DD.MM.YYYY)."""
    frame = pl.DataFrame({"d": [text]}, schema={"d": pl.String})
    parsed = frame.select(date_expr(pl.col("d"), pl.String()))["d"][0]
    if parsed is None:
        raise DataError(
            f"'{text}' er ikke en dato. Skriv datoen som ÅÅÅÅ-MM-DD (fx 2018-09-10), "
            "DD-MM-ÅÅÅÅ eller DD.MM.ÅÅÅÅ."
        )
    return parsed
