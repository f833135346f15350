"""ZeroPadding2D/3D, Cropping2D/3D and UpSampling2D/3D: grow, shrink or repeat the spatial axes of
images and volumes, as their `keras.layers` namesakes. None supports masking in Keras: a mask stops here."""
from __future__ import annotations

import numbers
from typing import Any
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ..._checks import describe, one_of, require_tensor, shape_text
from ..._types import InputShape
from ...core.data_format import standardize as standardize_data_format
from ...core.layer import Layer
from ...core.registry import register_keras_class
from ..._conv_geometry import int_tuple
from .sequence_padding import nonnegative_pair

_NAMES = {2: "rows, cols", 3: "dim1, dim2, dim3"}
Pairs = tuple[tuple[int, int], ...]


def per_axis_pairs(value: Any, rank: int, argument: str, owner: str) -> Pairs:
    """`rank` (before, after) pairs of non-negative ints from `n`, `rank` ints or `rank` pairs, as Keras reads
    the `padding` of ZeroPadding2D/3D and the `cropping` of Cropping2D/3D."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (nonnegative_pair(value, argument, owner),) * rank
    if not isinstance(value, (list, tuple)) or len(value) != rank:
        raise ValueError(f"{owner}: `{argument}` must be an integer, a tuple of {rank} integers or a tuple of "
                         f"{rank} (before, after) pairs, got {value!r}")
    return tuple(nonnegative_pair(entry, argument, owner) for entry in value)


class SpatialLayer(Layer):
    """A weightless layer over the `rank` spatial axes of `(batch, *spatial, channels)` (or channels first)."""

    rank = 2
    supports_masking = False

    def __init__(self, data_format: str | None = None, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        self.data_format = standardize_data_format(data_format, describe(self))
        self.built = True

    @property
    def first_spatial_axis(self) -> int:
        return 1 if self.data_format == "channels_last" else 2

    def checked(self, inputs: torch.Tensor) -> torch.Tensor:
        names = _NAMES[self.rank]
        layout = (f"(batch, {names}, channels)" if self.data_format == "channels_last"
                  else f"(batch, channels, {names})")
        require_tensor(inputs, describe(self), f"a tensor of shape {layout}")
        if inputs.dim() != self.rank + 2:
            raise ValueError(f"{describe(self)} expects inputs of shape {layout}, got shape {shape_text(inputs.shape)}")
        return inputs

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> Any:
        """Always None: this layer does not support masking in Keras."""
        return None

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}


class ZeroPaddingBase(SpatialLayer):
    """Zeros added before and after each spatial axis."""

    def __init__(self, padding: Any, data_format: str | None = None, **layer_kwargs: Any) -> None:
        super().__init__(data_format, **layer_kwargs)
        self.padding = per_axis_pairs(padding, self.rank, "padding", describe(self))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """`inputs` with `padding` zeros before and after each spatial axis."""
        self.checked(inputs)
        flat = [p for pair in reversed(self.padding) for p in pair]
        return F.pad(inputs, ([0, 0] + flat) if self.data_format == "channels_last" else flat)

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        shape = list(input_shape)
        for axis, (before, after) in enumerate(self.padding, start=self.first_spatial_axis):
            if shape[axis] is not None:
                shape[axis] += before + after
        return tuple(shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": self.padding}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, padding={self.padding}, data_format={self.data_format!r}"


class CroppingBase(SpatialLayer):
    """Positions removed before and after each spatial axis (at least one must remain)."""

    def __init__(self, cropping: Any, data_format: str | None = None, **layer_kwargs: Any) -> None:
        super().__init__(data_format, **layer_kwargs)
        self.cropping = per_axis_pairs(cropping, self.rank, "cropping", describe(self))

    def _check_sizes(self, shape: Sequence[int | None]) -> None:
        for axis, (before, after) in enumerate(self.cropping, start=self.first_spatial_axis):
            size = shape[axis]
            if size is not None and before + after >= size:
                raise ValueError(f"{describe(self)}: `cropping` {self.cropping} must leave at least one position "
                                 f"on every spatial axis; axis {axis} of input shape {shape_text(shape)} has {size}")

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """`inputs` without the cropped positions."""
        self.checked(inputs)
        self._check_sizes(tuple(inputs.shape))
        index = [slice(None)] * inputs.dim()
        for axis, (before, after) in enumerate(self.cropping, start=self.first_spatial_axis):
            index[axis] = slice(before, inputs.shape[axis] - after)
        return inputs[tuple(index)]

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        self._check_sizes(input_shape)
        shape = list(input_shape)
        for axis, (before, after) in enumerate(self.cropping, start=self.first_spatial_axis):
            if shape[axis] is not None:
                shape[axis] -= before + after
        return tuple(shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "cropping": self.cropping}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, cropping={self.cropping}, data_format={self.data_format!r}"


class UpSamplingBase(SpatialLayer):
    """Each spatial axis `size` times longer: every position repeated ("nearest")."""

    def __init__(self, size: int | Sequence[int], data_format: str | None = None, **layer_kwargs: Any) -> None:
        super().__init__(data_format, **layer_kwargs)
        self.size = int_tuple(size, self.rank, "size", describe(self))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Each position of `inputs` repeated `size` times along its spatial axis."""
        outputs = self.checked(inputs)
        for axis, times in enumerate(self.size, start=self.first_spatial_axis):
            if times > 1:
                outputs = torch.repeat_interleave(outputs, times, dim=axis)
        return outputs

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        shape = list(input_shape)
        for axis, times in enumerate(self.size, start=self.first_spatial_axis):
            if shape[axis] is not None:
                shape[axis] *= times
        return tuple(shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, size={self.size}, data_format={self.data_format!r}"


@register_keras_class("ZeroPadding2D")
class ZeroPadding2D(ZeroPaddingBase):
    """Adds rows and columns of zeros around an image, as `keras.layers.ZeroPadding2D`.

    Args:
        padding: an integer (the same on all four sides), a tuple of 2
            integers (rows, cols: the same before and after) or
            `((top, bottom), (left, right))`. Default 1.
        data_format: "channels_last" (`(batch, rows, cols, channels)`; default,
            None means the same) or "channels_first".
        name, device, dtype: see `Layer`.

    >>> ZeroPadding2D(((1, 0), (0, 2)))(torch.ones(1, 2, 2, 1)).shape
    torch.Size([1, 3, 4, 1])
    """

    rank = 2

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None, **layer_kwargs: Any) -> None:
        super().__init__(padding, data_format, **layer_kwargs)


