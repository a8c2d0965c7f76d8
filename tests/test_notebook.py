"""The worked example notebook: the jupytext pair is in sync, it runs without errors, and its
committed outputs are those a fresh run gives (regenerate: ``python -m tests.notebook_outputs``)."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import pytest

from tests.notebook_outputs import REGENERATE, execute, first_difference, shown

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"
PAIR = NOTEBOOKS / "kmf_eksempel.py", NOTEBOOKS / "kmf_eksempel.ipynb"


def _sources(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in notebook.cells]


def test_py_and_ipynb_are_the_same_notebook() -> None:
    script, notebook = PAIR
    assert _sources(jupytext.read(script)) == _sources(nbformat.read(notebook, as_version=4)), (
        "run: jupytext --sync notebooks/kmf_eksempel.py"
    )


def test_the_committed_notebook_shows_its_outputs() -> None:
    # committed executed, so that it reads on GitHub without running it
    notebook = nbformat.read(PAIR[1], as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.get("outputs") for c in code)
    assert not any(o.output_type == "error" for c in code for o in c.outputs)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_notebook_runs_and_its_committed_outputs_are_current(tmp_path: Path) -> None:
    committed = nbformat.read(PAIR[1], as_version=4)
    notebook = execute(nbformat.read(PAIR[1], as_version=4), tmp_path)
    # the committed outputs must be what the code gives now: text compared, images present
    stale = first_difference(shown(committed), shown(notebook))
    assert stale is None, (
        f"The committed outputs of {PAIR[1].name} are stale ({stale}). Regenerate them: "
        f"{REGENERATE}"
    )
    text = "\n".join(
        output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
    )
    assert "budgetår 2018 pr. 10. september 2018, metode ministeriet, 98 kommuner" in text
    assert (tmp_path / "kmf-rapport-notebook" / "kmf_dekomponering_2018.xlsx").is_file()
    images = [o for c in notebook.cells for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]  # fmt: skip
    # Figur 1, the waterfall, the overview, the track, its accuracy, the history and the
    # kommune's page, each shown once
    assert len(images) == 7
    tables = [o["data"]["text/html"] for c in notebook.cells for o in c.get("outputs", [])
              if "text/html" in o.get("data", {})]  # fmt: skip
    assert "Hele landet" in tables[0] and "Region Nordjylland" in tables[0]
    for table in tables:
        # numbers as in the report: decimal comma, no raw floats like 0.18287771461626487
        # (a whole number with Danish thousands dots, 3.728 kr. per indbygger, is fine)
        raw = re.findall(r">(-?\d+\.\d+)<", table)
        assert all(re.fullmatch(r"-?\d{1,3}(\.\d{3})+", v) for v in raw), table[:300]
        assert re.search(r">-?\d+,\d<", table), table[:300]
