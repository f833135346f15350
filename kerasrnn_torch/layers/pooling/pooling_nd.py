"""Windowed and global pooling over 1, 2 or 3 spatial axes, as Keras 3's pooling layers:
AveragePooling1D/2D/3D, MaxPooling2D/3D, GlobalAveragePooling2D/3D, GlobalMaxPooling2D/3D.

"same" padding follows Keras's torch backend exactly: a padding that splits
evenly goes to PyTorch's pooling (which leaves it out of maxima and averages);
an uneven one (the extra at the end) pads by repeating the edge values, which
then count in the window, as in Keras on torch. None of these layers supports
masking in Keras: a mask stops here.
"""
from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ..._checks import check_sizes, describe, require_tensor, shape_text
from ..._types import InputShape
from ...core.data_format import standardize as standardize_data_format
from ...core.layer import Layer
from ...core.registry import register_keras_class
from ..._conv_geometry import int_tuple, same_padding

_MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVERAGE = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
_NAMES = {1: "steps", 2: "rows, cols", 3: "dim1, dim2, dim3"}


def _layout(rank: int, data_format: str) -> str:
    return (f"(batch, {_NAMES[rank]}, channels)" if data_format == "channels_last"
            else f"(batch, channels, {_NAMES[rank]})")


def _checked(layer: Layer, inputs: torch.Tensor, rank: int, data_format: str) -> torch.Tensor:
    layout = _layout(rank, data_format)
    require_tensor(inputs, describe(layer), f"a tensor of shape {layout}")
    if inputs.dim() != rank + 2:
        raise ValueError(f"{describe(layer)} expects inputs of shape {layout}, got shape {shape_text(inputs.shape)}")
    return inputs


class PoolingBase(Layer):
    """Keras's `BasePooling`: windows of `pool_size`, `strides` apart, over `rank` spatial axes."""

    rank = 2
    mode = "max"
    supports_masking = False

    def __init__(self, pool_size: int | Sequence[int], strides: int | Sequence[int] | None = None,
                 padding: str = "valid", data_format: str | None = None, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        self.pool_size = int_tuple(pool_size, self.rank, "pool_size", owner)
        self.strides = self.pool_size if strides is None else int_tuple(strides, self.rank, "strides", owner)
        if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
            raise ValueError(f"{owner}: `padding` must be 'valid' or 'same', got {padding!r}")
        self.padding = padding
        self.data_format = standardize_data_format(data_format, owner)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Pool windows of `pool_size`, every `strides`, over the spatial axes."""
        _checked(self, inputs, self.rank, self.data_format)
        channels_last = self.data_format == "channels_last"
        x = inputs.movedim(-1, 1) if channels_last else inputs
        spatial = x.shape[2:]
        padding: Any = 0
        if self.padding.lower() == "same":
            pads = [same_padding(n, k, s, 1) for n, k, s in zip(spatial, self.pool_size, self.strides)]
            if all(isinstance(left, int) and isinstance(right, int) and left == right for left, right in pads):
                padding = tuple(left for left, _ in pads)
            else:
                x = F.pad(x, [p for pair in reversed(pads) for p in pair], mode="replicate")
        else:
            for n, k in zip(spatial, self.pool_size):
                check_sizes(n >= k, lambda: f"{describe(self)}: pool_size {self.pool_size} does not fit the input of "
                                            f"shape {shape_text(inputs.shape)}; use padding='same' or a smaller pool")
        if self.mode == "max":
            outputs = _MAX[self.rank](x, self.pool_size, self.strides, padding)
        else:
            outputs = _AVERAGE[self.rank](x, self.pool_size, self.strides, padding, count_include_pad=False)
        return outputs.movedim(1, -1) if channels_last else outputs

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> Any:
        """Always None: Keras's pooling layers do not support masking."""
        return None

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, pool_size={self.pool_size}, strides={self.strides}, "
                f"padding={self.padding!r}, data_format={self.data_format!r}")


