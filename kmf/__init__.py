"""kmf — dekomponering af den kommunale medfinansiering (KMF).

Splits the gap between the forecast KMF settlement and the budget into an
aktivitetseffekt, an aldersgruppeeffekt, a sundhedsområdeeffekt and a remainder, for every
kommune, region and the whole country.

>>> import kmf
>>> result = kmf.run(kmf.sample_dataset())  # doctest: +SKIP
>>> result.b1                                 # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

from kmf.errors import DataError, OutputError
from kmf.io import Dataset, load, sample_dataset
from kmf.pipeline import Result, run

__all__ = [
    "DataError",
    "Dataset",
    "OutputError",
    "Result",
    "__version__",
    "load",
    "run",
    "sample_dataset",
]
