"""Convolution arithmetic shared by the convolutional layers and `kr.ops`: Keras's tuple arguments,
"same" padding, output sizes, and convolutions run in either data format.

Keras keeps `kernel (*kernel_size, in, out)` and lets the channels sit last;
PyTorch's convolutions take `(out, in, *kernel_size)` weights and channels
first. `conv_in_layout` runs a channels-last tensor through PyTorch's
convolution as a channels-last-memory view (no copy of the tensor), so a
recurrent step can stay in the user's layout.
"""
from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F
from collections.abc import Sequence
from typing import Any


_CONVOLUTIONS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def int_tuple(value: Any, rank: int, argument: str, owner: str) -> tuple[int, ...]:
    """`rank` positive ints from `n` or a sequence of `rank` ints, as Keras's `standardize_tuple`."""
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,) * rank
    if len(values) != rank or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in values):
        raise ValueError(f"{owner}: `{argument}` must be a positive integer or a tuple of {rank} positive "
                         f"integers, got {value!r}")
    below = {int(v) for v in values if v <= 0}
    if below:       # Keras's sentence (its tests match it)
        raise ValueError(f"{owner}: The `{argument}` argument must be a tuple of {rank} integers. Received "
                         f"{argument}={value!r}, including values {below} that do not satisfy `value > 0`")
    return tuple(int(v) for v in values)


def same_padding(length: int, kernel_size: int, stride: int, dilation: int) -> tuple[int, int]:
    """Keras's (left, right) "same" padding: the odd extra step goes on the right."""
    span = (kernel_size - 1) * dilation + 1
    if stride == 1:
        total = span - 1
    else:
        # (ceil(length / stride) - 1) * stride + span - length, written with a remainder so that a traced
        # (symbolic) length keeps a padding torch can reason about; Python's max would fix it.
        total = span - stride + (-length) % stride
        if span < stride:
            total = max(0, total) if isinstance(total, int) else torch.sym_max(0, total)
    return total // 2, total - total // 2


def output_length(length: int, kernel_size: int, stride: int, dilation: int, padding: str) -> int:
    """The output size along one axis (Keras's rule; 0 or less: the kernel does not fit)."""
    if padding == "same":
        # ceil(length / stride), written as the convolution's own arithmetic gives it with the padding
        # above, so that torch.export sees one expression for a traced length (-(-n // s) would be another)
        return (length + (-length) % stride) // stride
    span = (kernel_size - 1) * dilation + 1
    return (length - span) // stride + 1


def torch_kernel(kernel: torch.Tensor, channels_last: bool = False) -> torch.Tensor:
    """Keras's `(*kernel_size, in, out)` kernel as the weight `conv_in_layout` takes: PyTorch's
    `(out, in, *kernel_size)`, for channels-last inputs in channels-last memory (one spatial axis
    as two, the first of size 1). Differentiable; one copy, made once per call."""
    rank = kernel.dim() - 2
    weight = kernel.permute(rank + 1, rank, *range(rank))
    if not channels_last:
        return weight.contiguous()
    if rank == 1:
        weight = weight.unsqueeze(2)
    return weight.contiguous(memory_format=torch.channels_last if weight.dim() == 4 else torch.channels_last_3d)


def pad_spatial(x: torch.Tensor, pads: Sequence[tuple[int, int]], channels_last: bool) -> torch.Tensor:
    """Zero-pad the spatial axes of `x` by `pads` ((left, right) per axis, in axis order)."""
    flat = [p for pair in reversed(pads) for p in pair]
    return F.pad(x, ([0, 0] + flat) if channels_last else flat)


def conv_in_layout(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: tuple[int, ...],
                   padding: tuple[int, ...], dilation: tuple[int, ...], groups: int,
                   channels_last: bool) -> torch.Tensor:
    """PyTorch's convolution of `x` (batch first, channels last or first) with a `torch_kernel`
    weight; the output comes in `x`'s layout.

    Channels-last inputs go in as a channels-last-memory view and come out
    the same way (no copy); one spatial axis runs as two with a unit height,
    because PyTorch has a channels-last memory format for 2-D and 3-D only.
    """
    if not channels_last:
        return _CONVOLUTIONS[x.dim() - 2](x, weight, bias, stride, padding, dilation, groups)
    if x.dim() == 3:
        out = F.conv2d(x.unsqueeze(1).movedim(-1, 1), weight, bias, (1, *stride), (0, *padding), (1, *dilation),
                       groups)
        return out.movedim(1, -1).squeeze(1)
    return _CONVOLUTIONS[x.dim() - 2](x.movedim(-1, 1), weight, bias, stride, padding, dilation,
                                      groups).movedim(1, -1)


def keras_transpose_pads(kernel_size: int, stride: int, dilation: int, padding: str,
                         output_padding: int | None) -> tuple[int, int]:
    """Keras's (left, right) padding of a transposed convolution (the input dilated by `stride`)."""
    span = (kernel_size - 1) * dilation + 1
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return span - 1, span - 1 + extra
    total = stride + span - 2 if output_padding is None else span + span % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, span - 1)
    return left, total - left


def output_padding_tuple(value: Any, rank: int, strides: tuple[int, ...] | None,
                         owner: str) -> tuple[int, ...] | None:
    """A transposed convolution's `output_padding`: None, or `rank` non-negative ints, each below its
    stride when `strides` is given (the layers check that; keras.ops does not)."""
    if value is None:
        return None
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,) * rank
    if len(values) != rank or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0
                                  for v in values):
        raise ValueError(f"{owner}: `output_padding` must be None, a non-negative integer or a tuple of {rank} "
                         f"non-negative integers, got {value!r}")
    for axis, (extra, stride) in enumerate(zip(values, strides or ())):
        if extra >= stride:
            raise ValueError(f"{owner}: `output_padding` must be strictly less than `strides` on every axis; "
                             f"axis {axis} has output_padding {extra} and strides {stride}")
    return tuple(int(v) for v in values)


def transpose_crop(kernel_size: int, stride: int, dilation: int, padding: str,
                   output_padding: int | None) -> tuple[int, int]:
    """What to cut from each end of PyTorch's unpadded transposed convolution along one axis to get
    Keras's output window (negative: zeros to add there)."""
    left, right = keras_transpose_pads(kernel_size, stride, dilation, padding, output_padding)
    span = (kernel_size - 1) * dilation + 1
    return span - 1 - left, span - 1 - right


def crop_spatial(x: torch.Tensor, crops: Sequence[tuple[int, int]]) -> torch.Tensor:
    """Cut `crops` ((left, right) per spatial axis) from a channels-first `x`; a negative amount adds
    that many zeros at that end instead."""
    if not any(left or right for left, right in crops):
        return x
    index = [slice(None), slice(None)] + [slice(max(0, left), x.shape[2 + axis] - max(0, right))
                                          for axis, (left, right) in enumerate(crops)]
    x = x[tuple(index)]
    if any(left < 0 or right < 0 for left, right in crops):
        x = F.pad(x, [p for left, right in reversed(crops) for p in (max(0, -left), max(0, -right))])
    return x
