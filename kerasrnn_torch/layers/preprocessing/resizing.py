"""Resizing, as `keras.layers.Resizing`: images to a fixed height and width."""
from __future__ import annotations

from typing import Any

import torch

from ..._checks import describe, one_of
from ..._types import InputShape
from ...core.data_format import standardize as standardize_data_format
from ...core.layer import Layer
from ...core.registry import register_keras_class
from . import _image


@register_keras_class("Resizing")
class Resizing(Layer):
    """Resizes images to `height` x `width`, as `keras.layers.Resizing` on Keras's torch backend.

    Takes one image `(height, width, channels)` or a batch `(batch, height, width, channels)`
    (`data_format="channels_first"`: channels before the rows). Float images come out in the layer's
    dtype; integer images (bytes, say) are resized in float32, rounded and clipped back to their dtype.

    Args:
        height, width: the output's size.
        interpolation: "bilinear" (default), "nearest" or "bicubic".
        crop_to_aspect_ratio: first crop the largest centred box of the output's aspect ratio, so that
            nothing is stretched.
        pad_to_aspect_ratio: instead, first pad both sides evenly with `fill_value` to that ratio.
        fill_mode: "constant" (the only one Keras's torch backend has).
        fill_value: the padding's value (0).
        antialias: smooth before shrinking (bilinear and bicubic only).
        data_format: "channels_last" (default; None means the same) or "channels_first".
        name, device, dtype: see `Layer`.

    >>> Resizing(1, 2)(torch.tensor([[[1.0], [3.0]], [[5.0], [7.0]]])).flatten().tolist()  # rows averaged
    [3.0, 5.0]
    """

    def __init__(self, height: int, width: int, interpolation: str = "bilinear", crop_to_aspect_ratio: bool = False,
                 pad_to_aspect_ratio: bool = False, fill_mode: str = "constant", fill_value: float = 0.0,
                 antialias: bool = False, data_format: str | None = None, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        self.height = _image.size_argument(height, "height", owner)
        self.width = _image.size_argument(width, "width", owner)
        given = interpolation.lower() if isinstance(interpolation, str) else interpolation
        self.interpolation = one_of(given, tuple(_image.INTERPOLATIONS), "interpolation", owner)
        self.crop_to_aspect_ratio = _image.flag_argument(crop_to_aspect_ratio, "crop_to_aspect_ratio", owner)
        self.pad_to_aspect_ratio = _image.flag_argument(pad_to_aspect_ratio, "pad_to_aspect_ratio", owner)
        if self.crop_to_aspect_ratio and self.pad_to_aspect_ratio:
            raise ValueError(f"{owner}: only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can be True")
        self.fill_mode = one_of(fill_mode, ("constant",), "fill_mode", owner)
        if isinstance(fill_value, bool) or not isinstance(fill_value, (int, float)):
            raise ValueError(f"{owner}: `fill_value` must be a number, got {fill_value!r}")
        self.fill_value = float(fill_value)
        self.antialias = _image.flag_argument(antialias, "antialias", owner)
        self.data_format = standardize_data_format(data_format, owner)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """The images resized to `height` x `width` (an unbatched image stays unbatched)."""
        images = _image.checked_images(inputs, describe(self), self.data_format)
        integer = not (images.dtype.is_floating_point or images.dtype.is_complex)
        x = images.to(torch.float32 if integer else _image.float_dtype(self.factory_kwargs["dtype"]))
        if self.crop_to_aspect_ratio:
            rows, cols = _image.spatial_axes(self.data_format)
            box = _image.aspect_box(x.shape[rows], x.shape[cols], self.height, self.width)
            x = _image.crop(x, self.data_format, *box)
        elif self.pad_to_aspect_ratio:
            x = _image.pad_to_aspect(x, self.data_format, self.height, self.width, self.fill_value)
        out = _image.resize_batch(x, self.data_format, self.height, self.width, self.interpolation, self.antialias)
        if integer:
            out = _image.saturating_cast(out, images.dtype)
        return out if inputs.dim() == 4 else out.squeeze(0)

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        return _image.with_spatial(input_shape, self.data_format, self.height, self.width)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "height": self.height,
                "width": self.width, "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio, "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
                "fill_mode": self.fill_mode, "fill_value": self.fill_value, "antialias": self.antialias}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, height={self.height}, width={self.width}, interpolation={self.interpolation!r}"
