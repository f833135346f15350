"""`keras.ops`'s convolutions: `conv`, `depthwise_conv`, `separable_conv` and `conv_transpose`, over 1, 2 or 3
spatial axes (the input's rank says which), as Keras's torch backend computes them.

Kernels come in Keras's layouts: `(*kernel_size, in, out)` for `conv`,
`(*kernel_size, in, multiplier)` for `depthwise_conv`, `(*kernel_size, out, in)`
for `conv_transpose`. "same" padding is Keras's: an odd extra step goes at the
end. `conv` runs grouped when the input has a multiple of the kernel's input
channels, as Keras's torch backend does.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from .._conv_geometry import (conv_in_layout, crop_spatial, int_tuple, output_padding_tuple, pad_spatial,
                              same_padding, torch_kernel, transpose_crop)
from ..core.data_format import standardize as standardize_data_format
from .core import tensor
from .operation import operation

_TRANSPOSED = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_CONFIG = ("strides", "padding", "data_format", "dilation_rate")


def standard_padding(padding: Any, owner: str) -> str:
    """"valid" or "same", in any case (Keras lowers it)."""
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"kr.ops.{owner}: `padding` must be 'valid' or 'same', got {padding!r}")
    return padding.lower()


def spatial_inputs(inputs: Any, owner: str) -> torch.Tensor:
    """`inputs` as a tensor of 1, 2 or 3 spatial axes between the batch and channel axes."""
    x = tensor(inputs)
    if not 3 <= x.dim() <= 5:
        raise ValueError(f"kr.ops.{owner}: inputs must have 3, 4 or 5 axes (batch, 1 to 3 spatial axes and "
                         f"channels), got shape {tuple(x.shape)}")
    return x


def _kernel(kernel: Any, x: torch.Tensor, owner: str, argument: str = "kernel") -> torch.Tensor:
    k = tensor(kernel)
    if k.dim() != x.dim():
        raise ValueError(f"kr.ops.{owner}: `{argument}` must have as many axes as the inputs ({x.dim()}: "
                         f"{x.dim() - 2} spatial, then 2 channel axes), got shape {tuple(k.shape)}")
    if k.dtype != x.dtype:
        raise TypeError(f"kr.ops.{owner}: the inputs ({str(x.dtype).replace('torch.', '')}) and `{argument}` "
                        f"({str(k.dtype).replace('torch.', '')}) must have the same dtype")
    return k


def _channels(x: torch.Tensor, data_format: str) -> int:
    return x.shape[-1] if data_format == "channels_last" else x.shape[1]


def _same_channels(x: torch.Tensor, kernel_channels: int, data_format: str, owner: str) -> None:
    channels = _channels(x, data_format)
    if channels != kernel_channels:
        raise ValueError(f"kr.ops.{owner}: the inputs have {channels} channels ({data_format}) but the kernel "
                         f"takes {kernel_channels}")


def _convolve(x: torch.Tensor, kernel: torch.Tensor, strides: Any, padding: str, data_format: str,
              dilation_rate: Any, groups: int, owner: str) -> torch.Tensor:
    """The convolution of `x` with a Keras `(*kernel_size, in / groups, out)` kernel."""
    rank = x.dim() - 2
    stride = int_tuple(strides, rank, "strides", f"kr.ops.{owner}")
    dilation = int_tuple(dilation_rate, rank, "dilation_rate", f"kr.ops.{owner}")
    channels_last = data_format == "channels_last"
    size = kernel.shape[:rank]
    spatial = x.shape[1:-1] if channels_last else x.shape[2:]
    pad: tuple[int, ...] = (0,) * rank
    if padding == "same":
        pads = [same_padding(n, k, s, d) for n, k, s, d in zip(spatial, size, stride, dilation)]
        if all(left == right for left, right in pads):
            pad = tuple(left for left, _ in pads)
        else:
            x = pad_spatial(x, pads, channels_last)
    else:
        for n, k, d in zip(spatial, size, dilation):
            if n < (k - 1) * d + 1:
                raise ValueError(f"kr.ops.{owner}: the kernel (spatial size {tuple(size)}, dilation {dilation}) "
                                 f"does not fit the inputs of shape {tuple(x.shape)} with padding='valid'")
    return conv_in_layout(x, torch_kernel(kernel, channels_last), None, stride, pad, dilation, groups,
                          channels_last)


def conv(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid", data_format: str | None = None,
         dilation_rate: Any = 1) -> torch.Tensor:
    """The convolution of `inputs` with a `(*kernel_size, in_channels, out_channels)` kernel, as `keras.ops.conv`.

    1-D, 2-D or 3-D by the inputs' rank (batch, spatial axes, channels for
    "channels_last"; batch, channels, spatial axes for "channels_first").
    `strides` and `dilation_rate` are ints or one int per spatial axis;
    `padding` is "valid" or "same". Inputs with a multiple of the kernel's
    input channels run as a grouped convolution, as in Keras's torch backend.

    >>> conv(torch.ones(1, 5, 2), torch.ones(3, 2, 4), padding="same").shape
    torch.Size([1, 5, 4])
    """
    return _conv(inputs, kernel, strides, standard_padding(padding, "conv"),
                 standardize_data_format(data_format, "kr.ops.conv"), dilation_rate)


@operation("Conv", config=_CONFIG, module="nn")
def _conv(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid", data_format: str = "channels_last",
          dilation_rate: Any = 1) -> torch.Tensor:
    x = spatial_inputs(inputs, "conv")
    k = _kernel(kernel, x, "conv")
    channels, per_group = _channels(x, data_format), k.shape[-2]
    if per_group == 0 or channels % per_group:
        raise ValueError(f"kr.ops.conv: the inputs' {channels} channels ({data_format}) must be a multiple of the "
                         f"kernel's input channels ({per_group}; kernel shape {tuple(k.shape)})")
    return _convolve(x, k, strides, padding, data_format, dilation_rate, channels // per_group, "conv")


def depthwise_conv(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
                   data_format: str | None = None, dilation_rate: Any = 1) -> torch.Tensor:
    """Each input channel convolved on its own with a `(*kernel_size, in_channels, multiplier)` kernel, as
    `keras.ops.depthwise_conv`: `in_channels * multiplier` output channels (each input channel's
    `multiplier` outputs side by side).

    >>> depthwise_conv(torch.ones(1, 5, 2), torch.ones(3, 2, 2)).shape
    torch.Size([1, 3, 4])
    """
    return _depthwise_conv(inputs, kernel, strides, standard_padding(padding, "depthwise_conv"),
                           standardize_data_format(data_format, "kr.ops.depthwise_conv"), dilation_rate)


def _depthwise(x: torch.Tensor, k: torch.Tensor, strides: Any, padding: str, data_format: str, dilation_rate: Any,
               owner: str) -> torch.Tensor:
    _same_channels(x, k.shape[-2], data_format, owner)
    grouped = k.reshape(*k.shape[:-2], 1, k.shape[-2] * k.shape[-1])
    return _convolve(x, grouped, strides, padding, data_format, dilation_rate, k.shape[-2], owner)


@operation("DepthwiseConv", config=_CONFIG, module="nn")
def _depthwise_conv(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
                    data_format: str = "channels_last", dilation_rate: Any = 1) -> torch.Tensor:
    x = spatial_inputs(inputs, "depthwise_conv")
    return _depthwise(x, _kernel(kernel, x, "depthwise_conv"), strides, padding, data_format, dilation_rate,
                      "depthwise_conv")


def separable_conv(inputs: Any, depthwise_kernel: Any, pointwise_kernel: Any, strides: Any = 1,
                   padding: str = "valid", data_format: str | None = None, dilation_rate: Any = 1) -> torch.Tensor:
    """A depthwise convolution (`(*kernel_size, in_channels, multiplier)` kernel, with `strides`,
    `padding` and `dilation_rate`), then a pointwise one (`(*ones, in_channels * multiplier,
    out_channels)` kernel), as `keras.ops.separable_conv`.

    >>> separable_conv(torch.ones(1, 5, 2), torch.ones(3, 2, 2), torch.ones(1, 4, 6)).shape
    torch.Size([1, 3, 6])
    """
    return _separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides,
                           standard_padding(padding, "separable_conv"),
                           standardize_data_format(data_format, "kr.ops.separable_conv"), dilation_rate)


@operation("SeparableConv", config=_CONFIG, module="nn")
def _separable_conv(inputs: Any, depthwise_kernel: Any, pointwise_kernel: Any, strides: Any = 1,
                    padding: str = "valid", data_format: str = "channels_last", dilation_rate: Any = 1
                    ) -> torch.Tensor:
    owner = "separable_conv"
    x = spatial_inputs(inputs, owner)
    depthwise = _kernel(depthwise_kernel, x, owner, "depthwise_kernel")
    pointwise = _kernel(pointwise_kernel, x, owner, "pointwise_kernel")
    middle = _depthwise(x, depthwise, strides, padding, data_format, dilation_rate, owner)
    if pointwise.shape[-2] != _channels(middle, data_format):
        raise ValueError(f"kr.ops.{owner}: `pointwise_kernel` must take the depthwise step's "
                         f"{_channels(middle, data_format)} channels (in_channels * multiplier), got shape "
                         f"{tuple(pointwise.shape)}")
    return _convolve(middle, pointwise, 1, "valid", data_format, dilation_rate, 1, owner)


def conv_transpose(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid", output_padding: Any = None,
                   data_format: str | None = None, dilation_rate: Any = 1) -> torch.Tensor:
    """The transposed convolution of `inputs` with a `(*kernel_size, out_channels, in_channels)` kernel,
    as `keras.ops.conv_transpose`, with Keras's output sizes: "same" gives `length * strides`,
    "valid" `(length - 1) * strides + max(kernel span, strides)`; `output_padding` (an int or one per
    spatial axis) sets the extra length at the end instead.

    >>> conv_transpose(torch.ones(1, 5, 2), torch.ones(3, 4, 2), strides=2, padding="same").shape
    torch.Size([1, 10, 4])
    """
    return _conv_transpose(inputs, kernel, strides, standard_padding(padding, "conv_transpose"), output_padding,
                           standardize_data_format(data_format, "kr.ops.conv_transpose"), dilation_rate)


@operation("ConvTranspose", config=("strides", "padding", "output_padding", "data_format", "dilation_rate"),
           module="nn")
def _conv_transpose(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid", output_padding: Any = None,
                    data_format: str = "channels_last", dilation_rate: Any = 1) -> torch.Tensor:
    owner = "kr.ops.conv_transpose"
    x = spatial_inputs(inputs, "conv_transpose")
    k = _kernel(kernel, x, "conv_transpose")
    _same_channels(x, k.shape[-1], data_format, "conv_transpose")
    rank = x.dim() - 2
    stride = int_tuple(strides, rank, "strides", owner)
    dilation = int_tuple(dilation_rate, rank, "dilation_rate", owner)
    extras = output_padding_tuple(output_padding, rank, None, owner) or (None,) * rank
    channels_last = data_format == "channels_last"
    # PyTorch's transposed weight is (in, out, *kernel_size): the permutation of Keras's kernel a forward
    # convolution's weight takes.
    outputs = _TRANSPOSED[rank](x.movedim(-1, 1) if channels_last else x, torch_kernel(k), None, stride, 0, 0, 1,
                                dilation)
    crops = [transpose_crop(size, s, d, padding, extra)
             for size, s, d, extra in zip(k.shape[:rank], stride, dilation, extras)]
    outputs = crop_spatial(outputs, crops)
    return outputs.movedim(1, -1) if channels_last else outputs