@register_keras_class("MaxPooling2D")
class MaxPooling2D(PoolingBase):
    """Maximum over windows of rows and columns, as `keras.layers.MaxPooling2D`.

    Args:
        pool_size: window size, an integer or a tuple of 2 (default (2, 2)).
        strides: step between windows (an integer or a tuple); None means `pool_size`.
        padding: "valid" (whole windows only) or "same" (`ceil(size / strides)` outputs).
        data_format: "channels_last" (default; None means the same) or "channels_first".
        name, device, dtype: see `Layer`.

    >>> MaxPooling2D()(torch.arange(16.0).reshape(1, 4, 4, 1)).flatten().tolist()
    [5.0, 7.0, 13.0, 15.0]
    """

    rank, mode = 2, "max"

    def __init__(self, pool_size: int | Sequence[int] = (2, 2), strides: int | Sequence[int] | None = None,
                 padding: str = "valid", data_format: str | None = None, **layer_kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, data_format, **layer_kwargs)


@register_keras_class("MaxPooling3D")
class MaxPooling3D(PoolingBase):
    """Maximum over windows of three spatial axes, as `keras.layers.MaxPooling3D`.

    Args:
        pool_size: window size, an integer or a tuple of 3 (default (2, 2, 2)).
        strides: step between windows (an integer or a tuple); None means `pool_size`.
        padding: "valid" or "same".
        data_format: "channels_last" (default; None means the same) or "channels_first".
        name, device, dtype: see `Layer`.

    >>> MaxPooling3D()(torch.randn(1, 4, 4, 4, 2)).shape
    torch.Size([1, 2, 2, 2, 2])
    """

    rank, mode = 3, "max"

    def __init__(self, pool_size: int | Sequence[int] = (2, 2, 2), strides: int | Sequence[int] | None = None,
                 padding: str = "valid", data_format: str | None = None, **layer_kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, data_format, **layer_kwargs)


@register_keras_class("AveragePooling1D")
class AveragePooling1D(PoolingBase):
    """Average over windows of steps, as `keras.layers.AveragePooling1D`.

    Padded positions of an even "same" padding are left out of the average;
    an uneven one repeats the last step (Keras's torch backend).

    Args:
        pool_size: window length, an integer or a 1-tuple (required, as in Keras).
        strides: step between windows; None means `pool_size`.
        padding: "valid" or "same".
        data_format: "channels_last" (default; None means the same) or "channels_first".
        name, device, dtype: see `Layer`.

    >>> AveragePooling1D(2)(torch.tensor([[[1.0], [3.0], [5.0], [7.0]]])).flatten().tolist()
    [2.0, 6.0]
    """

    rank, mode = 1, "average"

    def __init__(self, pool_size: int | Sequence[int], strides: int | Sequence[int] | None = None,
                 padding: str = "valid", data_format: str | None = None, **layer_kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, data_format, **layer_kwargs)


@register_keras_class("AveragePooling2D")
class AveragePooling2D(PoolingBase):
    """Average over windows of rows and columns, as `keras.layers.AveragePooling2D`.

    Args:
        pool_size: window size, an integer or a tuple of 2 (required, as in Keras).
        strides: step between windows; None means `pool_size`.
        padding: "valid" or "same" (as `AveragePooling1D`).
        data_format: "channels_last" (default; None means the same) or "channels_first".
        name, device, dtype: see `Layer`.

    >>> AveragePooling2D(2)(torch.ones(1, 4, 4, 3)).shape
    torch.Size([1, 2, 2, 3])
    """

    rank, mode = 2, "average"

    def __init__(self, pool_size: int | Sequence[int], strides: int | Sequence[int] | None = None,
                 padding: str = "valid", data_format: str | None = None, **layer_kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, data_format, **layer_kwargs)


@register_keras_class("AveragePooling3D")
class AveragePooling3D(PoolingBase):
    """Average over windows of three spatial axes, as `keras.layers.AveragePooling3D`.

    Args:
        pool_size: window size, an integer or a tuple of 3 (required, as in Keras).
        strides: step between windows; None means `pool_size`.
        padding: "valid" or "same" (as `AveragePooling1D`).
        data_format: "channels_last" (default; None means the same) or "channels_first".
        name, device, dtype: see `Layer`.

    >>> AveragePooling3D(2)(torch.ones(1, 4, 4, 4, 3)).shape
    torch.Size([1, 2, 2, 2, 3])
    """

    rank, mode = 3, "average"

    def __init__(self, pool_size: int | Sequence[int], strides: int | Sequence[int] | None = None,
                 padding: str = "valid", data_format: str | None = None, **layer_kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, data_format, **layer_kwargs)


