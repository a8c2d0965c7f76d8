"""What the command line prints, and how a failure ends: one Danish line and the exit code.

The commands themselves (:mod:`kmf.cli`) only parse, call the library and hand over here.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import typer
from rich.console import Console

from kmf import _signals
from kmf.danish import format_kr, format_pct
from kmf.errors import DataError, OutputError, errno_of, os_error_message
from kmf.report.labels import workbook_name
from kmf.report.write import belongs_to
from kmf.result import Result


def out_console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def err_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def fail(exc: Exception | str) -> typer.Exit:
    err_console().print(f"Fejl: {exc}", markup=False)
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


def summary(console: Console, result: Result, out: Path) -> None:
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
