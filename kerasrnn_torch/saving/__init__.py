"""`kr.saving`: Keras's `keras.saving` names over kerasrnn_torch's Keras files and registry.

`load_model` / `save_model` are `kr.from_keras` / `kr.save_keras` with Keras's
arguments; `register_keras_serializable` registers a user's class under
"package>name" as Keras does, so a Keras file naming it is read and a model
holding it is written; `custom_object_scope` (or `custom_objects=` of the
loaders and `from_config`) gives names to classes for a while.

    @kr.saving.register_keras_serializable(package="my_package")
    class Scale(kr.Layer): ...

    model = kr.saving.load_model("model.keras", custom_objects={"Scale": Scale})
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

import numpy as np
import torch
from torch import nn

from .. import activations, constraints, initializers, optimizers, regularizers
from .._types import PathLike
from ..core import config as layer_config
from ..core import registry
from ..io.keras_config import model_from_config
from ..io.keras_files import from_keras, load_keras_weights
from ..io.keras_save import _config_json as model_config_json
from ..io.keras_save import save_keras, save_keras_weights
from ..io.weight_matching import LoadReport
from ..models.functional import Model
from ..models.sequential import Sequential

__all__ = ["CustomObjectScope", "custom_object_scope", "deserialize_keras_object", "get_custom_objects",
           "get_registered_name", "get_registered_object", "load_model", "load_weights",
           "register_keras_serializable", "save_model", "save_weights", "serialize_keras_object"]

T = TypeVar("T")


# ------------------------------------------------------------ registration
def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable[[T], T]:
    """Class (or function) decorator, as `keras.saving.register_keras_serializable`: registered as "package>name".

    The registered name is what a Keras file's `registered_name` says for the class (`name` defaults to the
    class's own name, which stays its `class_name`). Register the kerasrnn_torch class under the name its Keras
    twin was registered under, and `kr.from_keras` reads the Keras file, `kr.save_keras` writes a file Keras's
    `load_model` reads with the Keras class registered. A later registration under the same name replaces the
    earlier one, as in Keras. Registering a class is `core.registry.register_keras_class(package=...)` with
    Keras's argument defaults.

    Args:
        package: the package part of the registered name ("Custom", Keras's default).
        name: the name part (default: the class's or function's `__name__`).
    """
    def decorate(obj: T) -> T:
        registry.register_serializable(obj, package, name)
        return obj
    return decorate


def get_registered_name(obj: Any) -> str:
    """The name `obj` is registered under ("package>name"), else its own `__name__`, as Keras's."""
    return registry.registered_name_of(obj)


def get_registered_object(name: str, custom_objects: Mapping[str, Any] | None = None,
                          module_objects: Mapping[str, Any] | None = None) -> Any | None:
    """The class or function registered (or in force as a custom object) under `name`, else None.

    Looks in the active custom object scopes and the global custom objects, then `custom_objects`, then the
    registry (registered user classes and kerasrnn_torch's own Keras names), then `module_objects`, as Keras's.
    """
    found = registry.custom_object(name)
    if found is not None:
        return found
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    cls = registry.class_for(name)
    if cls is not None:
        return cls
    if module_objects and name in module_objects:
        return module_objects[name]
    return None


def get_custom_objects() -> dict[str, Any]:
    """The global custom objects (name -> class or function), as Keras's: editing the dictionary registers.

    `kr.saving.get_custom_objects().update({"Scale": Scale})` makes every file and configuration naming
    "Scale" build a `Scale`.
    """
    return registry.global_custom_objects()


class CustomObjectScope:
    """`with CustomObjectScope({"Scale": Scale}):` the names mean those classes (or functions) in the block.

    As Keras's `keras.saving.CustomObjectScope` (`custom_object_scope` is the same class): every loader and
    `from_config` inside the block finds them, and the writers write them under those names. Scopes nest (an
    inner name wins) and belong to their thread.
    """

    def __init__(self, *custom_objects: Mapping[str, Any] | None) -> None:
        self.custom_objects = tuple(custom_objects)
        self._block: Any = None

    def __enter__(self) -> dict[str, Any]:
        self._block = registry.custom_objects(*self.custom_objects)
        scope: dict[str, Any] = self._block.__enter__()
        return scope

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        block, self._block = self._block, None
        if block is not None:
            block.__exit__(exc_type, exc, traceback)


custom_object_scope = CustomObjectScope


# ------------------------------------------------------------ files
def load_model(filepath: PathLike, custom_objects: Mapping[str, Any] | None = None, compile: bool = True,
               safe_mode: bool = True) -> Sequential | Model:
    """`kr.from_keras(filepath, custom_objects=...)` with Keras's `load_model` arguments.

    `compile` is accepted for Keras's programs: the file's compile settings (optimizer, loss) are not restored,
    compile the model again. `safe_mode` is accepted: kerasrnn_torch never runs code a file holds (a `Lambda`
    is refused in any mode).
    """
    _check_keras_path(filepath, "load_model")
    return from_keras(filepath, custom_objects=custom_objects)


def save_model(model: nn.Module, filepath: PathLike, overwrite: bool = True, zipped: bool | None = None,
               **kwargs: Any) -> None:
    """`kr.save_keras(model, filepath)` with Keras's `save_model` arguments (a `.keras` archive).

    `overwrite=False` refuses an existing file (Keras would ask on the terminal); `zipped=False` (an unzipped
    folder) is not supported.
    """
    if kwargs:
        raise TypeError(f"save_model: unexpected arguments {', '.join(sorted(kwargs))}")
    if zipped is False:
        raise ValueError("save_model: zipped=False (an unzipped model folder) is not supported; save a .keras "
                         "archive (zipped=None or True)")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"save_model: {os.fspath(filepath)!r} exists and overwrite=False")
    save_keras(model, filepath)