@register_keras_class("ZeroPadding3D")
class ZeroPadding3D(ZeroPaddingBase):
    """Adds zeros around a volume, as `keras.layers.ZeroPadding3D`.

    Args:
        padding: an integer, a tuple of 3 integers or a tuple of 3
            `(before, after)` pairs. Default 1 everywhere.
        data_format: "channels_last" (`(batch, dim1, dim2, dim3, channels)`;
            default, None means the same) or "channels_first".
        name, device, dtype: see `Layer`.

    >>> ZeroPadding3D((1, 0, 2))(torch.ones(1, 2, 2, 2, 1)).shape
    torch.Size([1, 4, 2, 6, 1])
    """

    rank = 3

    def __init__(self, padding: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None,
                 **layer_kwargs: Any) -> None:
        super().__init__(padding, data_format, **layer_kwargs)


@register_keras_class("Cropping2D")
class Cropping2D(CroppingBase):
    """Removes rows and columns at the edges of an image, as `keras.layers.Cropping2D`.

    Args:
        cropping: an integer (the same on all four sides), a tuple of 2
            integers or `((top, bottom), (left, right))`. Default: nothing.
        data_format: "channels_last" (default; None means the same) or "channels_first".
        name, device, dtype: see `Layer`.

    >>> Cropping2D(((1, 0), (1, 2)))(torch.ones(1, 4, 5, 1)).shape
    torch.Size([1, 3, 2, 1])
    """

    rank = 2

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None,
                 **layer_kwargs: Any) -> None:
        super().__init__(cropping, data_format, **layer_kwargs)


