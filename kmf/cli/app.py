"""The ``kmf`` command line: parse, call the library, print. No domain logic lives here.

``kmf --help`` should answer at once, so this module imports only typer at the top: the
library (polars, numpy, numba, matplotlib) and :mod:`kmf.cli.console` are imported inside the
commands that use them. A new command in another module keeps to the same rule.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Annotated

import typer

from kmf import _signals
from kmf.cli.cache_command import cache_command
from kmf.cli.kommune import kommune_command
from kmf.cli.options import (
    DatasetArgument,
    DateOption,
    ForceOption,
    NoCacheOption,
    OutFolderOption,
    RunMethodOption,
    YearOption,
)
from kmf.cli.time_commands import historik_command, spor_command

app = typer.Typer(
    name="kmf",
    help="Dekomponering af den kommunale medfinansiering (KMF): hvorfor afviger prognosen fra "
    "budgettet (ØA-niveauet) i hver kommune, region og hele landet?\n\n"
    "Uden datasæt bruger kommandoerne det medfølgende eksempel. Skriv 'kmf KOMMANDO --help' "
    "for at se en kommandos tilvalg.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

DEFAULT_OUT = Path("kmf-rapport")
FIGURE_TYPES = (".png", ".pdf", ".svg")
CSV_FORMATS = ("standard", "dansk")


def _at_least(lowest: int, highest: int | None = None) -> object:
    """A check that a whole number is at least ``lowest`` (and at most ``highest``), said in
    Danish (Click's own range check prints "x>=1")."""

    def check(value: int | None) -> int | None:
        if value is None:
            return value
        if highest is not None and not lowest <= value <= highest:
            raise typer.BadParameter(f"{value} skal ligge mellem {lowest} og {highest}.")
        if value < lowest:
            raise typer.BadParameter(f"{value} er for lidt; den skal være mindst {lowest}.")
        return value

    return check


def _csv_format(value: str) -> str:
    if value not in CSV_FORMATS:
        raise typer.BadParameter(f"'{value}' kendes ikke; vælg 'standard' eller 'dansk'.")
    return value


def run_command(
    dataset: DatasetArgument = None,
    out: OutFolderOption = DEFAULT_OUT,
    aar: YearOption = None,
    metode: RunMethodOption = None,
    csv: Annotated[
        str,
        typer.Option(
            "--csv",
            metavar="FORMAT",
            help="CSV-filernes format: standard (komma og decimalpunktum, til andre "
            "programmer) eller dansk (semikolon og decimalkomma; åbner direkte i dansk Excel). "
            "Uden --csv bruges standard.",
            callback=_csv_format,
            show_default=False,
        ),
    ] = "standard",
    force: ForceOption = False,
    dato: DateOption = None,
    uden_cache: NoCacheOption = False,
) -> None:
    """Beregn dekomponeringen, og skriv tabeller, Excel og figurer.

    Skriver tabel B1–B4 og tabel 1–6 (CSV og Parquet), en Excel-projektmappe, figur 1–3 og
    manifest.json i mappen (standard: kmf-rapport).
    """
    from kmf.io.hashing import start_early

    start_early(dataset, not uden_cache)  # before the heavy imports: see kmf.io.hashing
    import textwrap
    from datetime import date

    from kmf.cli.console import (
        Stage,
        errors_to_exit,
        out_console,
        read_for_output,
        summary,
    )
    from kmf.danish import format_date, format_dates
    from kmf.pipeline import run as run_pipeline

    console = out_console()
    with errors_to_exit():
        data = read_for_output(console, dataset, out, force, metode, not uden_cache)
        with Stage(console, "Beregner effekterne") as done:
            result = run_pipeline(data, aar=aar, metode=metode, dato=dato)
            when = "" if result.dato is None else f" pr. {format_date(result.dato)}"
            n = result.kommuner.height
            done(f"budgetår {result.aar}{when}, {n} kommune{'' if n == 1 else 'r'}, "
                 f"metode {result.metode}")  # fmt: skip
        if result.manifest.datoer_uden_grundlag:
            later = [date.fromisoformat(d) for d in result.manifest.datoer_uden_grundlag]
            note = (f"Bemærk: {format_dates(later)} har ikke alle opgørelser, en prognose "
                    "kræver; prognosen er den seneste dato, der har.")  # fmt: skip
            console.print("\n".join(textwrap.wrap(note, 80, initial_indent="  ",
                                                   subsequent_indent="    ")))  # fmt: skip
        with Stage(console, "Skriver tabeller, Excel og figurer") as done:
            written = result.write(out, force=force, csv=csv)
            done(f"{len(written)} filer")
    summary(console, result, out)


def figure_command(
    dataset: DatasetArgument = None,
    kommune: Annotated[
        int | None,
        typer.Option(
            "--kommune",
            "-k",
            metavar="KODE",
            help="Kommunekode: vis kommunens vej fra budget til prognose (vandfald). Uden: "
            "alle kommuner sorteret efter ændringen.",
            show_default=False,
        ),
    ] = None,
    aar: YearOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FIL",
            help="Figurfilen (.png, .pdf eller .svg). Standard: figur_<kommunekode>.png eller "
            "figur_kommuner.png i den aktuelle mappe.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Erstat figurfilen, hvis den findes i forvejen.")
    ] = False,
    uden_cache: NoCacheOption = False,
) -> None:
    """Tegn en kommunes vandfald, eller alle kommuners dekomponering.

    Vandfaldet viser kommunens vej fra budget til prognose gennem effekterne.
    """
    from kmf.io.hashing import start_early

    start_early(dataset, not uden_cache)  # before the heavy imports: see kmf.io.hashing
    from kmf.cli.console import errors_to_exit, explain_stop, out_console
    from kmf.errors import DataError, OutputError
    from kmf.figures import kommune_overview, unit_row, waterfall
    from kmf.io import load, sample_dataset
    from kmf.pipeline import run as run_pipeline
    from kmf.report.write import check_file_target, write_file

    target = out or Path(f"figur_{kommune}.png" if kommune is not None else "figur_kommuner.png")
    if not target.suffix and not target.is_dir():
        target = target.with_suffix(".png")
    with errors_to_exit():
        # at once, before the data are read: a name kmf cannot or may not write stops here
        check_file_target(target, force)
        if target.suffix.lower() not in FIGURE_TYPES:
            raise OutputError(
                f"'{target}' kan ikke gemmes som figur: filtypen '{target.suffix}' kendes ikke. "
                f"Brug en af {', '.join(FIGURE_TYPES)}."
            )
        source = dataset if dataset is not None else sample_dataset()
        data = load(source, kun_brugte=True, cache=not uden_cache)
        result = run_pipeline(data, aar=aar)
        if kommune is not None:
            known = set(result.kommuner["kommunekode"].to_list())
            if kommune not in known:
                raise DataError(
                    f"Kommune {kommune} er ikke i datasættet. Brug en af kommunekoderne i "
                    f"datasættet, fx {min(known)}."
                )
            figure = waterfall(unit_row(result, kommune), aar=result.aar, dato=result.dato)
        else:
            figure = kommune_overview(result)
        explain_stop(target, f"Figuren nåede at blive gemt i '{target}'.")
        kind = target.suffix.lower().lstrip(".")
        write_file(target, force, lambda path: figure.savefig(path, dpi=150, format=kind))
    out_console().print(f"Figuren er gemt i {target}")


