"""The one exception users see for bad input."""

from __future__ import annotations


class DataError(ValueError):
    """Bad input: the message is in Danish and names file, column, values and rows."""


class OutputError(ValueError):
    """The output cannot be written where asked (e.g. it exists and ``force`` was not given)."""
