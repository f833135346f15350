"""`kr.ops.image`: Keras 3's `keras.ops.image` functions, as Keras's torch backend computes them.

Each takes one image (rank 3) or a batch of them (rank 4), channels last
(`(height, width, channels)`, the default; `data_format=None` means the same)
or first (`data_format="channels_first"`: `(channels, height, width)`). On
torch tensors and NumPy arrays they compute at once; on KerasTensors
(`kr.Input`) they record Keras's operation (`RGBToGrayscale`, `Resize`, ...),
so a functional model runs them and Keras files hold them.

The resizing geometry here (`aspect_box`, `pad_to_aspect`, `resize_batch`)
is also what the image preprocessing layers (`kr.layers.Resizing`,
`CenterCrop`, `RandomCrop`) compute with.

>>> import torch
>>> from kerasrnn_torch.ops import image
>>> image.rgb_to_grayscale(torch.ones(2, 4, 4, 3)).shape
torch.Size([2, 4, 4, 1])
"""
from __future__ import annotations

import functools
import itertools
import math
import numbers
import operator
from typing import Any

import torch
import torch.nn.functional as F

from .._checks import shape_text
from ..core.data_format import standardize as standardize_data_format
from .convolution import conv
from .core import dtype_name, tensor
from .numpy import mean
from .operation import operation

# Keras's interpolation names -> torch's `interpolate` modes ("nearest" is torch's "nearest-exact", as in Keras).
INTERPOLATIONS = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}
_INTEGER_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


# ------------------------------------------------------------------ shared geometry (ops and layers)
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


def resize_batch(images: torch.Tensor, data_format: str, height: int, width: int, interpolation: str = "bilinear",
                 antialias: bool = False) -> torch.Tensor:
    """A 4-D float batch resized to `height` x `width` as Keras's torch backend does (`align_corners=False`;
    `antialias` only for "bilinear" and "bicubic")."""
    channels_last = data_format == "channels_last"
    x = images.movedim(-1, 1) if channels_last else images
    antialias = antialias and interpolation in ("bilinear", "bicubic")
    out = F.interpolate(x, size=(height, width), mode=INTERPOLATIONS[interpolation],
                        align_corners=False if interpolation != "nearest" else None, antialias=antialias)
    return out.movedim(1, -1) if channels_last else out


# ------------------------------------------------------------------ checks
def _images(images: Any, owner: str, data_format: str) -> torch.Tensor:
    x = tensor(images)
    if x.dim() not in (3, 4):
        layout = "(height, width, channels)" if data_format == "channels_last" else "(channels, height, width)"
        raise ValueError(f"kr.ops.image.{owner}: images must be one image {layout} (rank 3) or a batch of them "
                         f"(rank 4), got shape {shape_text(x.shape)}")
    return x


def _channel_axis(data_format: str) -> int:
    return -1 if data_format == "channels_last" else -3


def _channels(x: torch.Tensor, allowed: tuple[int, ...], what: str, owner: str, data_format: str) -> int:
    channels = x.shape[_channel_axis(data_format)]
    if channels not in allowed:
        raise ValueError(f"kr.ops.image.{owner}: images must have {what} on axis {_channel_axis(data_format)} "
                         f"({data_format}), got shape {shape_text(x.shape)} ({channels} channels)")
    return int(channels)


def _float_images(x: torch.Tensor, owner: str) -> torch.Tensor:
    if not x.dtype.is_floating_point:
        raise ValueError(f"kr.ops.image.{owner}: images must have a float dtype, got {dtype_name(x.dtype)}")
    return x


def _format(data_format: Any, owner: str) -> str:
    return standardize_data_format(data_format, f"kr.ops.image.{owner}")


# ------------------------------------------------------------------ symbolic shapes, as Keras's operations give them
def _same_shape(config: dict[str, Any], shapes: list[tuple]) -> list[tuple]:
    return [tuple(shapes[0])]


def _one_channel(config: dict[str, Any], shapes: list[tuple]) -> list[tuple]:
    shape = list(shapes[0])
    shape[_channel_axis(_format(config.get("data_format"), "rgb_to_grayscale"))] = 1
    return [tuple(shape)]


def _resized_shape(config: dict[str, Any], shapes: list[tuple]) -> list[tuple]:
    shape = list(shapes[0])
    rows = -3 if _format(config.get("data_format"), "resize") == "channels_last" else -2
    shape[rows], shape[rows + 1] = int(config["size"][0]), int(config["size"][1])
    return [tuple(shape)]


# ------------------------------------------------------------------ colour spaces
def rgb_to_grayscale(images: Any, data_format: str | None = None) -> torch.Tensor:
    """RGB images as grayscale (one channel), as `keras.ops.image.rgb_to_grayscale`.

    The grey is `0.2989 R + 0.587 G + 0.114 B`, cast back to the images' dtype
    (integers truncate); images of one channel come back as a copy.

    >>> rgb_to_grayscale(torch.tensor([[[1.0, 1.0, 1.0]]])).shape
    torch.Size([1, 1, 1])
    """
    return _rgb_to_grayscale(images, _format(data_format, "rgb_to_grayscale"))


@operation("RGBToGrayscale", config=("data_format",), module="image", symbolic_shapes=_one_channel)
def _rgb_to_grayscale(images: Any, data_format: str = "channels_last") -> torch.Tensor:
    data_format = _format(data_format, "rgb_to_grayscale")      # None in a file Keras wrote
    x = _images(images, "rgb_to_grayscale", data_format)
    axis = _channel_axis(data_format)
    if _channels(x, (1, 3), "1 (grayscale) or 3 (RGB) channels", "rgb_to_grayscale", data_format) == 1:
        return x.clone()
    red, green, blue = x.unbind(axis)
    return (0.2989 * red + 0.587 * green + 0.114 * blue).to(x.dtype).unsqueeze(axis)


def rgb_to_hsv(images: Any, data_format: str | None = None) -> torch.Tensor:
    """Float RGB images as hue, saturation and value (each in [0, 1] for RGB in [0, 1]), as
    `keras.ops.image.rgb_to_hsv`. A hue of 0 is red, 1/3 green, 2/3 blue."""
    return _rgb_to_hsv(images, _format(data_format, "rgb_to_hsv"))


@operation("RGBToHSV", config=("data_format",), module="image", symbolic_shapes=_same_shape)
def _rgb_to_hsv(images: Any, data_format: str = "channels_last") -> torch.Tensor:
    data_format = _format(data_format, "rgb_to_hsv")      # None in a file Keras wrote
    x = _float_images(_images(images, "rgb_to_hsv", data_format), "rgb_to_hsv")
    axis = _channel_axis(data_format)
    _channels(x, (3,), "3 (RGB) channels", "rgb_to_hsv", data_format)
    x = torch.where(x.abs() < torch.finfo(x.dtype).eps, 0.0, x)       # tiny values count as 0
    red, green, blue = x.unbind(axis)
    value = torch.maximum(torch.maximum(red, green), blue)
    spread = value - torch.minimum(torch.minimum(red, green), blue)
    saturation = torch.where(value > 0, spread / torch.where(value > 0, value, 1.0), 0.0)
    scale = 1.0 / (6.0 * torch.where(spread > 0, spread, 1.0))
    hue = torch.where(value == green, scale * (blue - red) + 2.0 / 6.0, scale * (red - green) + 4.0 / 6.0)
    hue = torch.where(value == red, scale * (green - blue), hue)
    hue = torch.where(spread > 0, hue, 0.0) + (hue < 0.0).to(hue.dtype)
    return torch.stack((hue, saturation, value), dim=axis)


