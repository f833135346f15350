"""`keras.ops`'s windowed pooling: `max_pool` and `average_pool` over 1, 2 or 3 spatial axes, as Keras's torch
backend computes them.

"same" padding is Keras's (the odd extra step at the end). A padding that
splits evenly is left out of maxima and averages; an uneven one repeats the
edge values, which then count in the window, as on Keras's torch backend.
"""
from __future__ import annotations

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
