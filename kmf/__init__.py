"""kmf — dekomponering af den kommunale medfinansiering (KMF).

Splits the gap between the forecast KMF settlement and the budget into an
aktivitetseffekt, an aldersgruppeeffekt, a sundhedsområdeeffekt and a remainder, for every
kommune, region and the whole country.

>>> import kmf
>>> result = kmf.run(kmf.sample_dataset())  # doctest: +SKIP
>>> result.b1                                 # doctest: +SKIP
"""

from __future__ import annotations

import importlib

from kmf.errors import DataError, OutputError

TYPE_CHECKING = False  # typing is not imported: ``import kmf`` should cost nothing
if TYPE_CHECKING:
    from typing import Any

    from kmf.io import Dataset, load, sample_dataset
    from kmf.kommune_report import kommune
    from kmf.pipeline import run
    from kmf.result import Result
    from kmf.series import Historik, Spor
    from kmf.track import historik, spor

__all__ = [
    "DataError",
    "Dataset",
    "Historik",
    "OutputError",
    "Result",
    "Spor",
    "__version__",
    "historik",
    "kommune",
    "kommuner",
    "load",
    "run",
    "sample_dataset",
    "spor",
]

# Imported on first use (PEP 562): ``import kmf`` stays light, so the ``kmf`` command can
# take over Ctrl-C before polars, numba and matplotlib load.
_LAZY = {
    "Dataset": "kmf.io",
    "load": "kmf.io",
    "sample_dataset": "kmf.io",
    "Result": "kmf.result",
    "run": "kmf.pipeline",
    "Spor": "kmf.series",
    "Historik": "kmf.series",
    "spor": "kmf.track",
    "historik": "kmf.track",
    "kommune": "kmf.kommune_report",
    "kommuner": "kmf.kommune_report",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from kmf._meta import version

        return version()
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kmf' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
