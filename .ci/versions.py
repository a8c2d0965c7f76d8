"""Print one line naming the versions a CI run tests with (argument: the run's name)."""

import platform
import sys
from importlib.metadata import PackageNotFoundError, version

NAMES = ("polars", "pyarrow", "numpy", "numba", "matplotlib", "openpyxl", "typer", "rich",
         "pytest", "hypothesis", "ruff", "mypy")  # fmt: skip


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "missing"


run = sys.argv[1] if len(sys.argv) > 1 else "run"
shown = ", ".join(f"{name} {_version(name)}" for name in NAMES)
print(f"CI {run}: python {platform.python_version()}, {shown}", flush=True)
