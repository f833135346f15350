"""`keras.ops`'s block rearrangements of images: `depth_to_space`, `space_to_depth`, `unfold` and `fold`, as Keras's
torch backend computes them.

`depth_to_space` and `space_to_depth` take `(batch, height, width, channels)`
("channels_last": a channel block is `(row, column, channel)`, as TensorFlow
orders it) or `(batch, channels, height, width)` ("channels_first": `(channel,
row, column)`, as PyTorch's pixel shuffle orders it); `unfold` and `fold` take
channels first, as PyTorch's.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ..core.data_format import standardize as standardize_data_format
from .core import tensor
from .operation import operation


def _image(x: Any, owner: str) -> torch.Tensor:
    image = tensor(x)
    if image.dim() != 4:
        raise ValueError(f"kr.ops.{owner}: x must be a 4-D batch of images, got shape {tuple(image.shape)}")
    return image


def _block(block_size: Any, owner: str) -> int:
    if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 2:
        raise ValueError(f"kr.ops.{owner}: `block_size` must be an integer of at least 2, got {block_size!r}")
    return block_size


def depth_to_space(x: Any, block_size: int, data_format: str | None = "channels_last") -> torch.Tensor:
    """Spread each pixel's channels over a `block_size` x `block_size` block of pixels: `(batch, h, w, c)` to
    `(batch, h * block_size, w * block_size, c / block_size**2)`, as `keras.ops.depth_to_space`.

    >>> depth_to_space(torch.arange(4.0).reshape(1, 1, 1, 4), 2)[0, :, :, 0]
    tensor([[0., 1.],
            [2., 3.]])
    """
    return _depth_to_space(x, _block(block_size, "depth_to_space"),
                           standardize_data_format(data_format, "kr.ops.depth_to_space"))


@operation("DepthToSpace", config=("block_size", "data_format"), module="nn")
def _depth_to_space(x: Any, block_size: int, data_format: str = "channels_last") -> torch.Tensor:
    image = _image(x, "depth_to_space")
    channels = image.shape[-1] if data_format == "channels_last" else image.shape[1]
    if channels % (block_size * block_size):
        raise ValueError(f"kr.ops.depth_to_space: the {channels} channels must be a multiple of block_size**2 "
                         f"({block_size * block_size})")
    if data_format == "channels_first":
        return F.pixel_shuffle(image, block_size)
    batch, height, width, _ = image.shape
    blocks = image.reshape(batch, height, width, block_size, block_size, channels // block_size ** 2)
    return blocks.permute(0, 1, 3, 2, 4, 5).reshape(batch, height * block_size, width * block_size, -1)


def space_to_depth(x: Any, block_size: int, data_format: str | None = "channels_last") -> torch.Tensor:
    """Gather each `block_size` x `block_size` block of pixels into one pixel's channels, the inverse of
    `depth_to_space`, as `keras.ops.space_to_depth`.

    >>> space_to_depth(torch.arange(4.0).reshape(1, 2, 2, 1), 2)[0, 0, 0]
    tensor([0., 1., 2., 3.])
    """
    return _space_to_depth(x, _block(block_size, "space_to_depth"),
                           standardize_data_format(data_format, "kr.ops.space_to_depth"))


@operation("SpaceToDepth", config=("block_size", "data_format"), module="nn")
def _space_to_depth(x: Any, block_size: int, data_format: str = "channels_last") -> torch.Tensor:
    image = _image(x, "space_to_depth")
    spatial = image.shape[1:3] if data_format == "channels_last" else image.shape[2:]
    if spatial[0] % block_size or spatial[1] % block_size:
        raise ValueError(f"kr.ops.space_to_depth: the height and width {tuple(spatial)} must be multiples of "
                         f"block_size ({block_size})")
    if data_format == "channels_first":
        return F.pixel_unshuffle(image, block_size)
    batch, height, width, channels = image.shape
    blocks = image.reshape(batch, height // block_size, block_size, width // block_size, block_size, channels)
    return blocks.permute(0, 1, 3, 2, 4, 5).reshape(batch, height // block_size, width // block_size, -1)


@operation("Unfold", config=("kernel_size", "dilation", "padding", "stride"), module="nn")
def unfold(x: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> torch.Tensor:
    """The sliding `kernel_size` blocks of a `(batch, channels, height, width)` batch as columns:
    `(batch, channels * kh * kw, blocks)`, as `keras.ops.unfold` (PyTorch's `unfold`; `padding` zeros on
    each side).

    >>> unfold(torch.ones(1, 2, 4, 4), 2).shape
    torch.Size([1, 8, 9])
    """
    return F.unfold(_image(x, "unfold"), kernel_size, dilation=dilation, padding=padding, stride=stride)


@operation("Fold", config=("output_size", "kernel_size", "dilation", "padding", "stride"), module="nn")
def fold(x: Any, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
         ) -> torch.Tensor:
    """The inverse arrangement of `unfold`: `(batch, channels * kh * kw, blocks)` columns summed into a
    `(batch, channels, *output_size)` batch (overlaps add up), as `keras.ops.fold`.

    >>> fold(torch.ones(1, 8, 9), (4, 4), 2)[0, 0]
    tensor([[1., 2., 2., 1.],
            [2., 4., 4., 2.],
            [2., 4., 4., 2.],
            [1., 2., 2., 1.]])
    """
    columns = tensor(x)
    if columns.dim() != 3:
        raise ValueError(f"kr.ops.fold: x must be 3-D (batch, channels * kh * kw, blocks), got shape "
                         f"{tuple(columns.shape)}")
    return F.fold(columns, output_size, kernel_size, dilation=dilation, padding=padding, stride=stride)
