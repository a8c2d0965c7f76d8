"""What the command line prints, and how a failure ends: a Danish message and the exit code.
The commands themselves (:mod:`kmf.cli`) only parse, call the library and hand over here."""

from __future__ import annotations

import contextlib
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import typer
from rich.console import Console

from kmf import _signals, codes, danish
from kmf.cli.encoding import can_write, fit
from kmf.compute.checks import unusual_changes
from kmf.danish import format_date, format_kr, format_mio, format_number, format_pct
from kmf.errors import DataError, OutputError, errno_of, os_error_message
from kmf.report.labels import workbook_name
from kmf.report.text_sums import CONSOLE_ROUNDING_NOTE, adds_up_as_shown
from kmf.report.write import belongs_to
from kmf.result import Result

if TYPE_CHECKING:
    from kmf.io import Dataset
    from kmf.pipeline import Validation


def out_console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def err_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def fail(exc: Exception | str) -> typer.Exit:
    """ "Fejl: …" and exit code 2; on a terminal wrapped between words (redirected: as is)."""
    console, text = err_console(), f"Fejl: {exc}"
    wrapped = danish.wrap_paragraphs(text, max(console.width, 40)) if console.is_terminal else text
    console.print(wrapped, markup=False)
    return typer.Exit(2)


@contextlib.contextmanager
def errors_to_exit(output: Path | None = None) -> Iterator[None]:
    """Turn kmf's errors and the operating system's into one Danish line and exit code 2.

    The library reports what it cannot write as an ``OutputError``. An OS error left over is
    a file that cannot be read, or, for a command that writes ``output`` itself, a failed
    write there.
    """
    try:
        yield
    except (DataError, OutputError) as exc:
        raise fail(exc) from None
    except (OSError, pl.exceptions.PolarsError) as exc:
        if errno_of(exc) is None:
            raise
        name = exc.filename if isinstance(exc, OSError) else None
        path = Path(os.fsdecode(name)) if isinstance(name, str | bytes) else None
        if output is not None and (path is None or belongs_to(path, output)):
            raise fail(os_error_message(exc, output, writing=True)) from None
        raise fail(os_error_message(exc, path)) from None


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


def explain_stop(path: Path, done: str) -> None:
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


class Stage:
    """A spinner while a stage runs, then one line with what it did and how long it took.
    Reading that takes more than a few seconds shows a progress bar instead of the spinner
    (on a terminal only)."""

    def __init__(self, console: Console, label: str) -> None:
        self.console, self.label, self.note = console, label, ""

    def __enter__(self) -> Callable[[str], None]:
        from kmf.io.reader import reporting_progress

        self.start = time.perf_counter()
        # a spinner the console's encoding can draw (a Windows console in cp1252 cannot braille)
        spinner = "dots" if can_write("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏", self.console.file) else "line"
        self.status = self.console.status(f"{self.label} …", spinner=spinner)
        self.status.__enter__()
        self.reporting = reporting_progress(
            lambda expected: progress_bar(self.console, expected, self.status)
        )
        self.reporting.__enter__()
        if self.console.is_terminal:
            # if a signal ends the process meanwhile: clear the spinner, show the cursor
            self.cleanup = _signals.cleanup_on_stop(_restore_terminal)
            self.cleanup.__enter__()
        return self._done

    def _done(self, note: str) -> None:
        self.note = note

    def __exit__(self, kind: object, *rest: object) -> None:
        self.reporting.__exit__(None, None, None)
        if self.console.is_terminal:
            self.cleanup.__exit__(None, None, None)
        self.status.__exit__(kind, *rest)  # type: ignore[arg-type]
        if kind is None:
            import textwrap

            seconds = format_pct(time.perf_counter() - self.start, 1)
            line = f"✓ {self.label}: {self.note} ({seconds} s)"
            if len(line) > 80:  # an 80-column terminal: the note on indented lines of its own
                note = textwrap.wrap(f"{self.note} ({seconds} s)", 80, initial_indent="  ",
                                     subsequent_indent="  ")  # fmt: skip
                line = "\n".join([f"✓ {self.label}:", *note])
            self.console.print(line)


#: a read shorter than this shows no progress bar
PROGRESS_AFTER_S = 2.0


