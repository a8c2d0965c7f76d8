"""What a reader gets from a ``Result``: the tables as CSV and Parquet, the workbook
(:mod:`kmf.report.excel`), the figures (:mod:`kmf.report.figures`) and ``manifest.json``,
written as a whole (:mod:`kmf.report.write`). Everything here reads a ``Result``; nothing
before this stage imports it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from kmf.report.csvfile import check_csv_format, write_csv
from kmf.report.labels import workbook_name
from kmf.report.write import FILES_KEY, MANIFEST, write_folder
from kmf.result import Result

__all__ = ["write_report"]

# matplotlib warns on stderr (in English) when it must keep its cache in a temporary folder,
# e.g. with no writable home folder; the figures are the same, so the reader need not see it.
# Set here, before any module of this package imports matplotlib.
logging.getLogger("matplotlib").setLevel(logging.ERROR)


def write_report(
    result: Result, folder: str | Path, force: bool = False, csv: str = "standard"
) -> list[Path]:
    """Write every table (CSV and Parquet), the workbook, the figures and ``manifest.json``
    into ``folder`` at once (see ``Result.write``); ``csv="dansk"`` writes the CSV files for
    Danish Excel."""
    check_csv_format(csv)
    return write_folder(folder, force, lambda staging: _fill(result, staging, csv))


def _fill(result: Result, folder: Path, csv: str = "standard") -> None:
    for name, frame in result.named_tables().items():
        write_csv(frame, folder / f"{name}.csv", csv)
        frame.write_parquet(folder / f"{name}.parquet")
    # imported here: openpyxl and matplotlib are only loaded when a report is written
    from kmf.report.excel import write_workbook
    from kmf.report.figures import save_figures
    from kmf.report.notat import notat_name
    from kmf.report.text_national import national_markdown, write_run_notat

    # the figures first: the workbook shows the waterfalls drawn for the folder
    paths = save_figures(result, folder)
    images = {p.stem.removeprefix("vandfald_"): p for p in paths if p.stem.startswith("vandfald_")}
    write_workbook(result, folder / workbook_name(result.aar), images)
    (folder / "sammenfatning.md").write_text(
        national_markdown(result), encoding="utf-8", newline="\n"
    )
    write_run_notat(result, folder / notat_name(result.aar), images.get("DK"))
    names = sorted([*(p.name for p in folder.iterdir()), MANIFEST])
    manifest = {**result.manifest.as_json(), FILES_KEY: names}
    (folder / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8", newline="\n"
    )
