"""Keras's serialized forms for what a layer's `get_config()` holds.

Nested layers, activations, regularizers and constraints are written as
Keras writes them (`{"module", "class_name", "config", "registered_name"}`,
activations by name), so `get_config()` reads like the Keras layer's and
`from_config` takes either.
"""
from __future__ import annotations

from .. import activations, initializers
from .._checks import describe
from . import registry
from collections.abc import Mapping
from typing import Any


def serialize_layer(layer) -> dict:
    """`{"module": "keras.layers", "class_name": "LSTM", "config": layer.get_config(), ...}`.

    The class name, module and registered name are the ones its class registered (`core/registry.py`); a class
    that did not register (a user's own layer) is written as Keras writes a custom layer: its Python module, its
    class name, and its class name as the registered name (the `custom_objects` key that loads it back).
    """
    if not hasattr(layer, "get_config"):
        raise ValueError(f"Cannot serialize {type(layer).__name__}: only kerasrnn_torch layers have a Keras "
                         "configuration (a torch module has none)")
    entry = registry.registration_of(type(layer), exact=True)
    if entry is None:
        cls = type(layer)
        return {"module": cls.__module__, "class_name": cls.__name__, "config": layer.get_config(),
                "registered_name": registry.registered_name_of(cls)}
    return {"module": entry.module, "class_name": entry.name, "config": layer.get_config(),
            "registered_name": entry.registered_name}


def keras_class_name(layer) -> str:
    """The class name Keras's files give this layer (a functional `Model` is Keras's `Functional`)."""
    return registry.keras_name_of(type(layer), exact=True) or type(layer).__name__


def deserialize_layer(entry, owner: str = "from_config", custom_objects: Mapping[str, Any] | None = None):
    """A kerasrnn_torch layer from `serialize_layer`'s dictionary (or Keras's), found by class name in the registry.

    `custom_objects` (`{"Name": Class}`), and any active custom object scope, come before the registry.
    """
    if isinstance(entry, dict) and "class_name" in entry:
        with registry.custom_objects(custom_objects):
            cls = registry.class_for(entry.get("registered_name")) or registry.class_for(str(entry["class_name"]))
            if isinstance(cls, type) and hasattr(cls, "from_config"):
                return cls.from_config(dict(entry.get("config") or {}))
        raise ValueError(f"{owner}: a {entry['class_name']} layer has no kerasrnn_torch counterpart: "
                         + registry.unknown_class_message(entry["class_name"], entry.get("registered_name")))
    if hasattr(entry, "get_config"):
        return entry           # already a layer
    raise ValueError(f"{owner}: expected a serialized layer {{'class_name': ..., 'config': ...}}, got {entry!r}")


def serialize_activation(fn, owner: str):
    name = activations.canonical_name(fn)
    if name is None:
        raise ValueError(f"{owner}: the activation {activations.describe(fn)} has no Keras name, so it cannot "
                         "go into a configuration")
    return name


def serialize_object(obj, module: str, owner: str, argument: str):
    """A regularizer or constraint as Keras serializes it; None stays None."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj
    get_config = getattr(obj, "get_config", None)
    if not callable(get_config):
        raise ValueError(f"{owner}: `{argument}` ({obj!r}) has no Keras configuration; use a "
                         f"kerasrnn_torch.{module.split('.')[-1]} object")
    return {"module": module, "class_name": type(obj).__name__, "config": get_config(), "registered_name": None}


def serialize_initializer(value: Any, owner: str, argument: str):
    try:
        return initializers.serialize(value)
    except ValueError as error:
        raise ValueError(f"{owner}: `{argument}`: {error}") from None


def weight_options(layer, prefixes) -> dict:
    """`<prefix>_initializer`, `_regularizer` and `_constraint` for each prefix ("kernel", "bias", ...)."""
    owner = describe(layer)
    config = {}
    for prefix in prefixes:
        config[f"{prefix}_initializer"] = serialize_initializer(
            getattr(layer, f"{prefix}_initializer"), owner, f"{prefix}_initializer")
        config[f"{prefix}_regularizer"] = serialize_object(
            getattr(layer, f"{prefix}_regularizer"), "keras.regularizers", owner, f"{prefix}_regularizer")
        config[f"{prefix}_constraint"] = serialize_object(
            getattr(layer, f"{prefix}_constraint"), "keras.constraints", owner, f"{prefix}_constraint")
    return config


def activity_regularizer(layer):
    return serialize_object(layer.activity_regularizer, "keras.regularizers", describe(layer), "activity_regularizer")


def without_quantization(config: dict, owner: str) -> dict:
    """Keras's Dense and Embedding configs carry `quantization_config`; only None (no quantization) is supported."""
    config = dict(config)
    if config.pop("quantization_config", None) is not None:
        raise ValueError(f"{owner}: quantized Keras layers are not supported (quantization_config must be None)")
    return config
