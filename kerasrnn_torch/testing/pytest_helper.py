"""`both_paths`: run a pytest test once on the fused kernel and once on the cell loop.

pytest is imported when the decorator is applied, so `kerasrnn_torch.testing` imports without it.
"""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from ..layers.rnn.engine.dispatch import force_path

PATHS = ("fused", "loop")
_FORCED = {"fused": "auto", "loop": "loop"}
ARGUMENT = "kr_path"


def both_paths(test: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a pytest test to run it twice, as `test[fused]` and `test[loop]`.

    `fused` runs the test body under `force_path("auto")`: every recurrent layer on the fused kernel
    where its configuration and mask allow (the way the model runs by default; a layer that cannot
    runs the loop, never an error). `loop` runs it under `force_path("loop")`: every layer on the
    cell loop. A test that takes a `kr_path` argument receives "fused" or "loop"; other arguments
    (fixtures, parametrize) work as before. Needs nothing but the import:

        import kerasrnn_torch as kr

        @kr.testing.both_paths
        def test_model_learns(kr_path):
            ...
    """
    import pytest

    if not callable(test):
        raise TypeError(f"kr.testing.both_paths decorates a test function, got {type(test).__name__} "
                        "(write @kr.testing.both_paths, without parentheses)")
    signature = inspect.signature(test)
    takes_path = ARGUMENT in signature.parameters

    @functools.wraps(test)
    def run_on_one_path(*args, **kwargs):
        path = kwargs[ARGUMENT] if takes_path else kwargs.pop(ARGUMENT)
        with force_path(_FORCED[path]):
            return test(*args, **kwargs)

    if not takes_path:
        parameters = list(signature.parameters.values())
        at = next((i for i, p in enumerate(parameters) if p.kind is inspect.Parameter.VAR_KEYWORD), len(parameters))
        parameters.insert(at, inspect.Parameter(ARGUMENT, inspect.Parameter.KEYWORD_ONLY))
        run_on_one_path.__signature__ = signature.replace(  # type: ignore[attr-defined]  # what inspect and pytest read
            parameters=parameters)
    return pytest.mark.parametrize(ARGUMENT, PATHS)(run_on_one_path)
