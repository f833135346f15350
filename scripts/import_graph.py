"""Print kerasrnn_torch's import graph between its parts, and any import against the one direction.

    python scripts/import_graph.py            # part -> part edges, with the modules behind each
    python scripts/import_graph.py --modules  # every module -> module edge

The parts depend one way: core <- engine <- layers <- models <- io <- testing (docs/architecture.md).
`core` is kerasrnn_torch/core/ (the framework: it imports no layer); `engine` is the recurrent engine,
kerasrnn_torch/layers/rnn/engine/, which sits inside the rnn family but imports none of its layers;
`layers` is the rest of kerasrnn_torch/layers/.
Imports inside functions count too. No module imports the package facade any more (classes are
found by Keras name through core/registry.py); tests/repository/test_import_cycles.py checks that,
and that no module cycle exists.
"""
from __future__ import annotations

import argparse
import ast
import os
import sys
from collections import defaultdict

PACKAGE = "kerasrnn_torch"
ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), PACKAGE)
# The order of the parts: a part may import its own and the ones before it. Top-level helper modules
# (_checks, activations, initializers, ...) come first; the package's __init__ and __main__ last.
ORDER = ("helpers", "core", "ops", "engine", "layers", "models", "io", "testing", "top")
TOP_MODULES = {"__init__", "__main__"}
TOP_PACKAGES = {"benchmarks", "saving"}   # namespaces over the files (kr.saving)
ENGINE = f"{PACKAGE}.layers.rnn.engine"


def part_of(module: str) -> str:
    parts = module.split(".")
    if module == ENGINE or module.startswith(ENGINE + "."):
        return "engine"
    if len(parts) > 1 and parts[1] in ORDER:
        return parts[1]
    if len(parts) > 1 and parts[1] in TOP_PACKAGES:
        return "top"
    return "top" if parts[-1] in TOP_MODULES or module == PACKAGE else "helpers"


def module_name(path: str) -> str:
    relative = os.path.relpath(path, os.path.dirname(ROOT))[:-3].replace(os.sep, ".")
    return relative[:-len(".__init__")] if relative.endswith(".__init__") else relative


def imports_of(path: str) -> list[tuple[str, bool]]:
    """(imported kerasrnn_torch module, whether it is the package looked up at call time) for each import."""
    module = module_name(path)
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    with open(path, encoding="utf-8") as source:
        tree = ast.parse(source.read())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith(PACKAGE):
                continue
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.append((candidate if _is_module(candidate) else target, False))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE:
                    found.append((PACKAGE, True))
                elif alias.name.startswith(PACKAGE + "."):
                    found.append((alias.name, False))
    return found


def _is_module(name: str) -> bool:
    path = os.path.join(os.path.dirname(ROOT), *name.split("."))
    return os.path.isfile(path + ".py") or os.path.isdir(path)


def graph():
    """{module: [(imported module, by-name lookup)]} over the package's files."""
    edges = {}
    for directory, _, files in os.walk(ROOT):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                edges[module_name(path)] = imports_of(path)
    return edges


def violations(edges) -> list[str]:
    """Imports from a part to a later part (lookups of the package by name at call time excepted)."""
    found = []
    for module, targets in sorted(edges.items()):
        source = part_of(module)
        for target, lookup in targets:
            if lookup or target == PACKAGE:
                continue
            if ORDER.index(part_of(target)) > ORDER.index(source):
                found.append(f"{module} -> {target}")
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", action="store_true", help="print every module -> module edge")
    args = parser.parse_args(argv)
    edges = graph()
    if args.modules:
        for module, targets in sorted(edges.items()):
            for target, lookup in sorted(set(targets)):
                print(f"{module} -> {target}{'  (looked up by name at call time)' if lookup else ''}")
    else:
        between = defaultdict(set)
        for module, targets in edges.items():
            for target, lookup in targets:
                if part_of(module) != part_of(target) and not lookup:
                    between[part_of(module), part_of(target)].add(module.split(".")[-1])
        for (source, target), modules in sorted(between.items(), key=lambda item: (ORDER.index(item[0][0]),
                                                                                     ORDER.index(item[0][1]))):
            print(f"{source} -> {target}: {', '.join(sorted(modules))}")
    wrong = violations(edges)
    print(f"\nimports against core <- engine <- layers <- models <- io: {len(wrong)}")
    for line in wrong:
        print(f"  {line}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
