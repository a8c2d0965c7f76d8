"""The result of a run: every table as a polars DataFrame, and what was read and used.

The report writers (:mod:`kmf.report`) read a ``Result``; it never imports them. ``write``
goes through the writer that ``kmf.run`` hands it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from kmf.compute.accuracy import Settlement
from kmf.display import overview_html, population_html, summary_text
from kmf.errors import OutputError
from kmf.io.digest import Digest


class UnknownTable(KeyError):
    """A table that is not in the result. A ``KeyError`` (``except KeyError`` still catches
    it) whose message reads as written: a plain KeyError shows its message in quotes."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class ManifestFile:
    """An input file: where it is, its sha256, the rows read and (for tables) used."""

    tabel: str
    fil: str
    sti: str | None  # None for a data frame handed over from Python
    sha256: str | None  # may be set to a Future of it (Digest)
    raekker_laest: int
    raekker_brugt: int | None = None
    # whether the file's cells came from the cache (None: the run used none of them)
    celler_fra_cache: bool | None = None


Digest.install(ManifestFile)


@dataclass(frozen=True)
class ManifestCut:
    """A cut the data hold, its size, and what the run used it as (or ``None``)."""

    aar: int
    opgoerelse: str
    takstaar: int
    raekker: int
    kommuner: int | None  # None: a cut the run did not read
    brugt_som: str | None
    opgoerelsesdato: str | None = None  # ISO; None for an undated cut


@dataclass(frozen=True)
class Manifest:
    """What a run read and used; written as ``manifest.json`` (keys as the fields)."""

    version: str
    metode: str
    aar: int
    datasaet: str | None  # None when the tables came as data frames
    budget: str
    aldersangivelse: str
    psykiatri_flyttet_til_ej_aldersdiff: int
    raekker_ikke_brugt: int
    opgoerelser: tuple[ManifestCut, ...]
    filer: tuple[ManifestFile, ...]
    kommuner: int
    bemaerkninger: tuple[str, ...]
    aldersgrupper: tuple[str, ...]
    program: str = "kmf"
    opgoerelsesdato: str | None = None  # the forecast date (ISO); None for undated data
    datoer_uden_grundlag: tuple[str, ...] = ()  # later T foreløbig dates without a basis

    def __getitem__(self, key: str) -> Any:
        """``manifest["filer"]`` as in ``manifest.json``, for those who read it as a dict."""
        return self.as_json()[key]

    def as_json(self) -> dict[str, Any]:
        """The manifest as JSON data, ``program`` first; a file's rows used only where known."""
        data = asdict(self)
        data["filer"] = [
            {k: v for k, v in f.items() if not (k == "raekker_brugt" and v is None)}
            for f in data["filer"]
        ]
        return {"program": data.pop("program"), **data}


#: ``writer(result, folder, force, csv=...)``, handed over by ``kmf.run``
Writer = Callable[..., list[Path]]