def load_weights(model: nn.Module, filepath: PathLike, skip_mismatch: bool = False,
                 custom_objects: Mapping[str, Any] | None = None) -> LoadReport:
    """`kr.load_keras_weights(model, filepath, skip_mismatch=...)`, as `keras.saving.load_weights`."""
    return load_keras_weights(model, filepath, skip_mismatch=skip_mismatch, custom_objects=custom_objects)


def save_weights(model: nn.Module, filepath: PathLike, overwrite: bool = True) -> None:
    """`kr.save_keras_weights(model, filepath)`, as `keras.saving.save_weights` (a `.weights.h5` file)."""
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"save_weights: {os.fspath(filepath)!r} exists and overwrite=False")
    save_keras_weights(model, filepath)


def _check_keras_path(filepath: PathLike, function: str) -> None:
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(f"{function}: expected a path to a .keras file, got {filepath!r}")


def model_from_json(json_string: str, custom_objects: Mapping[str, Any] | None = None) -> Sequential | Model:
    """The model a JSON configuration describes (`model.to_json()`'s, or Keras's), built with new weights, as
    `keras.models.model_from_json`; `custom_objects` names a user's own classes."""
    if not isinstance(json_string, (str, bytes)):
        raise TypeError(f"model_from_json: expected a JSON string, got {type(json_string).__name__}")
    try:
        config = json.loads(json_string)
    except json.JSONDecodeError as error:
        raise ValueError(f"model_from_json: the string is not JSON ({error})") from None
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError("model_from_json: expected a serialized model (a JSON object with 'class_name' and "
                         f"'config'), got {str(json_string)[:80]!r}")
    with registry.custom_objects(custom_objects):
        model: Sequential | Model = model_from_config(config, "model_from_json")
    return model


def model_to_json(model: nn.Module, **kwargs: Any) -> str:
    """`model.to_json(**kwargs)`: the model's Keras configuration as JSON (what a `.keras` archive's
    config.json holds); `kwargs` go to `json.dumps`."""
    text = model_config_json(model)      # what save_keras writes (checked: every value has a JSON form)
    return json.dumps(json.loads(text), **kwargs) if kwargs else text


registry.provide("load_model", load_model)
registry.provide("save_model", save_model)
registry.provide("model_from_json", model_from_json)
registry.provide("model_to_json", model_to_json)


# ------------------------------------------------------------ objects <-> configurations
_PLAIN = (type(None), bool, int, float, str)


