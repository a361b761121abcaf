"""Imports only go downward: the layers of scaling_fit, checked on the source with ``ast``.

Order, low to high: errors, _version, progress and arguments < inputs < schedules < laws <
results < fitting < analysis < plotting < report < cli.  A module may import from its own
layer or a lower one, and no two modules may import each other, directly or through others.
Every import counts: absolute and relative, at module level and inside functions; only imports under
``if TYPE_CHECKING:`` are left out, because they never run.  The package's own
``__init__.py`` (the lazy public API) and ``__main__.py`` are exempt from the order; a
subpackage's ``__init__.py`` belongs to its subpackage's layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "scaling_fit"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE
ORDER = (
    ("errors", "_version", "progress", "arguments"),
    ("inputs",),
    ("schedules",),
    ("laws",),
    ("results",),
    ("fitting",),
    ("analysis",),
    ("plotting",),
    ("report",),
    ("cli",),
)
RANK = {name: rank for rank, names in enumerate(ORDER) for name in names}
EXEMPT = {PACKAGE, f"{PACKAGE}.__main__"}
# The one upward import allowed: a result's ``plot()`` method imports the plotting layer inside
# its body (the figure code lives above the results; matplotlib loads only when plotting).
PLOTTING = f"{PACKAGE}.plotting"
Sources = dict[str, tuple[str, bool]]  # module -> (source text, is a package __init__)


def read_package(root: Path = ROOT) -> Sources:
    """Source of every module under ``root``, by dotted module name."""
    sources = {}
    for path in sorted(root.rglob("*.py")):
        parts = (PACKAGE, *path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        sources[name] = (path.read_text(encoding="utf-8"), is_package)
    return sources


def import_graph(sources: Sources) -> dict[str, set[str]]:
    """Module → the modules of the package it imports (TYPE_CHECKING blocks left out)."""
    graph = {}
    for module, (text, is_package) in sources.items():
        package = module if is_package else module.rpartition(".")[0]
        found = set()
        for node, in_plot in _runtime_nodes(ast.parse(text)):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(package, node.module, node.level)
                if in_plot and base.startswith(PLOTTING):
                    continue  # a result's plot() draws with the plotting layer (see PLOTTING)
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    found.add(candidate if candidate in sources else base)
        graph[module] = {m for m in found if m in sources and m != module}
    return graph


def _runtime_nodes(tree: ast.AST) -> list[tuple[ast.AST, bool]]:
    """Every node except the bodies of ``if TYPE_CHECKING:`` blocks, each with whether it
    lies inside a function named ``plot``."""
    nodes: list[tuple[ast.AST, bool]] = []
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, in_plot = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend((child, in_plot) for child in node.orelse)
            continue
        nodes.append((node, in_plot))
        inside = in_plot or (isinstance(node, ast.FunctionDef) and node.name == "plot")
        stack.extend((child, inside) for child in ast.iter_child_nodes(node))
    return nodes


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(package: str, module: str | None, level: int) -> str:
    if level == 0:
        return module or ""
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - (level - 1)])
    return f"{base}.{module}" if module else base


def layer(module: str) -> int | None:
    """Rank of a module's layer (None for the exempt top package and unknown names)."""
    parts = module.split(".")
    return RANK.get(parts[1]) if len(parts) > 1 else None


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """One message per import from a higher layer (or from the top package, the API)."""
    problems = []
    for module in sorted(graph):
        if module in EXEMPT:
            continue
        rank = layer(module)
        if rank is None:
            problems.append(f"{module} is in no layer: add it to ORDER in tests/test_layers.py")
            continue
        for target in sorted(graph[module]):
            other = layer(target)
            if target == PACKAGE or (other is not None and other > rank):
                problems.append(f"{module} (layer {rank}) imports {target} (layer {other})")
    return problems


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other (strongly connected, Tarjan 1972)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_imports_only_go_downward() -> None:
    graph = import_graph(read_package())
    assert len(graph) > 40  # the walk found the package's modules
    assert f"{PACKAGE}.fitting.fit" in graph[f"{PACKAGE}.analysis.backtest_fits"]
    assert layer_violations(graph) == []


def test_no_import_cycles() -> None:
    assert find_cycles(import_graph(read_package())) == []


def test_checks_catch_an_upward_import_and_a_cycle() -> None:
    fake = {
        PACKAGE: ("", True),
        f"{PACKAGE}.inputs": ("", True),
        f"{PACKAGE}.inputs.load": ("def f():\n    from ..cli.main import run\n", False),
        f"{PACKAGE}.cli": ("", True),
        f"{PACKAGE}.cli.main": (f"import {PACKAGE}.inputs.load\n", False),
        f"{PACKAGE}.laws": ("from .. import results\n", True),
        f"{PACKAGE}.laws.base": (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..results import x\n",
            False,
        ),
        f"{PACKAGE}.results": ("", True),
    }
    graph = import_graph(fake)
    assert layer_violations(graph) == [
        f"{PACKAGE}.inputs.load (layer 1) imports {PACKAGE}.cli.main (layer 9)",
        f"{PACKAGE}.laws (layer 3) imports {PACKAGE}.results (layer 4)",
    ]
    assert find_cycles(graph) == [[f"{PACKAGE}.cli.main", f"{PACKAGE}.inputs.load"]]
    assert graph[f"{PACKAGE}.laws.base"] == set()  # a TYPE_CHECKING import never runs


def test_only_plot_methods_may_import_the_plotting_layer() -> None:
    fake = {
        PACKAGE: ("", True),
        f"{PACKAGE}.plotting": ("", True),
        f"{PACKAGE}.plotting.fit": ("", False),
        f"{PACKAGE}.report": ("", True),
        f"{PACKAGE}.results": ("", True),
        f"{PACKAGE}.results.a": (
            "class A:\n    def plot(self):\n        from ..plotting.fit import draw\n",
            False,
        ),
        f"{PACKAGE}.results.b": ("def show():\n    from ..plotting.fit import draw\n", False),
        f"{PACKAGE}.results.c": ("def plot():\n    from ..report import build\n", False),
    }
    assert layer_violations(import_graph(fake)) == [
        f"{PACKAGE}.results.b (layer 4) imports {PACKAGE}.plotting.fit (layer 7)",
        f"{PACKAGE}.results.c (layer 4) imports {PACKAGE}.report (layer 8)",
    ]