@register_keras_class("Cropping3D")
class Cropping3D(CroppingBase):
    """Removes positions at the edges of a volume, as `keras.layers.Cropping3D`.

    Args:
        cropping: an integer, a tuple of 3 integers or a tuple of 3
            `(before, after)` pairs. Default 1 everywhere.
        data_format: "channels_last" (default; None means the same) or "channels_first".
        name, device, dtype: see `Layer`.

    >>> Cropping3D()(torch.ones(1, 4, 4, 4, 2)).shape
    torch.Size([1, 2, 2, 2, 2])
    """

    rank = 3

    def __init__(self, cropping: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None,
                 **layer_kwargs: Any) -> None:
        super().__init__(cropping, data_format, **layer_kwargs)


_INTERPOLATIONS = {"nearest": "nearest", "bilinear": "bilinear", "bicubic": "bicubic"}


@register_keras_class("UpSampling2D")
class UpSampling2D(UpSamplingBase):
    """Enlarges an image `size` times, as `keras.layers.UpSampling2D`.

    "nearest" repeats each row and column; "bilinear" and "bicubic" resize
    as Keras's torch backend does (`torch.nn.functional.interpolate` with
    `align_corners=False`, no antialiasing; integer inputs are computed in
    float32, rounded and cast back).

    Args:
        size: an integer or a tuple of 2 (rows, cols). Default (2, 2).
        data_format: "channels_last" (default; None means the same) or "channels_first".
        interpolation: "nearest" (default), "bilinear" or "bicubic" (any
            case; Keras's torch backend has no "lanczos3"/"lanczos5").
        name, device, dtype: see `Layer`.

    >>> UpSampling2D()(torch.tensor([[[[1.0], [2.0]]]])).flatten().tolist()
    [1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0]
    """

    rank = 2

    def __init__(self, size: int | Sequence[int] = (2, 2), data_format: str | None = None,
                 interpolation: str = "nearest", **layer_kwargs: Any) -> None:
        super().__init__(size, data_format, **layer_kwargs)
        given = interpolation.lower() if isinstance(interpolation, str) else interpolation
        self.interpolation = one_of(given, tuple(_INTERPOLATIONS), "interpolation", describe(self))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """`inputs` enlarged `size` times by `interpolation`."""
        if self.interpolation == "nearest":
            return super().forward(inputs)
        self.checked(inputs)
        channels_last = self.data_format == "channels_last"
        x = inputs.movedim(-1, 1) if channels_last else inputs
        computed = x if x.dtype in (torch.float32, torch.float64) else x.to(torch.float32)
        size = [n * times for n, times in zip(x.shape[2:], self.size)]
        outputs = F.interpolate(computed, size=size, mode=_INTERPOLATIONS[self.interpolation], align_corners=False,
                                antialias=False)
        if outputs.dtype != x.dtype:
            outputs = (outputs if x.dtype.is_floating_point else torch.round(outputs)).to(x.dtype)
        return outputs.movedim(1, -1) if channels_last else outputs

    def get_config(self) -> dict:
        return {**super().get_config(), "interpolation": self.interpolation}


@register_keras_class("UpSampling3D")
class UpSampling3D(UpSamplingBase):
    """Enlarges a volume `size` times by repeating each position, as `keras.layers.UpSampling3D`.

    Args:
        size: an integer or a tuple of 3. Default (2, 2, 2).
        data_format: "channels_last" (default; None means the same) or "channels_first".
        name, device, dtype: see `Layer`.

    >>> UpSampling3D((1, 2, 3))(torch.ones(1, 2, 2, 2, 1)).shape
    torch.Size([1, 2, 4, 6, 1])
    """

    rank = 3

    def __init__(self, size: int | Sequence[int] = (2, 2, 2), data_format: str | None = None,
                 **layer_kwargs: Any) -> None:
        super().__init__(size, data_format, **layer_kwargs)
