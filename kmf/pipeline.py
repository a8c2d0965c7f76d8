"""From a dataset to the report tables: ``run()`` and its ``Result``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from kmf import codes, tables
from kmf._meta import version
from kmf.decompose import METHODS, effects
from kmf.errors import DataError
from kmf.forecast import Cells, build_cells, choose_year, cuts_for, require_finite
from kmf.io import Dataset, load
from kmf.output import FILES_KEY, MANIFEST, write_folder

ALL_METHODS = "alle"


@dataclass(frozen=True)
class Result:
    """The decomposition for one budget year: every table as a polars DataFrame.

    Attributes
    ----------
    aar
        Budget year T.
    metode
        The decomposition method.
    b1, b2, b3, b4
        Tables B1–B4 (SPEC §5).
    tabeller
        Tabel 1–6, by number; also reached by ``tabel(n)``.
    celler
        The forecast and budget cells used: all 17 cells of every kommune, in kr.
    kommuner
        Per kommune: efterregistreringsfaktor f_k, KMF grundlag K⁰_k, budget K^b_k, g_k.
    manifest
        What was read and used (written as ``manifest.json``).
    metoder
        With ``metode="alle"``: every effect under every method side by side.
    """

    aar: int
    metode: str
    b1: pl.DataFrame
    b2: pl.DataFrame
    b3: pl.DataFrame
    b4: pl.DataFrame
    tabeller: dict[int, pl.DataFrame]
    celler: pl.DataFrame
    kommuner: pl.DataFrame
    manifest: dict[str, Any] = field(repr=False)
    titel: str | None = None
    metoder: pl.DataFrame | None = None

    def tabel(self, n: int) -> pl.DataFrame:
        """Tabel ``n`` (1–6) of the report."""
        if n not in self.tabeller:
            raise KeyError(f"tabel {n} findes ikke; vælg 1–6")
        return self.tabeller[n]

    def named_tables(self) -> dict[str, pl.DataFrame]:
        """Every table under its file name (without extension)."""
        out = {"tabel_b1": self.b1, "tabel_b2": self.b2, "tabel_b3": self.b3, "tabel_b4": self.b4}
        out.update({f"tabel_{n}": self.tabeller[n] for n in sorted(self.tabeller)})
        if self.metoder is not None:
            out["tabel_metoder"] = self.metoder
        return out

    def write(self, folder: str | Path, *, force: bool = False) -> list[Path]:
        """Write the tables (CSV and Parquet), the Excel workbook, the figures and
        ``manifest.json``, whose ``filer_skrevet`` lists the files written.

        Everything is written to a hidden folder first and moved into place at the end, so a
        failed or interrupted run leaves the folder as it was (see ``kmf.output``). Existing
        output is only replaced with ``force=True``; then kmf's files from the earlier run
        that this run does not write go too, and files of your own stay.

        Raises
        ------
        OutputError
            With a Danish message when the folder cannot be written (not empty without
            ``force``, disk full, read-only, no permission, …).
        """
        return write_folder(folder, force, self._fill)

    def _fill(self, folder: Path) -> None:
        for name, frame in self.named_tables().items():
            frame.write_csv(folder / f"{name}.csv")
            frame.write_parquet(folder / f"{name}.parquet")
        # the report stages are imported here, so loading kmf stays light
        from kmf.excel import workbook_name, write_workbook
        from kmf.figures import save_figures

        write_workbook(self, folder / workbook_name(self.aar))
        save_figures(self, folder)
        names = sorted([*(p.name for p in folder.iterdir()), MANIFEST])
        manifest = {**self.manifest, FILES_KEY: names}
        (folder / MANIFEST).write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )


def run(
    dataset: Dataset | str | Path,
    aar: int | None = None,
    metode: str | None = None,
) -> Result:
    """Decompose the gap between the KMF forecast and the budget for budget year ``aar``.

    Parameters
    ----------
    dataset
        A loaded ``Dataset`` or a path to one (see ``kmf.load``).
    aar
        Budget year T; default ``aar`` from ``kmf.toml``, else the latest year with a
        foreløbig cut.
    metode
        ``"ministeriet"`` (SPEC §4, the default unless ``kmf.toml`` says otherwise), ``"lmdi"``
        or ``"shapley"`` (exact, with C split into area mix and KMF share), or ``"alle"``
        (the ministry's tables plus ``Result.metoder`` comparing all three).

    Raises
    ------
    DataError
        With a Danish message when the data cannot give the tables.
    """
    data = dataset if isinstance(dataset, Dataset) else load(dataset)
    method = metode or data.settings.metode or "ministeriet"
    known = (*METHODS, ALL_METHODS)
    if method not in known:
        raise DataError(f"Metoden '{method}' findes ikke. Vælg en af: {', '.join(known)}.")
    year = choose_year(data, aar)
    cells = build_cells(data, year)
    order = tables.units(cells.kommuner["kommunekode"])
    chosen = METHODS if method == ALL_METHODS else (method,)
    b1_by_method = {
        m: tables.table_b1(effects(cells.cells, "kommunekode", m), order) for m in chosen
    }
    # with "alle" the report tables are the ministry's, and the comparison comes on top
    b1 = b1_by_method["ministeriet" if method == ALL_METHODS else method]
    b2, b3 = tables.table_b2_b3(cells.cells, order)
    b4 = tables.table_b4(cells.cells, order)
    t4, t5, t6 = tables.table_4_5_6(b1)
    tabeller = {
        1: tables.table_1(b1),
        2: tables.table_2(b1),
        3: tables.table_3(b1),
        4: t4,
        5: t5,
        6: t6,
    }
    for name, table in (("B1", b1), ("B2", b2), ("B3", b3), ("B4", b4)):
        require_finite(table, "kode", f"tabel {name}")
    return Result(
        aar=year,
        metode=method,
        b1=b1,
        b2=b2,
        b3=b3,
        b4=b4,
        tabeller=tabeller,
        celler=cells.cells,
        kommuner=cells.kommuner,
        manifest=_manifest(data, year, method, cells),
        titel=data.settings.titel,
        metoder=tables.table_methods(b1_by_method) if method == ALL_METHODS else None,
    )


def _manifest(data: Dataset, year: int, method: str, cells: Cells) -> dict[str, Any]:
    files = []
    # the activity files come first in data.files, so their position is their index
    for index, f in enumerate(data.files):
        entry: dict[str, Any] = {
            "tabel": f.table,
            "fil": f.display,
            "sti": str(f.path.resolve()),
            "sha256": f.sha256,
            "raekker_laest": f.rows,
        }
        if f.table == "aktivitet":
            entry["raekker_brugt"] = int(cells.rows_used.get(index, 0))
        elif f.table == "budget":
            entry["raekker_brugt"] = int(data.budget.filter(pl.col("aar") == year).height)
        files.append(entry)
    used = {(c.aar, c.opgoerelse, c.takstaar): c.name for c in cuts_for(year)}
    cuts = [
        {
            "aar": r["aar"],
            "opgoerelse": r["opgoerelse"],
            "takstaar": r["takstaar"],
            "raekker": r["rows"],
            "kommuner": r["kommuner"],
            "brugt_som": used.get((r["aar"], r["opgoerelse"], r["takstaar"])),
        }
        for r in data.cuts().iter_rows(named=True)
    ]
    unused = sum(c["raekker"] for c in cuts if c["brugt_som"] is None)
    return {
        "program": "kmf",
        "version": version(),
        "metode": method,
        "aar": year,
        "datasaet": str(data.source.resolve()),
        "budget": "hele landet" if cells.budget_kind == "national" else "pr. kommune",
        "aldersangivelse": data.age_column,
        "psykiatri_flyttet_til_ej_aldersdiff": data.psykiatri_moved,
        "raekker_ikke_brugt": unused,
        "opgoerelser": cuts,
        "filer": files,
        "kommuner": cells.kommuner.height,
        "bemaerkninger": list(data.notes),
        "aldersgrupper": list(codes.AGE_GROUPS),
    }
