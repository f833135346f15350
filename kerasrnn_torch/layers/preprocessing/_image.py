"""What the image preprocessing layers share: checking an image or a batch of them, and (from kr.ops.image,
which the ops share) where its rows and columns lie, the centred box of a target's aspect ratio, and resizing
as Keras's torch backend does."""
from __future__ import annotations

import numbers
from typing import Any

import torch

from ..._checks import require_tensor, shape_text
from ..._types import InputShape
# The resizing geometry is kr.ops.image's, shared with the ops.
from ...ops.image import (INTERPOLATIONS, aspect_box, crop, flag_argument, pad_to_aspect,  # noqa: F401
                          resize_batch, spatial_axes)


def size_argument(value: Any, argument: str, owner: str) -> int:
    """A target height or width: a positive integer."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1:
        raise ValueError(f"{owner}: `{argument}` must be a positive integer, got {value!r}")
    return int(value)


def checked_images(inputs: Any, owner: str, data_format: str) -> torch.Tensor:
    """`inputs` as a 4-D batch (an unbatched image gets a batch axis of 1); the caller drops it again."""
    layout = "(height, width, channels)" if data_format == "channels_last" else "(channels, height, width)"
    require_tensor(inputs, owner, f"an image {layout} or a batch of them")
    if inputs.dim() not in (3, 4):
        raise ValueError(f"{owner} expects an image {layout} or a batch of them (rank 3 or 4, {data_format}), "
                         f"got shape {shape_text(inputs.shape)}")
    return inputs if inputs.dim() == 4 else inputs.unsqueeze(0)


def saturating_cast(values: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Float `values` rounded and clipped to an integer `dtype`'s range, then cast (as Keras casts resized
    integer images back)."""
    info = torch.iinfo(dtype)
    return torch.round(values).clamp(info.min, info.max).to(dtype)


def float_dtype(layer_dtype: torch.dtype | None) -> torch.dtype:
    return layer_dtype or torch.get_default_dtype()


def with_spatial(input_shape: InputShape, data_format: str, height: int, width: int) -> tuple:
    """`input_shape` (rank 3 or 4) with its rows and columns set to `height` and `width`."""
    shape = list(input_shape)
    rows = (len(shape) - 3) if data_format == "channels_last" else (len(shape) - 2)
    shape[rows], shape[rows + 1] = height, width
    return tuple(shape)
