"""`keras.ops`'s pooling: `max_pool` and `average_pool` (windows of a given size) and `adaptive_max_pool` and
`adaptive_average_pool` (windows that give a given output size), over 1, 2 or 3 spatial axes, as Keras's torch
backend computes them.

"same" padding is Keras's (the odd extra step at the end). A padding that
splits evenly is left out of maxima and averages; an uneven one repeats the
edge values, which then count in the window, as on Keras's torch backend.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from .._conv_geometry import int_tuple, same_padding
from ..core.data_format import standardize as standardize_data_format
from .convolution import spatial_inputs, standard_padding
from .operation import operation

_MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVERAGE = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
_CONFIG = ("pool_size", "strides", "padding", "data_format")


def _pool(inputs: Any, pool_size: Any, strides: Any, padding: str, data_format: str, owner: str) -> torch.Tensor:
    x = spatial_inputs(inputs, owner)
    rank = x.dim() - 2
    size = int_tuple(pool_size, rank, "pool_size", f"kr.ops.{owner}")
    stride = size if strides is None else int_tuple(strides, rank, "strides", f"kr.ops.{owner}")
    channels_last = data_format == "channels_last"
    x = x.movedim(-1, 1) if channels_last else x
    spatial = x.shape[2:]
    pad: tuple[int, ...] = (0,) * rank
    if padding == "same":
        pads = [same_padding(n, k, s, 1) for n, k, s in zip(spatial, size, stride)]
        if all(left == right for left, right in pads):
            pad = tuple(left for left, _ in pads)
        else:
            x = F.pad(x, [p for pair in reversed(pads) for p in pair], mode="replicate")
    elif any(n < k for n, k in zip(spatial, size)):
        raise ValueError(f"kr.ops.{owner}: pool_size {size} does not fit the spatial axes {tuple(spatial)} of the "
                         "inputs with padding='valid'; use padding='same' or a smaller pool")
    if owner == "max_pool":
        outputs = _MAX[rank](x, size, stride, pad)
    else:
        outputs = _AVERAGE[rank](x, size, stride, pad, count_include_pad=False)
    return outputs.movedim(1, -1) if channels_last else outputs


def max_pool(inputs: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
             data_format: str | None = None) -> torch.Tensor:
    """The maximum over windows of `pool_size`, `strides` apart (default: `pool_size`), over the 1, 2
    or 3 spatial axes of `inputs`, as `keras.ops.max_pool`.

    >>> max_pool(torch.arange(6.0).reshape(1, 6, 1), 2)[0, :, 0]
    tensor([1., 3., 5.])
    """
    return _max_pool(inputs, pool_size, strides, standard_padding(padding, "max_pool"),
                     standardize_data_format(data_format, "kr.ops.max_pool"))


@operation("MaxPool", config=_CONFIG, module="nn")
def _max_pool(inputs: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
              data_format: str = "channels_last") -> torch.Tensor:
    return _pool(inputs, pool_size, strides, padding, data_format, "max_pool")


def average_pool(inputs: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None) -> torch.Tensor:
    """The mean over windows of `pool_size`, `strides` apart (default: `pool_size`), over the 1, 2
    or 3 spatial axes of `inputs`, as `keras.ops.average_pool`.

    >>> average_pool(torch.arange(6.0).reshape(1, 6, 1), 2)[0, :, 0]
    tensor([0.5000, 2.5000, 4.5000])
    """
    return _average_pool(inputs, pool_size, strides, standard_padding(padding, "average_pool"),
                         standardize_data_format(data_format, "kr.ops.average_pool"))


@operation("AveragePool", config=_CONFIG, module="nn")
def _average_pool(inputs: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
                  data_format: str = "channels_last") -> torch.Tensor:
    return _pool(inputs, pool_size, strides, padding, data_format, "average_pool")


_ADAPTIVE_MAX: dict[int, Callable[..., Any]] = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}
_ADAPTIVE_AVERAGE: dict[int, Callable[..., Any]] = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}


def _adaptive(inputs: Any, output_size: Any, data_format: str, owner: str) -> torch.Tensor:
    x = spatial_inputs(inputs, owner)
    rank = x.dim() - 2
    size = int_tuple(output_size, rank, "output_size", f"kr.ops.{owner}")
    channels_last = data_format == "channels_last"
    x = x.movedim(-1, 1) if channels_last else x
    pool = _ADAPTIVE_MAX if owner == "adaptive_max_pool" else _ADAPTIVE_AVERAGE
    outputs = pool[rank](x, size)
    return outputs.movedim(1, -1) if channels_last else outputs


def adaptive_max_pool(inputs: Any, output_size: Any, data_format: str | None = None) -> torch.Tensor:
    """The maximum over `output_size` windows per spatial axis that split it as evenly as they can (each
    window from `floor(i * n / size)` to `ceil((i + 1) * n / size)`), as `keras.ops.adaptive_max_pool`.

    >>> adaptive_max_pool(torch.arange(10.0).reshape(1, 10, 1), 3)[0, :, 0]
    tensor([3., 6., 9.])
    """
    return _adaptive_max_pool(inputs, output_size, standardize_data_format(data_format, "kr.ops.adaptive_max_pool"))


@operation("AdaptiveMaxPool", config=("output_size", "data_format"), module="nn")
def _adaptive_max_pool(inputs: Any, output_size: Any, data_format: str = "channels_last") -> torch.Tensor:
    return _adaptive(inputs, output_size, data_format, "adaptive_max_pool")


def adaptive_average_pool(inputs: Any, output_size: Any, data_format: str | None = None) -> torch.Tensor:
    """The mean over `output_size` windows per spatial axis that split it as evenly as they can, as
    `keras.ops.adaptive_average_pool`.

    >>> adaptive_average_pool(torch.arange(10.0).reshape(1, 10, 1), 2)[0, :, 0]
    tensor([2., 7.])
    """
    return _adaptive_average_pool(inputs, output_size,
                                  standardize_data_format(data_format, "kr.ops.adaptive_average_pool"))


@operation("AdaptiveAveragePool", config=("output_size", "data_format"), module="nn")
def _adaptive_average_pool(inputs: Any, output_size: Any, data_format: str = "channels_last") -> torch.Tensor:
    return _adaptive(inputs, output_size, data_format, "adaptive_average_pool")
