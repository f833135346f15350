"""No import cycles inside kerasrnn_torch, and no module of it imports the package facade.

The graph is built from the source with `ast`: every `import` and `from ... import` anywhere in a
module counts, at the top or inside a function (an import inside a function still runs, only later).
Imports under `if TYPE_CHECKING:` are left out: they never run, they only feed the type checker.
`from package import name` is an edge to `package.name` where that is a module, else to `package`.

Two rules (docs/architecture.md, "The import rule"):
- no cycle between the package's modules (the failure names each cycle's modules);
- no module imports `kerasrnn_torch` itself (the facade: `import kerasrnn_torch`,
  `from kerasrnn_torch import Name`, `from .. import Name` reaching it), except `__main__.py`:
  classes are found through `core/registry.py`, names through the modules that define them.
"""
from __future__ import annotations

import ast
import os

PACKAGE = "kerasrnn_torch"
ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), PACKAGE)
FACADE_ALLOWED = {f"{PACKAGE}.__main__"}


def module_name(path: str, root: str) -> str:
    relative = os.path.relpath(path, os.path.dirname(root))[:-3].replace(os.sep, ".")
    return relative[:-len(".__init__")] if relative.endswith(".__init__") else relative


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST):
    """Every import node in the tree, except those under `if TYPE_CHECKING:` (its `else` still counts)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from _import_nodes(ast.Module(body=[child], type_ignores=[]))
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        yield from _import_nodes(node)


def _is_module(name: str, root: str) -> bool:
    path = os.path.join(os.path.dirname(root), *name.split("."))
    return os.path.isfile(path + ".py") or os.path.isdir(path)


def imports_of(path: str, root: str) -> list[str]:
    """The package's modules that the module at `path` imports (`PACKAGE` itself for the facade)."""
    module = module_name(path, root)
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    with open(path, encoding="utf-8") as source:
        tree = ast.parse(source.read())
    found = []
    for node in _import_nodes(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target != PACKAGE and not target.startswith(PACKAGE + "."):
                continue
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.append(candidate if _is_module(candidate, root) else target)
        else:
            found += [alias.name for alias in node.names
                      if alias.name == PACKAGE or alias.name.startswith(PACKAGE + ".")]
    return found


def graph(root: str = ROOT) -> dict[str, set[str]]:
    """{module: the package's modules it imports} over every .py file under `root`."""
    edges = {}
    for directory, _, files in os.walk(root):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                edges[module_name(path, root)] = set(imports_of(path, root))
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (or a module importing itself), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:         # Tarjan's algorithm, iterative
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in edges:
                    continue
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(edges[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in edges.get(node, ()):
                        found.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return sorted(found)


def facade_imports(edges: dict[str, set[str]]) -> list[str]:
    return sorted(module for module, targets in edges.items()
                  if PACKAGE in targets and module not in FACADE_ALLOWED)


def test_no_import_cycles():
    found = cycles(graph())
    assert found == [], "import cycles (imports inside functions count):\n" + "\n".join(
        " <-> ".join(cycle) for cycle in found)


def test_no_module_imports_the_package_facade():
    assert facade_imports(graph()) == [], "modules importing kerasrnn_torch itself (use the defining modules, " \
                                          "or core/registry.py to find a class by its Keras name)"


def test_the_checker_sees_a_cycle_through_a_function_level_import(tmp_path):
    root = tmp_path / PACKAGE
    (root / "core").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "core" / "__init__.py").write_text("")
    (root / "core" / "a.py").write_text("from .b import thing\n")
    (root / "core" / "b.py").write_text("def thing():\n    from . import a\n")
    (root / "core" / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import x\n")
    (root / "core" / "d.py").write_text("def late():\n    import kerasrnn_torch\n    from .. import Layer\n")
    edges = graph(str(root))
    assert cycles(edges) == [[f"{PACKAGE}.core.a", f"{PACKAGE}.core.b"]]
    assert edges[f"{PACKAGE}.core.c"] == set()          # TYPE_CHECKING-only imports do not run
    assert facade_imports(edges) == [f"{PACKAGE}.core.d"]
