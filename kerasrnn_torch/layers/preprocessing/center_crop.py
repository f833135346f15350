"""CenterCrop, as `keras.layers.CenterCrop`: the centre of each image, at a fixed height and width."""
from __future__ import annotations

from typing import Any

import torch

from ..._checks import describe
from ..._types import InputShape
from ...core.data_format import standardize as standardize_data_format
from ...core.layer import Layer
from ...core.registry import register_keras_class
from . import _image


@register_keras_class("CenterCrop")
class CenterCrop(Layer):
    """Crops the centre `height` x `width` of images, as `keras.layers.CenterCrop`.

    Takes one image `(height, width, channels)` or a batch (`data_format="channels_first"`: channels
    before the rows); the result is in the layer's float dtype. An image smaller than the crop on
    either side is instead cropped to the crop's aspect ratio and resized (bilinear), as Keras does.

    Args:
        height, width: the output's size.
        data_format: "channels_last" (default; None means the same) or "channels_first".
        name, device, dtype: see `Layer`.

    >>> CenterCrop(1, 1)(torch.arange(9.0).reshape(3, 3, 1)).flatten().tolist()
    [4.0]
    """

    def __init__(self, height: int, width: int, data_format: str | None = None, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        self.height = _image.size_argument(height, "height", owner)
        self.width = _image.size_argument(width, "width", owner)
        self.data_format = standardize_data_format(data_format, owner)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """The centre `height` x `width` of each image (an unbatched image stays unbatched)."""
        images = _image.checked_images(inputs, describe(self), self.data_format)
        x = images.to(_image.float_dtype(self.factory_kwargs["dtype"]))
        rows, cols = _image.spatial_axes(self.data_format)
        height, width = x.shape[rows], x.shape[cols]
        if height >= self.height and width >= self.width:
            out = _image.crop(x, self.data_format, (height - self.height) // 2, (width - self.width) // 2,
                              self.height, self.width)
        else:
            box = _image.aspect_box(height, width, self.height, self.width)
            out = _image.resize_batch(_image.crop(x, self.data_format, *box), self.data_format, self.height,
                                      self.width)
        return out if inputs.dim() == 4 else out.squeeze(0)

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        return _image.with_spatial(input_shape, self.data_format, self.height, self.width)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "height": self.height, "width": self.width}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, height={self.height}, width={self.width}"
