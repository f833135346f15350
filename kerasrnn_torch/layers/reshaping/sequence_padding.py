"""ZeroPadding1D, Cropping1D and UpSampling1D: lengthen, shorten or repeat the steps of a sequence,
as their `keras.layers` namesakes. None supports masking in Keras: a mask stops here."""
from __future__ import annotations

import numbers
from typing import Any
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ..._checks import describe, require_tensor, shape_text
from ..._types import InputShape
from ...core.data_format import standardize as standardize_data_format
from ...core.layer import Layer
from ...core.registry import register_keras_class


def nonnegative_pair(value: Any, argument: str, owner: str) -> tuple[int, int]:
    """Two non-negative ints from `n` or `(left, right)`, as Keras's `standardize_tuple(..., allow_zero=True)`."""
    values = tuple(value) if isinstance(value, (list, tuple)) else (value, value)
    if len(values) != 2 or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0 for v in values):
        raise ValueError(f"{owner}: `{argument}` must be a non-negative integer or a tuple of 2 non-negative "
                         f"integers, got {value!r}")
    return int(values[0]), int(values[1])


class _SequenceLayer(Layer):
    supports_masking = False

    def __init__(self, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        self.built = True

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> Any:
        """Always None: this layer does not support masking in Keras."""
        return None

    def _checked(self, inputs: torch.Tensor, layout: str = "(batch, steps, features)") -> torch.Tensor:
        require_tensor(inputs, describe(self), f"a tensor of shape {layout}")
        if inputs.dim() != 3:
            raise ValueError(f"{describe(self)} expects inputs of shape {layout}, got shape {shape_text(inputs.shape)}")
        return inputs


@register_keras_class("ZeroPadding1D")
class ZeroPadding1D(_SequenceLayer):
    """Adds zero steps at the start and end of a sequence, as `keras.layers.ZeroPadding1D`.

    Args:
        padding: steps to add at both ends (an integer) or `(start, end)`.
        data_format: "channels_last" (`(batch, steps, features)`; default, None
            means the same) or "channels_first" (`(batch, features, steps)`).
        name, device, dtype: see `Layer`.

    >>> ZeroPadding1D((1, 2))(torch.ones(1, 2, 1)).flatten().tolist()
    [0.0, 1.0, 1.0, 0.0, 0.0]
    """

    def __init__(self, padding: int | Sequence[int] = 1, data_format: str | None = None,
                 **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        self.padding = nonnegative_pair(padding, "padding", describe(self))
        self.data_format = standardize_data_format(data_format, describe(self))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """`inputs` with `padding` zero steps added at each end."""
        self._checked(inputs, "(batch, steps, features)" if self.data_format == "channels_last"
                      else "(batch, features, steps)")
        if self.data_format == "channels_last":
            return F.pad(inputs, (0, 0, *self.padding))
        return F.pad(inputs, self.padding)

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        shape = list(input_shape)
        axis = 1 if self.data_format == "channels_last" else 2
        if shape[axis] is not None:
            shape[axis] += sum(self.padding)
        return tuple(shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, padding={self.padding}, data_format={self.data_format!r}"


@register_keras_class("Cropping1D")
class Cropping1D(_SequenceLayer):
    """Removes steps from the start and end of `(batch, steps, features)`, as `keras.layers.Cropping1D`.

    Args:
        cropping: steps to remove at both ends (an integer) or `(start, end)`;
            at least one step must remain.
        name, device, dtype: see `Layer`.

    >>> Cropping1D((1, 2))(torch.arange(5.0).reshape(1, 5, 1)).flatten().tolist()
    [1.0, 2.0]
    """

    def __init__(self, cropping: int | Sequence[int] = (1, 1), **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        self.cropping = nonnegative_pair(cropping, "cropping", describe(self))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """`inputs` without the cropped steps."""
        self._checked(inputs)
        start, end = self.cropping
        if start + end >= inputs.shape[1]:
            raise ValueError(f"{describe(self)}: `cropping` parameter of `Cropping1D` layer must be smaller than the "
                             f"input length: cropping={self.cropping} leaves none of the {inputs.shape[1]} steps "
                             f"of input shape {shape_text(inputs.shape)}")
        return inputs[:, start:inputs.shape[1] - end]

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        steps = input_shape[1]
        if steps is not None:
            steps -= sum(self.cropping)
            if steps <= 0:
                raise ValueError(f"{describe(self)}: `cropping` parameter of `Cropping1D` layer must be smaller "
                                 f"than the input length: cropping={self.cropping}, input shape "
                                 f"{shape_text(input_shape)}")
        return (input_shape[0], steps, input_shape[2])

    def get_config(self) -> dict:
        return {**super().get_config(), "cropping": self.cropping}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, cropping={self.cropping}"


@register_keras_class("UpSampling1D")
class UpSampling1D(_SequenceLayer):
    """Repeats each step `size` times along the steps axis, as `keras.layers.UpSampling1D`.

    Args:
        size: the number of repetitions (a positive integer, default 2).
        name, device, dtype: see `Layer`.

    >>> UpSampling1D(2)(torch.tensor([[[1.0], [2.0]]])).flatten().tolist()
    [1.0, 1.0, 2.0, 2.0]
    """

    def __init__(self, size: int = 2, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"{describe(self)}: Expected an integer value for `size`, got {size!r} ({type(size).__name__})")
        if size <= 0:
            raise ValueError(f"{describe(self)}: `size` should be a positive integer, got size={size}")
        self.size = size

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Each step of `inputs` repeated `size` times."""
        return torch.repeat_interleave(self._checked(inputs), self.size, dim=1)

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        steps = input_shape[1]
        return (input_shape[0], None if steps is None else steps * self.size, input_shape[2])

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, size={self.size}"