def hsv_to_rgb(images: Any, data_format: str | None = None) -> torch.Tensor:
    """Float HSV images (as `rgb_to_hsv` gives) back as RGB, as `keras.ops.image.hsv_to_rgb`."""
    return _hsv_to_rgb(images, _format(data_format, "hsv_to_rgb"))


@operation("HSVToRGB", config=("data_format",), module="image", symbolic_shapes=_same_shape)
def _hsv_to_rgb(images: Any, data_format: str = "channels_last") -> torch.Tensor:
    data_format = _format(data_format, "hsv_to_rgb")      # None in a file Keras wrote
    x = _float_images(_images(images, "hsv_to_rgb", data_format), "hsv_to_rgb")
    axis = _channel_axis(data_format)
    _channels(x, (3,), "3 (HSV) channels", "hsv_to_rgb", data_format)
    hue, saturation, value = x.unbind(axis)
    sector = torch.remainder(hue, 1.0) * 6.0
    weights = (torch.clip(torch.abs(sector - 3.0) - 1.0, 0.0, 1.0),
               torch.clip(2.0 - torch.abs(sector - 2.0), 0.0, 1.0),
               torch.clip(2.0 - torch.abs(sector - 4.0), 0.0, 1.0))
    grey = 1.0 - saturation
    return torch.stack([value * (grey + saturation * w) for w in weights], dim=axis)


# ------------------------------------------------------------------ resizing
def flag_argument(value: Any, argument: str, owner: str) -> bool:
    """A True/False argument (an int counts, as Keras's), checked; shared with the image preprocessing layers."""
    if not isinstance(value, (bool, int)):
        raise ValueError(f"{owner}: `{argument}` must be True or False, got {value!r}")
    return bool(value)


def _size(size: Any) -> tuple[int, int]:
    try:
        values = tuple(size)
    except TypeError:
        values = ()
    if len(values) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        raise ValueError(f"kr.ops.image.resize: `size` must be two integers (height, width), got {size!r}")
    if values[0] <= 0 or values[1] <= 0:
        raise ValueError(f"kr.ops.image.resize: `size` must have a positive height and width, got {size!r}")
    return int(values[0]), int(values[1])


def resize(images: Any, size: Any, interpolation: str = "bilinear", antialias: bool = False,
           crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False, fill_mode: str = "constant",
           fill_value: float = 0.0, data_format: str | None = None) -> torch.Tensor:
    """Images resized to `size` = (height, width), as `keras.ops.image.resize` on Keras's torch backend.

    `interpolation` is "bilinear" (default), "nearest" or "bicubic" (torch
    has no Lanczos); `antialias` smooths before shrinking (bilinear and
    bicubic only). `crop_to_aspect_ratio` first crops the largest centred box
    of the output's aspect ratio; `pad_to_aspect_ratio` instead pads both
    sides evenly with `fill_value` (`fill_mode` "constant", the only one).
    Integer images are resized in float32, rounded and cast back (bicubic
    bytes clipped to [0, 255] first); float16 images in float32.

    >>> resize(torch.tensor([[[1.0], [3.0]], [[5.0], [7.0]]]), (1, 2)).flatten().tolist()
    [3.0, 5.0]
    """
    owner = "resize"
    if interpolation in ("lanczos3", "lanczos5"):
        raise ValueError(f"kr.ops.image.resize: interpolation={interpolation!r} is not available with torch (nor "
                         "on Keras's torch backend); use 'bilinear', 'nearest' or 'bicubic'")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"kr.ops.image.resize: `interpolation` must be one of {', '.join(map(repr, INTERPOLATIONS))}"
                         f"; got {interpolation!r}")
    if fill_mode != "constant":
        raise ValueError(f"kr.ops.image.resize: `fill_mode` must be 'constant' (the only one), got {fill_mode!r}")
    where = f"kr.ops.image.{owner}"
    crop_flag = flag_argument(crop_to_aspect_ratio, "crop_to_aspect_ratio", where)
    pad_flag = flag_argument(pad_to_aspect_ratio, "pad_to_aspect_ratio", where)
    if crop_flag and pad_flag:
        raise ValueError("kr.ops.image.resize: only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can be "
                         "True")
    if isinstance(fill_value, bool) or not isinstance(fill_value, numbers.Real):
        raise ValueError(f"kr.ops.image.resize: `fill_value` must be a number, got {fill_value!r}")
    return _resize(images, _size(size), interpolation, flag_argument(antialias, "antialias", where), crop_flag,
                   pad_flag, fill_mode, fill_value, _format(data_format, owner))


@operation("Resize", config=("size", "interpolation", "antialias", "crop_to_aspect_ratio", "pad_to_aspect_ratio",
                             "fill_mode", "fill_value", "data_format"), module="image",
           symbolic_shapes=_resized_shape)
def _resize(images: Any, size: Any = (1, 1), interpolation: str = "bilinear", antialias: bool = False,
            crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False, fill_mode: str = "constant",
            fill_value: float = 0.0, data_format: str = "channels_last") -> torch.Tensor:
    data_format = _format(data_format, "resize")      # None in a file Keras wrote
    original = _images(images, "resize", data_format)
    height, width = int(size[0]), int(size[1])
    x = original if original.dim() == 4 else original.unsqueeze(0)
    if x.dtype not in (torch.float32, torch.float64):
        x = x.to(torch.float32)
    if crop_to_aspect_ratio:
        rows, cols = spatial_axes(data_format)
        x = crop(x, data_format, *aspect_box(x.shape[rows], x.shape[cols], height, width))
    elif pad_to_aspect_ratio:
        x = pad_to_aspect(x, data_format, height, width, float(fill_value))
    out = resize_batch(x, data_format, height, width, interpolation, bool(antialias))
    if original.dim() == 3:
        out = out.squeeze(0)
    if out.dtype == original.dtype:
        return out
    if interpolation == "bicubic" and original.dtype == torch.uint8:
        out = out.clamp(0, 255)
    if original.dtype in _INTEGER_DTYPES:
        out = torch.round(out)
    return out.to(original.dtype)


