"""The commands over time (SPEC §7): ``kmf spor`` (the forecast track of a budget year and
its accuracy) and ``kmf historik`` (the budget years side by side). Registered on the app in
:mod:`kmf.cli`; parse, call the library, print.

Only typer is imported at the top, as in kmf.cli: ``kmf --help`` loads this module too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar

import typer

from kmf.cli.options import (
    DatasetArgument,
    ForceOption,
    MethodOption,
    NoCacheOption,
    OutFolderOption,
    YearOption,
)


def spor_command(
    dataset: DatasetArgument = None,
    aar: YearOption = None,
    kommune: Annotated[
        int | None,
        typer.Option(
            "--kommune",
            "-k",
            metavar="KODE",
            help="Kommunekode: figuren viser kommunen i stedet for hele landet.",
            show_default=False,
        ),
    ] = None,
    metode: MethodOption = None,
    out: OutFolderOption = Path("kmf-prognosespor"),
    force: ForceOption = False,
    uden_cache: NoCacheOption = False,
) -> None:
    """Prognosen for hver opgørelsesdato i budgetåret.

    Skriver tabel B1 for hver dato (tabel_spor), og hvor tæt prognoserne ramte den endelige
    opgørelse (træfsikkerhed), hvis den findes; en Excel-projektmappe og figurer.
    """
    from kmf.io.hashing import start_early

    start_early(dataset, not uden_cache)  # before the heavy imports: see kmf.io.hashing
    from kmf.cli.console import out_console, written_line
    from kmf.danish import format_date, format_pct
    from kmf.track import spor

    console = out_console()
    track = _read_compute_write(
        console, (dataset, out, force, metode, not uden_cache),
        "Beregner prognosen for hver opgørelsesdato",
        lambda data: spor(data, aar=aar, kommune=kommune, metode=metode),
        lambda t: f"budgetår {t.aar}, {len(t.datoer)} datoer, metode {t.metode}",
        "Skriver tabeller, Excel og figurer",
    )  # fmt: skip
    import polars as pl

    from kmf import codes
    from kmf.report.track import track_rows, track_workbook_name

    shown = track_rows(track)  # the unit the figure shows: Hele landet or the kommune
    land = track.spor.filter(pl.col("niveau") == "land")["navn"][0]  # "I alt, N kommuner"
    who = ("hele landet" if land == codes.LAND_NAME else land) if track.kommune is None else (
        shown["navn"][0]
    )  # fmt: skip
    console.print(f"Prognosespor for {track.aar}, {who} (ændring ift. budgettet):")
    for d, pct in zip(shown["opgoerelsesdato"], shown["aendring_pct"], strict=True):
        console.print(f"  {format_date(d)}: "
                      f"{format_pct(pct, 1, sign=True)} pct.")  # fmt: skip
    for line in lacking_lines(track.datoer_uden_grundlag):
        console.print(line)
    if track.traefsikkerhed is not None:
        last = track.traefsikkerhed.row(-1, named=True)
        import textwrap

        line = (
            f"Træfsikkerhed mod den endelige opgørelse: seneste prognose afviger "
            f"{format_pct(last['land_fejl_pct'], 1, sign=True)} pct. for "
            f"{'hele landet' if land == codes.LAND_NAME else land}; "
            f"kommunerne i gennemsnit {format_pct(last['kommuner_mae_pct'], 1)} pct."
        )
        console.print("\n".join(textwrap.wrap(line, 80, subsequent_indent="  ")))
    else:
        console.print(f"Ingen endelig opgørelse for {track.aar} i data: ingen træfsikkerhed.")
    console.print(written_line(out, track_workbook_name(track.aar)))


def lacking_lines(lacking: tuple[tuple[date, str], ...]) -> list[str]:
    """The dates without a basis, grouped by what they lack, each group one note wrapped to
    80 columns."""
    import textwrap

    from kmf.danish import format_dates

    grouped: dict[str, list[date]] = {}
    for d, why in lacking:
        grouped.setdefault(why, []).append(d)
    lines = []
    for why, days in grouped.items():
        subject = "har" if len(days) == 1 else "har alle"
        note = f"Bemærk: {format_dates(days)} {subject} intet grundlag; der mangler {why}."
        lines += textwrap.wrap(note, 80, initial_indent="  ", subsequent_indent="    ")
    return lines


def historik_command(
    dataset: DatasetArgument = None,
    fra: Annotated[
        int | None,
        typer.Option("--fra", metavar="ÅR", help="Første budgetår.", show_default=False),
    ] = None,
    til: Annotated[
        int | None,
        typer.Option("--til", metavar="ÅR", help="Sidste budgetår.", show_default=False),
    ] = None,
    metode: MethodOption = None,
    out: OutFolderOption = Path("kmf-historik"),
    force: ForceOption = False,
    uden_cache: NoCacheOption = False,
) -> None:
    """Tabel B1 for hvert budgetår, data rækker til.

    Hvert år på sin seneste opgørelsesdato med grundlag og med sit eget budget; skriver
    tabel_historik, en Excel-projektmappe og en figur.
    """
    from kmf.io.hashing import start_early

    start_early(dataset, not uden_cache)  # before the heavy imports: see kmf.io.hashing
    from kmf.cli.console import out_console, written_line
    from kmf.danish import format_date, format_pct
    from kmf.report.track import history_workbook_name
    from kmf.track import historik

    console = out_console()
    history = _read_compute_write(
        console, (dataset, out, force, metode, not uden_cache), "Beregner hvert budgetår",
        lambda data: historik(data, fra=fra, til=til, metode=metode),
        lambda h: f"{len(h.aar)} budgetår, metode {h.metode}",
        "Skriver tabeller, Excel og figur",
    )  # fmt: skip
    land = history.historik.filter(history.historik["niveau"] == "land")
    console.print(f"{land['navn'][0]}, ændring ift. budgettet:")
    for year, pct in zip(land["aar"], land["aendring_pct"], strict=True):
        d = history.datoer[year]
        when = "" if d is None else f" (pr. {format_date(d)})"
        console.print(f"  {year}{when}: {format_pct(pct, 1, sign=True)} pct.")
    for year, why in history.aar_uden_grundlag:
        console.print(f"  Bemærk: {year} er ikke med: {why}.")
    console.print(written_line(out, history_workbook_name()))


class Writable(Protocol):
    def write(self, folder: str | Path, *, force: bool = False) -> list[Path]: ...


W = TypeVar("W", bound=Writable)


def _read_compute_write(
    console: Any,
    args: tuple[Path | None, Path, bool, str | None, bool],
    computing: str,
    compute: Callable[[Any], W],
    computed: Callable[[W], str],
    writing: str,
) -> W:
    """The body of kmf spor and historik: read (``args``: dataset, out, force, metode,
    cache; as :func:`read_for_output`), compute under the stage ``computing``, saying
    ``computed`` of the result, and write it under the stage ``writing``; a fault on the way
    is a Danish message and exit 2."""
    from kmf.cli.console import Stage, errors_to_exit, read_for_output

    dataset, out, force, metode, cache = args
    with errors_to_exit():
        data = read_for_output(console, dataset, out, force, metode, cache)
        with Stage(console, computing) as done:
            made = compute(data)
            done(computed(made))
        with Stage(console, writing) as done:
            written = made.write(out, force=force)
            done(f"{len(written)} filer")
    return made
