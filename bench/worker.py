"""One benchmark task in this (fresh) process; prints its peak memory as JSON on the last line.

python -m bench.worker TASK DATASET
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
from pathlib import Path

COLUMNS = ["kommunekode", "aar", "opgoerelse", "takstaar", "alder", "sundhedsomraade",
           "produktionsvaerdi", "kmf"]  # fmt: skip
KEYS = ["kommunekode", "aar", "opgoerelse", "takstaar", "aldersgruppe", "sundhedsomraade"]


def _run_cli(*args: str) -> None:
    """A ``kmf`` command end to end, as the console script runs it, into a scratch folder."""
    from kmf.cli import main

    with tempfile.TemporaryDirectory() as out:
        sys.argv = ["kmf", *args, "--out", out, "--force"]
        try:
            main()
        except SystemExit as done:
            if done.code:
                raise


def run_kmf(dataset: Path) -> None:
    """``kmf run`` end to end: read, check, decompose, write CSV, Parquet, Excel and
    figures."""
    _run_cli("run", str(dataset))


def run_kmf_spor(dataset: Path) -> None:
    """``kmf spor`` end to end: read once, B1 for every forecast date, write everything."""
    _run_cli("spor", str(dataset))


def run_kmf_kommune(dataset: Path) -> None:
    """``kmf kommune 851`` end to end: the run, the track and the history it needs, the
    workbook, figure and text."""
    _run_cli("kommune", "851", str(dataset))


def run_kmf_kommune_751(dataset: Path) -> None:
    """``kmf kommune 751`` end to end (another kommune than :func:`run_kmf_kommune`)."""
    _run_cli("kommune", "751", str(dataset))


def run_duckdb(dataset: Path) -> None:
    """The bare aggregation into cells in DuckDB SQL over the same Parquet files."""
    import duckdb

    files = str(dataset / "aktivitet" / "*.parquet")
    duckdb.sql(
        f"""
        SELECT kommunekode, aar, opgoerelse, takstaar,
               CASE WHEN sundhedsomraade = 'psykiatri' THEN 'ej_aldersdiff'
                    WHEN alder <= 2 THEN '0-2' WHEN alder <= 64 THEN '3-64'
                    WHEN alder <= 79 THEN '65-79' ELSE '80+' END AS aldersgruppe,
               sundhedsomraade,
               sum(produktionsvaerdi) AS produktionsvaerdi, sum(kmf) AS kmf, count(*) AS rows
        FROM read_parquet('{files}')
        GROUP BY ALL
        """
    ).fetchall()


def run_pandas(dataset: Path) -> None:
    """The same aggregation in plain pandas."""
    import numpy as np
    import pandas as pd

    frame = pd.read_parquet(dataset / "aktivitet", columns=COLUMNS)
    frame["aldersgruppe"] = np.select(
        [frame["sundhedsomraade"] == "psykiatri", frame["alder"] <= 2, frame["alder"] <= 64,
         frame["alder"] <= 79],
        ["ej_aldersdiff", "0-2", "3-64", "65-79"],
        "80+",
    )  # fmt: skip
    frame.groupby(KEYS, observed=True)[["produktionsvaerdi", "kmf"]].sum()


def run_floor(dataset: Path) -> None:
    """The floor: pyarrow's streaming decode of the columns the aggregation needs, batch by
    batch, nothing more (no table of all records is built)."""
    import pyarrow.dataset as ds

    for _ in ds.dataset(dataset / "aktivitet", format="parquet").to_batches(columns=COLUMNS):
        pass


TASKS = {
    "kmf": run_kmf,
    "kmf_spor": run_kmf_spor,
    "kmf_kommune": run_kmf_kommune,
    "kmf_kommune_751": run_kmf_kommune_751,
    "duckdb": run_duckdb,
    "pandas": run_pandas,
    "floor": run_floor,
}


def main() -> None:
    task, dataset = sys.argv[1], Path(sys.argv[2])
    TASKS[task](dataset)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_rss_mib": peak_kib / 1024}))


if __name__ == "__main__":
    main()