# ------------------------------------------------------------------ padding and cropping
def _amount(value: Any, argument: str, owner: str) -> int | None:
    """A padding, cropping or target size: None, or a non-negative integer."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"kr.ops.image.{owner}: `{argument}` must be a non-negative integer or None, got {value!r}")
    if value < 0:
        raise ValueError(f"kr.ops.image.{owner}: `{argument}` must be >= 0, got {value!r}")
    return int(value)


def _two_of(first: Any, second: Any, target: Any, names: tuple[str, str, str], owner: str) -> None:
    given = [name for name, value in zip(names, (first, second, target)) if value is not None]
    if len(given) != 2:
        raise ValueError(f"kr.ops.image.{owner}: give exactly two of `{names[0]}`, `{names[1]}` and `{names[2]}`, "
                         f"got {', '.join(f'{n}={v!r}' for n, v in zip(names, (first, second, target)))}")


def _sides(size: int | None, first: int | None, second: int | None, target: int | None, names: tuple[str, str, str],
           owner: str, cropping: bool) -> tuple[int | None, int | None, int | None]:
    """(first, second, target) along one axis of `size` (None: unknown), the missing one worked out; a clear error
    when it comes out negative."""
    if size is None:
        return first, second, target
    sign = -1 if cropping else 1       # padding: target = size + first + second; cropping: size - first - second
    if target is None:
        assert first is not None and second is not None
        target = size + sign * (first + second)
    elif first is None:
        assert second is not None
        first = sign * (target - size) - second
    else:
        second = sign * (target - size) - first
    for name, value in zip(names, (first, second, target)):
        if value < 0:
            raise ValueError(f"kr.ops.image.{owner}: `{name}` comes out as {value} (must be >= 0) for images of "
                             f"{size} along that axis; got {names[0]}={first}, {names[1]}={second}, "
                             f"{names[2]}={target}")
    return first, second, target


_Edges = tuple[int | None, int | None, int | None, int | None, int | None, int | None]


def _edges(owner: str, cropping: bool, top: Any, left: Any, bottom: Any, right: Any, target_height: Any,
           target_width: Any) -> _Edges:
    word = "cropping" if cropping else "padding"
    values = [_amount(v, n, owner) for v, n in zip(
        (top, left, bottom, right, target_height, target_width),
        (f"top_{word}", f"left_{word}", f"bottom_{word}", f"right_{word}", "target_height", "target_width"))]
    _two_of(values[0], values[2], values[4], (f"top_{word}", f"bottom_{word}", "target_height"), owner)
    _two_of(values[1], values[3], values[5], (f"left_{word}", f"right_{word}", "target_width"), owner)
    return values[0], values[1], values[2], values[3], values[4], values[5]


def _box(shape: tuple, data_format: str, owner: str, cropping: bool,
         edges: tuple[int | None, ...]) -> tuple[tuple[int | None, int | None, int | None], ...]:
    """((top, bottom, height), (left, right, width)) of the output for images of `shape`."""
    word = "cropping" if cropping else "padding"
    top, left, bottom, right, target_height, target_width = edges
    rows = -3 if data_format == "channels_last" else -2
    height, width = shape[rows], shape[rows + 1]
    return (_sides(height, top, bottom, target_height, (f"top_{word}", f"bottom_{word}", "target_height"), owner,
                   cropping),
            _sides(width, left, right, target_width, (f"left_{word}", f"right_{word}", "target_width"), owner,
                   cropping))


def _boxed_shape(config: dict[str, Any], shapes: list[tuple], cropping: bool) -> list[tuple]:
    owner = "crop_images" if cropping else "pad_images"
    word = "cropping" if cropping else "padding"
    edges = tuple(config[f"{side}_{word}"] for side in ("top", "left", "bottom", "right")) + (
        config["target_height"], config["target_width"])
    data_format = _format(config.get("data_format"), owner)
    (_, _, height), (_, _, width) = _box(tuple(shapes[0]), data_format, owner, cropping, edges)
    shape = list(shapes[0])
    rows = -3 if data_format == "channels_last" else -2
    shape[rows], shape[rows + 1] = height, width
    return [tuple(shape)]


def pad_images(images: Any, top_padding: int | None = None, left_padding: int | None = None,
               bottom_padding: int | None = None, right_padding: int | None = None, target_height: int | None = None,
               target_width: int | None = None, data_format: str | None = None) -> torch.Tensor:
    """Images padded with zeros, as `keras.ops.image.pad_images`.

    Give two of `top_padding`, `bottom_padding` and `target_height` (the
    output's height), and two of `left_padding`, `right_padding` and
    `target_width`; the third follows from the images' size.

    >>> pad_images(torch.ones(2, 2, 1), top_padding=1, bottom_padding=0, left_padding=0, target_width=3).shape
    torch.Size([3, 3, 1])
    """
    edges = _edges("pad_images", False, top_padding, left_padding, bottom_padding, right_padding, target_height,
                   target_width)
    return _pad_images(images, *edges, _format(data_format, "pad_images"))


@operation("PadImages", config=("top_padding", "left_padding", "bottom_padding", "right_padding", "target_height",
                                "target_width", "data_format"), module="image",
           symbolic_shapes=lambda config, shapes: _boxed_shape(config, shapes, cropping=False))
def _pad_images(images: Any, top_padding: int | None = None, left_padding: int | None = None,
                bottom_padding: int | None = None, right_padding: int | None = None, target_height: int | None = None,
                target_width: int | None = None, data_format: str = "channels_last") -> torch.Tensor:
    data_format = _format(data_format, "pad_images")      # None in a file Keras wrote
    x = _images(images, "pad_images", data_format)
    edges = (top_padding, left_padding, bottom_padding, right_padding, target_height, target_width)
    (top, bottom, _), (left, right, _) = _box(tuple(x.shape), data_format, "pad_images", False, edges)
    pads = [left, right, top, bottom] if data_format == "channels_first" else [0, 0, left, right, top, bottom]
    return F.pad(x, [int(p or 0) for p in pads])


def crop_images(images: Any, top_cropping: int | None = None, left_cropping: int | None = None,
                bottom_cropping: int | None = None, right_cropping: int | None = None,
                target_height: int | None = None, target_width: int | None = None,
                data_format: str | None = None) -> torch.Tensor:
    """A window of the images, as `keras.ops.image.crop_images`.

    Give two of `top_cropping`, `bottom_cropping` and `target_height` (the
    output's height), and two of `left_cropping`, `right_cropping` and
    `target_width`; the third follows from the images' size.

    >>> crop_images(torch.arange(16.0).reshape(4, 4, 1), 1, 0, target_height=2, target_width=2).flatten().tolist()
    [4.0, 5.0, 8.0, 9.0]
    """
    edges = _edges("crop_images", True, top_cropping, left_cropping, bottom_cropping, right_cropping, target_height,
                   target_width)
    return _crop_images(images, *edges, _format(data_format, "crop_images"))


@operation("CropImages", config=("top_cropping", "left_cropping", "bottom_cropping", "right_cropping",
                                 "target_height", "target_width", "data_format"), module="image",
           symbolic_shapes=lambda config, shapes: _boxed_shape(config, shapes, cropping=True))
def _crop_images(images: Any, top_cropping: int | None = None, left_cropping: int | None = None,
                 bottom_cropping: int | None = None, right_cropping: int | None = None,
                 target_height: int | None = None, target_width: int | None = None,
                 data_format: str = "channels_last") -> torch.Tensor:
    data_format = _format(data_format, "crop_images")      # None in a file Keras wrote
    x = _images(images, "crop_images", data_format)
    edges = (top_cropping, left_cropping, bottom_cropping, right_cropping, target_height, target_width)
    (top, _, height), (left, _, width) = _box(tuple(x.shape), data_format, "crop_images", True, edges)
    rows = x.dim() - 3 if data_format == "channels_last" else x.dim() - 2
    return x.narrow(rows, int(top or 0), int(height or 0)).narrow(rows + 1, int(left or 0), int(width or 0))


# ------------------------------------------------------------------ patches
def _int_tuple(value: Any, lengths: tuple[int, ...], argument: str, owner: str) -> tuple[int, ...]:
    """An int or a tuple (list) of positive ints of one of `lengths`."""
    values: Any = (value,) if isinstance(value, numbers.Integral) and not isinstance(value, bool) else value
    if not isinstance(values, (tuple, list)) or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and int(v) > 0 for v in values) or (
            len(values) not in lengths and len(values) != 1):
        raise ValueError(f"kr.ops.image.{owner}: `{argument}` must be a positive int or a tuple of "
                         f"{' or '.join(map(str, lengths))} of them, got {value!r}")
    return tuple(int(v) for v in values)


def extract_patches(images: Any, size: Any, strides: Any = None, dilation_rate: Any = 1, padding: str = "valid",
                    data_format: str | None = None) -> torch.Tensor:
    """The patches of images laid out along the channels, as `keras.ops.image.extract_patches`.

    `size` is an int or (height, width) (or (depth, height, width) for
    volumes: rank 4 or 5); each output position holds its patch's values in
    (row, column, channel) order, `size[0] * size[1] * channels` of them.
    `strides` defaults to `size` (patches side by side); `padding` is
    "valid" or "same" (Keras's, an odd extra step at the end).

    >>> extract_patches(torch.ones(2, 4, 6, 3), 2).shape
    torch.Size([2, 2, 3, 12])
    """
    owner = "extract_patches"
    if not isinstance(size, (numbers.Integral, tuple, list)) or isinstance(size, bool):
        raise TypeError(f"kr.ops.image.extract_patches: `size` must be an int or a tuple of 2 or 3 ints, got "
                        f"{type(size).__name__} {size!r}")
    size_tuple = _int_tuple(size, (2, 3), "size", owner)
    if len(size_tuple) == 1:
        size_tuple = size_tuple * 2
    rank = len(size_tuple)
    stride_tuple = size_tuple if strides is None else _int_tuple(strides, (rank,), "strides", owner)
    dilation = _int_tuple(dilation_rate, (rank,), "dilation_rate", owner)
    if padding not in ("valid", "same"):       # in lower case: Keras's torch backend reads "SAME" as "valid"
        raise ValueError(f"kr.ops.image.extract_patches: `padding` must be 'valid' or 'same' (lower case), got "
                         f"{padding!r}")
    return _extract_patches(images, size_tuple, stride_tuple * rank if len(stride_tuple) == 1 else stride_tuple,
                            dilation[0] if len(dilation) == 1 else dilation, padding, _format(data_format, owner))


@operation("ExtractPatches", config=("size", "strides", "dilation_rate", "padding", "data_format"), module="image")
def _extract_patches(images: Any, size: Any = (1, 1), strides: Any = None, dilation_rate: Any = 1,
                     padding: str = "valid", data_format: str = "channels_last") -> torch.Tensor:
    data_format = _format(data_format, "extract_patches")      # None in a file Keras wrote
    size = (int(size),) * 2 if isinstance(size, numbers.Integral) else tuple(int(s) for s in size)
    x = tensor(images)
    rank = len(size)
    if x.dim() not in (rank + 1, rank + 2):
        what = "image" if rank == 2 else "volume"
        raise ValueError(f"kr.ops.image.extract_patches: {rank}-D patches (size {size}) need one {what} (rank "
                         f"{rank + 1}) or a batch of them (rank {rank + 2}), got shape {shape_text(x.shape)}")
    batched = x if x.dim() == rank + 2 else x.unsqueeze(0)
    channels = batched.shape[-1] if data_format == "channels_last" else batched.shape[1]
    count = channels
    for s in size:
        count *= s
    # Keras takes patches as a convolution with an identity kernel: output channel k copies the patch's k-th value.
    kernel = torch.eye(count, dtype=batched.dtype, device=batched.device).reshape(*size, channels, count)
    patches = conv(batched, kernel, strides=size if strides is None else strides, padding=padding,
                   data_format=data_format, dilation_rate=dilation_rate)
    return patches if x.dim() == rank + 2 else patches.squeeze(0)


# ------------------------------------------------------------------ filters
def _positive(value: Any, kinds: tuple[type, ...]) -> bool:
    if not isinstance(value, kinds) or isinstance(value, bool):
        return False
    number: Any = value
    return bool(number > 0)


def _pair(value: Any, argument: str, owner: str, integer: bool) -> tuple[Any, Any]:
    kinds: tuple[type, ...] = (numbers.Integral,) if integer else (numbers.Real,)
    values: Any = (value, value) if isinstance(value, kinds) else value
    if not isinstance(values, (tuple, list)) or len(values) != 2 or not all(
            _positive(v, kinds) for v in values):
        kind = "ints" if integer else "numbers"
        raise ValueError(f"kr.ops.image.{owner}: `{argument}` must be two positive {kind} (height, width), got "
                         f"{value!r}")
    if integer:
        return int(values[0]), int(values[1])
    return float(values[0]), float(values[1])


def gaussian_blur(images: Any, kernel_size: Any = (3, 3), sigma: Any = (1.0, 1.0),
                  data_format: str | None = None) -> torch.Tensor:
    """Float images blurred with a Gaussian kernel, channel by channel, as `keras.ops.image.gaussian_blur` on Keras's
    torch backend (zeros beyond the edges, `kernel_size[0] // 2` of them on each side of both axes, so a kernel
    wider than tall narrows the output, as there).

    `data_format=None` means "channels_last", as documented (Keras's torch
    backend itself reads a None there as channels first when called on
    tensors, but not in a functional model).
    """
    owner = "gaussian_blur"
    return _gaussian_blur(images, _pair(kernel_size, "kernel_size", owner, True),
                          _pair(sigma, "sigma", owner, False), _format(data_format, owner))


def _gaussian_1d(size: int, sigma: float, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    # The centre and sigma are float32 scalars, as Keras's tensors of them are; the values stay in `dtype`.
    centre = torch.tensor((size - 1) / 2, dtype=torch.float32, device=device)
    steps = torch.arange(size, dtype=dtype, device=device) - centre
    weights = torch.exp(-0.5 * (steps / torch.tensor(sigma, dtype=torch.float32, device=device)) ** 2)
    return weights / torch.sum(weights)


@operation("GaussianBlur", config=("kernel_size", "sigma", "data_format"), module="image",
           symbolic_shapes=lambda config, shapes: [_blurred_shape(config, shapes[0])])
def _gaussian_blur(images: Any, kernel_size: Any = (3, 3), sigma: Any = (1.0, 1.0),
                   data_format: str = "channels_last") -> torch.Tensor:
    data_format = _format(data_format, "gaussian_blur")      # None in a file Keras wrote
    x = _float_images(_images(images, "gaussian_blur", data_format), "gaussian_blur")
    rows, cols = int(kernel_size[0]), int(kernel_size[1])
    batched = x if x.dim() == 4 else x.unsqueeze(0)
    planes = batched.permute(0, 3, 1, 2) if data_format == "channels_last" else batched
    channels = planes.shape[1]
    # As Keras's torch backend: the outer product of the column weights (sigma[1]) by the row weights (sigma[0]),
    # read as a rows x cols kernel.
    kernel = torch.outer(_gaussian_1d(cols, float(sigma[1]), x.dtype, x.device),
                         _gaussian_1d(rows, float(sigma[0]), x.dtype, x.device)).reshape(1, 1, rows, cols)
    out = F.conv2d(planes, kernel.expand(channels, 1, rows, cols), stride=1, padding=rows // 2, groups=channels)
    if data_format == "channels_last":
        out = out.permute(0, 2, 3, 1)
    return out if x.dim() == 4 else out.squeeze(0)


def _blurred_shape(config: dict[str, Any], shape: tuple) -> tuple:
    rows, cols = int(config["kernel_size"][0]), int(config["kernel_size"][1])
    out = list(shape)
    axis = -3 if _format(config.get("data_format"), "gaussian_blur") == "channels_last" else -2
    pad = rows // 2
    for position, k in ((axis, rows), (axis + 1, cols)):
        if out[position] is not None:
            out[position] = out[position] + 2 * pad - k + 1
    return tuple(out)


def sobel_edges(images: Any, data_format: str | None = None) -> torch.Tensor:
    """The vertical and horizontal Sobel gradients of a batch of images, as `keras.ops.image.sobel_edges`: shape
    `images.shape + (2,)`, the last axis holding (dy, dx), per channel, with zeros beyond the edges.

    >>> sobel_edges(torch.ones(1, 4, 4, 1))[0, 1, 1, 0].tolist()
    [0.0, 0.0]
    """
    return _sobel_edges(images, _format(data_format, "sobel_edges"))


@operation("SobelEdges", config=("data_format",), module="image",
           symbolic_shapes=lambda config, shapes: [(*shapes[0], 2)])
def _sobel_edges(images: Any, data_format: str = "channels_last") -> torch.Tensor:
    data_format = _format(data_format, "sobel_edges")      # None in a file Keras wrote
    x = tensor(images)
    if x.dim() != 4:
        layout = "(batch, height, width, channels)" if data_format == "channels_last" else \
            "(batch, channels, height, width)"
        raise ValueError(f"kr.ops.image.sobel_edges: images must be a batch {layout} (rank 4), got shape "
                         f"{shape_text(x.shape)}")
    planes = x.permute(0, 3, 1, 2) if data_format == "channels_last" else x
    channels = planes.shape[1]
    across = torch.tensor([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=x.dtype, device=x.device)
    kernels = [across.T, across]         # the vertical gradient's kernel, then the horizontal one's
    edges = torch.stack([F.conv2d(planes, k.reshape(1, 1, 3, 3).repeat(channels, 1, 1, 1), padding=1,
                                  groups=channels) for k in kernels], dim=-1)
    return edges.permute(0, 2, 3, 1, 4) if data_format == "channels_last" else edges


# ------------------------------------------------------------------ sampling at coordinates
FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _mirror(index: torch.Tensor, size: int) -> torch.Tensor:
    """A triangle wave over [0, size - 1]: ... 2 1 | 0 1 2 ... n-1 | n-2 ..."""
    period = size - 1
    return torch.abs(torch.remainder(index + period, 2 * period) - period) if period else torch.zeros_like(index)


def fold_index(index: torch.Tensor, size: int, fill_mode: str) -> torch.Tensor:
    """Integer indices outside [0, size) brought inside as `fill_mode` says: "wrap" repeats the axis, "mirror"
    reflects it about its edge values, "reflect" about its edges (the edge value repeated), "nearest" and
    "constant" clip (for "constant" the caller fills what was outside). Keras's rules, shared with the image
    preprocessing layers."""
    if fill_mode == "wrap":
        return torch.remainder(index, size)
    if fill_mode == "mirror":
        return _mirror(index, size)
    if fill_mode == "reflect":
        return torch.div(_mirror(2 * index + 1, 2 * size + 1) - 1, 2, rounding_mode="floor")
    return index.clamp(0, size - 1)


def _integer(x: torch.Tensor) -> bool:
    return not (x.dtype.is_floating_point or x.dtype.is_complex)


def _nodes(coordinate: torch.Tensor, order: int) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    """The integer positions one coordinate reads and their weights (None: weight 1)."""
    if order == 0:
        nearest = coordinate if _integer(coordinate) else torch.round(coordinate)
        return [(nearest.to(torch.int32), None)]
    below = torch.floor(coordinate)
    above_weight = coordinate - below
    return [(below.to(torch.int32), 1 - above_weight), (below.to(torch.int32) + 1, above_weight)]


def map_coordinates(inputs: Any, coordinates: Any, order: int, fill_mode: str = "constant",
                    fill_value: float = 0) -> torch.Tensor:
    """`inputs` read at `coordinates`, as `keras.ops.image.map_coordinates` on Keras's torch backend.

    `coordinates` has one row per axis of `inputs` (`coordinates[k]` the
    positions along axis k, all rows of one shape, which is the output's);
    `order` 0 takes the nearest value, 1 interpolates linearly. Positions
    beyond the edges read as `fill_mode` says: "constant" (`fill_value`),
    "nearest", "wrap", "mirror" or "reflect". Integer inputs are rounded
    back to their dtype.

    >>> map_coordinates(torch.tensor([0.0, 10.0, 20.0]), torch.tensor([[0.5, 1.25, 3.0]]), order=1).tolist()
    [5.0, 12.5, 0.0]
    """
    if isinstance(order, bool) or order not in (0, 1):
        raise ValueError(f"kr.ops.image.map_coordinates: `order` must be 0 (nearest) or 1 (linear), got {order!r}")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"kr.ops.image.map_coordinates: `fill_mode` must be one of "
                         f"{', '.join(map(repr, FILL_MODES))}; got {fill_mode!r}")
    if isinstance(fill_value, bool) or not isinstance(fill_value, numbers.Real):
        raise ValueError(f"kr.ops.image.map_coordinates: `fill_value` must be a number, got {fill_value!r}")
    return _map_coordinates(inputs, coordinates, int(order), fill_mode, fill_value)


@operation("MapCoordinates", config=("order", "fill_mode", "fill_value"), module="image", first_axis_probed=True)
def _map_coordinates(inputs: Any, coordinates: Any, order: int = 1, fill_mode: str = "constant",
                     fill_value: float = 0) -> torch.Tensor:
    x = tensor(inputs)
    if isinstance(coordinates, (list, tuple)):
        rows = [tensor(c) for c in coordinates]
    else:
        grid = tensor(coordinates)
        if grid.dim() < 2:
            raise ValueError(f"kr.ops.image.map_coordinates: `coordinates` must have at least 2 axes (one row per "
                             f"axis of the inputs, then the output's), got shape {shape_text(grid.shape)}")
        rows = list(grid)
    if len(rows) != x.dim():
        raise ValueError(f"kr.ops.image.map_coordinates: `coordinates` must have one row per axis of the inputs "
                         f"({x.dim()} for shape {shape_text(x.shape)}), got {len(rows)}")
    if rows[0].dim() < 1:
        raise ValueError(f"kr.ops.image.map_coordinates: `coordinates` must have at least 2 axes (one row per axis "
                         f"of the inputs, then the output's), got shape {shape_text((len(rows),))}")
    fill: Any = int(fill_value) if _integer(x) else fill_value
    per_axis = []
    for row, size in zip(rows, x.shape):
        per_axis.append([(fold_index(index, size, fill_mode), (index >= 0) & (index < size), weight)
                         for index, weight in _nodes(row, order)])
    result: Any = None
    for choice in itertools.product(*per_axis):
        values = x[tuple(index for index, _, _ in choice)]
        if fill_mode == "constant":
            inside = functools.reduce(operator.and_, [valid for _, valid, _ in choice])
            values = torch.where(inside, values, fill)
        weights = [weight for _, _, weight in choice if weight is not None]
        if weights:
            values = functools.reduce(operator.mul, weights) * values
        result = values if result is None else result + values
    if _integer(x) and not _integer(result):
        result = torch.round(result)
    return result.to(x.dtype)


def affine_transform(images: Any, transform: Any, interpolation: str = "bilinear", fill_mode: str = "constant",
                     fill_value: float = 0, data_format: str | None = None) -> torch.Tensor:
    """Images moved by projective transforms, as `keras.ops.image.affine_transform` on Keras's torch backend.

    `transform` is 8 numbers `[a0, a1, a2, b0, b1, b2, c0, c1]` (or a batch
    of them, one per image): output pixel (row y, column x) reads the input
    at column `a0 x + a1 y + a2`, row `b0 x + b1 y + b2` (as on Keras's torch
    backend, `c0` and `c1` are not divided by; leave them 0).
    `interpolation` is "bilinear" or "nearest"; `fill_mode` and `fill_value`
    as in `map_coordinates`.

    >>> shift = torch.tensor([1.0, 0, 1, 0, 1, 0, 0, 0])      # read one column to the right
    >>> affine_transform(torch.arange(3.0).reshape(1, 3, 1), shift).flatten().tolist()
    [1.0, 2.0, 0.0]
    """
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"kr.ops.image.affine_transform: `interpolation` must be 'nearest' or 'bilinear', got "
                         f"{interpolation!r}")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"kr.ops.image.affine_transform: `fill_mode` must be one of "
                         f"{', '.join(map(repr, FILL_MODES))}; got {fill_mode!r}")
    if isinstance(fill_value, bool) or not isinstance(fill_value, numbers.Real):
        raise ValueError(f"kr.ops.image.affine_transform: `fill_value` must be a number, got {fill_value!r}")
    return _affine_transform(images, transform, interpolation, fill_mode, fill_value,
                             _format(data_format, "affine_transform"))


@operation("AffineTransform", config=("interpolation", "fill_mode", "fill_value", "data_format"), module="image",
           symbolic_shapes=lambda config, shapes: [tuple(shapes[0])])
def _affine_transform(images: Any, transform: Any, interpolation: str = "bilinear", fill_mode: str = "constant",
                      fill_value: float = 0, data_format: str = "channels_last") -> torch.Tensor:
    data_format = _format(data_format, "affine_transform")      # None in a file Keras wrote
    x = _images(images, "affine_transform", data_format)
    matrix = tensor(transform)
    if matrix.dim() not in (1, 2) or matrix.shape[-1] != 8:
        raise ValueError(f"kr.ops.image.affine_transform: `transform` must be 8 numbers or a batch of them (shape "
                         f"(8,) or (batch, 8)), got shape {shape_text(matrix.shape)}")
    batched = x if x.dim() == 4 else x.unsqueeze(0)
    matrix = matrix if matrix.dim() == 2 else matrix.unsqueeze(0)
    if matrix.shape[0] != batched.shape[0]:
        raise ValueError(f"kr.ops.image.affine_transform: one transform per image: {batched.shape[0]} images but "
                         f"transform has shape {shape_text(matrix.shape)}")
    if data_format == "channels_first":
        batched = batched.permute(0, 2, 3, 1)
    a0, a1, a2, b0, b1, b2, c0, c1 = matrix.unbind(-1)
    zero, one = torch.zeros_like(a0), torch.ones_like(a0)
    # Each output position (row, column, channel) times this matrix, plus the offset, gives the position read.
    mixing = torch.stack([torch.stack([b1, a1, zero], -1), torch.stack([b0, a0, zero], -1),
                          torch.stack([c0, c1, one], -1)], -2)
    offset = torch.stack([b2, a2, zero], -1)
    grid = torch.stack(torch.meshgrid(*[torch.arange(n, dtype=matrix.dtype, device=matrix.device)
                                        for n in batched.shape[1:]], indexing="ij"), dim=-1)
    positions = torch.einsum("hwcj,bjk->bhwck", grid, mixing).movedim(-1, 1) + offset.reshape(-1, 3, 1, 1, 1)
    order = 0 if interpolation == "nearest" else 1
    out = torch.stack([_map_coordinates(image, where, order, fill_mode, fill_value)
                       for image, where in zip(batched, positions)])
    if data_format == "channels_first":
        out = out.permute(0, 3, 1, 2)
    return out if x.dim() == 4 else out.squeeze(0)


def extract_patches_3d(volumes: Any, size: Any, strides: Any = None, dilation_rate: Any = 1, padding: str = "valid",
                       data_format: str | None = None) -> torch.Tensor:
    """The 3-D patches of volumes (rank 4, or 5 for a batch), as `keras.ops.image.extract_patches_3d`:
    `extract_patches` with an int `size` meaning a cube.

    >>> extract_patches_3d(torch.ones(4, 4, 4, 2), 2).shape
    torch.Size([2, 2, 2, 16])
    """
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = (int(size),) * 3
    elif not (isinstance(size, (tuple, list)) and len(size) == 3):
        raise ValueError(f"kr.ops.image.extract_patches_3d: `size` must be an int or a tuple of 3 ints, got {size!r}")
    return extract_patches(volumes, size, strides, dilation_rate, padding, data_format)


# ------------------------------------------------------------------ perspective
def _corners(points: Any, dtype: torch.dtype, argument: str) -> torch.Tensor:
    corners = tensor(points).to(dtype)
    if corners.dim() not in (2, 3) or tuple(corners.shape[-2:]) != (4, 2):
        raise ValueError(f"kr.ops.image.perspective_transform: `{argument}` must be 4 (x, y) corners, shape (4, 2), "
                         f"or a batch of them, (batch, 4, 2); got shape {shape_text(corners.shape)}")
    return corners if corners.dim() == 3 else corners.unsqueeze(0)


def homography(start_points: torch.Tensor, end_points: torch.Tensor) -> torch.Tensor:
    """The 8 numbers of the projective maps that take each batch's `end_points` to its `start_points` (both
    (batch, 4, 2) as (x, y)): solved in float32 at least, returned in the points' dtype, as Keras does."""
    ex, ey = end_points[..., 0], end_points[..., 1]            # (batch, 4) each
    sx, sy = start_points[..., 0], start_points[..., 1]
    one, zero = torch.ones_like(ex), torch.zeros_like(ex)
    along_x = torch.stack([ex, ey, one, zero, zero, zero, -sx * ex, -sx * ey], dim=-1)     # (batch, 4, 8)
    along_y = torch.stack([zero, zero, zero, ex, ey, one, -sy * ex, -sy * ey], dim=-1)
    system = torch.stack([along_x, along_y], dim=2).reshape(-1, 8, 8)        # point 1's two rows, point 2's, ...
    targets = torch.stack([sx, sy], dim=-1).reshape(-1, 8, 1)
    solve_dtype = torch.promote_types(start_points.dtype, torch.float32)
    solution = torch.linalg.solve(system.to(solve_dtype), targets.to(solve_dtype))
    return solution.reshape(-1, 8).to(start_points.dtype)


def perspective_transform(images: Any, start_points: Any, end_points: Any, interpolation: str = "bilinear",
                          fill_value: float = 0, data_format: str | None = None) -> torch.Tensor:
    """Images warped so that the four `start_points` (x, y) move to `end_points`, as
    `keras.ops.image.perspective_transform` on Keras's torch backend (one set of corners, shape (4, 2), or one per
    image, (batch, 4, 2)). `interpolation` is "bilinear" or "nearest"; what comes from beyond the edges is
    `fill_value`. Integer images take their corners as floats (Keras's torch backend casts them to the images'
    dtype).
    """
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"kr.ops.image.perspective_transform: `interpolation` must be 'nearest' or 'bilinear', got "
                         f"{interpolation!r}")
    if isinstance(fill_value, bool) or not isinstance(fill_value, numbers.Real):
        raise ValueError(f"kr.ops.image.perspective_transform: `fill_value` must be a number, got {fill_value!r}")
    return _perspective_transform(images, start_points, end_points, interpolation, fill_value,
                                  _format(data_format, "perspective_transform"))


@operation("PerspectiveTransform", config=("interpolation", "fill_value", "data_format"), module="image",
           symbolic_shapes=lambda config, shapes: [tuple(shapes[0])])
def _perspective_transform(images: Any, start_points: Any, end_points: Any, interpolation: str = "bilinear",
                           fill_value: float = 0, data_format: str = "channels_last") -> torch.Tensor:
    data_format = _format(data_format, "perspective_transform")      # None in a file Keras wrote
    x = _images(images, "perspective_transform", data_format)
    dtype = x.dtype if x.dtype.is_floating_point else torch.get_default_dtype()
    start, end = _corners(start_points, dtype, "start_points"), _corners(end_points, dtype, "end_points")
    if start.shape != end.shape:
        raise ValueError(f"kr.ops.image.perspective_transform: `start_points` and `end_points` must have the same "
                         f"shape, got {shape_text(start.shape)} and {shape_text(end.shape)}")
    batched = x if x.dim() == 4 else x.unsqueeze(0)
    if data_format == "channels_first":
        batched = batched.permute(0, 2, 3, 1)
    count, height, width, channels = batched.shape
    maps = homography(start, end)
    if maps.shape[0] == 1 and count > 1:
        maps = maps.repeat(count, 1)
    if maps.shape[0] != count:
        raise ValueError(f"kr.ops.image.perspective_transform: one set of corners, or one per image: {count} images "
                         f"but {maps.shape[0]} sets")
    columns, rows = torch.meshgrid(torch.arange(width, dtype=dtype, device=x.device),
                                   torch.arange(height, dtype=dtype, device=x.device), indexing="xy")
    order = 0 if interpolation == "nearest" else 1
    warped = []
    for picture, (a0, a1, a2, a3, a4, a5, a6, a7) in zip(batched, maps):
        scale = a6 * columns + a7 * rows + 1.0
        read_x = (a0 * columns + a1 * rows + a2) / scale
        read_y = (a3 * columns + a4 * rows + a5) / scale
        where = torch.stack([read_y.flatten(), read_x.flatten()])
        warped.append(torch.stack([_map_coordinates(picture[..., c], where, order, "constant", fill_value)
                                   .reshape(height, width) for c in range(channels)], dim=-1))
    out = torch.stack(warped)
    if data_format == "channels_first":
        out = out.permute(0, 3, 1, 2)
    return out if x.dim() == 4 else out.squeeze(0)


# ------------------------------------------------------------------ similarity
def ssim(image1: Any, image2: Any, max_val: float = 1.0, filter_size: int = 11, filter_sigma: float = 1.5,
         k1: float = 0.01, k2: float = 0.03, data_format: str | None = None) -> torch.Tensor:
    """The structural similarity of two images (or of each pair in two batches), as `keras.ops.image.ssim`: the
    mean over positions and channels of SSIM's map under a `filter_size` Gaussian window ("valid": the window
    stays inside), for values spanning `max_val`. One number per image, in `image1`'s dtype.

    >>> float(ssim(torch.ones(12, 12, 1), torch.ones(12, 12, 1)))
    1.0
    """
    owner = "ssim"
    if isinstance(filter_size, bool) or not isinstance(filter_size, numbers.Integral) or filter_size < 1:
        raise ValueError(f"kr.ops.image.ssim: `filter_size` must be a positive int, got {filter_size!r}")
    for name, value in (("max_val", max_val), ("filter_sigma", filter_sigma), ("k1", k1), ("k2", k2)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"kr.ops.image.ssim: `{name}` must be a number, got {value!r}")
    return _ssim(image1, image2, max_val, int(filter_size), filter_sigma, k1, k2, _format(data_format, owner))


def _ssim_shape(config: dict[str, Any], shapes: list[tuple]) -> list[tuple]:
    return [() if len(shapes[0]) == 3 else (shapes[0][0],)]


@operation("SSIM", config=("max_val", "filter_size", "filter_sigma", "k1", "k2", "data_format"), module="image",
           symbolic_shapes=_ssim_shape)
def _ssim(image1: Any, image2: Any, max_val: float = 1.0, filter_size: int = 11, filter_sigma: float = 1.5,
          k1: float = 0.01, k2: float = 0.03, data_format: str = "channels_last") -> torch.Tensor:
    data_format = _format(data_format, "ssim")      # None in a file Keras wrote
    first, second = _images(image1, "ssim", data_format), _images(image2, "ssim", data_format)
    if first.shape != second.shape:
        raise ValueError(f"kr.ops.image.ssim: image1 and image2 must have the same shape, got "
                         f"{shape_text(first.shape)} and {shape_text(second.shape)}")
    rows = -3 if data_format == "channels_last" else -2
    if first.shape[rows] < filter_size or first.shape[rows + 1] < filter_size:
        raise ValueError(f"kr.ops.image.ssim: the images ({shape_text(first.shape)}, {data_format}) must be at least "
                         f"filter_size={filter_size} high and wide")
    original = first.dtype
    compute = original if original.is_floating_point else torch.get_default_dtype()
    pair = [(t if t.dim() == 4 else t.unsqueeze(0)).to(compute) for t in (first, second)]
    if data_format == "channels_first":
        pair = [t.movedim(1, -1) for t in pair]
    count, height, width, channels = pair[0].shape
    # Each channel on its own: (batch, height, width, channels) -> (batch * channels, height, width, 1).
    planes = [t.permute(0, 3, 1, 2).reshape(-1, height, width, 1) for t in pair]
    steps = torch.arange(filter_size, dtype=compute) - (filter_size - 1) / 2.0
    bell = torch.exp(-(steps ** 2) / (2.0 * filter_sigma ** 2))
    bell = bell / torch.sum(bell)
    window = torch.outer(bell, bell).reshape(filter_size, filter_size, 1, 1)

    def local_mean(values: torch.Tensor) -> torch.Tensor:
        return conv(values, window, strides=1, padding="valid", data_format="channels_last")

    a, b = planes
    mean_a, mean_b = local_mean(a), local_mean(b)
    mean_a2, mean_b2, mean_ab = mean_a * mean_a, mean_b * mean_b, mean_a * mean_b
    var_a, var_b = local_mean(a * a) - mean_a2, local_mean(b * b) - mean_b2
    covariance = local_mean(a * b) - mean_ab
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    similarity = ((2.0 * mean_ab + c1) * (2.0 * covariance + c2)) / ((mean_a2 + mean_b2 + c1) * (var_a + var_b + c2))
    per_image = mean(mean(similarity, axis=(1, 2, 3)).reshape(count, channels), axis=-1)
    return (per_image if first.dim() == 4 else per_image.squeeze(0)).to(original)


# ------------------------------------------------------------------ scale and translate
def _triangle(x: torch.Tensor) -> torch.Tensor:
    return torch.clamp(1 - torch.abs(x), min=0)


def _keys_cubic(x: torch.Tensor) -> torch.Tensor:
    near = ((1.5 * x - 2.5) * x) * x + 1.0
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return torch.where(x >= 2.0, 0.0, torch.where(x >= 1.0, far, near))


def _lanczos(radius: float, x: torch.Tensor) -> torch.Tensor:
    wave = radius * torch.sin(math.pi * x) * torch.sin(math.pi * x / radius)
    values = torch.where(x > 1e-3, wave / torch.where(x != 0, math.pi ** 2 * x ** 2, 1), 1)
    return torch.where(x > radius, 0.0, values)


_RESAMPLING_KERNELS = {"linear": _triangle, "bilinear": _triangle, "trilinear": _triangle, "cubic": _keys_cubic,
                       "bicubic": _keys_cubic, "tricubic": _keys_cubic,
                       "lanczos3": lambda x: _lanczos(3.0, x), "lanczos5": lambda x: _lanczos(5.0, x)}


def _resampling_weights(input_size: int, output_size: int, scale: torch.Tensor, translation: torch.Tensor,
                        kernel: Any, antialias: bool) -> torch.Tensor:
    """(input_size, output_size) weights: output sample j is the weighted sum of the inputs along one axis."""
    dtype = scale.dtype
    inverse = 1.0 / scale
    stretch = torch.clamp(inverse, min=1.0) if antialias else 1.0
    centres = (torch.arange(output_size, dtype=dtype) + 0.5) * inverse - translation * inverse - 0.5
    distance = torch.abs(centres[None, :] - torch.arange(input_size, dtype=dtype)[:, None]) / stretch
    weights = kernel(distance)
    totals = torch.sum(weights, dim=0, keepdim=True)
    weights = torch.where(torch.abs(totals) > 1000.0 * float(torch.finfo(torch.float32).eps),
                          weights / torch.where(totals != 0, totals, 1), 0)
    inside = (centres >= -0.5) & (centres <= input_size - 0.5)
    return torch.where(inside[None, :], weights, 0)


def scale_and_translate(images: Any, output_shape: Any, scale: Any, translation: Any, spatial_dims: Any,
                        method: str, antialias: bool = True) -> torch.Tensor:
    """`images` resampled along `spatial_dims` to `output_shape`, as `keras.ops.image.scale_and_translate` on
    Keras's torch backend: along each axis d, output sample j reads the input around
    `(j + 0.5 - translation[i]) / scale[i] - 0.5` with `method`'s kernel ("linear", "cubic", "lanczos3",
    "lanczos5", or "bilinear", "trilinear", "bicubic", "tricubic"), widened when shrinking if `antialias`.
    Integer images are computed in float32, rounded and clipped to their own range.

    >>> scale_and_translate(torch.arange(3.0), (5,), [2.0], [-0.5], (0,), "linear").tolist()
    [0.0, 0.5, 1.0, 1.5, 2.0]
    """
    if method not in _RESAMPLING_KERNELS:
        raise ValueError(f"kr.ops.image.scale_and_translate: `method` must be one of "
                         f"{', '.join(map(repr, _RESAMPLING_KERNELS))}; got {method!r}")
    return _scale_and_translate(images, tuple(int(n) for n in output_shape), scale, translation,
                                tuple(int(d) for d in spatial_dims), method, bool(antialias))


@operation("ScaleAndTranslate", config=("spatial_dims", "method", "antialias"), module="image")
def _scale_and_translate(images: Any, output_shape: Any, scale: Any, translation: Any, spatial_dims: Any = (),
                         method: str = "linear", antialias: bool = True) -> torch.Tensor:
    x = tensor(images)
    scales, shifts = tensor(scale), tensor(translation)
    dtype = torch.promote_types(scales.dtype, shifts.dtype)
    if not dtype.is_floating_point:
        dtype = torch.get_default_dtype()
    scales, shifts = scales.to(dtype).reshape(-1), shifts.to(dtype).reshape(-1)
    axes = [int(d) % max(x.dim(), 1) for d in spatial_dims]
    if len(output_shape) != x.dim():
        raise ValueError(f"kr.ops.image.scale_and_translate: `output_shape` must give all {x.dim()} axes of the "
                         f"images (shape {shape_text(x.shape)}), got {tuple(output_shape)!r}")
    if scales.numel() != len(axes) or shifts.numel() != len(axes):
        raise ValueError(f"kr.ops.image.scale_and_translate: `scale` and `translation` must have one value per "
                         f"spatial axis ({len(axes)}: {tuple(spatial_dims)}), got {scales.numel()} and "
                         f"{shifts.numel()}")
    if not axes:
        return x
    integer = _integer(x)
    out = x.to(torch.float32) if integer else x.clone()
    kernel = _RESAMPLING_KERNELS[method]
    for i, axis in enumerate(axes):
        weights = _resampling_weights(x.shape[axis], int(output_shape[axis]), scales[i], shifts[i], kernel,
                                      bool(antialias)).to(out.dtype)
        out = torch.tensordot(out, weights, dims=([axis], [0])).movedim(-1, axis)
    if integer:
        out = torch.clamp(torch.round(out), torch.min(x), torch.max(x)).to(x.dtype)
    return out


# ------------------------------------------------------------------ elastic deformation
def elastic_transform(images: Any, alpha: float = 20.0, sigma: float = 5.0, interpolation: str = "bilinear",
                      fill_mode: str = "reflect", fill_value: float = 0.0, seed: int | None = None,
                      data_format: str | None = None) -> torch.Tensor:
    """Float images pushed around by a random smooth field, as `keras.ops.image.elastic_transform` on Keras's torch
    backend: each image's pixels move by `alpha` times normal noise (scaled by `sigma`) blurred with a Gaussian of
    `sigma` (a kernel of `int(6 sigma) | 1`), read with `interpolation` and `fill_mode` as in `map_coordinates`.

    `seed=None` draws from torch's global generator, as Keras's torch backend
    does off the meta device (so the same `torch.manual_seed` gives Keras's
    numbers); an int seed draws from a generator seeded with it, the same
    field each call (Keras's torch backend ignores it on CPU and GPU).
    """
    owner = "elastic_transform"
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"kr.ops.image.elastic_transform: `interpolation` must be 'nearest' or 'bilinear', got "
                         f"{interpolation!r}")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"kr.ops.image.elastic_transform: `fill_mode` must be one of "
                         f"{', '.join(map(repr, FILL_MODES))}; got {fill_mode!r}")
    for name, value in (("alpha", alpha), ("sigma", sigma), ("fill_value", fill_value)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"kr.ops.image.elastic_transform: `{name}` must be a number, got {value!r}")
    if not float(sigma) > 0:
        raise ValueError(f"kr.ops.image.elastic_transform: `sigma` must be positive, got {sigma!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise ValueError(f"kr.ops.image.elastic_transform: `seed` must be an int or None, got {seed!r}")
    return _elastic_transform(images, alpha, sigma, interpolation, fill_mode, fill_value, seed,
                              _format(data_format, owner))


@operation("ElasticTransform", config=("alpha", "sigma", "interpolation", "fill_mode", "fill_value", "seed",
                                       "data_format"), module="image",
           symbolic_shapes=lambda config, shapes: [tuple(shapes[0])])
def _elastic_transform(images: Any, alpha: float = 20.0, sigma: float = 5.0, interpolation: str = "bilinear",
                       fill_mode: str = "reflect", fill_value: float = 0.0, seed: int | None = None,
                       data_format: str = "channels_last") -> torch.Tensor:
    data_format = _format(data_format, "elastic_transform")      # None in a file Keras wrote
    x = _float_images(_images(images, "elastic_transform", data_format), "elastic_transform")
    batched = x if x.dim() == 4 else x.unsqueeze(0)
    planes = batched if data_format == "channels_first" else batched.permute(0, 3, 1, 2)
    count, channels, height, width = planes.shape
    spread = torch.tensor(float(sigma), dtype=torch.float32)      # float32 scalars, as Keras's tensors of them
    strength = torch.tensor(float(alpha), dtype=torch.float32)
    size = int(6 * spread) | 1
    generator = None
    if seed is not None:
        generator = torch.Generator(device=x.device)
        generator.manual_seed(int(seed))
    fields = []
    for _ in range(2):                                           # the column moves, then the row moves
        noise = torch.normal(0.0, 1.0, size=(count, 1, height, width), generator=generator, dtype=x.dtype,
                             device=x.device) * spread
        smooth = _gaussian_blur(noise, (size, size), (float(spread), float(spread)), "channels_first")
        fields.append(smooth[:, 0])
    columns, rows = torch.meshgrid(torch.arange(width, device=x.device), torch.arange(height, device=x.device),
                                   indexing="xy")
    read_x, read_y = columns + strength * fields[0], rows + strength * fields[1]
    order = 0 if interpolation == "nearest" else 1
    out = torch.stack([torch.stack([_map_coordinates(planes[b, c], [read_y[b], read_x[b]], order, fill_mode,
                                                     fill_value) for c in range(channels)])
                       for b in range(count)])
    if data_format == "channels_last":
        out = out.permute(0, 2, 3, 1)
    return (out if x.dim() == 4 else out.squeeze(0)).to(x.dtype)