@contextlib.contextmanager
def progress_bar(
    console: Console, expected: dict[int, int], status: object = None
) -> Iterator[Callable[[int, int], None]]:
    """A progress bar for a long read (files and records read of the total, time left),
    shown once the read has taken PROGRESS_AFTER_S, on a terminal only: redirected output
    gets none of it. ``status``: the spinner it stands in for meanwhile."""
    if not console.is_terminal:
        yield lambda index, rows: None
        return
    import threading

    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    total = sum(expected.values())
    files = len(expected)
    left = dict(expected)
    done_files: set[int] = set()
    lock = threading.Lock()
    progress = Progress(
        TextColumn("  Læser {task.fields[filer]}"),
        BarColumn(),
        TextColumn("{task.fields[poster]}"),
        TextColumn("tid tilbage"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    task = progress.add_task("", total=total or None, filer="", poster="")
    start = time.perf_counter()
    shown = False

    def describe() -> dict[str, Any]:
        read = int(progress.tasks[0].completed)
        return {
            "filer": f"{len(done_files)} af {files} filer",
            "poster": f"{format_kr(read)} af {format_kr(total)} poster",
        }

    def advance(index: int, rows: int) -> None:
        nonlocal shown
        with lock:
            left[index] = left.get(index, 0) - rows
            if left[index] <= 0:
                done_files.add(index)
            progress.update(task, advance=rows)
            if not shown and time.perf_counter() - start >= PROGRESS_AFTER_S:
                if status is not None:
                    status.stop()  # type: ignore[attr-defined]
                progress.start()
                shown = True
            if shown:
                progress.update(task, **describe())

    try:
        yield advance
    finally:
        if shown:
            progress.stop()
            if status is not None:
                status.start()  # type: ignore[attr-defined]


def _restore_terminal() -> None:
    if sys.__stdout__ is not None:
        sys.__stdout__.write("\r\x1b[2K\x1b[?25h")
        sys.__stdout__.flush()


def summary(console: Console, result: Result, out: Path) -> None:
    """Hele landet's change and effects, the largest rise and fall, and where the files are;
    each line fits an 80-column terminal."""
    land = result.b1.row(0, named=True)
    kommuner = result.b1.filter(pl.col("niveau") == "kommune").sort("aendring_pct")
    low, high = kommuner.row(0, named=True), kommuner.row(-1, named=True)
    budget, forecast = (format_mio(land[c]) for c in ("kmf_budget_kr", "kmf_prognose_kr"))
    console.print()
    console.print(
        f"{land['navn']}, budgetår {result.aar}: budget {budget} og prognose {forecast} mio. kr."
    )
    rows = [("Ændring", land["aendring_pct"], "pct. af budgettet")]
    rows += [
        (name, land[f"{column}_pct"], "pct.-point")
        for column, name in SUMMARY_EFFECTS
        if f"{column}_pct" in land
    ]
    for name, value, unit in rows:
        name = fit(name, console.file)  # padded as printed: "Ø" may be written "Oe"
        console.print(f"  {name:<24}{format_pct(value, 1, sign=True):>6} {unit}")
    if not adds_up_as_shown([v for _, v, _ in rows[1:]], land["aendring_pct"]):
        console.print(CONSOLE_ROUNDING_NOTE)
    if result.befolkning is not None and result.borger is not None:
        citizens = result.befolkning.row(0, named=True)
        console.print("Ændringen set fra borgerne (arket Befolkning i Excel):")
        # all five effects, so that the lines add up to the change as the table has it
        areas = citizens["omraademikseffekt_pct"] + citizens["andelseffekt_pct"]
        lines = (
            ("Flere/færre borgere", citizens["befolkningseffekt_pct"]),
            ("Alderssammensætning", citizens["demografieffekt_pct"]),
            ("Forbrug pr. borger", citizens["forbrugseffekt_pct"]),
            ("Områder og KMF-andel", areas),
        )
        for name, number in lines:
            value = format_pct(number, 1, sign=True)
            console.print(f"  {fit(name, console.file):<24}{value:>6} pct.-point")
        if not adds_up_as_shown([n for _, n in lines], citizens["aendring_pct"]):
            console.print(CONSOLE_ROUNDING_NOTE)
    if codes.whole_country(kommuner.height):  # a ranking of part of the country is left out
        for what, r in (("Største stigning", high), ("Største fald", low)):
            console.print(f"{what}: {r['navn']} {format_pct(r['aendring_pct'], 1, sign=True)} pct.")
    # the run's own notes, as in the manifest and "Om kørslen" (the data's came on reading)
    for note in [codes.partial_note(kommuner.height), *unusual_changes(result.b1)]:
        if note:
            console.print(f"Bemærk: {note}")
    console.print(written_line(out, workbook_name(result.aar)))


SUMMARY_EFFECTS = (
    ("aktivitetseffekt", "A. Aktivitetseffekt"),
    ("aldersgruppeeffekt", "B. Aldersgruppeeffekt"),
    ("sundhedsomraadeeffekt", "C. Sundhedsområdeeffekt"),
    ("omraademikseffekt", "   C1. Områdemiks"),
    ("andelseffekt", "   C2. KMF-andel"),
    ("oevrige", "Øvrige"),
)


def check_method(metode: str | None) -> None:
    """Reject an unknown --metode before any data are read (the library checks it too, but
    only after loading). ``None``: the method of kmf.toml, checked when it is read."""
    from kmf.pipeline import choose_method

    if metode is not None:
        choose_method(metode)


def read_for_output(
    console: Console,
    dataset: Path | None,
    out: Path,
    force: bool,
    metode: str | None,
    cache: bool = True,
) -> Dataset:
    """What kmf run, spor and historik do first: say on Ctrl-C what became of ``out``, check
    the output folder and the method before the data are read (a rerun without --force fails
    at once), then read the dataset (the bundled sample without one) and print its notes."""
    from kmf.io import load, sample_dataset
    from kmf.report.write import check_target

    explain_stop(out, f"De nye resultater nåede at blive skrevet færdig i '{out}'.")
    check_target(out, force)
    check_method(metode)
    source = dataset if dataset is not None else sample_dataset()
    with Stage(console, "Læser og kontrollerer data") as done:
        # the cuts a command uses are read when it knows them; the others are counted
        data = load(source, kun_brugte=True, cache=cache)
        rows = sum(f.rows for f in data.files if f.table == "aktivitet")
        files = sum(1 for f in data.files if f.table == "aktivitet")
        done(f"{format_kr(rows)} rækker i {files} {'fil' if files == 1 else 'filer'}")
    for note in data.notes:
        console.print(f"  Bemærk: {note}")
    return data


def written_line(out: Path, workbook: str) -> str:
    """The last line of kmf run, spor and historik: where the results are, and the workbook."""
    return f"Resultaterne ligger i {out}{os.sep} (Excel: {workbook})."


def exit_on_error(exc: Exception) -> None:
    """The last word on an error no command caught: one Danish line and the exit code."""
    # a safety net: every command names its own paths; this one names what the error does
    polars_os = isinstance(exc, pl.exceptions.PolarsError) and errno_of(exc) is not None
    if isinstance(exc, OSError) or polars_os:
        fail(os_error_message(exc))
        sys.exit(2)
    unexpected(exc)


def describe_dataset(console: Console, data: Dataset, name: str) -> int:
    """What ``kmf validate`` shows of a dataset: its cuts as a table (amounts in mio. kr., so
    that it fits 80 columns), its files and budget; returns the number of activity rows."""
    from rich import box
    from rich.table import Table

    cuts = data.cuts()
    console.print(f"Datasæt: {name}")
    dated = ["Dato"] if data.dated else []  # SPEC §7: a cut is also its date
    # widths as written: in ASCII "Opgørelse" is "Opgoerelse"; and a line under the head
    # without rich's stand-in, which draws every column's edge
    shown = partial(fit, stream=console.file)
    lines = can_write("─", console.file)
    head = box.SIMPLE_HEAD if lines else box.Box(
        "    \n    \n -- \n    \n    \n    \n    \n    \n", ascii=True)  # fmt: skip
    table = Table(
        box=head,
        show_edge=False,
        pad_edge=False,
        caption="Beløb i mio. kr.",
        caption_justify="left",
        collapse_padding=bool(dated),
        padding=(0, 1) if lines else (0, 0),  # ASCII spells æøå out: still 80 columns
    )  # fmt: skip; one space apart: 80 columns
    for header in ("År", "Opgørelse", "Takstår", *dated, "Rækker", "Kommuner",
                   "Produktions-\nværdi", "KMF"):  # fmt: skip
        table.add_column(shown(header), justify="left" if header == "Opgørelse" else "right",
                         no_wrap=True)  # fmt: skip
    for r in cuts.iter_rows(named=True):
        day = r["opgoerelsesdato"]
        table.add_row(
            str(r["aar"]),
            shown(codes.CUT_LABELS[r["opgoerelse"]]),
            str(r["takstaar"]),
            *(["" if day is None else day.isoformat()] if dated else []),
            format_kr(r["rows"]),
            str(r["kommuner"]),
            format_number(r["produktionsvaerdi"] / 1e6, 1),
            format_number(r["kmf"] / 1e6, 1),
        )
    console.print(table)
    for f in data.files:
        if f.table in ("aktivitet", "budget", "befolkning"):
            count = f"{format_kr(f.rows)} {'række' if f.rows == 1 else 'rækker'}"
            console.print(f"  {f.table}: {f.display} ({count})")
        else:
            console.print(f"  indstillinger: {f.display}{_settings(data)}")
    budget_years = sorted(set(data.budget["aar"].to_list()))
    kind = "pr. kommune" if data.budget_per_kommune else "hele landet"
    console.print(f"  budget ({kind}) for {'året' if len(budget_years) == 1 else 'årene'}: "
                  f"{', '.join(map(str, budget_years))}")  # fmt: skip
    if data.psykiatri_moved:
        console.print(
            f"  {format_kr(data.psykiatri_moved)} psykiatrirækker er lagt i 'ej_aldersdiff'."
        )
    for note in data.notes:
        console.print(f"  Bemærk: {note}")
    return int(cuts["rows"].sum())


def validated_line(check: Validation) -> str:
    """The end of ``kmf validate``: fit for which year, what a run would use."""
    lines = [f"Datasættet er i orden til budgetår {check.aar}: {check.kommuner} kommuner."]
    lines.append(
        f"  {format_kr(check.aktivitetsraekker_brugt)} af {format_kr(check.aktivitetsraekker)} "
        "aktivitetsrækker bruges."
    )
    return "\n".join(lines)


def plan_lines(check: Validation) -> list[str]:
    """What ``kmf tjek`` adds under "i orden": the budget's amount, the date ``kmf beregn``
    will use (dated data), and which rows are left out and why; each line fits 80 columns."""
    import textwrap

    from kmf.report.unused import unused_cuts

    year = check.aar
    budget = format_number(check.budget_kr / 1e6, 1)
    kind = "summen af kommunernes" if check.budget_pr_kommune else "hele landet"
    lines = [f"  Budget {year} ({kind}): {budget} mio. kr."]
    day = check.dato
    if day is not None:
        lines.append(f"  kmf beregn bruger opgørelsen pr. {format_date(day)}: den seneste "
                     "med grundlag,")  # fmt: skip
        lines.append("  dvs. med alle fire opgørelser, en prognose kræver.")
    unused = unused_cuts(year, check.manifest.opgoerelser)
    if unused:
        lines.append("  Rækker, der ikke bruges:")
    for u in unused:
        # a date stays on one line: its spaces are held (no-break) while wrapping
        held = re.sub(r"(\d+)\. (\w+) (\d{4})", "\\1.\xa0\\2\xa0\\3", f"{u.cut}: {u.said}")
        wrapped = textwrap.wrap(held, 80, initial_indent="    - ", subsequent_indent="      ")
        lines += [line.replace("\xa0", " ") for line in wrapped]
    return lines


def _settings(data: Dataset) -> str:
    said = [
        f"{label} {value}"
        for label, value in (("budgetår", data.settings.aar), ("metode", data.settings.metode))
        if value is not None
    ]
    text = f" ({', '.join(said)})" if said else ""
    return text + (f"\n  titel: {data.settings.titel}" if data.settings.titel else "")


def unexpected(exc: Exception) -> None:
    """A fault in kmf: one Danish line (exit 1); the details with KMF_FEJLSPOR=1."""
    if os.environ.get("KMF_FEJLSPOR"):
        raise exc
    err_console().print(
        f"Uventet fejl i kmf ({type(exc).__name__}). Det er en fejl i programmet, ikke i dine "
        "data. Kør kommandoen igen med miljøvariablen KMF_FEJLSPOR=1 for at se detaljerne, og "
        "send dem til dem, der vedligeholder kmf.",
        markup=False,
    )
    sys.exit(1)
