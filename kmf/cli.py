"""The ``kmf`` command line: parse, call the library, print. No domain logic lives here."""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.table import Table

from kmf import _signals, codes
from kmf.cli_kommune import kommune_command
from kmf.console import (
    Stage,
    err_console,
    errors_to_exit,
    explain_stop,
    out_console,
    summary,
    unexpected,
)
from kmf.danish import format_kr, format_pct
from kmf.decompose import METHODS
from kmf.errors import DataError, OutputError, errno_of, os_error_message
from kmf.forecast import build_cells, choose_year
from kmf.io import load, sample_dataset
from kmf.pipeline import run as run_pipeline
from kmf.report.write import check_file_target, check_target, write_file

app = typer.Typer(
    name="kmf",
    help="Dekomponering af den kommunale medfinansiering (KMF): hvorfor afviger prognosen fra "
    "budgettet (ØA-niveauet) i hver kommune, region og hele landet?",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

DEFAULT_OUT = Path("kmf-rapport")
FIGURE_TYPES = (".png", ".pdf", ".svg")


@app.command("run")
def run_command(
    dataset: Annotated[
        Path | None,
        typer.Argument(
            help="Datasættet: en mappe med aktivitet og budget, eller en .xlsx-projektmappe. "
            "Uden datasæt bruges det medfølgende eksempel.",
            show_default=False,
            readable=False,  # kmf says in Danish which file it cannot read
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Mappen, resultaterne skrives i.")
    ] = DEFAULT_OUT,
    aar: Annotated[
        int | None,
        typer.Option(
            "--aar",
            help="Budgetåret T. Standard: kmf.toml, ellers seneste år med foreløbig opgørelse.",
            show_default=False,
        ),
    ] = None,
    metode: Annotated[
        str | None,
        typer.Option(
            "--metode",
            help="Dekomponeringsmetode: "
            + "; ".join(f"{name} ({m.beskrivelse})" for name, m in METHODS.items())
            + "; alle (ministeriets tabeller og alle tre metoder side om side). "
            "Standard: ministeriet.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overskriv resultater, der findes i forvejen.")
    ] = False,
) -> None:
    """Beregn dekomponeringen og skriv tabellerne (CSV, Parquet, Excel) og figurerne."""
    console = out_console()
    explain_stop(out, f"De nye resultater nåede at blive skrevet færdig i '{out}'.")
    with errors_to_exit():
        # at once, before the data are read: a rerun without --force stops here
        check_target(out, force)
        source = dataset if dataset is not None else sample_dataset()
        with Stage(console, "Læser og kontrollerer data") as done:
            data = load(source)
            rows = sum(f.rows for f in data.files if f.table == "aktivitet")
            files = sum(1 for f in data.files if f.table == "aktivitet")
            done(f"{format_kr(rows)} rækker i {files} {'fil' if files == 1 else 'filer'}")
        for note in data.notes:
            console.print(f"  Bemærk: {note}")
        with Stage(console, "Beregner prognose, budget og effekter") as done:
            result = run_pipeline(data, aar=aar, metode=metode)
            done(f"budgetår {result.aar}, {result.kommuner.height} kommuner, "
                 f"metode: {result.metode}")  # fmt: skip
        with Stage(console, "Skriver tabeller, Excel og figurer") as done:
            written = result.write(out, force=force)
            done(f"{len(written)} filer")
    summary(console, result, out)


# kmf kommune lives in its own module; registered here, where the app is
app.command("kommune")(kommune_command)


@app.command("figur")
def figure_command(
    dataset: Annotated[
        Path | None,
        typer.Argument(
            help="Datasættet. Uden datasæt bruges det medfølgende eksempel.",
            show_default=False,
            readable=False,
        ),
    ] = None,
    kommune: Annotated[
        int | None,
        typer.Option(
            "--kommune",
            "-k",
            help="Kommunekode: vis kommunens vej fra budget til "
            "prognose (vandfald). Uden: alle kommuner sorteret efter ændringen.",
            show_default=False,
        ),
    ] = None,
    aar: Annotated[
        int | None, typer.Option("--aar", help="Budgetåret T.", show_default=False)
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="PNG-filen. Standard: figur_<kommunekode>.png eller "
            "figur_kommuner.png i den aktuelle mappe.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Erstat figurfilen, hvis den findes i forvejen.")
    ] = False,
) -> None:
    """Tegn en kommunes vandfald fra budget til prognose, eller alle kommuners dekomponering."""
    from kmf.report.figures import kommune_overview, unit_row, waterfall

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
        result = run_pipeline(source, aar=aar)
        if kommune is not None:
            known = set(result.kommuner["kommunekode"].to_list())
            if kommune not in known:
                raise DataError(
                    f"Kommune {kommune} er ikke i datasættet. Brug en af kommunekoderne i "
                    f"datasættet, fx {min(known)}."
                )
            figure = waterfall(unit_row(result, kommune))
        else:
            figure = kommune_overview(result)
        explain_stop(target, f"Figuren nåede at blive gemt i '{target}'.")
        kind = target.suffix.lower().lstrip(".")
        write_file(target, force, lambda path: figure.savefig(path, dpi=150, format=kind))
    out_console().print(f"Figuren er gemt i {target}")


@app.command("synth")
def synth_command(
    rows: Annotated[
        int,
        typer.Option(
            "--rækker",
            "--raekker",
            help="Antal poster pr. opgørelse (fire opgørelser skrives).",
            min=1,
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Mappen, datasættet skrives i.")],
    seed: Annotated[
        int,
        typer.Option("--seed", help="Startværdi; samme værdi giver samme data.", min=0),
    ] = 0,
    aar: Annotated[int, typer.Option("--aar", help="Budgetåret T.", min=1902, max=2200)] = 2018,
    force: Annotated[
        bool, typer.Option("--force", help="Skriv i en mappe, der ikke er tom.")
    ] = False,
) -> None:
    """Lav et syntetisk landsdækkende datasæt på postniveau (til afprøvning og benchmarks)."""
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
        written = synthesize(rows, out, year=aar, seed=seed)
    seconds = format_pct(time.perf_counter() - start, 1)
    out_console().print(
        f"{format_kr(sum(written.values()))} poster i {len(written)} Parquet-filer skrevet i "
        f"{out} ({seconds} s). Kør: kmf run {out}"
    )


@app.command("konverter")
def convert_command(
    csv: Annotated[Path, typer.Argument(help="Aktivitetsdata som CSV.", readable=False)],
    parquet: Annotated[Path, typer.Argument(help="Parquet-filen, der skal skrives.")],
    force: Annotated[
        bool, typer.Option("--force", help="Erstat Parquet-filen, hvis den findes i forvejen.")
    ] = False,
) -> None:
    """Omdan aktivitetsdata fra CSV til Parquet én gang; derefter læses de meget hurtigere."""
    from kmf.io import convert_csv

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
    out_console().print(f"{format_kr(rows)} rækker skrevet til {parquet} ({seconds} s).")


@app.command("validate")
def validate_command(
    dataset: Annotated[
        Path,
        typer.Argument(
            help="Datasættet: en mappe med aktivitet og budget, eller en .xlsx-fil.",
            readable=False,
        ),
    ],
    aar: Annotated[
        int | None,
        typer.Option("--aar", help="Budgetåret T, der skal kontrolleres for.", show_default=False),
    ] = None,
) -> None:
    """Kontrollér et datasæt og vis, hvad det indeholder (år, opgørelser, rækker, kommuner)."""
    console = out_console()
    with errors_to_exit():
        data = load(dataset)
        cuts = data.cuts()
        table = Table(title=f"Datasæt: {dataset}")
        for header in (
            "År",
            "Opgørelse",
            "Takstår",
            "Rækker",
            "Kommuner",
            "Produktionsværdi, kr.",
            "KMF, kr.",
        ):
            table.add_column(header, justify="right")
        for r in cuts.iter_rows(named=True):
            table.add_row(
                str(r["aar"]),
                codes.CUT_LABELS[r["opgoerelse"]],
                str(r["takstaar"]),
                format_kr(r["rows"]),
                str(r["kommuner"]),
                format_kr(r["produktionsvaerdi"]),
                format_kr(r["kmf"]),
            )
        console.print(table)
        for f in data.files:
            console.print(f"  {f.table}: {f.display} ({format_kr(f.rows)} rækker)")
        budget_years = sorted(set(data.budget["aar"].to_list()))
        kind = "pr. kommune" if data.budget_per_kommune else "hele landet"
        console.print(f"  budget ({kind}) for årene: {', '.join(map(str, budget_years))}")
        if data.psykiatri_moved:
            console.print(f"  {data.psykiatri_moved} psykiatrirækker er lagt i 'ej_aldersdiff'.")
        for note in data.notes:
            console.print(f"  Bemærk: {note}")
        year = choose_year(data, aar)
        cells = build_cells(data, year)
    used = sum(cells.rows_used.values())
    total = int(cuts["rows"].sum())
    console.print(
        f"Datasættet er i orden til budgetår {year}: {cells.kommuner.height} kommuner, "
        f"{format_kr(used)} af {format_kr(total)} aktivitetsrækker bruges."
    )


def main() -> None:
    """Run the command line. The ``kmf`` console script goes through ``kmf.__main__``, which
    takes over Ctrl-C and SIGTERM before this module is imported."""
    from kmf._danish_cli import use_danish

    use_danish()
    try:
        app()
    except OSError as exc:
        # a safety net: every command names its own paths; this one names what the error does
        err_console().print(f"Fejl: {os_error_message(exc)}", markup=False)
        sys.exit(2)
    except pl.exceptions.PolarsError as exc:
        if errno_of(exc) is not None:
            err_console().print(f"Fejl: {os_error_message(exc)}", markup=False)
            sys.exit(2)
        unexpected(exc)
    except Exception as exc:  # a fault in kmf itself, not in the data
        unexpected(exc)
    finally:
        # The process ends here. Spare the collector its last pass over every object of
        # polars, pyarrow, numba and matplotlib at shutdown: about half a second.
        gc.freeze()


if __name__ == "__main__":  # python -m kmf.cli: as the kmf command
    _signals.install()
    try:
        main()
    finally:
        _signals.finish()
