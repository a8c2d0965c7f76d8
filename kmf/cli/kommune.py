"""``kmf kommune``: one kommune's own report (SPEC §8). Registered on the app in kmf.cli.

Only typer is imported at the top, as in kmf.cli: ``kmf --help`` loads this module too.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from kmf.cli.options import DatasetArgument, DateOption, MethodOption, NoCacheOption, YearOption

if TYPE_CHECKING:  # the library loads inside the command, not with ``kmf --help``
    from rich.console import Console

    from kmf.report.kommune import KommuneReport

T = TypeVar("T")
#: ``kmf kommune alle``: every kommune's report, each in its own folder in this one
ALL = "alle"
ALL_OUT = "kmf-kommuner"


def kommune_command(
    kode: Annotated[
        str,
        typer.Argument(
            metavar="KODE",
            help="Kommunekoden, fx 851 for Aalborg, eller alle: en rapport for hver kommune, "
            "hver i sin egen mappe (MAPPE/KODE).",
        ),
    ],
    dataset: DatasetArgument = None,
    aar: YearOption = None,
    dato: DateOption = None,
    metode: MethodOption = None,
    sammenlign: Annotated[
        str | None,
        typer.Option(
            "--sammenlign",
            metavar="KODER",
            help="Sammenligningskommuner, kommunekoder adskilt af komma (fx 751,461,101), "
            "eller 'demografi': de 10 kommuner, der ligner mest i antal indbyggere og andel "
            "65+ årige (kræver befolkning i datasættet). Standard: de 10 kommuner, hvis budget "
            "ligger nærmest kommunens.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="MAPPE",
            help=f"Mappen til rapporten. Standard: kmf-kommune-<KODE> (med alle: {ALL_OUT}).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overskriv en rapport, der findes i forvejen.")
    ] = False,
    uden_cache: NoCacheOption = False,
) -> None:
    """Skriv én kommunes egen rapport, eller med alle hver kommunes.

    Hvorfor afviger prognosen, hvilke borgere og områder driver det, og hvordan ligger
    kommunen ift. region, land og sammenligningskommuner. Har data opgørelsesdatoer, får
    projektmappen arket Prognosespor; har data flere budgetår, arket Historik.
    """
    from kmf.io.hashing import start_early

    start_early(dataset, not uden_cache)  # before the heavy imports: see kmf.io.hashing
    from kmf.cli.console import Stage, errors_to_exit, explain_stop, out_console
    from kmf.compute.kommune_tables import parse_codes, require_kommunekode
    from kmf.danish import format_date, wrap_paragraphs
    from kmf.io import load, sample_dataset
    from kmf.kommune_report import kommune, kommuner
    from kmf.pipeline import run as run_pipeline
    from kmf.report.kommune import file_names
    from kmf.report.write import check_target
    from kmf.track import historik, spor

    console = out_console()
    every = kode.strip().lower() == ALL
    with errors_to_exit():
        code = None if every else _kommunekode(kode)
    default = Path(ALL_OUT) if every else Path(f"kmf-kommune-{code}")
    target = out if out is not None else default
    explain_stop(target, f"Rapporten nåede at blive skrevet færdig i '{target}'.")
    with errors_to_exit():
        check_target(target, force)
        if code is not None:
            require_kommunekode(code)
        group: list[int] | str | None = None
        if sammenlign is not None and sammenlign.strip().lower() == "demografi":
            group = "demografi"
        elif sammenlign is not None:
            group = parse_codes(sammenlign)
        source = dataset if dataset is not None else sample_dataset()
        with Stage(console, "Læser data og beregner") as done:
            # read once, each cut when first used: the run, the track and the history share it
            data = load(source, kun_brugte=True, cache=not uden_cache)
            result = run_pipeline(data, aar=aar, metode=metode, dato=dato)
            notes: list[str] = list(data.notes)
            track = _optional(notes, "Prognosespor", lambda: spor(data, aar=result.aar,
                              metode=result.metode)) if result.dato else None  # fmt: skip
            years = _optional(notes, "Historik", lambda: historik(data, metode=result.metode))
            when = "" if result.dato is None else f" pr. {format_date(result.dato)}"
            if code is None:
                done(f"budgetår {result.aar}{when}, {result.kommuner.height} kommuner")
            else:
                report = kommune(result, code, group, prognosespor=track, historik=years)
                done(f"budgetår {result.aar}{when}, {report.tabeller.navn}")
        for note in notes:
            console.print(f"  Bemærk: {note}")
        if code is None:
            _write_all(console, kommuner(result, group, prognosespor=track, historik=years),
                       result.kommuner.height, target, force)  # fmt: skip
            return
        with Stage(console, "Skriver rapporten") as done:
            written = report.write(target, force=force)
            done(f"{len(written)} filer")
    names = file_names(report.tabeller.kode, report.tabeller.aar)
    console.print()
    console.print(wrap_paragraphs(report.tekst), markup=False)
    console.print(f"Rapporten ligger i {target}{os.sep} (Excel: {names['workbook']}).")


def _kommunekode(kode: str) -> int:
    """The KODE argument as a kommunekode; anything but a whole number or 'alle' is an
    error that says what to write."""
    from kmf.errors import DataError

    text = kode.strip()
    if not text.isdigit():
        raise DataError(
            f"'{kode}' er hverken en kommunekode eller '{ALL}'. Skriv fx 'kmf kommune 851' "
            f"for Aalborg, eller 'kmf kommune {ALL}' for en rapport for hver kommune."
        )
    return int(text)


def _write_all(console: Console, reports: Iterable[KommuneReport], count: int, target: Path,
               force: bool) -> None:  # fmt: skip
    """Every kommune's report into ``target/<KODE>/``, a line per kommune as it is done."""
    from kmf.cli.console import Stage
    from kmf.report.kommune_all import write_reports

    def progress(report: KommuneReport, number: int) -> None:
        t = report.tabeller
        console.print(f"  {number:>{len(str(count))}}/{count}  {t.kode} {t.navn}")

    with Stage(console, "Skriver kommunernes rapporter") as done:
        written = write_reports(reports, target, force=force, progress=progress)
        done(f"{len(written)} kommuner")
    console.print(f"Rapporterne ligger i {target}{os.sep}, én mappe pr. kommune (KODE{os.sep}).")


def _optional(notes: list[str], sheet: str, make: Callable[[], T]) -> T | None:
    """The track or the history for its sheet; where the data cannot give it, the report
    goes on without the sheet and ``notes`` says why."""
    from kmf.errors import DataError

    try:
        return make()
    except DataError as error:
        notes.append(f"Arket {sheet} er udeladt: {error}")
        return None