class GlobalPoolingBase(Layer):
    """Keras's `BaseGlobalPooling`: every spatial axis pooled away (kept with size 1 with `keepdims`)."""

    rank = 2
    supports_masking = False

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        self.data_format = standardize_data_format(data_format, describe(self))
        self.keepdims = bool(keepdims)

    @property
    def spatial_axes(self) -> list[int]:
        first = 1 if self.data_format == "channels_last" else 2
        return list(range(first, first + self.rank))

    def reduce(self, inputs: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Pool every spatial axis of `inputs` away."""
        return self.reduce(_checked(self, inputs, self.rank, self.data_format))

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        shape = list(input_shape)
        kept = [1 if self.keepdims else None] * self.rank
        spatial = [k for k in kept if k is not None]
        if self.data_format == "channels_last":
            return tuple([shape[0], *spatial, shape[-1]])
        return tuple([shape[0], shape[1], *spatial])

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> Any:
        """Always None: the spatial axes are pooled away."""
        return None

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, data_format={self.data_format!r}, keepdims={self.keepdims}"


class _GlobalAverage(GlobalPoolingBase):
    def reduce(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.mean(dim=self.spatial_axes, keepdim=self.keepdims)


class _GlobalMax(GlobalPoolingBase):
    def reduce(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.amax(inputs, dim=self.spatial_axes, keepdim=self.keepdims)


@register_keras_class("GlobalAveragePooling2D")
class GlobalAveragePooling2D(_GlobalAverage):
    """Average over rows and columns, as `keras.layers.GlobalAveragePooling2D`.

    `(batch, rows, cols, channels)` becomes `(batch, channels)` (or
    `(batch, 1, 1, channels)` with `keepdims=True`).

    Args:
        data_format: "channels_last" (default; None means the same) or "channels_first".
        keepdims: keep the pooled axes with size 1.
        name, device, dtype: see `Layer`.

    >>> GlobalAveragePooling2D()(torch.ones(2, 3, 4, 5)).shape
    torch.Size([2, 5])
    """

    rank = 2


@register_keras_class("GlobalAveragePooling3D")
class GlobalAveragePooling3D(_GlobalAverage):
    """Average over three spatial axes, as `keras.layers.GlobalAveragePooling3D`.

    Args:
        data_format: "channels_last" (default; None means the same) or "channels_first".
        keepdims: keep the pooled axes with size 1.
        name, device, dtype: see `Layer`.

    >>> GlobalAveragePooling3D(keepdims=True)(torch.ones(2, 3, 4, 5, 6)).shape
    torch.Size([2, 1, 1, 1, 6])
    """

    rank = 3


@register_keras_class("GlobalMaxPooling2D")
class GlobalMaxPooling2D(_GlobalMax):
    """Maximum over rows and columns, as `keras.layers.GlobalMaxPooling2D`.

    Args:
        data_format: "channels_last" (default; None means the same) or "channels_first".
        keepdims: keep the pooled axes with size 1.
        name, device, dtype: see `Layer`.

    >>> GlobalMaxPooling2D(data_format="channels_first")(torch.ones(2, 3, 4, 5)).shape
    torch.Size([2, 3])
    """

    rank = 2


@register_keras_class("GlobalMaxPooling3D")
class GlobalMaxPooling3D(_GlobalMax):
    """Maximum over three spatial axes, as `keras.layers.GlobalMaxPooling3D`.

    Args:
        data_format: "channels_last" (default; None means the same) or "channels_first".
        keepdims: keep the pooled axes with size 1.
        name, device, dtype: see `Layer`.

    >>> GlobalMaxPooling3D()(torch.ones(2, 3, 4, 5, 6)).shape
    torch.Size([2, 6])
    """

    rank = 3