def serialize_keras_object(obj: Any) -> Any:
    """Keras's serialized form of `obj`, for what kerasrnn_torch has.

    Layers and models (`{"module", "class_name", "config", "registered_name"}`), initializers, regularizers,
    constraints, optimizers, activation functions (Keras's `{"class_name": "function", ...}`), registered user
    functions, tensors and NumPy arrays (Keras's `{"class_name": "__tensor__" / "__numpy__", ...}`); plain
    values, lists and dictionaries of them as they are (tuples as lists).
    """
    if isinstance(obj, _PLAIN):
        return obj
    if isinstance(obj, (torch.Tensor, np.ndarray)):
        kind = "__tensor__" if isinstance(obj, torch.Tensor) else "__numpy__"
        values = obj.detach().cpu().numpy() if isinstance(obj, torch.Tensor) else obj
        return {"class_name": kind, "config": {"value": values.tolist(), "dtype": str(values.dtype)}}
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(item) for item in obj]
    if isinstance(obj, dict):
        return {key: serialize_keras_object(value) for key, value in obj.items()}
    if isinstance(obj, initializers.Initializer):
        return initializers.serialize(obj)
    if isinstance(obj, regularizers.Regularizer):
        return regularizers.serialize(obj)
    if isinstance(obj, constraints.Constraint):
        return constraints.serialize(obj)
    if isinstance(obj, optimizers.Optimizer):
        return optimizers.serialize(obj)
    if isinstance(obj, nn.Module):
        return layer_config.serialize_layer(obj)
    if isinstance(obj, type):
        raise ValueError(f"serialize_keras_object: {obj.__qualname__} is a class; serialize an object of it")
    if callable(obj):
        name = activations.canonical_name(obj)
        if name is not None:
            return {"module": "keras.activations", "class_name": "function", "config": name,
                    "registered_name": "function"}
        registered = registry.registered_name_of(obj)
        if registry.custom_object(registered) is obj:
            return {"module": getattr(obj, "__module__", None), "class_name": "function", "config": registered,
                    "registered_name": "function"}
        raise ValueError(f"serialize_keras_object: the function {registered!r} is neither a Keras activation nor "
                         "registered; register it with @kr.saving.register_keras_serializable()")
    if callable(getattr(obj, "get_config", None)):
        return {"module": type(obj).__module__, "class_name": type(obj).__name__, "config": obj.get_config(),
                "registered_name": registry.registered_name_of(type(obj))}
    raise ValueError(f"serialize_keras_object: {obj!r} has no Keras serialized form")


def deserialize_keras_object(config: Any, custom_objects: Mapping[str, Any] | None = None, safe_mode: bool = True,
                             **kwargs: Any) -> Any:
    """The object `serialize_keras_object` (or Keras's) describes, built from kerasrnn_torch's classes.

    A layer or model is found by its registered name or class name (`custom_objects`, the active custom object
    scopes, registered classes, kerasrnn_torch's own); an unknown class is refused with the fix. `safe_mode` is
    accepted: nothing a configuration holds is run as code.
    """
    if kwargs:
        raise TypeError(f"deserialize_keras_object: unexpected arguments {', '.join(sorted(kwargs))}")
    with registry.custom_objects(custom_objects):
        return _deserialize(config)


def _deserialize(config: Any) -> Any:
    if isinstance(config, str):
        found = registry.custom_object(config)
        return found if found is not None else config
    if isinstance(config, _PLAIN):
        return config
    if isinstance(config, (list, tuple)):
        return [_deserialize(item) for item in config]
    if not isinstance(config, dict):
        raise ValueError(f"deserialize_keras_object: expected a serialized object (a dict), got {config!r}")
    if "class_name" not in config:
        return {key: _deserialize(value) for key, value in config.items()}
    class_name, module = config.get("class_name"), config.get("module")
    if class_name in ("__tensor__", "__numpy__"):
        inner = config.get("config") or {}
        values = np.asarray(inner.get("value"), dtype=inner.get("dtype"))
        return torch.as_tensor(values) if class_name == "__tensor__" else values
    if class_name == "function":
        name = config.get("config")
        found = registry.custom_object(name) if isinstance(name, str) else None
        if found is not None:
            return found
        if module in ("keras.activations", None) and isinstance(name, str):
            return activations.get(name)
        raise ValueError(f"deserialize_keras_object: the function {name!r} ({module}) is unknown: pass "
                         f"custom_objects={{{name!r}: your_function}} or register it with "
                         "@kr.saving.register_keras_serializable()")
    if module == "keras.initializers":
        return initializers.deserialize(config)
    if module == "keras.regularizers":
        return regularizers.deserialize(config)
    if module == "keras.constraints":
        return constraints.deserialize(config)
    if module == "keras.optimizers":
        return optimizers.deserialize(config)
    return layer_config.deserialize_layer(config, "deserialize_keras_object")
