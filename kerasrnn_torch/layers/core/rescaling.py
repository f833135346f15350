"""Rescaling, as `keras.layers.Rescaling`: `inputs * scale + offset`. It passes the mask on."""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

from ..._checks import describe, require_tensor
from ..._types import InputShape
from ...core.layer import Layer
from ...core.registry import register_keras_class


def _number_or_array(value: Any, argument: str, owner: str) -> Any:
    """A number, or an array of numbers (a per-channel scale), as Keras takes them; a Keras config's
    serialized array (`{"class_name": "__numpy__", ...}`) too."""
    if isinstance(value, dict) and value.get("class_name") in ("__numpy__", "__tensor__"):
        inner = value.get("config") or {}
        value = np.asarray(inner.get("value"), dtype=inner.get("dtype"))
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, (list, tuple, np.ndarray)):
        array = np.asarray(value)
        if array.dtype.kind in "fiu":
            return array
    raise ValueError(f"{owner}: `{argument}` must be a number or an array of numbers, got {value!r}")


def _serialized(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": value.tolist(), "dtype": str(value.dtype)}}
    return value


@register_keras_class("Rescaling")
class Rescaling(Layer):
    """Multiplies the inputs by `scale` and adds `offset`, as `keras.layers.Rescaling`.

    Computed in the layer's float dtype: integer inputs (image bytes, say) come out as floats.

    Args:
        scale: a number, or an array broadcast against the inputs' last axes (a per-channel scale).
        offset: a number or an array, added after scaling (0).
        name, device, dtype: see `Layer`.

    >>> Rescaling(1 / 255)(torch.tensor([0, 255], dtype=torch.uint8)).tolist()
    [0.0, 1.0]
    """

    supports_masking = True

    def __init__(self, scale: Any, offset: Any = 0.0, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        self.scale = _number_or_array(scale, "scale", owner)
        self.offset = _number_or_array(offset, "offset", owner)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """`inputs * scale + offset` in the layer's dtype."""
        require_tensor(inputs, describe(self))
        dtype = self.factory_kwargs["dtype"] or torch.get_default_dtype()
        x = inputs.to(dtype)
        scale = torch.as_tensor(self.scale, dtype=dtype, device=x.device)
        offset = torch.as_tensor(self.offset, dtype=dtype, device=x.device)
        return x * scale + offset

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": _serialized(self.scale), "offset": _serialized(self.offset)}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, scale={self.scale}, offset={self.offset}"
