"""How a model reaches Keras's file functions, which live above it (`io/`) and install themselves here.

`model.save(path)`, `model.save_weights(path)` and `model.load_weights(path)` are Keras's methods,
and `ModelCheckpoint` calls them as Keras's does; the code that writes and reads Keras files imports
the models, so the models cannot import it. `io/` fills this table when it is imported (the package
always imports it).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

_FUNCTIONS: dict[str, Callable[..., Any]] = {}


def install(**functions: Callable[..., Any]) -> None:
    """Called by `io/`: `save_model=`, `save_weights=`, `load_weights=`."""
    _FUNCTIONS.update(functions)


def function(name: str) -> Callable[..., Any]:
    found = _FUNCTIONS.get(name)
    if found is None:
        raise RuntimeError(f"model.{name.replace('_model', '')}() needs kerasrnn_torch.io, which installs the Keras "
                           "file functions when `import kerasrnn_torch` runs")
    return found
