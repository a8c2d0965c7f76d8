"""The results over time: the forecast track of one budget year (``Spor``) and the
history of budget years (``Historik``). Like ``Result`` they only hold frames; the writers in
:mod:`kmf.report.track` read them and are handed to them by :mod:`kmf.track`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from kmf.errors import OutputError


def _dates(n: int) -> str:
    """``1 dato`` or ``3 datoer``."""
    return f"{n} dato" if n == 1 else f"{n} datoer"


@dataclass(frozen=True, repr=False)
class Spor:
    """The forecast track (prognosespor) of budget year T: B1 for every forecast date.

    Attributes
    ----------
    aar
        Budget year T.
    metode
        The decomposition method.
    spor
        ``opgoerelsesdato`` followed by every B1 column, for every date with a basis (in date
        order) and every B1 row.
    datoer_uden_grundlag
        T foreløbig dates that lack a cut (date, what is missing), not in ``spor``.
    traefsikkerhed, traefsikkerhed_enheder
        The track's accuracy against T endelig (None where the data have no T endelig cut).
    endelig_dato
        The date of the T endelig cut used as truth (None where undated or absent).
    kommune
        The kommune the figure shows (None: Hele landet).
    """

    aar: int
    metode: str
    spor: pl.DataFrame
    datoer_uden_grundlag: tuple[tuple[date, str], ...]
    traefsikkerhed: pl.DataFrame | None
    traefsikkerhed_enheder: pl.DataFrame | None
    endelig_dato: date | None
    manifest: dict[str, Any] = field(repr=False)
    kommune: int | None = None
    titel: str | None = None
    writer: Callable[[Spor, Path, bool], list[Path]] | None = field(
        default=None, repr=False, compare=False
    )

    def __repr__(self) -> str:
        days = [d for d in self.datoer if d is not None]
        span = f"{days[0].isoformat()} … {days[-1].isoformat()}" if days else "uden dato"
        truth = (
            "ingen endelig opgørelse at måle mod"
            if self.traefsikkerhed is None
            else "træfsikkerhed mod den endelige opgørelse"
            + ("" if self.endelig_dato is None else f" pr. {self.endelig_dato.isoformat()}")
        )
        missing = len(self.datoer_uden_grundlag)
        lacking = f"; {_dates(missing)} uden grundlag" if missing else ""
        return (
            f"Prognosespor for budgetår {self.aar} (metode {self.metode}): "
            f"{_dates(len(self.datoer))}, {span}{lacking}; {truth}."
        )

    @property
    def datoer(self) -> list[date | None]:
        """The forecast dates of the track, in order."""
        return self.spor["opgoerelsesdato"].unique(maintain_order=True).to_list()

    def named_tables(self) -> dict[str, pl.DataFrame]:
        """Every table under its file name (without extension)."""
        out = {"tabel_spor": self.spor}
        if self.traefsikkerhed is not None and self.traefsikkerhed_enheder is not None:
            out["tabel_traefsikkerhed"] = self.traefsikkerhed
            out["tabel_traefsikkerhed_enheder"] = self.traefsikkerhed_enheder
        return out

    def write(self, folder: str | Path, *, force: bool = False) -> list[Path]:
        """Write ``tabel_spor`` (CSV, Parquet), the accuracy tables, the workbook
        ``kmf_prognosespor_<T>.xlsx``, ``figur_spor.png`` and ``manifest.json`` at once."""
        if self.writer is None:
            raise OutputError("Dette prognosespor kan ikke skrives: det er ikke lavet af kmf.spor.")
        return self.writer(self, Path(folder), force)


@dataclass(frozen=True, repr=False)
class Historik:
    """B1 of every budget year that has a basis, each at its default date.

    Attributes
    ----------
    historik
        ``aar`` followed by every B1 column, for every year (in order) and B1 row.
    datoer
        The forecast date of each year (None where undated).
    aar_uden_grundlag
        Years in the range that lack a cut or a budget (year, what is missing).
    """

    metode: str
    historik: pl.DataFrame
    datoer: dict[int, date | None]
    aar_uden_grundlag: tuple[tuple[int, str], ...]
    manifest: dict[str, Any] = field(repr=False)
    titel: str | None = None
    writer: Callable[[Historik, Path, bool], list[Path]] | None = field(
        default=None, repr=False, compare=False
    )

    def __repr__(self) -> str:
        lacking = ", ".join(str(y) for y, _ in self.aar_uden_grundlag)
        return (
            f"Historik (metode {self.metode}): budgetår {', '.join(map(str, self.aar))}"
            + (f"; uden grundlag: {lacking}" if lacking else "")
            + "."
        )

    @property
    def aar(self) -> list[int]:
        """The budget years of the history, in order."""
        return self.historik["aar"].unique(maintain_order=True).to_list()

    def named_tables(self) -> dict[str, pl.DataFrame]:
        return {"tabel_historik": self.historik}

    def write(self, folder: str | Path, *, force: bool = False) -> list[Path]:
        """Write ``tabel_historik`` (CSV, Parquet), ``kmf_historik.xlsx``,
        ``figur_historik.png`` and ``manifest.json`` at once."""
        if self.writer is None:
            raise OutputError("Denne historik kan ikke skrives: den er ikke lavet af kmf.historik.")
        return self.writer(self, Path(folder), force)
