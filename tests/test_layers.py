"""The import graph: ``scenarios/`` in layers, each importing only the layers below it, no
import circles (counting imports made inside functions), and no function-level imports of
the project's own modules.

Layers, lowest first (README, "Layout"): ``simulator`` (the pure model) → ``core`` →
``config`` → ``folders`` → ``analysis`` → ``engine`` | ``present`` (siblings: neither
imports the other) → ``studies`` → ``cli``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("simulator", "scenarios")
LAYERS = {
    "simulator": 0,
    "scenarios.core": 1,
    "scenarios.config": 2,
    "scenarios.folders": 3,
    "scenarios.analysis": 4,
    "scenarios.engine": 5,
    "scenarios.present": 5,
    "scenarios.studies": 6,
    "scenarios.cli": 7,
}
SIBLINGS = {("scenarios.engine", "scenarios.present"), ("scenarios.present", "scenarios.engine")}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def layer_of(name: str) -> str:
    if name in PACKAGES:
        return "simulator"  # the packages themselves (empty __init__ files): the floor
    for layer in sorted(LAYERS, key=len, reverse=True):
        if name == layer or name.startswith(layer + "."):
            return layer
    raise AssertionError(f"{name}: in no layer; put it in one of {', '.join(LAYERS)}")


def own_imports(name: str, path: Path, known: set[str]) -> list[tuple[str, int, bool]]:
    """(imported module, line, made inside a function) for each import of the project's own
    modules (``from a.b import c`` counts as ``a.b.c`` when that is a module, else ``a.b``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    nested: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            nested.update(id(child) for child in ast.walk(node) if child is not node)
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            module = target if target in known else None
            if (
                module is None
                and target.rpartition(".")[0] in known
                and isinstance(node, ast.ImportFrom)
            ):
                continue  # ``from a.b import name``: counted once, as ``a.b``
            if module is not None and module != name:
                found.append((module, node.lineno, id(node) in nested))
    return found


GRAPH = {
    name: own_imports(name, path, set(modules()))
    for name, path in modules().items()
    if name.split(".")[0] in PACKAGES
}


def test_no_function_level_imports_of_the_projects_own_modules() -> None:
    """In ``scenarios/`` (``simulator/`` keeps its lazy import of the LP solvers: its shape
    is not this test's business, and it has no circles)."""
    inside = [
        f"{name}:{line} imports {target}"
        for name, edges in GRAPH.items()
        for target, line, nested in edges
        if nested and name.startswith("scenarios")
    ]
    assert not inside, "\n".join(inside)


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = []
    for name, edges in GRAPH.items():
        mine = layer_of(name)
        for target, line, _ in edges:
            theirs = layer_of(target)
            if LAYERS[theirs] > LAYERS[mine] or (mine, theirs) in SIBLINGS:
                upward.append(f"{name}:{line} ({mine}) imports {target} ({theirs})")
    assert not upward, "\n".join(upward)


def test_no_import_circles() -> None:
    edges = {name: {t for t, _, _ in targets} for name, targets in GRAPH.items()}
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                circles.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not circles, "\n".join(" -> ".join(c) for c in circles)


@pytest.mark.parametrize("layer", [name for name in LAYERS if name.startswith("scenarios.")])
def test_each_layer_is_a_folder_or_module(layer: str) -> None:
    path = ROOT / Path(*layer.split("."))
    assert path.is_dir() or path.with_suffix(".py").is_file(), f"{layer}: missing"
