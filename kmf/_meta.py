"""What kmf knows of itself: its version, from the installed package's metadata (the one
place it is written is pyproject.toml)."""

from __future__ import annotations

from functools import cache


@cache
def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("kmf")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+ukendt"
