"""The ``kmf`` command line: parse, call the library, print. No domain logic lives here."""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from kmf import _signals, codes
from kmf.danish import format_kr, format_pct
from kmf.decompose import METHODS
from kmf.errors import DataError, OutputError, errno_of, os_error_message
from kmf.forecast import build_cells, choose_year
from kmf.io import load, sample_dataset
from kmf.pipeline import run as run_pipeline
from kmf.report.excel import workbook_name
from kmf.report.write import belongs_to, check_target, write_file
from kmf.result import Result

app = typer.Typer(
    name="kmf",
    help="Dekomponering af den kommunale medfinansiering (KMF): hvorfor afviger prognosen fra "
    "budgettet (ØA-niveauet) i hver kommune, region og hele landet?",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

DEFAULT_OUT = Path("kmf-rapport")


def _out() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(exc: Exception | str) -> typer.Exit:
    _err().print(f"Fejl: {exc}", markup=False)
    return typer.Exit(2)


@contextlib.contextmanager
def _errors(output: Path | None = None) -> Iterator[None]:
    """Turn kmf's errors and the operating system's into one Danish line and exit code 2.

    The library reports what it cannot write as an ``OutputError``. An OS error left over is
    a file that cannot be read, or, for a command that writes ``output`` itself, a failed
    write there.
    """
    try:
        yield
    except (DataError, OutputError) as exc:
        raise _fail(exc) from None
    except (OSError, pl.exceptions.PolarsError) as exc:
        if errno_of(exc) is None:
            raise
        name = exc.filename if isinstance(exc, OSError) else None
        path = Path(os.fsdecode(name)) if isinstance(name, str | bytes) else None
        if output is not None and (path is None or belongs_to(path, output)):
            raise _fail(os_error_message(exc, output, writing=True)) from None
        raise _fail(os_error_message(exc, path)) from None


def _fingerprint(path: Path) -> object:
    """What is at ``path`` now (names, inodes, sizes, times), to tell later if it changed."""
    try:
        if path.is_dir():
            return sorted(
                (e.name, e.inode(), e.stat().st_size, e.stat().st_mtime_ns)
                for e in os.scandir(path)
            )
        info = path.stat()
        return (info.st_ino, info.st_size, info.st_mtime_ns)
    except OSError:
        return None


def _explain_stop(path: Path, done: str) -> None:
    """On Ctrl-C or SIGTERM, tell whether ``path`` was left as it was (``done``: what to say
    if the command got to finish writing it)."""
    before = _fingerprint(path)

    def describe() -> str:
        if _fingerprint(path) != before:
            return done
        if before is None:
            return f"Der er ikke skrevet noget i '{path}'."
        return f"Intet er ændret i '{path}'."

    _signals.on_stop(describe)


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
    console = _out()
    _explain_stop(out, f"De nye resultater nåede at blive skrevet færdig i '{out}'.")
    with _errors():
        # at once, before the data are read: a rerun without --force stops here
        check_target(out, force)
        source = dataset if dataset is not None else sample_dataset()
        with _stage(console, "Læser og kontrollerer data") as done:
            data = load(source)
            rows = sum(f.rows for f in data.files if f.table == "aktivitet")
            files = sum(1 for f in data.files if f.table == "aktivitet")
            done(f"{format_kr(rows)} rækker i {files} {'fil' if files == 1 else 'filer'}")
        for note in data.notes:
            console.print(f"  Bemærk: {note}")
        with _stage(console, "Beregner prognose, budget og effekter") as done:
            result = run_pipeline(data, aar=aar, metode=metode)
            done(f"budgetår {result.aar}, {result.kommuner.height} kommuner, "
                 f"metode: {result.metode}")  # fmt: skip
        with _stage(console, "Skriver tabeller, Excel og figurer") as done:
            written = result.write(out, force=force)
            done(f"{len(written)} filer")
    _summary(console, result, out)


class _stage:
    """A spinner while a stage runs, then one line with what it did and how long it took."""

    def __init__(self, console: Console, label: str) -> None:
        self.console, self.label, self.note = console, label, ""

    def __enter__(self) -> Callable[[str], None]:
        self.start = time.perf_counter()
        self.status = self.console.status(f"{self.label} …")
        self.status.__enter__()
        if self.console.is_terminal:
            # if a signal ends the process meanwhile: clear the spinner, show the cursor
            self.cleanup = _signals.cleanup_on_stop(_restore_terminal)
            self.cleanup.__enter__()
        return self._done

    def _done(self, note: str) -> None:
        self.note = note

    def __exit__(self, kind: object, *rest: object) -> None:
        if self.console.is_terminal:
            self.cleanup.__exit__(None, None, None)
        self.status.__exit__(kind, *rest)  # type: ignore[arg-type]
        if kind is None:
            seconds = format_pct(time.perf_counter() - self.start, 1)
            self.console.print(f"✓ {self.label}: {self.note} ({seconds} s)")


def _restore_terminal() -> None:
    if sys.__stdout__ is not None:
        sys.__stdout__.write("\r\x1b[2K\x1b[?25h")
        sys.__stdout__.flush()


def _summary(console: Console, result: Result, out: Path) -> None:
    land = result.b1.row(0, named=True)
    kommuner = result.b1.filter(pl.col("niveau") == "kommune").sort("aendring_pct")
    low, high = kommuner.row(0, named=True), kommuner.row(-1, named=True)
    console.print()
    console.print(
        f"Hele landet, budgetår {result.aar}: budget {format_kr(land['kmf_budget_kr'])} kr., "
        f"prognose {format_kr(land['kmf_prognose_kr'])} kr., "
        f"ændring {_pct(land['aendring_pct'])} pct. af budgettet."
    )
    console.print(
        f"  aktivitetseffekt {_pct(land['aktivitetseffekt_pct'])}, "
        f"aldersgruppeeffekt {_pct(land['aldersgruppeeffekt_pct'])}, "
        f"sundhedsområdeeffekt {_pct(land['sundhedsomraadeeffekt_pct'])}, "
        f"øvrige {_pct(land['oevrige_pct'])} pct.-point."
    )
    console.print(
        f"Største stigning: {high['navn']} {_pct(high['aendring_pct'])} pct. "
        f"Største fald: {low['navn']} {_pct(low['aendring_pct'])} pct."
    )
    console.print(f"Resultaterne ligger i {out}{os.sep} (Excel: {workbook_name(result.aar)}).")


def _pct(value: float) -> str:
    return format_pct(value, 1, sign=True)


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
) -> None:
    """Tegn en kommunes vandfald fra budget til prognose, eller alle kommuners dekomponering."""
    from kmf.report.figures import kommune_overview, waterfall

    with _errors():
        source = dataset if dataset is not None else sample_dataset()
        result = run_pipeline(source, aar=aar)
        if kommune is not None:
            known = set(result.kommuner["kommunekode"].to_list())
            if kommune not in known:
                raise DataError(
                    f"Kommune {kommune} er ikke i datasættet. Brug en af kommunekoderne i "
                    f"datasættet, fx {min(known)}."
                )
            figure = waterfall(result, kommune)
            target = out or Path(f"figur_{kommune}.png")
        else:
            figure = kommune_overview(result)
            target = out or Path("figur_kommuner.png")
        if target.exists() and target.is_dir():
            raise OutputError(f"'{target}' er en mappe. Angiv et filnavn, der ender på .png.")
        _explain_stop(target, f"Figuren nåede at blive gemt i '{target}'.")
        write_file(target, True, lambda path: figure.savefig(path, dpi=150))
    _out().print(f"Figuren er gemt i {target}")


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
        int, typer.Option("--seed", help="Startværdi; samme værdi giver samme data.")
    ] = 0,
    aar: Annotated[int, typer.Option("--aar", help="Budgetåret T.")] = 2018,
    force: Annotated[
        bool, typer.Option("--force", help="Skriv i en mappe, der ikke er tom.")
    ] = False,
) -> None:
    """Lav et syntetisk landsdækkende datasæt på postniveau (til afprøvning og benchmarks)."""
    from kmf.synth import synthesize

    with _errors(output=out):
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
    _out().print(
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
    _explain_stop(parquet, f"'{parquet}' nåede at blive skrevet færdig.")
    with _errors():
        if parquet.is_dir():
            raise OutputError(f"'{parquet}' er en mappe. Angiv et filnavn, der ender på .parquet.")
        rows = write_file(parquet, force, lambda path: convert_csv(csv, path))
    seconds = format_pct(time.perf_counter() - start, 1)
    _out().print(f"{format_kr(rows)} rækker skrevet til {parquet} ({seconds} s).")


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
    console = _out()
    with _errors():
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
        kind = "pr. kommune" if data.budget["kommunekode"].null_count() == 0 else "hele landet"
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


def _unexpected(exc: Exception) -> None:
    """A fault in kmf: one Danish line (exit 1); the details with KMF_FEJLSPOR=1."""
    if os.environ.get("KMF_FEJLSPOR"):
        raise exc
    _err().print(
        f"Uventet fejl i kmf ({type(exc).__name__}). Det er en fejl i programmet, ikke i dine "
        "data. Kør kommandoen igen med miljøvariablen KMF_FEJLSPOR=1 for at se detaljerne, og "
        "send dem til dem, der vedligeholder kmf.",
        markup=False,
    )
    sys.exit(1)


def main() -> None:
    """Run the command line. The ``kmf`` console script goes through ``kmf.__main__``, which
    takes over Ctrl-C and SIGTERM before this module is imported."""
    from kmf._danish_cli import use_danish

    use_danish()
    try:
        app()
    except OSError as exc:
        # a safety net: every command names its own paths; this one names what the error does
        _err().print(f"Fejl: {os_error_message(exc)}", markup=False)
        sys.exit(2)
    except pl.exceptions.PolarsError as exc:
        if errno_of(exc) is not None:
            _err().print(f"Fejl: {os_error_message(exc)}", markup=False)
            sys.exit(2)
        _unexpected(exc)
    except Exception as exc:  # a fault in kmf itself, not in the data
        _unexpected(exc)
    finally:
        # The process ends here. Spare the collector its last pass over every object of
        # polars, pyarrow, numba and matplotlib at shutdown: about half a second.
        gc.freeze()


if __name__ == "__main__":
    from kmf.__main__ import main as entry

    entry()