@dataclass(frozen=True, repr=False)
class Result:
    """The decomposition for one budget year: every table as a polars DataFrame.

    In Jupyter a result shows Hele landet and the regions of tabel B1; ``print(result)``
    gives one line. The tables are attributes (``result.b1``) or ``result.tabel("B1")``,
    ``result.tabel(4)``. To work on in pandas: ``result.b1.to_pandas()`` (needs pandas:
    ``pip install "kmf[pandas]"``).

    Attributes
    ----------
    aar
        Budget year T.
    metode
        The decomposition method (``ministeriet``, ``lmdi``, ``shapley`` or ``alle``).
    b1, b2, b3, b4
        Tables B1–B4: one row for Hele landet, each region and each kommune. B1 is the
        decomposition (kr. and pct. of the budget), B2 the change in the age distribution of
        consumption, B3 in the average KMF share per age group, B4 in the distribution on
        sundhedsområder (pct.-point).
    tabeller
        Tabel 1–6, by number; also reached by ``tabel(n)``.
    celler
        The forecast and budget cells used: all 17 cells of every kommune, in kr.
    kommuner
        Per kommune: efterregistreringsfaktor f_k, KMF grundlag K⁰_k, budget K^b_k, g_k.
    manifest
        What was read and used (written as ``manifest.json``).
    metoder
        With ``metode="alle"``: every effect under every method side by side.
    endelig
        Where the data have T's endelig opgørelse: this forecast against it, per unit.
    sidste_aar
        Where the data allow it: the forecast for T−1 made on the same calendar day a year
        earlier, against T−1's endelig opgørelse (how far such forecasts missed then).
    befolkning, borger
        Where the dataset has a population (``befolkning``): the change split into more
        citizens, age structure, use per citizen, area mix and KMF share
        (``tabel("befolkning")``), and KMF per citizen with the age-standardised indeks
        (``tabel("borger")``). None without a population.
    indbyggere
        The population used: ``kommunekode``, ``aar`` (T−2 and T), ``aldersgruppe``, ``antal``.
    """

    aar: int
    metode: str
    b1: pl.DataFrame
    b2: pl.DataFrame
    b3: pl.DataFrame
    b4: pl.DataFrame
    tabeller: dict[int, pl.DataFrame]
    celler: pl.DataFrame
    kommuner: pl.DataFrame
    manifest: Manifest
    titel: str | None = None
    metoder: pl.DataFrame | None = None
    dato: date | None = None  # the forecast date (SPEC §7); None for undated data
    endelig: Settlement | None = None  # this forecast against T endelig, where the data have it
    sidste_aar: Settlement | None = None  # T−1's forecast of the same day against T−1 endelig
    writer: Writer | None = field(default=None, compare=False)
    befolkning: pl.DataFrame | None = None  # tabel_befolkning, with a population
    borger: pl.DataFrame | None = None  # tabel_borger, with a population
    indbyggere: pl.DataFrame | None = None  # the population used: kommune, aar, aldersgruppe

    def __repr__(self) -> str:
        land = self.b1.row(0, named=True)
        return summary_text(self.aar, self.metode, self.kommuner.height, land, self.dato)

    def _repr_html_(self) -> str:
        """Jupyter's view: B1 for Hele landet and the regions, formatted like the report."""
        shown = overview_html(self.b1, self.aar, self.metode, self.kommuner.height, self.dato)
        if self.befolkning is not None and self.borger is not None:
            shown += population_html(self.befolkning, self.borger)
        return shown

    def tabel(self, n: int | str) -> pl.DataFrame:
        """A table of the report: ``"B1"`` … ``"B4"``, tabel ``1`` … ``6`` (also ``"4"``), or
        with a population ``"befolkning"`` and ``"borger"``.

        Raises
        ------
        UnknownTable
            A ``KeyError`` with a Danish message naming the tables there are.
        """
        key = str(n).strip().upper()
        frames = {"B1": self.b1, "B2": self.b2, "B3": self.b3, "B4": self.b4}
        frames.update({str(k): v for k, v in self.tabeller.items()})
        own = {"BEFOLKNING": self.befolkning, "BORGER": self.borger}
        frames.update({k: v for k, v in own.items() if v is not None})
        if key in own and own[key] is None:
            raise UnknownTable(
                f'Tabel "{str(n).strip()}" kræver befolkningstal, og datasættet har ingen. '
                "Læg 'befolkning.csv' i datasættets mappe (kolonnerne kommunekode, aar, alder "
                "eller aldersgruppe og antal), og kør igen."
            )
        if key not in frames:
            extra = ', "befolkning", "borger"' if self.befolkning is not None else ""
            raise UnknownTable(
                f"Tabel {n} findes ikke. Vælg en af B1, B2, B3, B4{extra} eller tabel "
                f'1–{max(self.tabeller)}, fx resultat.tabel("B1") eller resultat.tabel(4).'
            )
        return frames[key]

    def named_tables(self) -> dict[str, pl.DataFrame]:
        """Every table under its file name (without extension)."""
        out = {"tabel_b1": self.b1, "tabel_b2": self.b2, "tabel_b3": self.b3, "tabel_b4": self.b4}
        out.update({f"tabel_{n}": self.tabeller[n] for n in sorted(self.tabeller)})
        if self.metoder is not None:
            out["tabel_metoder"] = self.metoder
        if self.befolkning is not None:
            out["tabel_befolkning"] = self.befolkning
        if self.borger is not None:
            out["tabel_borger"] = self.borger
        return out

    def write(
        self, folder: str | Path, *, force: bool = False, csv: str = "standard"
    ) -> list[Path]:
        """Write the tables (CSV and Parquet), the Excel workbook, the figures and
        ``manifest.json``, whose ``filer_skrevet`` lists the files written.

        Parameters
        ----------
        folder
            The output folder.
        force
            Replace kmf's files from an earlier run in ``folder``; files of your own stay.
            Without it, a folder that is not empty is left alone.
        csv
            ``"standard"``: comma-separated with a decimal point, for other programs.
            ``"dansk"``: semicolons, decimal commas and a UTF-8 byte order mark, so that the
            files open as columns of numbers in Danish Excel.

        Everything is written to a hidden folder first and moved into place at the end, so a
        failed or interrupted run leaves the folder as it was.

        Raises
        ------
        OutputError
            With a Danish message when the folder cannot be written (not empty without
            ``force``, disk full, read-only, no permission, …).
        """
        if self.writer is None:
            raise OutputError(
                "Dette resultat kan ikke skrives: det er ikke lavet af kmf.run. Brug "
                "kmf.report.write_report(resultat, mappe)."
            )
        return self.writer(self, Path(folder), force, csv=csv)
