"""The worked example notebook's outputs: run it afresh, compare with the committed ones, and
write them back.

Regenerate the committed outputs (after a change to what kmf shows) with::

    python -m tests.notebook_outputs

It executes ``notebooks/kmf_eksempel.ipynb`` in a temporary folder (the files the notebook
writes land there, not in the repository) and saves the notebook with the new outputs.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parent.parent / "notebooks" / "kmf_eksempel.ipynb"
REGENERATE = "python -m tests.notebook_outputs"
#: what differs between two runs of the same notebook and says nothing about kmf
_VOLATILE = (
    (re.compile(r" at 0x[0-9a-fA-F]+"), " at 0x…"),
    (re.compile(r"\(\d+(?:,\d+)? s\)"), "(… s)"),
)


def execute(notebook: nbformat.NotebookNode, folder: str | Path) -> nbformat.NotebookNode:
    """Run every cell of ``notebook`` in ``folder``; the outputs are set in place."""
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(folder)}})  # fmt: skip
    client.execute()
    return notebook


def shown(notebook: nbformat.NotebookNode) -> list[list[tuple[str, str]]]:
    """What each code cell shows, to compare two runs: the text outputs as text (with the
    volatile parts masked), an image by its presence only (its bytes vary by platform)."""
    cells = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        seen: list[tuple[str, str]] = []
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                seen.append((f"stream:{output.name}", _masked(output.text)))
            elif output.output_type == "error":
                seen.append(("error", f"{output.ename}: {output.evalue}"))
            else:
                data = output.get("data", {})
                for mime, value in sorted(data.items()):
                    text = mime.startswith("text/") or mime.endswith("json")
                    if mime == "text/plain" and len(data) > 1 and "text/html" in data:
                        # the fallback Jupyter does not show: for a frame, polars' own text
                        # table, whose layout varies with the polars version
                        value = "(fallback)"
                    seen.append((mime, _masked(str(value)) if text else "(image)"))
        cells.append(seen)
    return cells


def first_difference(
    committed: list[list[tuple[str, str]]], fresh: list[list[tuple[str, str]]]
) -> str | None:
    """Where the committed outputs differ from a fresh run, said for a reader (or None)."""
    if len(committed) != len(fresh):
        return f"{len(committed)} code cells committed, {len(fresh)} in a fresh run"
    for number, (old, new) in enumerate(zip(committed, fresh, strict=True), start=1):
        if old != new:
            kinds_old, kinds_new = [k for k, _ in old], [k for k, _ in new]
            if kinds_old != kinds_new:
                return f"code cell {number}: outputs {kinds_old} committed, {kinds_new} fresh"
            kind, was, now = next((k, a, b) for (k, a), (_, b) in zip(old, new, strict=True)
                                  if a != b)  # fmt: skip
            return f"code cell {number} ({kind}): committed {was[:300]!r}, fresh {now[:300]!r}"
    return None


def _masked(text: str) -> str:
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def main() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    with tempfile.TemporaryDirectory() as folder:
        execute(notebook, folder)
    nbformat.write(notebook, NOTEBOOK)
    print(f"{NOTEBOOK} executed; its outputs are saved.", file=sys.stderr)


if __name__ == "__main__":
    main()