def synth_command(
    rows: Annotated[
        int,
        typer.Option(
            "--rækker",
            "--raekker",
            metavar="ANTAL",
            help="Antal poster pr. opgørelse (mindst 1); der skrives fire opgørelser.",
            callback=_at_least(1),
        ),
    ],
    out: Annotated[
        Path,
        typer.Option("--out", "-o", metavar="MAPPE", help="Mappen, datasættet skrives i."),
    ],
    seed: Annotated[
        int,
        typer.Option(
            "--seed",
            metavar="TAL",
            help="Startværdi (0 eller mere); samme værdi giver samme data.",
            callback=_at_least(0),
        ),
    ] = 0,
    aar: Annotated[
        int,
        typer.Option(
            "--aar", metavar="ÅR", help="Budgetåret T (1902–2200).", callback=_at_least(1902, 2200)
        ),
    ] = 2018,
    force: Annotated[
        bool, typer.Option("--force", help="Skriv i en mappe, der ikke er tom.")
    ] = False,
    datoer: Annotated[
        int,
        typer.Option(
            "--datoer",
            metavar="ANTAL",
            help="Antal opgørelsesdatoer, 0–12 (den 10. i årets første måneder): foreløbige "
            "opgørelser for T og T−1 pr. dato, til kmf spor. Standard: 0 (uden datoer).",
            callback=_at_least(0, 12),
            show_default=False,
        ),
    ] = 0,
    aar_antal: Annotated[
        int,
        typer.Option(
            "--aar-antal",
            metavar="ANTAL",
            help="Antal budgetår, 1–20 (T og årene før), hvert med sine opgørelser og sit "
            "budget, til kmf historik. Standard: 1.",
            callback=_at_least(1, 20),
            show_default=False,
        ),
    ] = 1,
) -> None:
    """Lav syntetiske testdata på postniveau til afprøvning.

    Til afprøvning og benchmarks: et landsdækkende datasæt med fire opgørelser og
    kommunestørrelser efter folketal.
    """
    from kmf.cli.console import errors_to_exit, out_console
    from kmf.danish import format_kr, format_pct
    from kmf.errors import OutputError
    from kmf.synth import synthesize

    with errors_to_exit(output=out):
        if out.exists() and any(out.iterdir()) and not force:
            raise OutputError(
                f"Mappen '{out}' findes allerede og er ikke tom. Brug --force eller en anden mappe."
            )
        _signals.on_stop(
            lambda: f"Datasættet i '{out}' er måske ufuldstændigt. Kør kommandoen igen med --force."
        )
        start = time.perf_counter()
        written = synthesize(rows, out, year=aar, seed=seed, dates=datoer, years=aar_antal)
    seconds = format_pct(time.perf_counter() - start, 1)
    # the command the data are made for: dates for spor, several years for historik
    command = "spor" if datoer else "historik" if aar_antal > 1 else "beregn"
    out_console().print(
        f"{format_kr(sum(written.values()))} poster i {len(written)} Parquet-filer skrevet i "
        f"{out} ({seconds} s). Kør: kmf {command} {out}"
    )


