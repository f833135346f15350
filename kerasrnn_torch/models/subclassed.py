"""Keras's subclassed models: `class MyModel(kr.Model)` with layers assigned in `__init__` and a `call`.

`kr.Model` is both of Keras's kinds. Given `inputs` and `outputs` it is a
functional model (models/functional.py). Constructed without them, from a
subclass, it is a subclassed model: a Keras-style layer (see
`Layer.__init_subclass__`: `call` runs as `forward`, built at its first call)
with the training methods. This module holds what differs for that kind:
construction and Keras's `get_config`/`from_config` rules (an overridden
`train_step` and the other steps are run by `fit`: models/training/trainer.py).
"""
from __future__ import annotations

import inspect
from typing import Any

from torch import nn

from .._checks import describe
from ..core.layer import Layer, snake_case, unique_name
from ..core.tracking import expanded_children

def init_subclassed(model: Any, name: str | None, kwargs: dict[str, Any]) -> None:
    """Set up a subclassed model as Keras's `Model.__init__()` without inputs: a Keras layer, built at its first
    call; `name` defaults to the class name in snake case ("my_model"), as Keras's."""
    allowed = {"trainable", "dtype", "device"}
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise TypeError(f"{type(model).__name__}: Model.__init__() got unexpected keyword arguments {unknown} (a "
                        "subclassed model takes name=, trainable= and dtype=)")
    Layer.__init__(model, name=name or unique_name(snake_case(type(model).__name__)), **kwargs)
    model.is_functional = False
    model.built = False


def subclassed_layers(model: Layer) -> list[nn.Module]:
    """Keras's `model.layers` of a subclassed model: the layers assigned to it, in assignment order."""
    return expanded_children(model)


def subclassed_config(model: Layer) -> dict[str, Any]:
    """Keras's `get_config` of a subclassed model that does not define its own.

    As Keras: name, the constructor's arguments where all are plain values (numbers, strings, booleans,
    None), then `trainable` and `dtype`; else a NotImplementedError asking for `get_config`.
    """
    config: dict[str, Any] = {"name": model.name}
    base = Layer.get_config(model)
    if getattr(type(model).get_config, "__qualname__", "") != "Model.get_config":
        # The class defines get_config and calls this one through super(): the base keys, as Keras gives.
        return {**config, "trainable": base["trainable"], "dtype": base["dtype"]}
    auto = model.__dict__.get("_auto_config")
    if auto is None:
        raise NotImplementedError(
            f"{describe(model)}: {type(model).__name__} was constructed with arguments that are not plain values "
            "(numbers, strings, booleans, None), so its configuration cannot be made automatically; define "
            "get_config() returning the constructor's arguments (and from_config, if they need rebuilding), as Keras "
            "asks")
    config.update(auto)
    parameters = inspect.signature(type(model).__init__).parameters
    if "name" not in parameters and not any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        config.pop("name", None)
    config.update({"trainable": base["trainable"], "dtype": base["dtype"]})
    return config


def subclassed_from_config(cls: type, config: dict[str, Any]) -> Any:
    """Keras's rule: `cls(**config)`; a TypeError naming the class and the config when the constructor refuses."""
    try:
        return cls(**config)
    except TypeError as error:
        raise TypeError(
            f"Unable to revive model from config: {cls.__name__}(**config) failed. When overriding get_config(), "
            f"return every argument the constructor of {cls.__name__} takes (and only those), or define a "
            f"from_config(cls, config) class method that builds it. Received config={config}. Error: {error}"
        ) from error


__all__ = ["init_subclassed", "subclassed_config", "subclassed_from_config",
           "subclassed_layers"]
