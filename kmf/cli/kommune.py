"""``kmf kommune``: one kommune's own report (SPEC §8). Registered on the app in kmf.cli.

Only typer is imported at the top, as in kmf.cli: ``kmf --help`` loads this module too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from kmf.cli.options import DatasetArgument, DateOption, MethodOption, YearOption

T = TypeVar("T")


def kommune_command(
    kode: Annotated[int, typer.Argument(metavar="KODE", help="Kommunekoden, fx 851 for Aalborg.")],
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
            help="Mappen til rapporten. Standard: kmf-kommune-<KODE>.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overskriv en rapport, der findes i forvejen.")
    ] = False,
) -> None:
    """Skriv én kommunes egen rapport.

    Hvorfor afviger prognosen, hvilke borgere og områder driver det, og hvordan ligger
    kommunen ift. region, land og sammenligningskommuner. Har data opgørelsesdatoer, får
    projektmappen arket Prognosespor; har data flere budgetår, arket Historik.
    """
    from kmf.cli.console import Stage, errors_to_exit, explain_stop, out_console
    from kmf.compute.kommune_tables import parse_codes, require_kommunekode
    from kmf.danish import format_date
    from kmf.io import load, sample_dataset
    from kmf.kommune_report import kommune
    from kmf.pipeline import run as run_pipeline
    from kmf.report.kommune import file_names
    from kmf.report.write import check_target
    from kmf.track import historik, spor

    console = out_console()
    target = out if out is not None else Path(f"kmf-kommune-{kode}")
    explain_stop(target, f"Rapporten nåede at blive skrevet færdig i '{target}'.")
    with errors_to_exit():
        check_target(target, force)
        require_kommunekode(kode)
        group: list[int] | str | None = None
        if sammenlign is not None and sammenlign.strip().lower() == "demografi":
            group = "demografi"
        elif sammenlign is not None:
            group = parse_codes(sammenlign)
        source = dataset if dataset is not None else sample_dataset()
        with Stage(console, "Læser data og beregner") as done:
            data = load(source)  # read once: the run, the track and the history share it
            result = run_pipeline(data, aar=aar, metode=metode, dato=dato)
            notes: list[str] = []
            track = _optional(notes, "Prognosespor", lambda: spor(data, aar=result.aar,
                              metode=result.metode)) if result.dato else None  # fmt: skip
            years = _optional(notes, "Historik", lambda: historik(data, metode=result.metode))
            report = kommune(result, kode, group, prognosespor=track, historik=years)
            when = "" if result.dato is None else f" pr. {format_date(result.dato)}"
            done(f"budgetår {result.aar}{when}, {report.tabeller.navn}")
        for note in notes:
            console.print(f"  Bemærk: {note}")
        with Stage(console, "Skriver rapporten") as done:
            written = report.write(target, force=force)
            done(f"{len(written)} filer")
    names = file_names(report.tabeller.kode, report.tabeller.aar)
    console.print()
    console.print(report.tekst, markup=False)
    console.print(f"Rapporten ligger i {target}{os.sep} (Excel: {names['workbook']}).")


def _optional(notes: list[str], sheet: str, make: Callable[[], T]) -> T | None:
    """The track or the history for its sheet; where the data cannot give it, the report
    goes on without the sheet and ``notes`` says why."""
    from kmf.errors import DataError

    try:
        return make()
    except DataError as error:
        notes.append(f"Arket {sheet} er udeladt: {error}")
        return None
