"""Lambda: wrap a Python function on tensors as a layer, as `keras.layers.Lambda`."""
from __future__ import annotations

import inspect

import numpy as np
import torch

from ... import activations
from ..._checks import describe
from ...core.layer import Layer
from collections.abc import Callable
from typing import Any
from ..._types import ShapeLike
from ...core import registry
from ...core.registry import register_keras_class


@register_keras_class("Lambda")
class Lambda(Layer):
    """Calls a Python function on the input tensors, as `keras.layers.Lambda`.

    `function(inputs, **arguments)` receives what the layer is called on (a
    tensor, or a list or tuple of them). As in Keras, when the function has a
    parameter named `mask` it receives the incoming mask, and one named
    `training` receives the training flag (None means the module's own
    `self.training`). No weights: torch modules used inside the function are
    not registered (write a `Layer` subclass for those).

    Masks follow Keras: with `mask=None` the layer does not support masking
    and the incoming mask stops here (`compute_mask` returns None); a
    callable `mask` computes the output mask as `mask(inputs, previous_mask)`;
    any other value (e.g. a bool tensor) is returned as the output mask
    whatever the input.

    Args:
        function: the callable to apply.
        output_shape: kept for Keras compatibility and in the config; the
            output's shape comes from running `function`.
        mask: None, a callable `(inputs, mask) -> mask`, or a fixed mask.
        arguments: a dict of extra keyword arguments for `function`.
        name, device, dtype: see `Layer`.

    `get_config()` has Keras's keys (`function`, `arguments`, and
    `output_shape` / `mask` when given), but holds the Python objects
    themselves rather than Keras's serialized bytecode: a `from_config` round
    trip works within one Python session. `from_config` also takes Keras's
    serialized forms of named functions (found among the custom objects and
    registered functions) and of tensors, and refuses a Python lambda's
    bytecode (`{"class_name": "__lambda__"}`) whatever `safe_mode` says:
    kerasrnn_torch never runs code a configuration holds.

    >>> Lambda(lambda x: x ** 2)(torch.tensor([1.0, 2.0, 3.0]))
    tensor([1., 4., 9.])
    """

    def __init__(self, function: Callable[..., Any], output_shape: ShapeLike | Callable[..., Any] | None = None,
                 mask: Any = None, arguments: dict[str, Any] | None = None,
                 **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        if not callable(function):
            raise TypeError(f"{owner}: `function` must be callable, got {type(function).__name__}")
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(f"{owner}: `arguments` must be a dict of keyword arguments or None, "
                            f"got {type(arguments).__name__}")
        self.function = function
        self._output_shape = output_shape
        self.mask = mask
        self.arguments = dict(arguments or {})
        self.supports_masking = mask is not None
        named = _positional_names(function)
        self._passes_mask = "mask" in named
        self._passes_training = "training" in named

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None,
                    safe_mode: bool | None = None) -> "Lambda":
        """A Lambda from `get_config()`'s dictionary, or from Keras's with its functions serialized by name
        (`custom_objects` or registered functions); `safe_mode` is accepted, a lambda's bytecode is refused."""
        config = dict(config)
        with registry.custom_objects(custom_objects):
            for key in ("function", "output_shape", "mask"):
                value = config.get(key)
                if isinstance(value, dict) and "class_name" in value:
                    config[key] = _deserialized(value, key, config.get("name"))
        return super().from_config(config)

    def get_config(self) -> dict:
        config = {**super().get_config(), "function": self.function}
        if self._output_shape is not None:
            config["output_shape"] = self._output_shape
        if self.mask is not None:
            config["mask"] = self.mask
        config["arguments"] = dict(self.arguments)
        return config

    def forward(self, inputs: Any, mask: Any = None, training: bool | None = None) -> Any:   # what `function` returns
        """`function(inputs, **arguments)`; `mask` and `training` reach a function that takes them."""
        if not (isinstance(inputs, torch.Tensor) or (
                isinstance(inputs, (list, tuple)) and all(isinstance(t, torch.Tensor) for t in inputs))):
            raise TypeError(f"{describe(self)} expects a tensor or a list of tensors, got {type(inputs).__name__} "
                            "(convert it with torch.as_tensor)")
        kwargs = dict(self.arguments)
        if self._passes_mask:
            kwargs["mask"] = mask
        if self._passes_training:
            kwargs["training"] = self.training if training is None else bool(training)
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def extra_repr(self) -> str:
        return f"name={self.name!r}, function={getattr(self.function, '__name__', repr(self.function))}"


def _deserialized(value: dict, key: str, name: Any) -> Any:
    """Keras's serialized function (by name), tensor or array in a Lambda's configuration."""
    kind = value["class_name"]
    if kind == "__lambda__":
        raise ValueError(f"Lambda {name!r}: its `{key}` is a Python lambda stored as bytecode, which "
                         "kerasrnn_torch never runs (Keras runs it only with safe_mode=False); rebuild the layer as "
                         "kr.Lambda(your_function), or name the function and pass it in custom_objects")
    if kind in ("__tensor__", "__numpy__"):
        inner = value.get("config") or {}
        array = np.asarray(inner.get("value"), dtype=inner.get("dtype"))
        return torch.as_tensor(array) if kind == "__tensor__" else array
    if kind == "function" and isinstance(value.get("config"), str):
        found = registry.custom_object(value["config"])
        if found is None and value.get("module") in ("keras.activations", None):
            found = activations.get(value["config"])
        if found is not None:
            return found
    raise ValueError(f"Lambda {name!r}: its `{key}` {value!r} is unknown: pass the function in custom_objects or "
                     "register it with @kr.saving.register_keras_serializable()")


def _positional_names(function) -> set:
    """The names of the function's ordinary parameters (Keras looks at these only); empty if unknown."""
    try:
        return set(inspect.getfullargspec(function).args)
    except TypeError:
        return set()
