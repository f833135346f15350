"""RMSNormalization, as `keras.layers.RMSNormalization`: `x / sqrt(mean(x**2) + epsilon) * scale`."""
from __future__ import annotations

import numbers
from typing import Any

import torch

from ..._checks import describe, require_float_input, require_tensor, shape_text
from ..._types import InputShape
from ...core.layer import Layer
from ...core.registry import register_keras_class
from .group_unit import _axis_list


@register_keras_class("RMSNormalization")
class RMSNormalization(Layer):
    """Root-mean-square normalization over `axis` with a learned `scale`, as `keras.layers.RMSNormalization`.

    Each slice over `axis` is divided by the root of its mean square plus `epsilon`, then multiplied by
    `scale` (one value per entry of the normalized axes, ones at first). Computed in at least float32.

    Args:
        axis: an axis or a list of axes to normalize over (default -1).
        epsilon: added to the mean square (1e-6).
        name, device, dtype, input_shape: see `Layer`.

    >>> tuple(round(value, 4) for value in RMSNormalization()(torch.tensor([[3.0, 4.0]]))[0].tolist())
    (0.8485, 1.1314)
    """

    supports_masking = True
    scale: torch.Tensor
    axis: int | list[int]
    epsilon: float

    def __init__(self, axis: int | list[int] = -1, epsilon: float = 1e-6, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        self.axis = _axis_list(axis, owner)
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or epsilon < 0:
            raise ValueError(f"{owner}: `epsilon` must be a number >= 0, got {epsilon!r}")
        self.epsilon = float(epsilon)
        self.build_from_hint()

    def expected_weights(self) -> list[tuple[str, bool]]:
        return [("scale", True)]

    def _axes(self, rank: int) -> list[int]:
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        for axis in axes:
            if not -rank <= axis < rank:
                raise ValueError(f"{describe(self)}: Axis {axis} is out of bounds for an input of rank {rank}. "
                                 f"Received: axis={self.axis}")
        return axes

    def build(self, input_shape: InputShape) -> None:
        self._axes(len(input_shape))
        # Keras keeps the axes as a sorted list once built (its config then says [-1] for axis=-1).
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        axes = self.axis
        shape = tuple(input_shape[axis] for axis in axes)
        if any(size is None for size in shape):
            raise ValueError(f"{describe(self)}: the normalized axes {self.axis} of input shape "
                             f"{shape_text(input_shape)} must have known sizes")
        self.add_weight("scale", tuple(int(size) for size in shape), "ones")
        self.built = True

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Normalize `inputs` by their root mean square over `axis`, times `scale`."""
        require_tensor(inputs, describe(self))
        require_float_input(inputs, describe(self))
        if not self.built:
            self.build(tuple(inputs.shape))
        axes = [axis % inputs.dim() for axis in self._axes(inputs.dim())]
        if tuple(inputs.shape[axis] for axis in axes) != tuple(self.scale.shape):
            raise ValueError(f"{describe(self)} was built for axes {self.axis} of sizes {tuple(self.scale.shape)}, "
                             f"got input of shape {shape_text(inputs.shape)}")
        compute = torch.promote_types(inputs.dtype, torch.float32)
        x = inputs.to(compute)
        inverse_rms = torch.rsqrt(x.pow(2).mean(dim=axes, keepdim=True) + self.epsilon)
        # The scale's axes are the normalized ones, in order: put them in place for broadcasting.
        shape = [inputs.shape[axis] if axis in axes else 1 for axis in range(inputs.dim())]
        outputs = x * inverse_rms * self.scale.to(compute).reshape(shape)
        return outputs.to(inputs.dtype)

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        self._axes(len(input_shape))
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, axis={self.axis}, epsilon={self.epsilon}"
