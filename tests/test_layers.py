"""The code is layered along the data's way (README, "Udvikling"): a module imports only from
its own stage or an earlier one, lazy imports and imports for type checking included; no
two modules import each other, even through others; no module is over 450 lines."""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

# From the first stage to the last; a module belongs to the group of the most specific name
# it is or lies under.
LAYERS: list[tuple[str, ...]] = [
    (
        "kmf.errors",
        "kmf.codes",
        "kmf.danish",
        "kmf._meta",
        "kmf._signals",
        "kmf.cli.danish_click",
        "kmf.cli.encoding",
    ),
    ("kmf.io",),
    ("kmf.compute.timeline", "kmf.compute.checks"),
    ("kmf.compute.forecast",),
    ("kmf.compute.decompose",),
    (
        "kmf.compute.tables",
        "kmf.compute.kommune_tables",
        "kmf.compute.accuracy",
        "kmf.compute.population",
    ),
    ("kmf.result", "kmf.display", "kmf.series"),
    ("kmf.report",),
    ("kmf.pipeline", "kmf.figures", "kmf.synth", "kmf.kommune_report", "kmf.track"),
    ("kmf.cli.console",),
    ("kmf.cli", "kmf.cli.kommune", "kmf.cli.options", "kmf.cli.time_commands"),
    ("kmf.__main__",),
    ("kmf.cli.__main__",),
]
MAX_LINES = 450
MAX_TOP_MODULES = 15


@pytest.fixture(scope="module")
def imports() -> dict[str, set[str]]:
    graph = grimp.build_graph("kmf")
    modules = {m for m in graph.modules if m.startswith("kmf.")}
    return {m: set(graph.find_modules_directly_imported_by(m)) & modules for m in modules}


def stage(module: str) -> int:
    """The layer of the most specific name the module is or lies under."""
    found = [
        (len(n), i)
        for i, names in enumerate(LAYERS)
        for n in names
        if module == n or module.startswith(n + ".")
    ]
    assert found, f"{module} is in no layer: add it to LAYERS"
    return max(found)[1]


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


def test_the_top_of_the_package_shows_the_layers() -> None:
    package = Path(__file__).parent.parent / "kmf"
    top = sorted(p.name for p in package.glob("*.py"))
    assert len(top) <= MAX_TOP_MODULES, top
    assert {p.name for p in package.iterdir() if (p / "__init__.py").exists()} >= {
        "cli",
        "compute",
        "io",
        "report",
    }
