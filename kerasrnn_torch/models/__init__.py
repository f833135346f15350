"""`kr.models`: the containers, with Keras's `keras.models` names.

`Model` (functional) and `Sequential`; `load_model` and `save_model` are
`kr.saving.load_model` / `kr.saving.save_model` (`kr.from_keras` /
`kr.save_keras` with Keras's arguments); `clone_model` builds the same model
again from its configuration, with new weights.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from .._types import PathLike
from ..core import registry
from .functional import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json", "save_model"]


def load_model(filepath: PathLike, custom_objects: Mapping[str, Any] | None = None, compile: bool = True,
               safe_mode: bool = True) -> Sequential | Model:
    """As `keras.models.load_model`: `kr.saving.load_model` (a `kr.Sequential` or `kr.Model` from a `.keras`
    file, weights loaded; `custom_objects` names a file's own classes)."""
    loaded: Sequential | Model = registry.provided("load_model")(filepath, custom_objects=custom_objects,
                                                                 compile=compile, safe_mode=safe_mode)
    return loaded


def save_model(model: nn.Module, filepath: PathLike, overwrite: bool = True, zipped: bool | None = None,
               **kwargs: Any) -> None:
    """As `keras.models.save_model`: `kr.saving.save_model` (a `.keras` archive Keras's `load_model` reads)."""
    registry.provided("save_model")(model, filepath, overwrite=overwrite, zipped=zipped, **kwargs)


def model_from_json(json_string: str, custom_objects: Mapping[str, Any] | None = None) -> Sequential | Model:
    """As `keras.models.model_from_json`: the `kr.Sequential` or `kr.Model` a JSON configuration describes
    (`model.to_json()`'s or Keras's), with new weights; `custom_objects` names a user's own classes."""
    model: Sequential | Model = registry.provided("model_from_json")(json_string, custom_objects=custom_objects)
    return model


def clone_model(model: Sequential | Model, input_tensors: Any = None, clone_function: Any = None,
                call_function: Any = None, recursive: bool = False, **kwargs: Any) -> Sequential | Model:
    """A new `Sequential` or functional `Model` of the same layers and connections, with new weights.

    As Keras's `clone_model` with its defaults: each layer is made again from its configuration (so the
    weights are initialized afresh, not copied: `clone.load_state_dict(model.state_dict())` copies them).
    `input_tensors`, `clone_function` and `call_function` are not supported.
    """
    unsupported = [name for name, value in (("input_tensors", input_tensors), ("clone_function", clone_function),
                                            ("call_function", call_function)) if value is not None]
    unsupported += sorted(kwargs)
    if unsupported:
        raise ValueError(f"clone_model: {', '.join(unsupported)} is not supported; clone with the defaults")
    if not isinstance(model, (Sequential, Model)):
        raise ValueError(f"clone_model: expected a kr.Sequential or kr.Model, got {type(model).__name__} (a "
                         "subclassed model is cloned by constructing it again)")
    clone = type(model).from_config(model.get_config())
    if isinstance(clone, Sequential) and not clone.built and model.built and getattr(model, "input_shape", None) is not None:
        clone.build(model.input_shape)
    return clone
