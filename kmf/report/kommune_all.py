"""Every kommune's report at once (``kmf kommune alle``): one folder per kommune,
``<MAPPE>/<KODE>/``, written as a whole through :mod:`kmf.report.write`: the output appears
when every report is done, never half of them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from kmf.report.kommune import KommuneReport
from kmf.report.write import write_folder

#: called after each report is written: the report, its number (from 1)
Progress = Callable[[KommuneReport, int], None]


def write_reports(
    reports: Iterable[KommuneReport],
    folder: str | Path,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> list[Path]:
    """Write each report into ``folder/<KODE>/`` and return the kommune folders.

    Without ``force`` ``folder`` must be missing or empty; with it, a kommune's earlier
    folder is replaced by the new one and other files stay. On any failure, or Ctrl-C,
    ``folder`` is left as it was.
    """

    def fill(staging: Path) -> None:
        for number, report in enumerate(reports, start=1):
            own = staging / str(report.tabeller.kode)
            own.mkdir()
            report.fill(own)
            if progress is not None:
                progress(report, number)

    return write_folder(folder, force, fill)
