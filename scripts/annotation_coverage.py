"""Which parts of the public API lack type annotations.

    python scripts/annotation_coverage.py          # one line per missing annotation, then the count
    python scripts/annotation_coverage.py --count  # the count only

The public API is every name in `kerasrnn_torch.__all__`, and every public name of the public
submodules listed there (`kr.activations`, `kr.initializers`, `kr.regularizers`, `kr.constraints`,
`kr.testing`). For a function, each parameter and the return need an annotation. For a class, so
does every method, property, classmethod and staticmethod that a class of this package defines for
it, on it or on a base class of the package: the public ones, `__init__`, `__call__` and the other
dunder methods written in the package (methods that `dataclasses` or `NamedTuple` generate are not
counted). `self` and `cls` need none, and, as for mypy, `__init__` may leave its return out when
another parameter is annotated. tests/repository/test_typing.py keeps the count at zero (but for the few methods it
lists, left to another branch).
"""
from __future__ import annotations

import argparse
import inspect
import os
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

PACKAGE = "kerasrnn_torch"


def _ours(obj: object) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module == PACKAGE or module.startswith(PACKAGE + ".")


def _written_in_the_package(fn: Callable[..., Any]) -> bool:
    # dataclasses and NamedTuple generate methods from strings: their file is "<string>".
    code = getattr(inspect.unwrap(fn), "__code__", None)
    return code is not None and not code.co_filename.startswith("<")


def _public_names(module: types.ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [name for name, value in vars(module).items()
                 if not name.startswith("_") and _ours(value)
                 and getattr(value, "__module__", None) == module.__name__]
    return list(names)


def missing_annotations(fn: Callable[..., Any], *, method: bool = False) -> list[str]:
    """The parameters of `fn` with no annotation (and "return" when its return has none)."""
    fn = inspect.unwrap(fn)
    signature = inspect.signature(fn)
    params = list(signature.parameters.values())
    if method and params and params[0].kind in (inspect.Parameter.POSITIONAL_ONLY,
                                                inspect.Parameter.POSITIONAL_OR_KEYWORD):
        params = params[1:]  # self / cls
    missing = []
    for param in params:
        if param.annotation is inspect.Parameter.empty:
            prefix = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}.get(param.kind, "")
            missing.append(prefix + param.name)
    init_with_typed_params = fn.__name__ == "__init__" and len(missing) < len(params)
    if signature.return_annotation is inspect.Signature.empty and not init_with_typed_params:
        missing.append("return")
    return missing


def _class_members(cls: type) -> Iterator[tuple[str, Callable[..., Any]]]:
    """(qualified name, function) for each method of `cls` that the package writes."""
    seen: set[str] = set()
    for klass in cls.__mro__:
        if not _ours(klass):
            continue
        for name, value in vars(klass).items():
            if name in seen:
                continue
            seen.add(name)
            public = not name.startswith("_") or (name.startswith("__") and name.endswith("__"))
            if not public:
                continue
            functions: list[tuple[str, Any]] = []
            if isinstance(value, property):
                functions = [(name, value.fget), (name + ".setter", value.fset)]
            elif isinstance(value, (classmethod, staticmethod)):
                functions = [(name, value.__func__)]
            elif inspect.isfunction(value):
                functions = [(name, value)]
            for label, fn in functions:
                if fn is not None and _written_in_the_package(fn):
                    yield f"{klass.__module__}.{klass.__qualname__}.{label}", fn


def report() -> dict[str, list[str]]:
    """{qualified name: the parameters (and "return") lacking annotations} over the public API."""
    package = sys.modules.get(PACKAGE) or __import__(PACKAGE)
    found: dict[str, list[str]] = {}
    done: set[int] = set()

    def visit(value: object) -> None:
        if id(value) in done:
            return
        done.add(id(value))
        if inspect.isclass(value) and _ours(value):
            for qualname, fn in _class_members(value):
                if id(fn) in done:
                    continue
                done.add(id(fn))
                is_static = isinstance(inspect.getattr_static(value, fn.__name__, None), staticmethod)
                missing = missing_annotations(fn, method=not is_static)
                if missing:
                    found[qualname] = missing
        elif inspect.isfunction(value) and _ours(value) and _written_in_the_package(value):
            missing = missing_annotations(value)
            if missing:
                found[f"{value.__module__}.{value.__qualname__}"] = missing

    for name in package.__all__:
        value = getattr(package, name)
        if isinstance(value, types.ModuleType):
            for sub_name in _public_names(value):
                visit(getattr(value, sub_name))
        else:
            visit(value)
    return found


def count(found: dict[str, list[str]]) -> int:
    return sum(len(missing) for missing in found.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", action="store_true", help="print the count only")
    args = parser.parse_args(argv)
    found = report()
    if not args.count:
        for qualname, missing in sorted(found.items()):
            print(f"{qualname}: {', '.join(missing)}")
        print(f"{count(found)} missing annotations in {len(found)} functions")
    else:
        print(count(found))
    return 0


if __name__ == "__main__":
    # This checkout's package, not an installed one.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main())