def convert_command(
    csv: Annotated[
        Path,
        typer.Argument(metavar="CSV-FIL", help="Aktivitetsdata som CSV.", readable=False),
    ],
    parquet: Annotated[
        Path, typer.Argument(metavar="PARQUET-FIL", help="Parquet-filen, der skal skrives.")
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Erstat Parquet-filen, hvis den findes i forvejen.")
    ] = False,
) -> None:
    """Omdan aktivitetsdata fra CSV til Parquet, der er hurtigere.

    Det skal kun gøres én gang; brug derefter Parquet-filen som aktivitet i datasættet.
    """
    from kmf.cli.console import errors_to_exit, explain_stop, out_console
    from kmf.danish import format_kr, format_pct
    from kmf.errors import DataError, OutputError
    from kmf.io import convert_csv
    from kmf.report.write import write_file

    start = time.perf_counter()
    explain_stop(parquet, f"'{parquet}' nåede at blive skrevet færdig.")
    with errors_to_exit():
        if parquet.is_dir():
            raise OutputError(f"'{parquet}' er en mappe. Angiv et filnavn, der ender på .parquet.")
        if parquet.exists() and csv.exists() and parquet.resolve() == csv.resolve():
            raise DataError(
                f"'{parquet}' er selve CSV-filen. Angiv et andet navn til Parquet-filen, fx "
                f"'{csv.with_suffix('.parquet').name}'."
            )
        rows = write_file(parquet, force, lambda path: convert_csv(csv, path))
    seconds = format_pct(time.perf_counter() - start, 1)
    console = out_console()
    console.print(f"{format_kr(rows)} rækker skrevet til {parquet} ({seconds} s).")
    both = {csv.name, parquet.name} == {"aktivitet.csv", "aktivitet.parquet"}
    if both and csv.parent.resolve() == parquet.parent.resolve():
        # a dataset folder with both is ambiguous: kmf run would stop and ask which to use
        console.print(
            f"Bemærk: Mappen har nu både '{csv.name}' og '{parquet.name}', og kmf beregn kan "
            f"kun bruge én af dem. Flyt eller slet '{csv}', før du kører kmf beregn på mappen."
        )


def validate_command(
    dataset: DatasetArgument = None,
    aar: YearOption = None,
    dato: DateOption = None,
    uden_cache: NoCacheOption = False,
) -> None:
    """Kontrollér et datasæt, og vis hvad det indeholder.

    Viser opgørelserne (år, takstår, rækker, kommuner, beløb), filerne og budgettet, om
    datasættet kan give tabellerne for budgetåret, budgettets beløb, hvilken
    opgørelsesdato kmf beregn bruger, og hvorfor de øvrige rækker ikke bruges.
    """
    from kmf.io.hashing import start_early

    start_early(dataset, not uden_cache)  # before the heavy imports: see kmf.io.hashing
    from kmf.cli.console import (
        describe_dataset,
        errors_to_exit,
        out_console,
        plan_lines,
        validated_line,
    )
    from kmf.io import load, sample_dataset
    from kmf.pipeline import validate

    console = out_console()
    with errors_to_exit():
        source = dataset if dataset is not None else sample_dataset()
        data = load(source, cache=not uden_cache)  # every value of every cut is checked
        # what the data hold first: also when they cannot give the tables
        describe_dataset(console, data, "det medfølgende eksempel" if dataset is None
                         else str(dataset))  # fmt: skip
        check = validate(data, aar=aar, dato=dato)
    console.print(validated_line(check))
    for line in plan_lines(check):
        console.print(line, markup=False)


# The commands in the order a konsulent meets them, the tool for tests last. The English
# names of the first versions still work (in scripts, notebooks, CI) but are not listed.
COMMANDS = (
    ("beregn", run_command, "run"),
    ("kommune", kommune_command, None),
    ("spor", spor_command, None),
    ("historik", historik_command, None),
    ("figur", figure_command, None),
    ("tjek", validate_command, "validate"),
    ("konverter", convert_command, None),
    ("cache", cache_command, None),
    ("syntetisk", synth_command, "synth"),
)
for _name, _command, _alias in COMMANDS:
    app.command(_name)(_command)
    if _alias is not None:
        app.command(_alias, hidden=True)(_command)


def main() -> None:
    """Run the command line. The ``kmf`` console script goes through ``kmf.__main__``, which
    takes over Ctrl-C and SIGTERM before this module is imported."""
    from kmf.cli.danish_click import use_danish
    from kmf.cli.encoding import fit_streams

    fit_streams()
    use_danish()
    try:
        app(prog_name="kmf")
    except Exception as exc:
        from kmf.cli.console import exit_on_error

        exit_on_error(exc)
    finally:
        # The process ends here. Spare the collector its last pass over every object of
        # polars, pyarrow, numba and matplotlib at shutdown: about half a second.
        gc.freeze()
