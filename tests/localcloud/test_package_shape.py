"""The local cloud package keeps its shape: no mutable module state, no import cycles, and the
README names exactly the modules that import moto."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "localcloud"
MODULES = {path.stem: ast.parse(path.read_text()) for path in sorted(PACKAGE.glob("*.py"))}


def local_imports(tree: ast.Module) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "localcloud":
                found |= {alias.name for alias in node.names}
            elif node.module.startswith("localcloud."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("localcloud.")}
    return found & set(MODULES)


def test_no_module_keeps_mutable_state_in_a_module_global() -> None:
    offenders = []
    for name, tree in MODULES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Global):
                offenders.append(f"{name}: global {', '.join(node.names)}")
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                # Constants are UPPER_CASE, type aliases CamelCase; anything else is state.
                if (
                    isinstance(target, ast.Name)
                    and not target.id.lstrip("_")[:1].isupper()
                    and target.id != "__all__"
                ):
                    offenders.append(f"{name}: {target.id} = ...")
    assert offenders == []


def test_no_import_cycles_between_the_modules() -> None:
    graph = {name: local_imports(tree) for name, tree in MODULES.items()}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt in trail:
                cycles.append(" -> ".join([*trail[trail.index(nxt) :], nxt]))
            elif len(trail) < len(graph):
                visit(nxt, [*trail, nxt])

    for start in graph:
        visit(start, [start])
    assert cycles == []


def test_the_readme_names_every_module_that_imports_moto() -> None:
    importing = {
        name
        for name, tree in MODULES.items()
        for node in ast.walk(tree)
        if (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "moto")
        or (
            isinstance(node, ast.Import) and any(a.name.split(".")[0] == "moto" for a in node.names)
        )
    }
    readme = (REPO / "README.md").read_text()
    line = next(t for t in readme.splitlines() if t.startswith("Modules that import moto:"))
    named = set(re.findall(r"`(\w+)\.py`", line))
    assert named == importing
