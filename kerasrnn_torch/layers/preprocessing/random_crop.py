"""RandomCrop, as `keras.layers.RandomCrop`: a window of each batch at a random place while training."""
from __future__ import annotations

from typing import Any

import torch

from ..._checks import describe
from ..._types import InputShape
from ...core.data_format import standardize as standardize_data_format
from ...core.layer import Layer
from ...core.registry import register_keras_class
from ...seeding import SeededGenerators
from . import _image


@register_keras_class("RandomCrop")
class RandomCrop(Layer):
    """Crops a window at a random place while training, as `keras.layers.RandomCrop` (Keras 3.15).

    Takes one image `(height, width, channels)` or a batch (`data_format="channels_first"`: channels
    before the rows). While training (`training=True`, or `training=None` with the module in train mode)
    one window is drawn per call, shared by the batch, and the result is in the layer's float dtype.
    Unless the images are larger than the window on both sides, the window instead starts where the
    centred box of its aspect ratio does, stops at the images' edges, and what it holds is resized
    (bilinear), as Keras does. Outside training the images come back unchanged, as Keras 3.15's layer
    gives them (its `compute_output_shape` still reports the window's size).

    Args:
        height, width: the window's size.
        seed: integer for a reproducible stream of windows (None: PyTorch's global RNG).
        data_format: "channels_last" (default; None means the same) or "channels_first".
        name, device, dtype: see `Layer`.

    >>> RandomCrop(2, 2, seed=0)(torch.ones(4, 5, 3), training=True).shape
    torch.Size([2, 2, 3])
    """

    def __init__(self, height: int, width: int, seed: int | None = None, data_format: str | None = None,
                 **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        self.height = _image.size_argument(height, "height", owner)
        self.width = _image.size_argument(width, "width", owner)
        self.data_format = standardize_data_format(data_format, owner)
        self._generators = SeededGenerators(seed)
        self.seed = seed

    def forward(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        """A random `height` x `width` window of the images while training; the images otherwise."""
        images = _image.checked_images(inputs, describe(self), self.data_format)
        training = self.training if training is None else bool(training)
        if not training:
            return inputs
        x = images.to(_image.float_dtype(self.factory_kwargs["dtype"]))
        rows, cols = _image.spatial_axes(self.data_format)
        height, width = x.shape[rows], x.shape[cols]
        if height > self.height and width > self.width:
            generator = self._generators.get(x.device)
            top = int(torch.randint(0, height - self.height + 1, (), generator=generator, device=x.device))
            left = int(torch.randint(0, width - self.width + 1, (), generator=generator, device=x.device))
            out = _image.crop(x, self.data_format, top, left, self.height, self.width)
        else:
            # Keras's window here starts at the corner of the centred box of the window's aspect ratio and
            # keeps the window's size, cut short by the image's edges.
            top, left, _, _ = _image.aspect_box(height, width, self.height, self.width)
            out = _image.crop(x, self.data_format, top, left, min(self.height, height - top),
                              min(self.width, width - left))
            if (out.shape[rows], out.shape[cols]) != (self.height, self.width):
                out = _image.resize_batch(out, self.data_format, self.height, self.width).to(x.dtype)
        return out if inputs.dim() == 4 else out.squeeze(0)

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        return _image.with_spatial(input_shape, self.data_format, self.height, self.width)

    def get_config(self) -> dict:
        return {**super().get_config(), "height": self.height, "width": self.width, "seed": self.seed,
                "data_format": self.data_format}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, height={self.height}, width={self.width}, seed={self.seed!r}"
