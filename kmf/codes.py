"""The vocabulary of KMF data: codes, their Danish labels, kommuner and regions (SPEC §2)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources

import polars as pl

AGE_GROUPS: tuple[str, ...] = ("0-2", "3-64", "65-79", "80+", "ej_aldersdiff")
AREAS: tuple[str, ...] = ("somatik", "psykiatri", "speciallaege", "almen_praksis", "oevrig_primaer")
CUTS: tuple[str, ...] = ("foreloebig", "endelig")

AGE_LABELS: dict[str, str] = {
    "0-2": "0-2 årige",
    "3-64": "3-64 årige",
    "65-79": "65-79 årige",
    "80+": "80+ årige",
    "ej_aldersdiff": "Ej aldersdiff.",
}
AREA_LABELS: dict[str, str] = {
    "somatik": "Somatik",
    "psykiatri": "Psykiatri",
    "speciallaege": "Speciallæge",
    "almen_praksis": "Almen praksis",
    "oevrig_primaer": "Øvr. primær",
}
CUT_LABELS: dict[str, str] = {"foreloebig": "foreløbig", "endelig": "endelig"}

# Psykiatri is the one area whose KMF rate does not depend on age; it is the fifth "age group".
AGE_FREE_AREA = "psykiatri"
AGE_FREE_GROUP = "ej_aldersdiff"

# Upper bounds (inclusive) of the age-differentiated groups, for data given in whole years.
AGE_BOUNDS: tuple[tuple[int, str], ...] = ((2, "0-2"), (64, "3-64"), (79, "65-79"), (130, "80+"))
MAX_AGE = 130

# An amount beyond this (10¹⁵ kr., ten thousand times the KMF of all kommuner together) is
# an error in the data; below it every sum stays finite.
MAX_AMOUNT = 1e15

# Amounts are summed as whole numbers of 1/AMOUNT_STEPS kr. (about a millionth of a krone;
# kmf.io.on_grid): exact in any order. A power of two, so scaling by it is exact.
AMOUNT_STEPS = 1048576.0

AgeGroup = pl.Enum(AGE_GROUPS)
Area = pl.Enum(AREAS)
Opgoerelse = pl.Enum(CUTS)

# Regions in the order the reports list them.
REGION_ORDER: tuple[int, ...] = (1084, 1085, 1083, 1082, 1081)

LAND_CODE = "DK"
LAND_NAME = "Hele landet"
# How many kommuner the whole country has: data with fewer hold part of the country, and
# their sums are named for what they are (see ``land_name``).
KOMMUNER_IN_ALL = 98


def whole_country(kommuner: int) -> bool:
    """Whether data with this many kommuner hold the whole country."""
    return kommuner >= KOMMUNER_IN_ALL


def land_name(kommuner: int) -> str:
    """The name of the sum over all kommuner of the data: "Hele landet" where the data hold
    all 98, else "I alt, 1 kommune" / "I alt, 11 kommuner"."""
    if whole_country(kommuner):
        return LAND_NAME
    return f"I alt, {kommuner} kommune" + ("" if kommuner == 1 else "r")


def region_name(name: str, have: int, of: int) -> str:
    """A region's name, with how many of its kommuner the data hold where not all."""
    return name if have >= of else f"{name} ({have} af {of} kommuner)"


def partial_note(kommuner: int) -> str:
    """The one sentence said where the data hold part of the country ("" for all 98)."""
    if whole_country(kommuner):
        return ""
    return (
        f"Data har {kommuner} af de {KOMMUNER_IN_ALL} kommuner, så summerne er kun for "
        "disse kommuner, og rangordninger og sammenligninger med hele landet er udeladt."
    )


# The 17 cells of a unit: psykiatri only in ej_aldersdiff, the other areas in the four age groups.
CELLS: tuple[tuple[str, str], ...] = tuple(
    (age, area)
    for age in AGE_GROUPS
    for area in AREAS
    if (age == AGE_FREE_GROUP) == (area == AGE_FREE_AREA)
)


@cache
def kommuner() -> pl.DataFrame:
    """The 98 kommuner: ``kommunekode``, ``kommune``, ``regionskode``, ``region``.

    Sorted in report order: by region (Hovedstaden first), then by kommunekode.
    """
    source = resources.files("kmf").joinpath("data/kommuner.csv")
    with source.open("rb") as fh:
        frame = pl.read_csv(
            fh,
            schema={
                "kommunekode": pl.Int64,
                "kommune": pl.String,
                "regionskode": pl.Int64,
                "region": pl.String,
            },
        )
    order = {code: rank for rank, code in enumerate(REGION_ORDER)}
    return (
        frame.with_columns(
            pl.col("regionskode").replace_strict(order, return_dtype=pl.Int64).alias("_rank")
        )
        .sort("_rank", "kommunekode")
        .drop("_rank")
    )


@cache
def kommune_codes() -> frozenset[int]:
    """The set of valid kommunekoder."""
    return frozenset(kommuner()["kommunekode"].to_list())


@cache
def _kommune_names() -> dict[int, str]:
    frame = kommuner()
    return dict(zip(frame["kommunekode"].to_list(), frame["kommune"].to_list(), strict=True))


def kommune_label(code: int) -> str:
    """``101 København`` for messages; just the code if it is not a kommunekode."""
    return f"{code} {_kommune_names().get(code, '')}".strip()


def kommune_list(kommunekoder: Iterable[int], most: int = 10) -> str:
    """Up to ``most`` kommuner by code and name in code order, then an ellipsis if there are
    more: ``101 København, 147 Frederiksberg …``."""
    ordered = sorted(kommunekoder)
    shown = ", ".join(kommune_label(k) for k in ordered[:most])
    return shown + (" …" if len(ordered) > most else "")
