"""`kr.optimizers`: Keras 3's optimizers as `torch.optim.Optimizer`s, with Keras's names and numbers.

`kr.optimizers.Adam()` is made before the model exists, as in Keras, and bound with
`opt.build(parameters)` (or made with `params=` as a torch optimizer); `opt.step()` then applies
Keras's update from each parameter's `.grad`. `get`, `serialize` and `deserialize` take Keras's
names and serialized forms; `kr.optimizers.schedules` holds the learning-rate schedules.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import schedules
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .base import Optimizer
from .nadam import Nadam
from .rmsprop import RMSprop
from .sgd import SGD

_CLASSES: tuple[type[Optimizer], ...] = (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam)
_BY_NAME: dict[str, type[Optimizer]] = {cls.__name__.lower(): cls for cls in _CLASSES}


def _known_names() -> str:
    return ", ".join(sorted(_BY_NAME))


def _class_for(name: str) -> type[Optimizer]:
    cls = _BY_NAME.get(name.lower())
    if cls is None:
        raise ValueError(f"Unknown optimizer {name!r}; expected one of (any case): {_known_names()}")
    return cls


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """Keras's serialized form: `{"module": "keras.optimizers", "class_name", "config", "registered_name"}`.

    >>> kr.optimizers.serialize(kr.optimizers.SGD())["class_name"]
    'SGD'
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"serialize() takes a kr.optimizers.Optimizer, got {optimizer!r}")
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


def deserialize(config: dict[str, Any]) -> Optimizer:
    """The optimizer a serialized dict (ours or Keras's `keras.optimizers.serialize`) describes.

    The class name is matched without case, as Keras does; an unknown one raises ValueError.

    >>> kr.optimizers.deserialize({"class_name": "adam", "config": {"learning_rate": 0.01}}).learning_rate
    0.01
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"A serialized optimizer is a dict with 'class_name' and 'config', got {config!r}")
    return _class_for(config["class_name"]).from_config(dict(config.get("config") or {}))


def get(identifier: str | dict[str, Any] | Optimizer) -> Optimizer:
    """An optimizer from a Keras name ("adam", "SGD", "rmsprop", any case), a serialized dict, or itself.

    An `Optimizer` is returned as is; a name makes one with Keras's defaults; anything else raises
    ValueError naming the known names.

    >>> kr.optimizers.get("Adam")
    Adam(learning_rate=0.001, ...)
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        made: Callable[[], Optimizer] = _class_for(identifier)   # every concrete class has Keras's defaults
        return made()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}; pass a kr.optimizers.Optimizer, "
                     f"a serialized dict or one of the names: {_known_names()}")


__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam",
           "schedules", "get", "serialize", "deserialize"]
