"""Reading and validating a dataset (SPEC §3, §6).

A dataset is a folder with ``aktivitet`` (CSV, Parquet or a folder of Parquet files),
``budget`` (CSV or Parquet) and an optional ``kmf.toml``; or one ``.xlsx`` workbook with
a sheet per table. The activity records are never materialised: one pass casts them,
checks them and sums them into cells. Only when that pass shows a problem is the input
read again, file by file, to name the offending rows.

The modules, in the order data pass through them: ``formats`` (what a file's bytes say),
``schema`` (the columns and how a value is cast), ``sources`` (locating and scanning
files), ``validate`` (naming what is wrong), ``columnar`` and ``aggregate`` (the pass
over the records), ``dataset`` (``load`` and ``Dataset``), ``convert`` (CSV to Parquet).
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing is not imported: kmf.io.hashing is used before polars is
if TYPE_CHECKING:
    from kmf.io.convert import convert_csv
    from kmf.io.dataset import Dataset, Frames, InputFile, load, sample_dataset
    from kmf.io.schema import CELL_KEY, exact_sum, on_grid, summed_cells
    from kmf.io.sources import Settings

# each name's module, imported when the name is first asked for: ``import kmf.io.hashing``
# must not import polars
_WHERE = {
    "convert_csv": "kmf.io.convert",
    **dict.fromkeys(["Dataset", "Frames", "InputFile", "load", "sample_dataset"], "kmf.io.dataset"),
    **dict.fromkeys(["CELL_KEY", "exact_sum", "on_grid", "summed_cells"], "kmf.io.schema"),
    "Settings": "kmf.io.sources",
}


def __getattr__(name: str) -> object:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'kmf.io' has no attribute {name!r}")


__all__ = [
    "CELL_KEY",
    "Dataset",
    "Frames",
    "InputFile",
    "Settings",
    "convert_csv",
    "exact_sum",
    "load",
    "on_grid",
    "sample_dataset",
    "summed_cells",
]
