"""The code is layered along the data's way (README, "Udvikling"): a module imports only from
its own stage or an earlier one, lazy imports and imports for type checking included; no
two modules import each other, even through others; no module is over 450 lines."""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

# From the first stage to the last; a module belongs to the first group one of whose names
# it is or lies under.
LAYERS: list[tuple[str, ...]] = [
    ("kmf.errors", "kmf.codes", "kmf.danish", "kmf._meta", "kmf._signals", "kmf._danish_cli"),
    ("kmf.io",),
    ("kmf.timeline",),
    ("kmf.forecast",),
    ("kmf.decompose",),
    ("kmf.tables", "kmf.kommune_tables", "kmf.accuracy"),
    ("kmf.result", "kmf.display", "kmf.series"),
    ("kmf.report",),
    ("kmf.pipeline", "kmf.figures", "kmf.synth", "kmf.kommune_report", "kmf.track"),
    ("kmf.console",),
    ("kmf.cli", "kmf.cli_kommune", "kmf.cli_options", "kmf.cli_time"),
    ("kmf.__main__",),
]
MAX_LINES = 450


@pytest.fixture(scope="module")
def imports() -> dict[str, set[str]]:
    graph = grimp.build_graph("kmf")
    modules = {m for m in graph.modules if m.startswith("kmf.")}
    return {m: set(graph.find_modules_directly_imported_by(m)) & modules for m in modules}


def stage(module: str) -> int:
    for i, names in enumerate(LAYERS):
        if any(module == n or module.startswith(n + ".") for n in names):
            return i
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def test_no_module_imports_a_later_stage(imports: dict[str, set[str]]) -> None:
    backward = sorted(
        f"{a} -> {b}" for a, targets in imports.items() for b in targets if stage(b) > stage(a)
    )
    assert backward == []


def test_no_import_cycles(imports: dict[str, set[str]]) -> None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(imports[module]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(imports):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_layer_check_sees_lazy_imports(imports: dict[str, set[str]]) -> None:
    # kmf.report imports its Excel writer inside a function, to load openpyxl only when needed
    assert "kmf.report.excel" in imports["kmf.report"]


def test_no_module_is_over_450_lines() -> None:
    package = Path(__file__).parent.parent / "kmf"
    long = {
        str(p.relative_to(package)): n
        for p in package.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
