"""What the image preprocessing layers share: checking an image or a batch of them, where its rows and columns
lie, the centred box of a target's aspect ratio, and resizing as Keras's torch backend does."""
from __future__ import annotations

import numbers
from typing import Any

import torch
import torch.nn.functional as F

from ..._checks import require_tensor, shape_text
from ..._types import InputShape

# Keras's interpolation names -> torch's `interpolate` modes ("nearest" is torch's "nearest-exact", as in Keras).
INTERPOLATIONS = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}


def size_argument(value: Any, argument: str, owner: str) -> int:
    """A target height or width: a positive integer."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1:
        raise ValueError(f"{owner}: `{argument}` must be a positive integer, got {value!r}")
    return int(value)


def flag_argument(value: Any, argument: str, owner: str) -> bool:
    if not isinstance(value, (bool, int)):
        raise ValueError(f"{owner}: `{argument}` must be True or False, got {value!r}")
    return bool(value)


def checked_images(inputs: Any, owner: str, data_format: str) -> torch.Tensor:
    """`inputs` as a 4-D batch (an unbatched image gets a batch axis of 1); the caller drops it again."""
    layout = "(height, width, channels)" if data_format == "channels_last" else "(channels, height, width)"
    require_tensor(inputs, owner, f"an image {layout} or a batch of them")
    if inputs.dim() not in (3, 4):
        raise ValueError(f"{owner} expects an image {layout} or a batch of them (rank 3 or 4, {data_format}), "
                         f"got shape {shape_text(inputs.shape)}")
    return inputs if inputs.dim() == 4 else inputs.unsqueeze(0)


def spatial_axes(data_format: str) -> tuple[int, int]:
    """The rows' and the columns' axes of a 4-D batch."""
    return (1, 2) if data_format == "channels_last" else (2, 3)


def crop(images: torch.Tensor, data_format: str, top: int, left: int, height: int, width: int) -> torch.Tensor:
    """The `height` x `width` window of a 4-D batch whose top-left corner is (`top`, `left`)."""
    rows, cols = spatial_axes(data_format)
    return images.narrow(rows, top, height).narrow(cols, left, width)


def aspect_box(height: int, width: int, target_height: int, target_width: int) -> tuple[int, int, int, int]:
    """(top, left, height, width) of the largest centred box of the target's aspect ratio inside a
    `height` x `width` image, rounded as Keras rounds it."""
    box_height = max(min(height, int(float(width * target_height) / target_width)), 1)
    box_width = max(min(width, int(float(height * target_width) / target_height)), 1)
    return int(float(height - box_height) / 2), int(float(width - box_width) / 2), box_height, box_width


def pad_to_aspect(images: torch.Tensor, data_format: str, target_height: int, target_width: int,
                  fill_value: float) -> torch.Tensor:
    """A 4-D batch padded evenly on both sides with `fill_value` to the target's aspect ratio."""
    rows, cols = spatial_axes(data_format)
    height, width = images.shape[rows], images.shape[cols]
    top = (max(height, int(float(width * target_height) / target_width)) - height) // 2
    left = (max(width, int(float(height * target_width) / target_height)) - width) // 2
    pads = [0, 0, 0, 0, 0, 0]      # F.pad lists the last axis first
    pads[2 * (3 - cols):2 * (3 - cols) + 2] = [left, left]
    pads[2 * (3 - rows):2 * (3 - rows) + 2] = [top, top]
    return F.pad(images, pads, value=fill_value) if top or left else images


def resize(images: torch.Tensor, data_format: str, height: int, width: int, interpolation: str = "bilinear",
           antialias: bool = False) -> torch.Tensor:
    """A 4-D float batch resized to `height` x `width` as Keras's torch backend does (`align_corners=False`)."""
    channels_last = data_format == "channels_last"
    x = images.movedim(-1, 1) if channels_last else images
    antialias = antialias and interpolation in ("bilinear", "bicubic")
    out = F.interpolate(x, size=(height, width), mode=INTERPOLATIONS[interpolation],
                        align_corners=False if interpolation != "nearest" else None, antialias=antialias)
    return out.movedim(1, -1) if channels_last else out


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
